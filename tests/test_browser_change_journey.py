"""Issue 14's journey in a real browser: a change lead sets up an initiative for a department with a
course and a session; an employee of it sees the announcement, registers, is marked attended by
the trainer, completes the course and answers the pulse; the readiness view shows the department's
figures once five people are in it. Four colleagues take the same steps through the services, so
that the department reaches the minimum group size. axe checks every page on the way."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from lms.assignments.models import Assignment
from lms.assignments.services import town_today
from lms.change import surveys
from lms.change.models import Initiative, PulseAnswer
from lms.common.dates import utcnow
from lms.extensions import db
from lms.sessions import services as sessions
from lms.sessions.models import SessionRegistration, TrainingSession
from tests.browser import assert_accessible
from tests.browser import sign_in as browser_sign_in
from tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.browser


def submit(page, form_selector: str) -> None:
    page.locator(f"{form_selector} button[type=submit]").click()
    page.wait_for_load_state()


def switch_to(page, user) -> None:
    page.context.clear_cookies()
    browser_sign_in(page, user.email, DEFAULT_PASSWORD)


def test_from_an_initiative_to_the_readiness_of_its_department(
    page, live_server, make_user, make_department, make_course
):
    office = make_department(code="63.1", name="Bauordnung")
    employee = make_user(department=office, given_name="Emil", family_name="Engel")
    colleagues = [make_user(department=office, family_name=f"Kollegin{n}") for n in range(4)]
    lead = make_user(roles=["change"], given_name="Carla", family_name="Wandel")
    trainer = make_user(roles=["trainer"], given_name="Tina", family_name="Trainerin")
    council = make_user(roles=["staff_council"], family_name="Personalrat")
    course = make_course(
        title="Die E-Akte im Alltag",
        lessons=[[("Wo liegt die Akte?", [("In der E-Akte", True), ("Im Keller", False)])]],
    )
    starts = (utcnow() + timedelta(days=5)).replace(microsecond=0)
    session = sessions.create_session(
        trainer,
        sessions.SessionData(
            title="E-Akte in der Praxis",
            starts_at=starts,
            ends_at=starts + timedelta(hours=2),
            registration_closes_at=starts - timedelta(days=1),
            capacity=10,
            place="Rathaus, Raum 2.14",
        ),
        utcnow(),
    )
    db.session.commit()
    today = town_today()

    # The change lead: the initiative, its course and session, started and announced.
    browser_sign_in(page, lead.email, DEFAULT_PASSWORD)
    page.goto("/change/new")
    page.fill("#title", "E-Akte im Bauamt")
    page.fill("#description", "Ab dem Go-live arbeitet das Bauamt digital.")
    page.select_option("#lead_id", str(lead.id))
    page.fill("#go_live", (today + timedelta(days=10)).isoformat())
    page.check(f"input[name=department_ids][value='{office.id}']")
    submit(page, "#initiative-form")
    page.select_option("#course_id", str(course.id))
    page.fill("#days", "3")
    submit(page, "form[action$='/courses']")
    page.select_option("#session_id", str(session.id))
    submit(page, "form[action$='/sessions']")
    assert "E-Akte in der Praxis" in page.locator("#linked-sessions").inner_text()
    assert_accessible(page)
    submit(page, "form[action$='/start']")
    page.fill("#title", "Bitte melden Sie sich zur Schulung an")
    page.fill("#body", "Die Termine stehen auf der Seite des Vorhabens.")
    page.fill("#shown_from", today.isoformat())
    page.fill("#shown_until", (today + timedelta(days=10)).isoformat())
    submit(page, "form[action$='/announcements']")
    initiative = db.session.execute(select(Initiative)).scalar_one()
    survey = surveys.save_survey(
        lead,
        initiative,
        None,
        surveys.SurveyData("before", ["Ich fühle mich vorbereitet."], False, today, today + timedelta(days=7)),
        today,
    )
    surveys.submit(survey)
    surveys.approve(survey, council)
    db.session.commit()

    # The employee: the announcement, the registration, the course, the pulse.
    switch_to(page, employee)
    page.goto("/learning/")
    section = page.locator("#my-initiatives")
    assert "Bitte melden Sie sich zur Schulung an" in section.inner_text()
    assert_accessible(page)
    section.get_by_role("link", name="E-Akte im Bauamt").click()
    page.wait_for_load_state()
    page.locator("#sessions").get_by_role("link", name="E-Akte in der Praxis").click()
    page.wait_for_load_state()
    page.locator(f'form[action="/sessions/{session.id}/register"] button').click()
    page.wait_for_load_state()
    assert page.locator(f'form[action="/sessions/{session.id}/unregister"]').count() == 1
    page.goto(f"/courses/{course.slug}/")
    page.get_by_role("link", name="Kurs starten").click()
    page.get_by_label("In der E-Akte").check()
    page.get_by_role("button", name="Antworten prüfen").click()
    assert "Herzlichen Glückwunsch" in page.locator(".kern-alert").first.inner_text()
    page.goto(f"/change/{initiative.id}/about")
    page.locator("#open-surveys a").click()
    page.wait_for_load_state()
    assert_accessible(page)
    page.locator("#pulse-form input[name=value_0][value='4']").check()
    submit(page, "#pulse-form")
    assert (
        db.session.scalar(select(func.count()).select_from(PulseAnswer).where(PulseAnswer.survey_id == survey.id)) == 1
    )

    # The four colleagues, through the services: registered, completed, answered.
    for person in colleagues:
        sessions.register(person, session, utcnow())
        assignment = db.session.execute(
            select(Assignment).where(Assignment.user_id == person.id, Assignment.course_id == course.id)
        ).scalar_one()
        assignment.completed_at = utcnow()
        surveys.answer(survey, person, [5], "", today)
    db.session.commit()

    # The session has taken place: the trainer marks who came.
    stored = db.session.get(TrainingSession, session.id)
    stored.starts_at = utcnow() - timedelta(minutes=30)
    stored.registration_closes_at = stored.starts_at - timedelta(days=1)
    db.session.commit()
    switch_to(page, trainer)
    page.goto(f"/sessions/{session.id}/attendance")
    registrations = db.session.execute(
        select(SessionRegistration).where(SessionRegistration.session_id == session.id)
    ).scalars()
    for registration in registrations:
        page.locator(f"#attended-{registration.id}").check()
    submit(page, f'form[action="/sessions/{session.id}/attendance"]')
    assert_accessible(page)

    # The readiness view: five people, all completed, attended and answered the pulse (the survey
    # minimum is the minimum group size, 5).
    switch_to(page, lead)
    page.goto(f"/change/{initiative.id}/readiness")
    assert_accessible(page)
    table = page.locator("table").first.inner_text()
    assert "63.1" in table
    assert "75 % und mehr" in table  # five of five: a band, never "100 %"
    assert "100 %" not in table and "Emil" not in page.content()
    row = next(line for line in table.splitlines() if line.startswith("63.1"))
    assert row.count("75 % und mehr") == 3  # completed, attended, feel prepared: five of five each
    assert "weniger als" not in table
