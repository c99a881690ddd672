"""The shipped courses, imported as `make run` does, pass the accessibility check in a real browser."""

import pytest

from lms.catalog.importer import sync_courses
from lms.config import PROJECT_ROOT
from lms.extensions import db
from tests.browser import assert_accessible
from tests.browser import sign_in as browser_sign_in
from tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.browser


# The shipped courses these journeys open (all of them are imported by tests/test_course_sync.py
# and tests/test_demo.py): each import costs time that every browser test would pay again.
SHIPPED = ("digitale-grundlagen", "phishing-erkennen", "videokonferenzen")


@pytest.fixture
def shipped_courses(digcomp):
    result = sync_courses([PROJECT_ROOT / "courses" / slug for slug in SHIPPED])
    db.session.commit()
    assert not result.failed
    return result


def test_every_lesson_of_a_shipped_course_with_images_is_accessible(page, shipped_courses, make_user):
    browser_sign_in(page, make_user().email, DEFAULT_PASSWORD)
    page.goto("/courses/")
    assert page.locator(".course-card").count() == len(SHIPPED)
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


def test_an_employee_completes_a_shipped_course_in_the_browser(page, shipped_courses, make_user):
    from sqlalchemy import select
    from sqlalchemy.orm import selectinload

    from lms.catalog.models import Course, Lesson

    course = db.session.execute(
        select(Course)
        .where(Course.slug == "videokonferenzen")
        .options(selectinload(Course.lessons).selectinload(Lesson.questions))
    ).scalar_one()
    browser_sign_in(page, make_user().email, DEFAULT_PASSWORD)
    page.goto(f"/courses/{course.slug}/")
    page.get_by_role("link", name="Kurs starten").click()
    for position, lesson in enumerate(course.lessons):
        assert page.get_by_role("heading", level=1).inner_text() == lesson.title
        asked = 0
        for question in lesson.questions:  # a pool: only the drawn questions are on the page
            for index in sorted(question.correct_indexes):
                if page.locator(f"#q-{question.id}-{index}").count():
                    page.locator(f"#q-{question.id}-{index}").check()
            asked += bool(page.locator(f"[name='q-{question.id}']").count())
        assert asked == (lesson.draw or len(lesson.questions))
        page.get_by_role("button", name="Antworten prüfen").click()
        if position + 1 < len(course.lessons):
            assert f"{asked} von {asked} Fragen richtig beantwortet" in page.locator("#quiz-results").inner_text()
            page.get_by_role("link", name=f"Weiter: {course.lessons[position + 1].title} →").click()
    assert "Herzlichen Glückwunsch" in page.locator(".kern-alert").first.inner_text()
    page.get_by_role("link", name="Bescheinigung anzeigen").click()
    assert course.title in page.locator(".certificate").inner_text()


def test_a_learner_switches_to_einfache_sprache_and_back_and_a_trainer_sees_the_question_figures(
    page, shipped_courses, make_user
):
    from lms.people.models import UserRole

    learner = make_user()
    browser_sign_in(page, learner.email, DEFAULT_PASSWORD)
    page.goto("/courses/digitale-grundlagen/")
    written = page.get_by_role("heading", level=1).inner_text()
    page.get_by_role("button", name="In Einfache Sprache lesen").click()
    simple = page.get_by_role("heading", level=1).inner_text()
    assert simple != written
    assert_accessible(page)
    page.locator(".lesson-outline a").first.click()
    assert page.get_by_role("button", name="Den Kurs in der Originalfassung lesen").is_visible()
    assert page.locator("form legend").count() == 2  # the variant's own pool, drawn
    assert_accessible(page)
    page.goto("/courses/digitale-grundlagen/")  # the choice is remembered
    assert page.get_by_role("heading", level=1).inner_text() == simple
    page.get_by_role("button", name="Den Kurs in der Originalfassung lesen").click()
    assert page.get_by_role("heading", level=1).inner_text() == written

    # The same person as a trainer who owns the course: which questions work (no figures for
    # fewer than 5 learners).
    from lms.authoring.services import set_owner, workspace
    from lms.common.vocabulary import CourseOwnership

    db.session.add(UserRole(user_id=learner.id, role="trainer"))
    set_owner(workspace("digitale-grundlagen"), learner, CourseOwnership.OWNER, actor=None)
    db.session.commit()
    page.goto("/trainer/")
    page.get_by_role("link", name="Welche Fragen funktionieren").first.click()
    assert page.get_by_role("heading", level=1).inner_text() == "Welche Fragen funktionieren"
    assert "weniger als 5 Lernende" in page.content()
    assert_accessible(page)
