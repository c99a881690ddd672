"""HR sets a strategy target in a real browser; the strategy page and the trainers' course feedback
page pass axe."""

import pytest

from lms.extensions import db
from lms.learning import feedback
from lms.learning.models import Completion
from tests.browser import assert_accessible
from tests.browser import sign_in as browser_sign_in
from tests.factories import DEFAULT_PASSWORD
from tests.test_course_feedback import own

pytestmark = pytest.mark.browser


def test_hr_adds_a_strategy_target_and_sees_it(page, make_user, make_department, digcomp):
    make_department(code="FB3", name="Bürgerdienste")
    for _ in range(6):
        make_user()
    hr = make_user(roles=["hr"], locale="en")
    browser_sign_in(page, hr.email, DEFAULT_PASSWORD)
    page.goto("/strategy/")
    assert page.get_by_role("heading", level=1).inner_text() == "Strategy targets"
    assert_accessible(page)

    page.get_by_role("button", name="Add the target").click()  # empty: every mistake next to its field
    page.wait_for_load_state()
    assert page.locator("#level-error").is_visible() and page.locator("#deadline-error").is_visible()
    assert_accessible(page)

    page.get_by_label("Competence", exact=True).select_option(label="4.1 Protecting devices")
    page.get_by_label("Minimum level").select_option("3")
    page.get_by_label("Share of the people, in percent").fill("80")
    page.get_by_label("Deadline").fill("2040-12-31")
    page.get_by_label("Department").select_option(label="FB3 Bürgerdienste")
    page.get_by_role("button", name="Add the target").click()
    page.wait_for_load_state()
    heading = page.get_by_role("heading", level=3).first.inner_text()
    assert "80 % at level 3 or above in 4.1" in heading and "2040" in heading
    assert "Not enough data" in page.locator("dd[data-pace]").first.inner_text()
    assert_accessible(page)


def test_the_trainers_feedback_page_is_accessible(page, make_user, make_course):
    trainer = make_user(roles=["trainer"], locale="en")
    course = make_course(title="Sicher im Netz")
    own(trainer, course)
    for rating in (5, 4, 4, 3, 2):
        person = make_user()
        completion = Completion(user_id=person.id, course_id=course.id, course_version=1, score_percent=90)
        db.session.add(completion)
        db.session.commit()
        feedback.give(person, course.id, completion, rating, "about_right", f"Kommentar {rating}")
    db.session.commit()
    browser_sign_in(page, trainer.email, DEFAULT_PASSWORD)
    page.goto("/trainer/")
    page.locator(f'a[href="/trainer/courses/{course.slug}/feedback"]').click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text() == "Course feedback"
    assert page.locator(".feedback-comment").count() == 5
    assert_accessible(page)


def test_a_learner_rates_a_course_in_the_browser(page, make_user, make_course):
    learner = make_user(locale="en")
    course = make_course(title="Sicher im Netz")
    db.session.add(Completion(user_id=learner.id, course_id=course.id, course_version=1, score_percent=90))
    db.session.commit()
    browser_sign_in(page, learner.email, DEFAULT_PASSWORD)
    page.goto(f"/courses/{course.slug}/")
    page.get_by_role("link", name="Rate the course").click()
    page.wait_for_load_state()
    page.get_by_role("button", name="Send the feedback").click()  # nothing chosen
    page.wait_for_load_state()
    assert page.locator("#helpful-error").is_visible()
    assert_accessible(page)
    page.get_by_label("4", exact=True).check()
    page.get_by_label("about right").check()
    page.get_by_label("Comment").fill("Gute Beispiele.")
    page.get_by_role("button", name="Send the feedback").click()
    page.wait_for_load_state()
    assert "Thank you for your feedback" in page.content()
