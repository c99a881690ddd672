"""A pulse survey in a real browser: the staff council approves it, an employee of the target
group answers it, and the change lead opens the readiness view; axe checks every new page.
Fields and buttons are found by their ids and forms, so that the journey holds in every language."""

from datetime import timedelta

import pytest

from lms.assignments.services import town_today
from lms.change import services
from lms.change.models import Survey
from lms.extensions import db
from tests.browser import assert_accessible
from tests.browser import sign_in as browser_sign_in
from tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.browser


def submit(page, form_selector: str) -> None:
    page.locator(f"{form_selector} button[type=submit]").click()
    page.wait_for_load_state()


def test_the_council_approves_an_employee_answers_and_the_lead_reads_the_readiness(
    page, browser, live_server, make_user, make_department, make_course
):
    office = make_department(code="63.1", name="Bauordnung")
    employee = make_user(department=office, given_name="Emil", family_name="Engel")
    for _ in range(5):
        make_user(department=office)
    lead = make_user(roles=["change"], given_name="Carla", family_name="Wandel")
    council = make_user(roles=["staff_council"], given_name="Paul", family_name="Personalrat")
    course = make_course(title="Die E-Akte im Alltag")
    today = town_today()
    data = services.InitiativeData(
        title="E-Akte im Bauamt",
        description="",
        lead_id=lead.id,
        go_live=today + timedelta(days=10),
        department_ids=[office.id],
    )
    initiative = services.save_initiative(lead, None, data, today)
    services.link_course(lead, initiative, course.id, -7, today)
    services.start(lead, initiative, today)
    db.session.commit()

    browser_sign_in(page, lead.email, DEFAULT_PASSWORD)
    page.goto(f"/change/{initiative.id}/surveys/new")
    assert_accessible(page)
    page.check("#moment-0")
    page.fill("#question_1", "Ich fühle mich auf die E-Akte vorbereitet.")
    page.check("#with_comment")
    page.fill("#opens_on", today.isoformat())
    page.fill("#closes_on", (today + timedelta(days=7)).isoformat())
    submit(page, "#survey-form")
    assert_accessible(page)
    submit(page, "form[action$='/submit']")
    survey_id = db.session.execute(db.select(Survey.id)).scalar_one()

    council_context = browser.new_context(base_url=live_server, locale="de-DE")
    council_page = council_context.new_page()
    try:
        browser_sign_in(council_page, council.email, DEFAULT_PASSWORD)
        council_page.goto("/change/surveys/approval")
        assert (
            "Ich fühle mich auf die E-Akte vorbereitet." in council_page.locator(f"#approval-{survey_id}").inner_text()
        )
        assert_accessible(council_page)
        submit(council_page, "form[action$='/approve']")
        assert council_page.locator(f"#approval-{survey_id}").count() == 0
    finally:
        council_context.close()

    reader_context = browser.new_context(base_url=live_server, locale="de-DE")
    reader = reader_context.new_page()
    try:
        browser_sign_in(reader, employee.email, DEFAULT_PASSWORD)
        reader.goto("/learning/")
        reader.locator(f"#my-initiatives a[href$='/pulse/{survey_id}']").click()
        reader.wait_for_load_state()
        assert_accessible(reader)
        reader.check("#value_0-3")
        reader.fill("#comment", "Ich brauche noch eine Schulung.")
        submit(reader, "#pulse-form")
        assert_accessible(reader)
        reader.goto(f"/change/{initiative.id}/pulse/{survey_id}")
        assert reader.locator("#already-answered").count() == 1
    finally:
        reader_context.close()

    page.goto(f"/change/{initiative.id}/readiness")
    assert page.locator("#readiness").count() == 1
    assert page.locator(f"#readiness tr[data-group='{office.id}'] td[data-figure='people']").inner_text() == "6"
    assert page.locator("#readiness tr[data-flagged='true']").count() >= 1  # nobody has done the course yet
    assert_accessible(page)
