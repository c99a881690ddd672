"""The shipped courses, imported as `make run` does, pass the accessibility check in a real browser."""
import pytest

from lms.catalog.importer import sync_directory
from lms.config import PROJECT_ROOT
from lms.extensions import db
from tests.browser import assert_accessible
from tests.browser import sign_in as browser_sign_in
from tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def shipped_courses(digcomp):
    result = sync_directory(PROJECT_ROOT / "courses")
    db.session.commit()
    assert not result.failed
    return result


def test_every_lesson_of_a_shipped_course_with_images_is_accessible(page, shipped_courses, make_user):
    browser_sign_in(page, make_user().email, DEFAULT_PASSWORD)
    page.goto("/courses/")
    assert page.locator(".course-card").count() >= 8
    assert_accessible(page)
    page.goto("/courses/phishing-erkennen/")
    assert_accessible(page)
    lessons = page.locator(".lesson-outline a")
    urls = [lessons.nth(i).get_attribute("href") for i in range(lessons.count())]
    for url in urls:
        page.goto(url)
        assert_accessible(page)
    page.goto("/courses/phishing-erkennen/02-merkmale")
    image = page.locator(".prose img").first
    assert image.get_attribute("alt") and image.evaluate("img => img.complete && img.naturalWidth > 0")
