"""Sessions: scheduling, registration with a waitlist that moves up, attendance. Functions flush;
the caller commits.

Seats are counted under a lock on the session's row, so two people registering for the last seat
at the same instant get one seat and one place on the waitlist: on PostgreSQL `SELECT ... FOR
UPDATE` makes the second wait until the first commits; SQLite takes its single write lock with a
no-op UPDATE of the row (a SELECT takes none: pysqlite starts the transaction only before a write).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import contains_eager, joinedload

from lms.catalog.models import Course
from lms.common.dates import as_utc
from lms.common.errors import ValidationFailed
from lms.common.text import has_control_characters, note_problem
from lms.extensions import db
from lms.i18n import _
from lms.notifications import services as notifications
from lms.people.models import User
from lms.sessions import notices
from lms.sessions.models import SessionRegistration, TrainingSession

MAX_TITLE = 200
MAX_DESCRIPTION = 5000
MAX_PLACE = 200
MAX_VIDEO_LINK = 500
MAX_CAPACITY = 10_000
PAST_SESSIONS_SHOWN = 50


@dataclass(frozen=True)
class SessionData:
    """A session as the form gives it; the times timezone-aware (None when not given)."""

    title: str
    starts_at: datetime | None
    ends_at: datetime | None
    registration_closes_at: datetime | None
    capacity: int | None
    place: str = ""
    video_link: str = ""
    description: str = ""
    course_id: int | None = None


def town_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def in_town(day: date, at: time) -> datetime:
    """A wall-clock time in the town as an aware moment (the form's date-and-time fields)."""
    return datetime.combine(day, at, tzinfo=town_zone())


# --- checking a session ---------------------------------------------------------------------


def _text_errors(data: SessionData) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not data.title.strip():
        errors["title"] = _("Give the session a title.")
    elif len(data.title) > MAX_TITLE or has_control_characters(data.title):
        errors["title"] = _("Use at most %(max)d characters, without control characters.", max=MAX_TITLE)
    if problem := note_problem(data.description, MAX_DESCRIPTION):
        errors["description"] = problem
    if len(data.place) > MAX_PLACE or has_control_characters(data.place):
        errors["place"] = _("Use at most %(max)d characters, without control characters.", max=MAX_PLACE)
    elif bool(data.place) == bool(data.video_link):
        errors["place"] = _("Give either a place or a video link (one of the two).")
    if data.video_link and (problem := video_link_problem(data.video_link)):
        errors["video_link"] = problem
    if data.course_id is not None and db.session.get(Course, data.course_id) is None:
        errors["course_id"] = _("Choose a course from the list.")
    return errors


def video_link_problem(link: str) -> str | None:
    """Why a video link cannot be stored: https only, a host, no user name or password in it, and
    one of the allowed hosts if the town named them (LMS_SESSION_VIDEO_HOSTS)."""
    try:
        parts = urlsplit(link)
        host = (parts.hostname or "").lower()
    except ValueError:
        parts, host = None, ""
    if parts is None or parts.scheme != "https" or not host or len(link) > MAX_VIDEO_LINK or " " in link:
        return _("Give the full address of the video meeting, starting with https://.")
    if parts.username or parts.password or has_control_characters(link):
        return _("The address must not contain a user name, a password or control characters.")
    allowed = current_app.config["SESSION_VIDEO_HOSTS"]
    if allowed and not any(host == name or host.endswith(f".{name}") for name in allowed):
        return _("Video meetings are held on: %(hosts)s. Use an address there.", hosts=", ".join(allowed))
    return None


def _time_errors(data: SessionData, now: datetime, new: bool) -> dict[str, str]:
    errors: dict[str, str] = {}
    if data.starts_at is None:
        errors["starts_at"] = _("Give the date and time the session starts.")
    elif new and data.starts_at <= now:
        errors["starts_at"] = _("A new session must start in the future.")
    if data.ends_at is None:
        errors["ends_at"] = _("Give the date and time the session ends.")
    elif data.starts_at is not None and data.ends_at <= data.starts_at:
        errors["ends_at"] = _("The session must end after it starts.")
    if data.registration_closes_at is None:
        errors["registration_closes_at"] = _("Give the date and time registration closes.")
    elif data.starts_at is not None and data.registration_closes_at > data.starts_at:
        errors["registration_closes_at"] = _("Registration must close before the session starts.")
    return errors


def _capacity_errors(data: SessionData, seats_taken: int) -> dict[str, str]:
    if data.capacity is None or not 1 <= data.capacity <= MAX_CAPACITY:
        return {"capacity": _("Give the number of seats, from 1 to %(max)d.", max=MAX_CAPACITY)}
    if data.capacity < seats_taken:
        return {
            "capacity": _(
                "%(taken)d people already have a seat: the session needs at least that many.", taken=seats_taken
            )
        }
    return {}


def _checked(data: SessionData, now: datetime, new: bool, seats_taken: int = 0) -> None:
    errors = {**_capacity_errors(data, seats_taken), **_time_errors(data, now, new), **_text_errors(data)}
    if errors:
        raise ValidationFailed(errors)


def _apply(session: TrainingSession, data: SessionData) -> None:
    session.title, session.description = data.title.strip(), data.description.strip()
    session.course_id = data.course_id
    # Stored in UTC: SQLite keeps a time's digits and drops its zone.
    session.starts_at, session.ends_at = _utc(data.starts_at), _utc(data.ends_at)
    session.registration_closes_at = _utc(data.registration_closes_at)
    session.place, session.video_link = data.place.strip(), data.video_link.strip()
    session.capacity = data.capacity  # type: ignore[assignment]


def _utc(moment: datetime | None) -> datetime:
    assert moment is not None  # checked before
    return moment.astimezone(UTC)


# --- scheduling -----------------------------------------------------------------------------


def create_session(trainer: User, data: SessionData, now: datetime) -> TrainingSession:
    _checked(data, now, new=True)
    session = TrainingSession(trainer_id=trainer.id, sequence=0)
    _apply(session, data)
    db.session.add(session)
    db.session.flush()
    return session


def update_session(session: TrainingSession, data: SessionData, now: datetime) -> list[SessionRegistration]:
    """Change a session (not a cancelled one). A new time or place is told to the seat holders with
    the updated invitation; more seats move people up from the waitlist, who are told. Answers
    those moved up."""
    _lock(session)
    if session.cancelled:
        raise ValidationFailed({"title": _("This session has been cancelled and can no longer be changed.")})
    _checked(data, now, new=False, seats_taken=seats_taken(session))
    before = _when_and_where(session)
    _apply(session, data)
    session.sequence += 1
    db.session.flush()
    if _when_and_where(session) != before:
        notices.tell_changed(session, seat_holders(session))
    return _fill_free_seats(session)


def _when_and_where(session: TrainingSession) -> tuple:
    """What a seat holder's calendar holds of the session."""
    return (as_utc(session.starts_at), as_utc(session.ends_at), session.place, session.video_link)


def cancel_session(session: TrainingSession, now: datetime) -> int:
    """Cancel the session; everyone registered is told. Answers how many were told."""
    _lock(session)
    if session.cancelled:
        return 0
    session.cancelled_at, session.sequence = now, session.sequence + 1
    db.session.flush()
    return notices.tell_cancelled(session, registrations_of(session))


# --- registering ----------------------------------------------------------------------------


def _lock(session: TrainingSession) -> None:
    """Hold the session's row until the transaction ends (see the module's description) and read
    it afresh."""
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.execute(
            update(TrainingSession)
            .where(TrainingSession.id == session.id)
            .values(sequence=TrainingSession.sequence)
            .execution_options(synchronize_session=False)
        )
    db.session.execute(
        select(TrainingSession)
        .where(TrainingSession.id == session.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def seats_taken(session: TrainingSession) -> int:
    statement = select(func.count()).where(
        SessionRegistration.session_id == session.id, SessionRegistration.waitlisted.is_(False)
    )
    return db.session.scalar(statement) or 0


def registration_of(person: User, session: TrainingSession) -> SessionRegistration | None:
    return db.session.execute(
        select(SessionRegistration).where(
            SessionRegistration.session_id == session.id, SessionRegistration.user_id == person.id
        )
    ).scalar_one_or_none()


def register(person: User, session: TrainingSession, now: datetime) -> SessionRegistration:
    """A seat while there is one, else a place on the waitlist. Registering twice changes nothing.
    A seat is told by mail with the invitation."""
    _lock(session)
    if session.cancelled:
        raise ValidationFailed({"session": _("This session has been cancelled.")})
    if now > as_utc(session.registration_closes_at):
        raise ValidationFailed({"session": _("Registration for this session has closed.")})
    existing = registration_of(person, session)
    if existing is not None:
        return existing
    registration = SessionRegistration(
        session=session, user=person, registered_at=now, waitlisted=seats_taken(session) >= session.capacity
    )
    db.session.add(registration)
    db.session.flush()
    if not registration.waitlisted:
        notices.tell_seat(registration)
    return registration


def cancel_registration(person: User, session: TrainingSession, now: datetime) -> bool:
    """The person gives up their seat (or waitlist place) before the session starts; the first on
    the waitlist moves up and is told. Answers whether there was a registration."""
    _lock(session)
    registration = registration_of(person, session)
    if registration is None:
        return False
    if now >= as_utc(session.starts_at):
        raise ValidationFailed({"session": _("The session has started: registrations can no longer be cancelled.")})
    db.session.delete(registration)
    db.session.flush()
    if not session.cancelled:
        _fill_free_seats(session)
    return True


def waitlist_position(registration: SessionRegistration) -> int:
    """1 for the first on the waitlist (0 for a seat)."""
    if not registration.waitlisted:
        return 0
    ahead = select(func.count()).where(
        SessionRegistration.session_id == registration.session_id,
        SessionRegistration.waitlisted.is_(True),
        (SessionRegistration.registered_at < registration.registered_at)
        | (
            (SessionRegistration.registered_at == registration.registered_at)
            & (SessionRegistration.id < registration.id)
        ),
    )
    return (db.session.scalar(ahead) or 0) + 1


def _fill_free_seats(session: TrainingSession) -> list[SessionRegistration]:
    """Move the first on the waitlist up into free seats (under the session's lock) and tell them."""
    free = session.capacity - seats_taken(session)
    if free <= 0:
        return []
    moved = list(
        db.session.execute(
            select(SessionRegistration)
            .where(SessionRegistration.session_id == session.id, SessionRegistration.waitlisted.is_(True))
            .order_by(SessionRegistration.registered_at, SessionRegistration.id)
            .limit(free)
        ).scalars()
    )
    for registration in moved:
        registration.waitlisted = False
    db.session.flush()
    for registration in moved:
        notices.tell_seat(registration, moved_up=True)
    return moved


# --- lists ----------------------------------------------------------------------------------


@dataclass
class SessionRow:
    session: TrainingSession
    seats_taken: int = 0
    waitlisted: int = 0
    mine: SessionRegistration | None = None  # the viewer's registration

    @property
    def seats_free(self) -> int:
        return max(self.session.capacity - self.seats_taken, 0)


@dataclass
class SessionList:
    upcoming: list[SessionRow] = field(default_factory=list)
    past_of_trainer: list[SessionRow] = field(default_factory=list)  # the viewer's own, ended


def _sessions_statement() -> Select:
    return select(TrainingSession).options(joinedload(TrainingSession.course))


def session_list(viewer: User, now: datetime, course_id: int | None = None) -> SessionList:
    """Sessions not yet ended (of one course, if given), and the viewer's own ended ones if they
    train: three statements, however many sessions."""
    upcoming = _sessions_statement().where(TrainingSession.ends_at > now).order_by(TrainingSession.starts_at)
    if course_id is not None:
        upcoming = upcoming.where(TrainingSession.course_id == course_id)
    past = (
        _sessions_statement()
        .where(TrainingSession.ends_at <= now, TrainingSession.trainer_id == viewer.id)
        .order_by(TrainingSession.starts_at.desc())
        .limit(PAST_SESSIONS_SHOWN)
    )
    rows = {session.id: SessionRow(session) for session in db.session.execute(upcoming).scalars()}
    past_rows = {session.id: SessionRow(session) for session in db.session.execute(past).scalars()}
    _count_into({**rows, **past_rows}, viewer)
    return SessionList(list(rows.values()), list(past_rows.values()))


def upcoming_of_course(course_id: int, now: datetime, limit: int = 5) -> list[TrainingSession]:
    """The next sessions of a course that are not cancelled and still open for registration (one statement)."""
    return list(
        db.session.execute(
            select(TrainingSession)
            .where(
                TrainingSession.course_id == course_id,
                TrainingSession.cancelled_at.is_(None),
                TrainingSession.registration_closes_at > now,
            )
            .order_by(TrainingSession.starts_at, TrainingSession.id)
            .limit(limit)
        ).scalars()
    )


def _count_into(rows: dict[int, SessionRow], viewer: User) -> None:
    """Seats taken, waitlist length and the viewer's own registration, for all rows at once."""
    if not rows:
        return
    statement = select(SessionRegistration).where(SessionRegistration.session_id.in_(list(rows)))
    for registration in db.session.execute(statement).scalars():
        row = rows[registration.session_id]
        if registration.waitlisted:
            row.waitlisted += 1
        else:
            row.seats_taken += 1
        if registration.user_id == viewer.id:
            row.mine = registration


def registrations_of(session: TrainingSession) -> list[SessionRegistration]:
    """Seat holders by name, then the waitlist in its order, with each person and department."""
    return list(
        db.session.execute(
            select(SessionRegistration)
            .join(SessionRegistration.user)
            .options(contains_eager(SessionRegistration.user).joinedload(User.department))
            .where(SessionRegistration.session_id == session.id)
            .order_by(
                SessionRegistration.waitlisted,
                func.lower(User.family_name),
                func.lower(User.given_name),
                SessionRegistration.registered_at,
                SessionRegistration.id,
            )
        )
        .unique()
        .scalars()
    )


def seat_holders(session: TrainingSession) -> list[SessionRegistration]:
    return [registration for registration in registrations_of(session) if not registration.waitlisted]


def waitlist(session: TrainingSession) -> list[SessionRegistration]:
    waiting = [registration for registration in registrations_of(session) if registration.waitlisted]
    return sorted(waiting, key=lambda registration: (as_utc(registration.registered_at), registration.id))


# --- reminders ------------------------------------------------------------------------------


def remind_tomorrow(today: date) -> list[notifications.Notice]:
    """Remind every seat holder of a session starting tomorrow (town time), once each."""
    start = in_town(today + timedelta(days=1), time.min).astimezone(UTC)  # compared in UTC, as stored
    end = in_town(today + timedelta(days=2), time.min).astimezone(UTC)
    statement = (
        select(SessionRegistration)
        .join(SessionRegistration.session)
        .join(SessionRegistration.user)
        .options(contains_eager(SessionRegistration.session), contains_eager(SessionRegistration.user))
        .where(
            TrainingSession.cancelled_at.is_(None),
            TrainingSession.starts_at >= start,
            TrainingSession.starts_at < end,
            SessionRegistration.waitlisted.is_(False),
            User.active.is_(True),
        )
    )
    return notifications.notify_many(notices.reminders(db.session.execute(statement).scalars()))


def courses_to_choose() -> list[tuple[int, str]]:
    """Courses a session may belong to (not archived), by title."""
    statement = select(Course.id, Course.title).where(Course.archived.is_(False)).order_by(Course.title, Course.id)
    return [(course_id, title) for course_id, title in db.session.execute(statement)]
