"""A change lead sets up an initiative in a real browser, and an employee of its target group
finds its announcement on My learning; axe checks every new page. Fields and buttons are found by
their ids and forms, so that the journey holds in every language."""

from datetime import timedelta

import pytest

from lms.assignments.services import town_today
from tests.browser import assert_accessible
from tests.browser import sign_in as browser_sign_in
from tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.browser


def submit(page, form_selector: str) -> None:
    page.locator(f"{form_selector} button[type=submit]").click()
    page.wait_for_load_state()


def test_a_change_lead_sets_up_an_initiative_and_the_target_group_reads_its_announcement(
    page, browser, live_server, make_user, make_department, make_course
):
    office = make_department(code="63.1", name="Bauordnung")
    employee = make_user(department=office, given_name="Emil", family_name="Engel")
    lead = make_user(roles=["change"], given_name="Carla", family_name="Wandel")
    course = make_course(title="Die E-Akte im Alltag")
    today = town_today()

    browser_sign_in(page, lead.email, DEFAULT_PASSWORD)
    page.goto("/change/")
    assert_accessible(page)
    page.goto("/change/new")
    assert_accessible(page)
    page.fill("#title", "E-Akte im Bauamt")
    page.fill("#description", "Ab dem Go-live arbeitet das Bauamt **nur noch digital**.")
    page.select_option("#lead_id", str(lead.id))
    page.fill("#go_live", (today + timedelta(days=30)).isoformat())
    page.check(f"input[name=department_ids][value='{office.id}']")
    page.fill("#phases-0-name", "Schulungen")
    page.fill("#phases-0-starts_on", today.isoformat())
    page.fill("#phases-0-ends_on", (today + timedelta(days=20)).isoformat())
    submit(page, "#initiative-form")
    assert page.get_by_role("heading", level=1).inner_text() == "E-Akte im Bauamt"
    assert_accessible(page)

    page.select_option("#course_id", str(course.id))
    page.fill("#days", "14")
    submit(page, "form[action$='/courses']")
    assert "Die E-Akte im Alltag" in page.locator("#linked-courses").inner_text()
    submit(page, "form[action$='/start']")
    page.fill("#title", "Die Schulungstermine stehen fest")
    page.fill("#body", "Bitte melden Sie sich *bis Freitag* an.")
    page.fill("#shown_from", today.isoformat())
    page.fill("#shown_until", (today + timedelta(days=7)).isoformat())
    submit(page, "form[action$='/announcements']")
    assert "Die Schulungstermine stehen fest" in page.locator("#announcements").inner_text()
    assert_accessible(page)
    initiative_path = page.url.split(live_server)[1].split("#")[0]
    page.goto(f"{initiative_path}questions")
    assert_accessible(page)

    context = browser.new_context(base_url=live_server, locale="de-DE")
    reader = context.new_page()
    try:
        browser_sign_in(reader, employee.email, DEFAULT_PASSWORD)
        reader.goto("/learning/")
        section = reader.locator("#my-initiatives")
        assert "E-Akte im Bauamt" in section.inner_text()
        assert "Die Schulungstermine stehen fest" in section.inner_text()
        assert section.locator("em").inner_text() == "bis Freitag"
        assert "Die E-Akte im Alltag" in reader.locator("#my-assignments").inner_text()
        assert_accessible(reader)
        section.get_by_role("link", name="E-Akte im Bauamt").click()
        reader.wait_for_load_state()
        assert reader.get_by_role("heading", level=1).inner_text() == "E-Akte im Bauamt"
        assert "Schulungen" in reader.locator("#phases").inner_text()
        assert_accessible(reader)
        reader.fill("#text", "Bekomme ich einen zweiten Bildschirm?")
        reader.check("#without_name")
        submit(reader, "form[action$='/ask']")
        assert "Bekomme ich einen zweiten Bildschirm?" in reader.locator("#my-questions").inner_text()
        reader.goto("/change/mine")
        assert_accessible(reader)
    finally:
        context.close()
