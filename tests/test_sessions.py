"""In-person and online sessions (issue 14): scheduling, registration with a waitlist that moves up,
the last seat under concurrency, the calendar invitation, the day-before reminder, attendance, the
signature list, levels confirmed by the trainer, and the participant lists' retention."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from sqlalchemy import func, select

from lms.common.dates import as_utc, utcnow
from lms.common.errors import ValidationFailed
from lms.common.vocabulary import AuditAction, EvidenceType
from lms.core import retention
from lms.extensions import db
from lms.learning.models import Completion
from lms.notifications.delivery import deliver_outbox
from lms.notifications.models import Notification, NotificationKind, OutboxMessage
from lms.people.models import User
from lms.privacy.models import AuditEntry
from lms.sessions import attendance, services, tasks
from lms.sessions.models import SessionRegistration, TrainingSession
from lms.skills import services as skills
from lms.skills.models import Assessment
from tests.conftest import csrf_token
from tests.factories import competence

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def trainer(make_user):
    return make_user(roles=["trainer"], given_name="Tina", family_name="Trainerin")


def make_session(trainer, starts_in=timedelta(days=7), capacity=10, course=None, **fields) -> TrainingSession:
    starts = (utcnow() + starts_in).replace(microsecond=0)
    session = TrainingSession(
        title=fields.pop("title", "Sicher im Netz"),
        description=fields.pop("description", "Was Sie mitbringen: Ihr Notebook."),
        starts_at=starts,
        ends_at=starts + timedelta(hours=2),
        registration_closes_at=fields.pop("registration_closes_at", starts - timedelta(hours=1)),
        capacity=capacity,
        place=fields.pop("place", "Rathaus, Raum 101"),
        video_link=fields.pop("video_link", ""),
        trainer_id=trainer.id,
        course_id=course.id if course else None,
        sequence=0,
        **fields,
    )
    db.session.add(session)
    db.session.commit()
    return session


def register(person, session, at=None):
    registration = services.register(person, session, at or utcnow())
    db.session.commit()
    return registration


def count(model, *conditions) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*conditions))


def form_data(**values):
    data = {
        "title": "Sicher im Netz",
        "course_id": "",
        "starts_at": "2031-03-10T09:00",
        "ends_at": "2031-03-10T11:00",
        "registration_closes_at": "2031-03-09T12:00",
        "place": "Rathaus, Raum 101",
        "video_link": "",
        "capacity": "12",
        "description": "Bitte Notebook mitbringen.",
    }
    data.update(values)
    return data


# --- scheduling -----------------------------------------------------------------------------


def test_a_trainer_schedules_a_session_in_the_towns_time(client, sign_in, trainer):
    sign_in(trainer)
    token = csrf_token(client.get("/sessions/new"))
    response = client.post("/sessions/new", data={"csrf_token": token, **form_data()})
    assert response.status_code == 302
    session = db.session.execute(select(TrainingSession)).scalar_one()
    assert as_utc(session.starts_at) == datetime(2031, 3, 10, 9, 0, tzinfo=BERLIN)  # 08:00 UTC in winter
    assert as_utc(session.starts_at) == datetime(2031, 3, 10, 8, 0, tzinfo=UTC)
    assert session.trainer_id == trainer.id and session.capacity == 12
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Sicher im Netz" in page and "Rathaus, Raum 101" in page


@pytest.mark.parametrize(
    "values, field",
    [
        ({"ends_at": "2031-03-10T08:00"}, "ends_at"),  # before the start
        ({"registration_closes_at": "2031-03-10T10:00"}, "registration_closes_at"),  # after the start
        ({"capacity": "0"}, "capacity"),
        ({"place": "", "video_link": "http://meet.example.org/raum"}, "video_link"),  # not https
        ({"place": "Raum 1", "video_link": "https://meet.example.org/raum"}, "place"),  # both
        ({"title": ""}, "title"),
    ],
)
def test_bad_input_is_refused_next_to_its_field(client, sign_in, trainer, values, field):
    sign_in(trainer)
    token = csrf_token(client.get("/sessions/new"))
    response = client.post("/sessions/new", data={"csrf_token": token, **form_data(**values)})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert page.count('class="kern-error"') == 1  # this field's error, and only this one
    assert f'id="{field}-error"' in page
    control = re.search(rf'<(?:input|select|textarea)[^>]*\bid="{field}"[^>]*>', page).group(0)
    assert 'aria-invalid="true"' in control and f"{field}-error" in control
    assert count(TrainingSession) == 0


def test_video_links_are_https_and_on_the_allowed_hosts(app, database, monkeypatch):
    monkeypatch.setitem(app.config, "SESSION_VIDEO_HOSTS", ("meet.musterhausen.de",))
    assert services.video_link_problem("https://meet.musterhausen.de/raum-7") is None
    assert services.video_link_problem("https://video.meet.musterhausen.de/raum-7") is None
    for link in (
        "http://meet.musterhausen.de/raum-7",
        "javascript:alert(1)",
        "https://meet.musterhausen.de.evil.example/raum",
        "https://user:pw@meet.musterhausen.de/raum",
        "https://zoom.example/raum",
    ):
        assert services.video_link_problem(link), link


def test_only_the_sessions_trainer_or_an_admin_changes_it(client, sign_in, make_user, trainer):
    session = make_session(trainer)
    sign_in(make_user(roles=["trainer"]))
    assert client.get(f"/sessions/{session.id}/edit").status_code == 403
    assert client.get(f"/sessions/{session.id}/participants").status_code == 403
    token = csrf_token(client.get("/sessions/"))
    assert client.post(f"/sessions/{session.id}/cancel", data={"csrf_token": token}).status_code == 403
    assert db.session.get(TrainingSession, session.id).cancelled_at is None
    client.post("/auth/logout", data={"csrf_token": token})
    sign_in(make_user(roles=["admin"]))
    page = client.get(f"/sessions/{session.id}/edit")
    assert page.status_code == 200
    response = client.post(
        f"/sessions/{session.id}/edit",
        data={"csrf_token": csrf_token(page), **form_data(title="Sicher im Netz – Teil 2", capacity="3")},
    )
    assert response.status_code == 302
    db.session.expire_all()
    changed = db.session.get(TrainingSession, session.id)
    assert changed.title == "Sicher im Netz – Teil 2" and changed.sequence == 1


def test_fewer_seats_than_people_registered_are_refused(trainer, make_user):
    session = make_session(trainer, capacity=3)
    for _ in range(2):
        register(make_user(), session)
    data = services.SessionData(
        title=session.title,
        starts_at=as_utc(session.starts_at),
        ends_at=as_utc(session.ends_at),
        registration_closes_at=as_utc(session.registration_closes_at),
        capacity=1,
        place=session.place,
    )
    with pytest.raises(ValidationFailed) as refused:
        services.update_session(session, data, utcnow())
    assert set(refused.value.errors) == {"capacity"}


def test_cancelling_a_session_tells_everyone_registered(trainer, make_user, no_mail_server):
    session = make_session(trainer, capacity=1)
    seated, waiting = make_user(), make_user()
    register(seated, session)
    register(waiting, session)
    assert services.cancel_session(session, utcnow()) == 2
    db.session.commit()
    kinds = db.session.scalars(select(Notification.kind).where(Notification.user_id.in_([seated.id, waiting.id])))
    assert sorted(kinds) == ["session_cancelled", "session_cancelled", "session_registered"]
    mails = {
        m.user_id: m for m in db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "session_cancelled"))
    }
    assert Calendar.from_ical(mails[seated.id].calendar)["METHOD"] == "CANCEL"
    assert mails[waiting.id].calendar is None  # the waitlist had no invitation to withdraw
    with pytest.raises(ValidationFailed):
        register(make_user(), session)


# --- registering ----------------------------------------------------------------------------


def test_a_full_session_waitlists_and_a_cancellation_moves_the_first_up_with_a_mail(trainer, make_user, mail_server):
    session = make_session(trainer, capacity=1)
    first, second, third = make_user(), make_user(), make_user()
    now = utcnow()
    assert not register(first, session, now).waitlisted
    second_registration = register(second, session, now + timedelta(seconds=1))
    third_registration = register(third, session, now + timedelta(seconds=2))
    assert second_registration.waitlisted and third_registration.waitlisted
    assert services.waitlist_position(second_registration) == 1
    assert services.waitlist_position(third_registration) == 2
    assert register(second, session).id == second_registration.id  # registering twice changes nothing

    assert services.cancel_registration(first, session, utcnow())
    db.session.commit()
    db.session.expire_all()
    assert not db.session.get(SessionRegistration, second_registration.id).waitlisted
    assert db.session.get(SessionRegistration, third_registration.id).waitlisted
    assert count(SessionRegistration, SessionRegistration.user_id == first.id) == 0

    deliver_outbox()
    moved_up = mail_server.to(second.email)  # waiting brought no mail; moving up brings one
    assert len(moved_up) == 1, [m["Subject"] for m in moved_up]
    calendar_parts = [part for part in moved_up[0].walk() if part.get_content_type() == "text/calendar"]
    assert len(calendar_parts) == 1 and calendar_parts[0].get_param("method") == "REQUEST"
    assert mail_server.to(third.email) == []  # still waiting: no mail


def test_registration_closes_at_its_deadline_and_cancelling_ends_at_the_start(trainer, make_user):
    session = make_session(trainer)
    person = make_user()
    with pytest.raises(ValidationFailed) as late:
        services.register(person, session, as_utc(session.registration_closes_at) + timedelta(minutes=1))
    assert set(late.value.errors) == {"session"}
    register(person, session)
    with pytest.raises(ValidationFailed):
        services.cancel_registration(person, session, as_utc(session.starts_at))


def test_an_employee_registers_and_cancels_on_the_session_page(client, sign_in, make_user, trainer, no_mail_server):
    session = make_session(trainer, capacity=1)
    register(make_user(), session)  # the last seat is gone
    person = make_user()
    sign_in(person)
    page = client.get(f"/sessions/{session.id}")
    assert client.post(f"/sessions/{session.id}/register").status_code == 400  # no CSRF token
    response = client.post(f"/sessions/{session.id}/register", data={"csrf_token": csrf_token(page)})
    assert response.status_code == 302
    registration = services.registration_of(person, session)
    assert registration is not None and registration.waitlisted
    page = client.get(f"/sessions/{session.id}")
    assert 'id="registration-state"' in page.get_data(as_text=True)
    client.post(f"/sessions/{session.id}/unregister", data={"csrf_token": csrf_token(page)})
    db.session.expire_all()
    assert services.registration_of(person, session) is None


def test_two_people_registering_for_the_last_seat_at_once_get_one_seat_and_one_waitlist_place(
    app, trainer, make_user, no_mail_server
):
    if app.config["DB_BACKEND"] != "postgresql":
        pytest.skip("row locks between connections: PostgreSQL (SQLite has one writer anyway)")
    session = make_session(trainer, capacity=1)
    people = [make_user().id, make_user().id]
    session_id = session.id
    db.session.remove()  # the threads use connections of their own
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def worker(user_id: int) -> None:
        try:
            with app.app_context():
                person = db.session.get(User, user_id)
                target = db.session.get(TrainingSession, session_id)
                barrier.wait(timeout=10)
                services.register(person, target, utcnow())
                db.session.commit()
                db.session.remove()
        except BaseException as error:  # reported in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(user_id,)) for user_id in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    waitlisted = db.session.scalars(select(SessionRegistration.waitlisted).order_by(SessionRegistration.waitlisted))
    assert list(waitlisted) == [False, True]


# --- the invitation and the reminder --------------------------------------------------------


def test_the_invitation_is_an_icalendar_request_with_the_sessions_time(trainer, make_user, no_mail_server):
    session = make_session(trainer, video_link="https://meet.musterhausen.example/raum-7", place="")
    person = make_user()
    register(person, session)
    mail = db.session.execute(select(OutboxMessage).where(OutboxMessage.user_id == person.id)).scalar_one()
    assert mail.kind == NotificationKind.SESSION_REGISTERED
    invitation = Calendar.from_ical(mail.calendar)
    assert invitation["METHOD"] == "REQUEST"
    event = invitation.walk("VEVENT")[0]
    assert event.decoded("DTSTART") == as_utc(session.starts_at)
    assert event.decoded("DTEND") == as_utc(session.ends_at)
    assert str(event["SUMMARY"]) == "Sicher im Netz"
    assert str(event["LOCATION"]) == "https://meet.musterhausen.example/raum-7"
    assert str(event["ATTENDEE"]) == f"mailto:{person.email}"
    assert str(event["UID"]).startswith(f"session-{session.id}@")


def test_a_new_time_reaches_the_seat_holders_calendars_once(trainer, make_user, no_mail_server):
    session = make_session(trainer, capacity=1)
    seated, waiting = make_user(), make_user()
    register(seated, session)
    register(waiting, session)
    db.session.commit()

    def data(**changes):
        values = {
            "title": session.title,
            "starts_at": as_utc(session.starts_at),
            "ends_at": as_utc(session.ends_at),
            "registration_closes_at": as_utc(session.registration_closes_at),
            "capacity": session.capacity,
            "place": session.place,
            "video_link": session.video_link,
        }
        return services.SessionData(**(values | changes))

    services.update_session(session, data(title="Neuer Titel"), utcnow())  # nothing for the calendar
    db.session.commit()
    assert count(Notification, Notification.kind == NotificationKind.SESSION_CHANGED) == 0
    later = as_utc(session.starts_at) + timedelta(days=1)
    services.update_session(session, data(starts_at=later, ends_at=later + timedelta(hours=2)), utcnow())
    db.session.commit()
    changed = db.session.scalars(
        select(Notification).where(Notification.kind == NotificationKind.SESSION_CHANGED)
    ).all()
    assert [n.user_id for n in changed] == [seated.id]  # the waitlist holds no invitation
    mail = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == NotificationKind.SESSION_CHANGED)).one()
    event = next(c for c in Calendar.from_ical(mail.calendar).walk() if c.name == "VEVENT")
    assert as_utc(event.decoded("dtstart")) == later and int(event.get("sequence")) == session.sequence == 2


def test_the_session_page_offers_the_ics_file(client, sign_in, make_user, trainer):
    session = make_session(trainer)
    sign_in(make_user())
    response = client.get(f"/sessions/{session.id}/session.ics")
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    assert "attachment" in response.headers["Content-Disposition"]
    published = Calendar.from_ical(response.data)
    assert published["METHOD"] == "PUBLISH"
    assert published.walk("VEVENT")[0].decoded("DTSTART") == as_utc(session.starts_at)


def test_the_reminder_job_reminds_seat_holders_of_tomorrow_once(app, trainer, make_user, no_mail_server):
    session = make_session(trainer, capacity=1, starts_in=timedelta(days=3))
    seated, waiting = make_user(), make_user()
    register(seated, session)
    register(waiting, session)
    later = make_session(trainer, starts_in=timedelta(days=5))
    register(seated, later)
    tomorrow = as_utc(session.starts_at).astimezone(BERLIN).date() - timedelta(days=1)

    assert tasks.remind_of_tomorrows_sessions(app, tomorrow - timedelta(days=1)) == 0
    assert tasks.remind_of_tomorrows_sessions(app, tomorrow) == 1
    assert tasks.remind_of_tomorrows_sessions(app, tomorrow) == 0  # once per registration
    reminders = db.session.scalars(select(Notification).where(Notification.kind == "session_reminder")).all()
    assert [reminder.user_id for reminder in reminders] == [seated.id]


# --- after the session ----------------------------------------------------------------------


@pytest.fixture
def held_session(trainer, make_user, make_department):
    """A session that started an hour ago: two seats taken, one person waiting."""
    office = make_department(name="Bürgerbüro")
    session = make_session(trainer, capacity=2)
    people = [make_user(department=office, family_name=name) for name in ("Anders", "Berg", "Conrad")]
    for person in people:
        register(person, session)
    session.starts_at = utcnow() - timedelta(hours=1)
    session.ends_at = utcnow() + timedelta(hours=1)
    session.registration_closes_at = utcnow() - timedelta(hours=2)
    db.session.commit()
    return session, people


def test_attendance_is_recorded_only_by_the_sessions_trainer_after_the_start(
    client, sign_in, make_user, trainer, held_session, no_mail_server
):
    session, (anders, berg, conrad) = held_session
    future = make_session(trainer)
    sign_in(make_user(roles=["trainer"]))
    assert client.get(f"/sessions/{session.id}/attendance").status_code == 403
    client.post("/auth/logout", data={"csrf_token": csrf_token(client.get("/sessions/"))})
    sign_in(make_user(roles=["admin"]))
    assert client.get(f"/sessions/{session.id}/attendance").status_code == 403
    client.post("/auth/logout", data={"csrf_token": csrf_token(client.get("/sessions/"))})

    sign_in(trainer)
    assert client.get(f"/sessions/{future.id}/attendance").status_code == 403  # not yet started
    page = client.get(f"/sessions/{session.id}/attendance")
    text = page.get_data(as_text=True)
    assert anders.name in text and berg.name in text and conrad.name not in text  # the waitlist did not come
    seats = {registration.user_id: registration.id for registration in services.seat_holders(session)}
    response = client.post(
        f"/sessions/{session.id}/attendance",
        data={"csrf_token": csrf_token(page), "attended": [str(seats[anders.id])]},
    )
    assert response.status_code == 302
    db.session.expire_all()
    marks = {r.user_id: r.attended for r in db.session.scalars(select(SessionRegistration))}
    assert marks == {anders.id: True, berg.id: False, conrad.id: None}
    looked = db.session.scalars(
        select(AuditEntry.subject_id).where(AuditEntry.action == AuditAction.VIEW_PARTICIPANTS)
    ).all()
    assert sorted(looked) == sorted([anders.id, berg.id])


def test_the_signature_list_prints_names_departments_and_an_empty_column(
    client, sign_in, make_user, trainer, held_session
):
    session, (anders, berg, conrad) = held_session
    sign_in(make_user())
    assert client.get(f"/sessions/{session.id}/signatures").status_code == 403
    client.post("/auth/logout", data={"csrf_token": csrf_token(client.get("/sessions/"))})
    sign_in(trainer)
    page = client.get(f"/sessions/{session.id}/signatures").get_data(as_text=True)
    table = page.split('id="signature-table"', 1)[1].split("</table>", 1)[0]
    assert anders.name in table and berg.name in table and conrad.name not in table
    assert table.count("Bürgerbüro") == 2
    assert table.count('<td class="signature-table__signature"></td>') == 2
    assert "style=" not in page
    assert count(AuditEntry, AuditEntry.action == AuditAction.VIEW_PARTICIPANTS) == 2


def test_the_trainer_confirms_levels_only_for_attendees_and_only_upwards(
    trainer, make_user, held_session, digcomp, no_mail_server
):
    session, (anders, berg, _conrad) = held_session
    seats = {registration.user_id: registration for registration in services.seat_holders(session)}
    attendance.record_attendance(session, {seats[anders.id].id})
    db.session.commit()
    competence_id = competence("4.1").id

    with pytest.raises(skills.AssessmentRefused):  # did not attend
        attendance.confirm_level(trainer, session, seats[berg.id], competence_id, 3)
    other_trainer = make_user(roles=["trainer"])
    with pytest.raises(skills.AssessmentRefused):  # not the session's trainer
        attendance.confirm_level(other_trainer, session, seats[anders.id], competence_id, 3)
    with pytest.raises(skills.AssessmentRefused):  # never one's own level
        skills.record_confirmation_by_trainer(trainer, trainer, competence_id, 3, session.title, authority_refusal=None)

    db.session.add(Assessment(user_id=anders.id, competence_id=competence_id, level=3, assessed_by_id=None))
    db.session.commit()
    with pytest.raises(ValidationFailed) as not_higher:
        attendance.confirm_level(trainer, session, seats[anders.id], competence_id, 3)
    assert "3" not in not_higher.value.errors["level"]  # the trainer is not told the person's level
    db.session.rollback()

    entry = attendance.confirm_level(trainer, session, seats[anders.id], competence_id, 4, "Sehr engagiert.")
    db.session.commit()
    assert entry.evidence_type == EvidenceType.IN_PERSON_SESSION and entry.assessed_by_id == trainer.id
    told = db.session.execute(
        select(Notification).where(Notification.user_id == anders.id, Notification.kind == "confirmed")
    ).scalar_one()
    assert told.params["session"] == session.title
    assert count(AuditEntry, AuditEntry.action == AuditAction.ASSESS, AuditEntry.subject_id == anders.id) == 1


def test_the_confirmation_page_offers_only_attendees(client, sign_in, trainer, held_session, digcomp):
    session, (anders, berg, _conrad) = held_session
    seats = {registration.user_id: registration for registration in services.seat_holders(session)}
    attendance.record_attendance(session, {seats[anders.id].id})
    db.session.commit()
    sign_in(trainer)
    page = client.get(f"/sessions/{session.id}/confirm")
    select_html = page.get_data(as_text=True).split('id="registration_id"', 1)[1].split("</select>", 1)[0]
    assert anders.name in select_html and berg.name not in select_html
    response = client.post(
        f"/sessions/{session.id}/confirm",
        data={
            "csrf_token": csrf_token(page),
            "registration_id": str(seats[berg.id].id),
            "competence_id": str(competence("4.1").id),
            "level": "3",
        },
    )
    assert response.status_code == 422 and count(Assessment) == 0


# --- retention ------------------------------------------------------------------------------


def test_participant_lists_are_deleted_after_the_period_completions_stay(app, trainer, make_user, make_course):
    course = make_course()
    old = make_session(trainer, course=course)
    recent = make_session(trainer, course=course)
    person = make_user()
    register(person, old)
    register(person, recent)
    old.starts_at = utcnow() - timedelta(days=100)
    old.ends_at = old.starts_at + timedelta(hours=2)
    recent.starts_at = utcnow() - timedelta(days=10)
    recent.ends_at = recent.starts_at + timedelta(hours=2)
    db.session.add(Completion(user_id=person.id, course_id=course.id, course_version=1, score_percent=100))
    db.session.commit()

    counts = retention.run(utcnow(), app.config["RETENTION_DAYS"], dry_run=False)
    db.session.commit()
    assert counts["session_participants"] == 1
    assert [r.session_id for r in db.session.scalars(select(SessionRegistration))] == [recent.id]
    assert count(Completion) == 1 and count(TrainingSession) == 2


def test_attending_a_session_of_a_course_completes_the_course_and_meets_its_assignment(trainer, make_user, make_course):
    from lms.assignments import services as assignments
    from lms.assignments.models import Assignment
    from lms.common.vocabulary import AssignmentScope, DueKind

    course = make_course(valid_months=24)
    session = make_session(trainer, capacity=2, course=course)
    came, stayed_away = make_user(), make_user()
    hr = make_user(roles=["hr"])
    for person in (came, stayed_away):
        rule = assignments.RuleData(
            course_id=course.id,
            scope=AssignmentScope.PERSON,
            user_id=person.id,
            due_kind=DueKind.WITHIN_DAYS,
            due_days=30,
            mandatory=True,
            reason="Pflichtschulung",
        )
        assignments.create_rule(hr, rule, assignments.town_today())
        register(person, session)
    session.starts_at = utcnow() - timedelta(hours=3)
    session.ends_at = utcnow() - timedelta(hours=1)
    session.registration_closes_at = utcnow() - timedelta(days=1)
    db.session.commit()
    seats = {registration.user_id: registration.id for registration in services.seat_holders(session)}

    attendance.record_attendance(session, {seats[came.id]})
    attendance.record_attendance(session, {seats[came.id]})  # recorded again: still one completion
    db.session.commit()
    (completion,) = db.session.scalars(select(Completion)).all()
    assert (completion.user_id, completion.course_version, completion.score_percent) == (came.id, course.version, 100)
    assert completion.expires_at is not None  # the course's validity, as online
    statuses = {
        a.user_id: a.completed_at is not None
        for a in db.session.scalars(select(Assignment).where(Assignment.course_id == course.id))
    }
    assert statuses == {came.id: True, stayed_away.id: False}


# --- the list -------------------------------------------------------------------------------


def statements(client, count_queries, url: str) -> int:
    with count_queries() as counter:
        assert client.get(url).status_code == 200
    return counter.count


# the signed-in person; upcoming sessions with their courses; the trainer's past ones; the
# registrations of all of them; the bell
LIST_STATEMENTS = 5


def test_the_list_page_takes_a_fixed_number_of_statements(
    client, sign_in, make_user, trainer, make_course, count_queries, no_mail_server
):
    person = make_user()
    sign_in(trainer)
    make_session(trainer)
    assert statements(client, count_queries, "/sessions/") == LIST_STATEMENTS
    course = make_course()
    for index in range(5):
        session = make_session(trainer, course=course, capacity=1, title=f"Termin {index}")
        register(person, session)
        register(make_user(), session)
    past = make_session(trainer)
    past.starts_at, past.ends_at = utcnow() - timedelta(days=3), utcnow() - timedelta(days=3, hours=-2)
    db.session.commit()
    page = client.get("/sessions/").get_data(as_text=True)
    assert "Termin 4" in page and 'id="past-sessions"' in page
    assert statements(client, count_queries, "/sessions/") == LIST_STATEMENTS


def test_the_list_filters_by_course(client, sign_in, make_user, trainer, make_course):
    course = make_course()
    make_session(trainer, course=course, title="Kurs-Termin")
    make_session(trainer, title="Anderer Termin")
    sign_in(make_user())
    page = client.get(f"/sessions/?course={course.id}").get_data(as_text=True)
    assert "Kurs-Termin" in page and "Anderer Termin" not in page


def test_a_course_page_shows_its_next_sessions(client, sign_in, make_user, trainer, make_course):
    course = make_course()
    upcoming = make_session(trainer, course=course, title="Präsenz zum Kurs")
    cancelled = make_session(trainer, course=course, title="Abgesagt")
    cancelled.cancelled_at = utcnow()
    other = make_session(trainer, title="Ohne Kurs")
    db.session.commit()
    sign_in(make_user())
    page = client.get(f"/courses/{course.slug}/").get_data(as_text=True)
    section = page.split('id="course-sessions"')[1].split("</section>")[0]
    assert f"/sessions/{upcoming.id}" in section and "Abgesagt" not in section and other.title not in section
    assert f"/sessions/?course={course.id}" in section
    bare = make_course()
    assert 'id="course-sessions"' not in client.get(f"/courses/{bare.slug}/").get_data(as_text=True)
