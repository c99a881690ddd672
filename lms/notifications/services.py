"""Notifications and the mail outbox: plain functions over the session; they flush, callers commit.

Sending the queued mails is `lms.notifications.delivery.deliver_outbox` (a job, which commits per
mail); everything here only reads and writes rows.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import JSON, Select, Table, Text, bindparam, cast, func, literal_column, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from lms.common.dates import utcnow
from lms.common.urls import local_path
from lms.extensions import Model, db
from lms.notifications import texts
from lms.notifications.mail import recipient_locale
from lms.notifications.models import MailPreference, Notification, NotificationKind, OutboxMessage, OutboxStatus
from lms.people.models import User

MAX_DEDUPE_KEY = 200

# --- creating notifications -----------------------------------------------------------------


def notify(
    user: User,
    kind: NotificationKind | str,
    params: dict[str, Any],
    link: str,
    *,
    dedupe_key: str,
    optional: bool = False,
    mail: bool = True,
    calendar: str | None = None,
) -> bool:
    """Tell `user` about something, in the app and (unless `mail=False`) by mail; once per `dedupe_key`.

    - `kind`, `params`: what happened, with the values its text needs (`lms.notifications.texts`
      lists each kind's parameters; anything else, e.g. a score, is refused with ValueError).
    - `link`: the page it concerns, a path on this site ("/courses/datenschutz/"); in the mail it
      becomes an absolute address (LMS_BASE_URL).
    - `dedupe_key`: names the occasion, e.g. "assignment:17:overdue:2026-W48". The first call with
      a key creates the notification and queues its mail; every later call with it, in this
      process or another, now or after a restart, does nothing and returns False. Two calls at
      the same moment: the database's unique key lets one through, the other waits and gets False.
      Keys are unique across all people: a key names its recipient too, directly or through what
      belongs to one person (an assignment); e.g. "assignment:17:escalation:<manager id>".
    - `optional`: an optional mail (a digest): not mailed to people who switched those off; the
      in-app notification appears all the same. Mails about mandatory trainings are never optional.
    - `calendar`: an iCalendar object (text) the mail carries as its text/calendar part, e.g. an
      invitation (METHOD:REQUEST) to a session.

    Deactivated people get nothing (False). The mail is queued in the person's language and
    written when it is first sent (`lms.notifications.mail`).
    Returns True when the notification was created. Flushes; the caller commits.
    """
    if not user.active:
        return False
    kind = NotificationKind(kind)
    params = texts.checked_params(kind, params)
    if local_path(link) is None or len(link) > 500:
        raise ValueError(f"link must be a path on this site, not {link!r}")
    if not dedupe_key or len(dedupe_key) > MAX_DEDUPE_KEY:
        raise ValueError(f"dedupe_key must have 1 to {MAX_DEDUPE_KEY} characters")
    created = _insert_once(
        Notification,
        {"user_id": user.id, "kind": kind.value, "params": params, "link": link, "dedupe_key": dedupe_key},
    )
    if not created:
        return False
    if mail and (not optional or optional_mails_enabled(user)):
        row = _queued_mail(user, kind, params, link, dedupe_key, optional)
        if calendar is not None:
            row["calendar"] = calendar
        _insert_once(OutboxMessage, row)
    db.session.flush()
    return True


@dataclass(frozen=True)
class Notice:
    """One occasion to tell one person about, for `notify_many` (the arguments of `notify`)."""

    user: User
    kind: NotificationKind
    params: dict[str, Any]
    link: str
    dedupe_key: str
    optional: bool = False


def notify_many(notices: Iterable[Notice]) -> list[Notice]:
    """`notify` for many occasions at once (the daily reminders), in a fixed number of statements
    (the rows travel as parameters, in the driver's batches); the same rules: once per key,
    nothing for deactivated people, optional mails only to those who want them. Answers the
    notices that were new (and so created now)."""
    unique = {notice.dedupe_key: notice for notice in notices if notice.user.active}
    checked = [_checked(notice) for notice in unique.values()]
    rows = [
        {"user_id": n.user.id, "kind": n.kind.value, "params": n.params, "link": n.link, "dedupe_key": n.dedupe_key}
        for n in checked
    ]
    inserted = set(_insert_new(Notification, rows))
    created = [notice for notice in checked if notice.dedupe_key in inserted]
    opted_out = _opted_out({n.user.id for n in created if n.optional})
    mails = [n for n in created if not (n.optional and n.user.id in opted_out)]
    _insert_new(OutboxMessage, [_outbox_row(n) for n in mails])
    db.session.flush()
    return created


def _checked(notice: Notice) -> Notice:
    kind = NotificationKind(notice.kind)
    if local_path(notice.link) is None or len(notice.link) > 500:
        raise ValueError(f"link must be a path on this site, not {notice.link!r}")
    if not notice.dedupe_key or len(notice.dedupe_key) > MAX_DEDUPE_KEY:
        raise ValueError(f"dedupe_key must have 1 to {MAX_DEDUPE_KEY} characters")
    return replace(notice, kind=kind, params=texts.checked_params(kind, notice.params))


def _insert_new(model: type[Notification] | type[OutboxMessage], rows: list[dict[str, Any]]) -> list[str]:
    """INSERT ... ON CONFLICT (dedupe_key) DO NOTHING for many rows in one statement; answers the
    keys this statement inserted (the others existed already)."""
    if not rows:
        return []
    if db.session.get_bind().dialect.name == "postgresql":
        return _insert_new_postgresql(model, rows)
    statement = (
        sqlite_insert(model).on_conflict_do_nothing(index_elements=[model.dedupe_key]).returning(model.dedupe_key)
    )
    # Executed with the rows as parameters: compiled once, sent in batches (SQLAlchemy's
    # "insertmanyvalues"), where a statement with 500 VALUES written out is compiled at length.
    return list(db.session.execute(statement, rows).scalars())


def _insert_new_postgresql(model: type[Notification] | type[OutboxMessage], rows: list[dict[str, Any]]) -> list[str]:
    """The rows travel as one JSON parameter that PostgreSQL unpacks into the table's row type
    (json_populate_recordset): one statement, one round trip. Sent as thousands of placeholders
    instead, the driver spends most of a reminder run parsing them."""
    table = Table(model.__tablename__, Model.metadata)  # the mapped table (already in the metadata)
    columns = list(rows[0])
    document = json.dumps(rows, default=_json_value, ensure_ascii=False)
    source = func.json_populate_recordset(
        literal_column(f"NULL::{table.name}"), cast(bindparam("rows", document, type_=Text), JSON)
    ).table_valued(*columns)
    statement = (
        postgresql_insert(table)
        .from_select(columns, select(*(source.c[name] for name in columns)))
        .on_conflict_do_nothing(index_elements=[table.c.dedupe_key])
        .returning(table.c.dedupe_key)
    )
    return list(db.session.execute(statement).scalars())


def _json_value(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()  # timezone-aware: PostgreSQL reads it as timestamptz
    raise TypeError(f"{type(value).__name__} cannot be sent as JSON")


def _opted_out(user_ids: set[int]) -> set[int]:
    """Who of `user_ids` switched optional mails off. Everyone who did is read (few people; no
    IN list as long as the run's recipients)."""
    if not user_ids:
        return set()
    statement = select(MailPreference.user_id).where(MailPreference.optional_mails.is_(False))
    return user_ids & set(db.session.execute(statement).scalars())


def _outbox_row(notice: Notice) -> dict[str, Any]:
    return _queued_mail(notice.user, notice.kind, notice.params, notice.link, notice.dedupe_key, notice.optional)


def _queued_mail(
    user: User, kind: NotificationKind, params: dict[str, Any], link: str, dedupe_key: str, optional: bool
) -> dict[str, Any]:
    """An outbox row holding what the mail says; it is written out when it is first sent."""
    now = utcnow()
    return {
        "dedupe_key": dedupe_key,
        "user_id": user.id,
        "to_address": user.email,
        "locale": recipient_locale(user),
        "kind": kind.value,
        "params": params,
        "link": link,
        "optional": optional,
        "created_at": now,
        # Without a mail server the mail is kept for administrators to read, not sent later.
        "status": OutboxStatus.QUEUED if current_app.config.get("MAIL_SERVER") else OutboxStatus.HELD,
        "attempts": 0,
        "next_attempt_at": now,
    }


def _insert_once(model: type[Notification] | type[OutboxMessage], values: dict[str, Any]) -> bool:
    """INSERT ... ON CONFLICT (dedupe_key) DO NOTHING: True if this call inserted the row.

    On PostgreSQL a second transaction inserting the same key waits until the first commits (then
    does nothing) or rolls back (then inserts); on SQLite writers take turns anyway.
    """
    insert = postgresql_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(model).values(**values).on_conflict_do_nothing(index_elements=[model.dedupe_key]).returning(model.id)
    )
    return db.session.execute(statement).scalar_one_or_none() is not None


# --- a person's notifications ---------------------------------------------------------------


def unread_count(user: User) -> int:
    """How many of the person's notifications are unread (one query)."""
    statement = select(func.count()).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    return db.session.scalar(statement) or 0


def notifications_query(user: User) -> Select:
    """The person's notifications, newest first (for `db.paginate`)."""
    return (
        select(Notification)
        .where(Notification.user_id == user.id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
    )


def text_of(notification: Notification) -> texts.NotificationText:
    """What the notification says, in the current language."""
    return texts.render_safely(notification.kind, notification.params)


def mark_read(user: User, notification_id: int) -> Notification | None:
    """Mark one of the person's notifications read; None if it is not theirs (or does not exist)."""
    notification = db.session.get(Notification, notification_id)
    if notification is None or notification.user_id != user.id:
        return None
    if notification.read_at is None:
        notification.read_at = utcnow()
        db.session.flush()
    return notification


def mark_all_read(user: User) -> int:
    """Mark all of the person's notifications read; returns how many were unread."""
    result = db.session.execute(
        update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# --- optional mails -------------------------------------------------------------------------


def optional_mails_enabled(user: User) -> bool:
    """Does the person want optional mails (digests)? Yes unless they switched them off."""
    chosen = db.session.scalar(select(MailPreference.optional_mails).where(MailPreference.user_id == user.id))
    return True if chosen is None else bool(chosen)


def set_optional_mails(user: User, enabled: bool) -> None:
    """Switch optional mails on or off for the person; applies to every mail queued from now on."""
    insert = postgresql_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(MailPreference).values(user_id=user.id, optional_mails=enabled)
    db.session.execute(
        statement.on_conflict_do_update(index_elements=[MailPreference.user_id], set_={"optional_mails": enabled})
    )
    db.session.flush()


# --- the outbox, for administrators ---------------------------------------------------------


def outbox_query(status: OutboxStatus | None = None) -> Select:
    """Outbox messages, newest first, optionally of one status (for `db.paginate`)."""
    statement = select(OutboxMessage).order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
    if status is not None:
        statement = statement.where(OutboxMessage.status == status)
    return statement


def outbox_counts() -> dict[OutboxStatus, int]:
    """How many messages have each status (one query; every status present, 0 if none)."""
    rows = db.session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all()
    found = {status: count for status, count in rows}
    return {status: int(found.get(status.value, 0)) for status in OutboxStatus}


def failure_count() -> int:
    """How many mails could not be delivered (refused, or given up)."""
    statement = select(func.count()).where(OutboxMessage.status == OutboxStatus.FAILED)
    return db.session.scalar(statement) or 0


def hold_queued() -> int:
    """Without a mail server: every queued mail is held instead (kept, not sent)."""
    result = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.QUEUED)
        .values(status=OutboxStatus.HELD)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def release_held() -> int:
    """Queue every held mail for sending (once a mail server is configured); returns how many."""
    result = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.HELD)
        .values(status=OutboxStatus.QUEUED, next_attempt_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def recipients_of(messages: Iterable[OutboxMessage]) -> list[User]:
    """The people the messages are addressed to (one query), for the audit of an admin's look."""
    ids = {message.user_id for message in messages if message.user_id is not None}
    return list(db.session.execute(select(User).where(User.id.in_(ids or {-1}))).scalars())
