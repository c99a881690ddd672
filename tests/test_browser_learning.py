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
        assert "1 von 1 Fragen richtig beantwortet" in page.get_by_role("status").first.inner_text()
        assert_accessible(page)
        page.get_by_role("button", name="Als erledigt markieren und weiter").click()

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
