"""Sessions in a real browser: an employee registers, the trainer marks attendance after the start;
every page passes the accessibility check."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from lms.common.dates import utcnow
from lms.extensions import db
from lms.sessions.models import SessionRegistration, TrainingSession
from tests.browser import assert_accessible
from tests.browser import sign_in as browser_sign_in
from tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.browser


def test_an_employee_registers_and_the_trainer_marks_attendance(page, make_user, make_department):
    office = make_department(name="Bürgerbüro")
    trainer = make_user(roles=["trainer"], email="tina.trainerin@musterhausen.example")
    person = make_user(email="erika.lernt@musterhausen.example", department=office)
    starts = (utcnow() + timedelta(days=5)).replace(microsecond=0)
    session = TrainingSession(
        title="Sicher im Netz",
        description="Bitte bringen Sie Ihr Notebook mit.",
        starts_at=starts,
        ends_at=starts + timedelta(hours=2),
        registration_closes_at=starts - timedelta(days=1),
        capacity=8,
        place="Rathaus, Raum 101",
        trainer_id=trainer.id,
        sequence=0,
    )
    db.session.add(session)
    db.session.commit()

    browser_sign_in(page, person.email, DEFAULT_PASSWORD)
    page.goto("/sessions/")
    assert_accessible(page)
    page.get_by_role("link", name="Sicher im Netz").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text() == "Sicher im Netz"
    assert_accessible(page)
    page.locator(f'form[action="/sessions/{session.id}/register"] button').click()
    page.wait_for_load_state()
    assert page.locator(f'form[action="/sessions/{session.id}/unregister"]').count() == 1
    assert_accessible(page)
    registration = db.session.execute(select(SessionRegistration)).scalar_one()
    assert registration.user_id == person.id and not registration.waitlisted

    # The session has started: its trainer records who came.
    session.starts_at = utcnow() - timedelta(minutes=30)
    session.registration_closes_at = session.starts_at - timedelta(days=1)
    db.session.commit()
    page.context.clear_cookies()
    browser_sign_in(page, trainer.email, DEFAULT_PASSWORD)
    page.goto(f"/sessions/{session.id}")
    assert_accessible(page)
    page.goto(f"/sessions/{session.id}/attendance")
    assert_accessible(page)
    page.locator(f"#attended-{registration.id}").check()
    page.locator(f'form[action="/sessions/{session.id}/attendance"] button[type="submit"]').click()
    page.wait_for_load_state()
    db.session.expire_all()
    assert db.session.get(SessionRegistration, registration.id).attended is True

    page.goto(f"/sessions/{session.id}/signatures")
    assert person.name in page.locator("#signature-table").inner_text()
    assert_accessible(page)
    page.goto("/sessions/new")
    assert_accessible(page)
