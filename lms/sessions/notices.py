"""Telling people about their sessions, in the app and by mail (lms.notifications); the mails of a
seat carry the calendar invitation, a cancelled session's mail its cancellation. Flushes.

The keys name the registration by its person and the moment they registered, so that a person who
cancels and registers again is told again, while a retried request tells nobody twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from lms.common.dates import as_utc
from lms.notifications import services as notifications
from lms.notifications.models import NotificationKind
from lms.notifications.texts import MAX_TEXT_PARAM
from lms.sessions import calendar
from lms.sessions.models import SessionRegistration, TrainingSession


def _params(session: TrainingSession, with_place: bool = True) -> dict[str, Any]:
    params: dict[str, Any] = {"session": session.title[:MAX_TEXT_PARAM], "starts": as_utc(session.starts_at)}
    if with_place and session.place:
        params["place"] = session.place[:MAX_TEXT_PARAM]
    return params


def _key(registration: SessionRegistration, occasion: str) -> str:
    stamp = registration.registered_at.strftime("%Y%m%dT%H%M%S%f")
    return f"session:{registration.session_id}:person:{registration.user_id}:{occasion}:{stamp}"


def tell_seat(registration: SessionRegistration, moved_up: bool = False) -> bool:
    """A seat, newly registered or moved up from the waitlist: with the invitation."""
    session, person = registration.session, registration.user
    return notifications.notify(
        person,
        NotificationKind.SESSION_MOVED_UP if moved_up else NotificationKind.SESSION_REGISTERED,
        _params(session),
        calendar.session_path(session),
        dedupe_key=_key(registration, "moved-up" if moved_up else "registered"),
        calendar=calendar.ical(session, calendar.REQUEST, person),
    )


def tell_cancelled(session: TrainingSession, registrations: Iterable[SessionRegistration]) -> int:
    """Everyone registered (the waitlist too) hears that the session is cancelled; seat holders'
    mails carry the cancellation for their calendars."""
    told = 0
    for registration in registrations:
        person = registration.user
        told += notifications.notify(
            person,
            NotificationKind.SESSION_CANCELLED,
            _params(session, with_place=False),
            calendar.session_path(session),
            dedupe_key=_key(registration, "cancelled"),
            calendar=None if registration.waitlisted else calendar.ical(session, calendar.CANCEL, person),
        )
    return told


def tell_changed(session: TrainingSession, registrations: Iterable[SessionRegistration]) -> int:
    """Seat holders hear of a new time or place, with the updated invitation (a higher SEQUENCE,
    so calendars replace the old one); once per change."""
    told = 0
    for registration in registrations:
        person = registration.user
        told += notifications.notify(
            person,
            NotificationKind.SESSION_CHANGED,
            _params(session),
            calendar.session_path(session),
            dedupe_key=f"{_key(registration, 'changed')}:{session.sequence}",
            calendar=calendar.ical(session, calendar.REQUEST, person),
        )
    return told


def reminders(registrations: Iterable[SessionRegistration]) -> list[notifications.Notice]:
    """The day-before reminders, once per registration and start (a session moved to another day
    is reminded of again)."""
    return [
        notifications.Notice(
            registration.user,
            NotificationKind.SESSION_REMINDER,
            _params(registration.session),
            calendar.session_path(registration.session),
            f"{_key(registration, 'reminder')}:{registration.session.starts_at:%Y%m%d}",
        )
        for registration in registrations
    ]
