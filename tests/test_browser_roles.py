"""Real browser journeys: each demo role signs in and sees its own home page and menu; axe checks."""

import pytest

from lms.demo import services as demo
from lms.extensions import db
from tests.browser import assert_accessible, axe_violations
from tests.browser import sign_in as browser_sign_in

pytestmark = pytest.mark.browser
PASSWORD = "Rathaus-Demo-2026"
EVERYONE = {"Mein Lernen", "Kurskatalog", "Meine Kompetenzen", "Veranstaltungen"}

HOMES = {
    "admin": (
        "/admin/",
        "Administration",
        {"Administration", "Kurseditor", "Fortschrittsbericht", "Bescheinigung prüfen"},
    ),
    "hr": (
        "/hr/",
        "Personalübersicht",
        {
            "Kompetenzmatrix",
            "Lückenübersicht",
            "Zielvorgaben",
            "Personalübersicht",
            "Kurszuweisungen",
            "Bericht Pflichtschulungen",
            "Strategieziele",
            "Vorhaben",
            "Fortschrittsbericht",
            "Bescheinigung prüfen",
        },
    ),
    "manager": ("/team/", "Mein Team", {"Mein Team", "Kompetenzmatrix", "Kurszuweisungen", "Pflichtschulungen"}),
    "trainer": ("/trainer/", "Meine Kurse", {"Meine Kurse", "Kurseditor"}),
    "employee": ("/learning/", "Mein Lernen", set()),
    "staff_council": (
        "/privacy/settings",
        "Datenschutz-Einstellungen",
        {"Datenschutz-Einstellungen", "Umfragen zur Zustimmung", "Fortschrittsbericht"},
    ),
    "change": ("/change/", "Vorhaben", {"Vorhaben", "Strategieziele", "Fortschrittsbericht"}),
}


@pytest.fixture
def demo_town(database):
    logins = demo.seed(password=PASSWORD)
    db.session.commit()
    return {login.role: login.email for login in logins}


def sign_in(page, email):
    browser_sign_in(page, email, PASSWORD)


def test_sign_in_page_is_accessible(page):
    page.goto("/auth/login")
    assert page.title().startswith("Anmelden")
    assert_accessible(page)


def test_sign_in_errors_are_announced_and_accessible(page, demo_town):
    page.goto("/auth/login")
    page.get_by_label("E-Mail-Adresse").fill(demo_town["employee"])
    page.get_by_label("Passwort").fill("falsch-falsch-falsch")
    page.get_by_role("button", name="Anmelden").click()
    assert page.get_by_role("alert").inner_text().count("nicht korrekt") == 1
    assert_accessible(page)


@pytest.mark.parametrize("role", list(HOMES))
def test_each_demo_role_signs_in_and_sees_its_home(page, demo_town, role):
    path, heading, menu = HOMES[role]
    sign_in(page, demo_town[role])
    page.wait_for_url(f"**{path}")
    assert page.get_by_role("heading", level=1).inner_text() == heading
    nav = page.get_by_role("navigation", name="Hauptmenü")
    assert set(nav.get_by_role("link").all_inner_texts()) == EVERYONE | menu
    assert_accessible(page)


def test_keyboard_user_reaches_content_by_skip_link(page, demo_town):
    sign_in(page, demo_town["employee"])
    page.wait_for_url("**/learning/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Zum Inhalt springen")
    assert skip.evaluate("el => el === document.activeElement")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


def test_language_switch_in_the_header(page, demo_town):
    sign_in(page, demo_town["employee"])
    page.get_by_role("button", name="English").click()
    assert page.get_by_role("heading", level=1).inner_text() == "My learning"
    assert page.locator("html").get_attribute("lang") == "en"


def test_admin_pages_are_accessible(page, demo_town):
    sign_in(page, demo_town["admin"])
    for path in ["/admin/users", "/admin/users/new", "/admin/departments", "/admin/job-roles"]:
        page.goto(path)
        assert_accessible(page)
    page.goto("/admin/users")
    page.get_by_role("link", name="Engel, Emil").click()
    assert_accessible(page)


def test_no_console_errors_from_csp(page, demo_town):
    errors = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    sign_in(page, demo_town["hr"])
    page.wait_for_url("**/hr/")
    assert errors == []


def test_the_accessibility_check_does_find_problems(page):
    """Guards the guard: axe must report a missing label and missing alt text."""
    page.set_content('<html lang="de"><body><main><img src="x.png"><input type="text"></main></body></html>')
    found = {violation["id"] for violation in axe_violations(page, impacts=("serious", "critical"))}
    assert {"image-alt", "label"} <= found
