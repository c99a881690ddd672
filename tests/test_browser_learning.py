"""An employee takes a course in a real browser, by keyboard where it matters; axe on each page."""

import pytest

from tests.browser import assert_accessible
from tests.browser import sign_in as browser_sign_in
from tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.browser


def sign_in(page, user):
    browser_sign_in(page, user.email, DEFAULT_PASSWORD)
    page.wait_for_url("**/learning/")


def test_employee_completes_a_course_in_the_browser(page, make_user, make_course):
    make_course(
        title="Sicher im Netz",
        lessons=[
            [("Was hilft gegen Phishing?", [("Absender prüfen", True), ("Sofort klicken", False)])],
            [
                (
                    "Was ist ein gutes Passwort?",
                    [("Eine lange Passphrase", True), ("123456", False), ("Der eigene Vorname", False)],
                )
            ],
        ],
    )
    sign_in(page, make_user())
    assert_accessible(page)

    menu = page.get_by_role("navigation", name="Hauptmenü")
    menu.get_by_role("link", name="Kurskatalog").click()
    assert_accessible(page)
    page.get_by_label("Suche").fill("Sicher")
    page.get_by_role("button", name="Kurse anzeigen").click()
    page.get_by_role("link", name="Sicher im Netz").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Sicher im Netz"
    assert_accessible(page)

    page.get_by_role("link", name="Kurs starten").click()
    for number, right_answer in enumerate(["Absender prüfen", "Eine lange Passphrase"], start=1):
        assert page.get_by_role("heading", level=1).inner_text() == f"Lektion {number}"
        assert_accessible(page)
        # Keyboard: focus the right answer's checkbox and tick it with the space bar.
        page.get_by_label(right_answer).focus()
        page.keyboard.press("Space")
        page.get_by_role("button", name="Antworten prüfen").click()
        if number == 1:  # passing the quiz marks the lesson done; the last one completes the course
            assert "1 von 1 Fragen richtig beantwortet" in page.get_by_role("status").first.inner_text()
            assert_accessible(page)
            page.get_by_role("link", name="Weiter: Lektion 2 →").click()

    assert "Herzlichen Glückwunsch" in page.locator(".kern-alert").first.inner_text()
    page.get_by_role("link", name="Bescheinigung anzeigen").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Teilnahmebescheinigung"
    assert "Sicher im Netz" in page.locator(".certificate").inner_text()
    assert_accessible(page)

    menu.get_by_role("link", name="Mein Lernen").click()
    completed = page.locator("section", has=page.get_by_role("heading", name="Abgeschlossen"))
    assert "Sicher im Netz" in completed.inner_text()
    assert_accessible(page)


def test_unanswered_quiz_error_is_announced_and_accessible(page, make_user, make_course):
    course = make_course()
    sign_in(page, make_user())
    page.goto(f"/courses/{course.slug}/{course.lessons[0].key}")
    page.get_by_role("button", name="Antworten prüfen").click()
    assert "Bitte beantworten Sie jede Frage" in page.get_by_role("alert").first.inner_text()
    assert_accessible(page)


def test_a_final_check_is_failed_explained_retried_with_a_new_draw_passed_and_only_then_evidence(
    page, make_user, make_course
):
    """Issue 11's journey: a course with a final check; the learner fails it, sees which questions
    were wrong but not the answers, retries with a new draw, passes, sees the solution, and only then
    does the completion (the evidence of the competence) exist."""
    from sqlalchemy import func, select

    from lms.extensions import db
    from lms.learning.models import Completion
    from lms.skills.models import Assessment

    questions = [(f"Frage {i}: Was stimmt?", [(f"Richtig {i}", True), (f"Falsch {i}", False)]) for i in range(6)]
    course = make_course(title="Mit Abschlusstest", lessons=[questions])
    course.lessons[0].draw = 2
    course.final_draw, course.final_pass_score = 3, 100
    course.version += 1
    db.session.commit()
    user = make_user()
    sign_in(page, user)

    def answer_all(right: bool) -> list[str]:
        asked = [legend.inner_text() for legend in page.locator("form legend").all()]
        for text in asked:
            number = text.split("Frage ")[1].split(":")[0]
            page.get_by_label(f"{'Richtig' if right else 'Falsch'} {number}", exact=True).check()
        page.get_by_role("button", name="Antworten prüfen").click()
        return asked

    def evidence() -> int:
        db.session.expire_all()
        completions = db.session.scalar(
            select(func.count()).select_from(Completion).where(Completion.user_id == user.id)
        )
        return completions + db.session.scalar(select(func.count()).select_from(Assessment))

    page.goto(f"/courses/{course.slug}/{course.lessons[0].key}")
    assert 'type="radio"' in page.content()
    answer_all(right=True)
    assert "Bestanden" in page.get_by_role("status").first.inner_text()
    page.goto(f"/courses/{course.slug}/")
    page.get_by_role("link", name="Zum Abschlusstest").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Abschlusstest"
    assert_accessible(page)

    first_draw = answer_all(right=False)
    status = page.get_by_role("status").first.inner_text()
    assert "Noch nicht bestanden: 0 von 3" in status
    results = page.locator(".quiz-result")
    assert results.count() == 3 and page.locator(".answer-right").count() == 0  # wrong, and why, not the answer
    assert "Erklärung zu" in results.first.inner_text()
    assert page.get_by_role("heading", name="Versuch 2").is_visible()
    assert_accessible(page)
    assert evidence() == 0

    second_draw = [legend.inner_text() for legend in page.locator("form legend").all()]
    assert second_draw != first_draw  # a new draw
    answer_all(right=True)
    assert "Herzlichen Glückwunsch" in page.locator(".kern-alert").first.inner_text()
    assert evidence() >= 1
    page.goto(f"/courses/{course.slug}/final-check")
    assert page.locator(".answer-right").count() == 3  # the solution, now that it is passed
    assert_accessible(page)
