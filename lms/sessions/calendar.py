"""A session as an iCalendar object (RFC 5545/5546): the invitation a seat holder's mail carries
(METHOD:REQUEST), its cancellation (METHOD:CANCEL) and the file the session page offers (PUBLISH).

One UID per session, and the session's `sequence` raised by every change, so a calendar program
updates or removes the event it has instead of adding another. Times are written in UTC; calendar
programs show them in their own zone. The organizer is the platform's sender address and no reply
is asked for: registering and cancelling happen in Lernpfad.
"""

from __future__ import annotations

from email.utils import parseaddr
from urllib.parse import urlsplit

from flask import current_app
from icalendar import Calendar, Event, vCalAddress

from lms.common.dates import as_utc, utcnow
from lms.people.models import User
from lms.sessions.models import TrainingSession

REQUEST, CANCEL, PUBLISH = "REQUEST", "CANCEL", "PUBLISH"


def session_path(session: TrainingSession) -> str:
    return f"/sessions/{session.id}"


def _absolute(path: str) -> str:
    return (current_app.config.get("LMS_BASE_URL") or "").rstrip("/") + path


def _uid_domain() -> str:
    return urlsplit(current_app.config.get("LMS_BASE_URL") or "").hostname or "lernpfad.invalid"


def _organizer() -> vCalAddress:
    address = parseaddr(current_app.config.get("MAIL_DEFAULT_SENDER") or "")[1] or "lernpfad@localhost"
    organizer = vCalAddress(f"mailto:{address}")
    organizer.params["cn"] = "Lernpfad"
    return organizer


def _attendee(person: User) -> vCalAddress:
    attendee = vCalAddress(f"mailto:{person.email}")
    attendee.params.update({"cn": person.name, "role": "REQ-PARTICIPANT", "partstat": "ACCEPTED", "rsvp": "FALSE"})
    return attendee


def _description(session: TrainingSession) -> str:
    parts = [session.description.strip(), f"Lernpfad: {_absolute(session_path(session))}"]
    return "\n\n".join(part for part in parts if part)


def ical(session: TrainingSession, method: str, attendee: User | None = None) -> str:
    """The session as an iCalendar object with `method`; `attendee` named in an invitation."""
    calendar = Calendar()
    calendar.add("prodid", f"-//Lernpfad//{current_app.config['TOWN_NAME']}//DE")
    calendar.add("version", "2.0")
    calendar.add("method", method)
    event = Event()
    event.add("uid", f"session-{session.id}@{_uid_domain()}")
    event.add("sequence", session.sequence)
    event.add("dtstamp", utcnow())
    event.add("dtstart", as_utc(session.starts_at))
    event.add("dtend", as_utc(session.ends_at))
    event.add("summary", session.title)
    event.add("description", _description(session))
    event.add("location", session.place or session.video_link)
    event.add("url", session.video_link or _absolute(session_path(session)))
    event.add("status", "CANCELLED" if method == CANCEL or session.cancelled else "CONFIRMED")
    if method != PUBLISH:
        event.add("organizer", _organizer())
    if attendee is not None:
        event.add("attendee", _attendee(attendee))
    calendar.add_component(event)
    return calendar.to_ical().decode("utf-8")
