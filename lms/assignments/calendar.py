"""A person's private calendar feed: their open assignments as all-day events on the due date.

The feed is read by calendar programs, which cannot sign in, so its address holds a random token
(`secrets.token_urlsafe`, 256 bits). Only the token's SHA-256 hash is stored: the full address is
shown once, when it is made; renewing it makes a new one and the old stops working; turning the
feed off deletes it. The feed holds the person's own deadlines only: course titles, due dates and
links, never scores or anything about others. A deactivated person's feed answers nothing.

Functions flush, never commit.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Sequence
from datetime import timedelta

from flask import current_app
from flask_babel import force_locale
from icalendar import TRANSP, Calendar, Event, vDuration
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from lms.assignments.models import Assignment, CalendarFeed
from lms.catalog.models import Course
from lms.common.dates import utcnow
from lms.extensions import db
from lms.i18n import _
from lms.people.models import User

TOKEN_BYTES = 32
MAX_TOKEN_LENGTH = 100  # token_urlsafe(32) has 43 characters; anything much longer is not ours
PUBLISHED_TTL = timedelta(hours=6)  # how often calendar programs are asked to look again


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def feed_of(user: User) -> CalendarFeed | None:
    return db.session.get(CalendarFeed, user.id)


def issue_token(user: User) -> str:
    """Turn the feed on, or renew its address: a new token, of which only the hash is kept.
    Answers the token, to be shown once; an earlier address stops working."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    feed = feed_of(user)
    if feed is None:
        feed = CalendarFeed(user_id=user.id)
        db.session.add(feed)
    feed.token_hash = token_hash(token)
    feed.created_at = utcnow()
    db.session.flush()
    return token


def turn_off(user: User) -> bool:
    """Delete the feed; its address stops working. Answers whether there was one."""
    feed = feed_of(user)
    if feed is None:
        return False
    db.session.delete(feed)
    db.session.flush()
    return True


def person_for_token(token: str) -> User | None:
    """The active person whose feed this token opens, or None (unknown, renewed, off, deactivated)."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    return db.session.execute(
        select(User)
        .join(CalendarFeed, CalendarFeed.user_id == User.id)
        .where(CalendarFeed.token_hash == token_hash(token), User.active.is_(True))
    ).scalar_one_or_none()


def open_assignments(user: User) -> list[Assignment]:
    """The person's open assignments (overdue ones included), by due date."""
    return list(
        db.session.execute(
            select(Assignment)
            .options(joinedload(Assignment.course))
            .where(Assignment.user_id == user.id, Assignment.open_key.is_not(None))
            .order_by(Assignment.due_on, Assignment.id)
        ).scalars()
    )


def feed_locale(user: User) -> str:
    """The person's language, else the installation's default (German)."""
    if user.locale in current_app.config["LANGUAGES"]:
        return str(user.locale)
    return str(current_app.config["BABEL_DEFAULT_LOCALE"])


def build_feed(
    user: User, assignments: Sequence[Assignment], course_url: Callable[[Course], str], uid_domain: str
) -> bytes:
    """The iCalendar text (RFC 5545): one all-day event per assignment, on its due date, in the
    person's language. Each event's UID stays the same for as long as the assignment exists, so
    calendar programs update an event instead of adding it again."""
    with force_locale(feed_locale(user)):
        calendar = Calendar.new(
            prodid=f"-//Lernpfad//{current_app.config['TOWN_NAME']}//DE",
            name=_("Lernpfad: my deadlines"),
            description=_("The due dates of the courses assigned to you that you have not completed yet."),
            uid=f"deadlines-{user.id}@{uid_domain}",
        )
        calendar.add("refresh-interval", PUBLISHED_TTL, parameters={"VALUE": "DURATION"})
        calendar.add("x-published-ttl", vDuration(PUBLISHED_TTL))  # Outlook reads this one
        stamp = utcnow()
        for assignment in assignments:
            url = course_url(assignment.course)
            calendar.add_component(
                Event.new(
                    uid=f"assignment-{assignment.id}@{uid_domain}",
                    start=assignment.due_on,
                    end=assignment.due_on + timedelta(days=1),
                    stamp=stamp,
                    summary=_("Due: %(title)s", title=assignment.course.title),
                    description=_("Open the course in Lernpfad: %(url)s", url=url),
                    url=url,
                    transparency=TRANSP.TRANSPARENT,  # a deadline, not a meeting: the day stays free
                )
            )
    return calendar.to_ical()
