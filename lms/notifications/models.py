"""In-app notifications, the mail outbox and each person's choice of optional mails."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, false, func, true
from sqlalchemy.orm import Mapped, mapped_column

from lms.common.columns import intpk, str40, timestamp
from lms.common.dates import utcnow
from lms.extensions import Model
from lms.i18n import _l


class NotificationKind(StrEnum):
    """What a notification is about. Each kind has its parameters (`lms.notifications.texts.KINDS`);
    the text is written from kind and parameters when it is shown, in the reader's language."""

    ASSIGNED = "assigned"  # a training was assigned to the person
    DUE_SOON = "due_soon"  # a training is due soon
    OVERDUE = "overdue"  # a training is overdue
    ESCALATION = "escalation"  # to a manager: one of their people is overdue
    RECERTIFICATION = "recertification"  # a completion expires: the course is to be taken again
    COMPLETED = "completed"  # a training was completed (told to the person, or to their manager)
    DIGEST = "digest"  # a weekly overview of open trainings (a manager's: of their people); optional mail
    SUMMARY = "summary"  # monthly totals of mandatory trainings by status (for HR); optional mail
    CONFIRMED = "confirmed"  # a manager confirmed a competence level of the person
    OBJECTION = "objection"  # to HR and the DPO: a person objects to a confirmed level
    SESSION_REGISTERED = "session_registered"  # a seat in a session (the mail carries the invitation)
    SESSION_MOVED_UP = "session_moved_up"  # from the waitlist to a seat (with the invitation)
    SESSION_REMINDER = "session_reminder"  # a session the person has a seat in is tomorrow
    SESSION_CANCELLED = "session_cancelled"  # the trainer cancelled a session the person registered for
    SESSION_CHANGED = "session_changed"  # its time or place changed (the mail carries the updated invitation)
    ANNOUNCEMENT = "announcement"  # news of an initiative of a change, to its target group
    GO_LIVE_MOVED = "go_live_moved"  # an initiative's go-live moved (its due dates follow)
    SURVEY_TO_APPROVE = "survey_to_approve"  # to the staff council: a pulse survey awaits their decision

    @property
    def label(self) -> str:
        return str(_KIND_LABELS[self])


_KIND_LABELS = {
    NotificationKind.ASSIGNED: _l("Training assigned"),
    NotificationKind.DUE_SOON: _l("Due soon"),
    NotificationKind.OVERDUE: _l("Overdue"),
    NotificationKind.ESCALATION: _l("Overdue in your team"),
    NotificationKind.RECERTIFICATION: _l("Refresher due"),
    NotificationKind.COMPLETED: _l("Completed"),
    NotificationKind.DIGEST: _l("Weekly overview"),
    NotificationKind.SUMMARY: _l("Monthly summary"),
    NotificationKind.CONFIRMED: _l("Level confirmed"),
    NotificationKind.OBJECTION: _l("Objection to a confirmed level"),
    NotificationKind.SESSION_REGISTERED: _l("Registered for a session"),
    NotificationKind.SESSION_MOVED_UP: _l("Moved up from the waitlist"),
    NotificationKind.SESSION_REMINDER: _l("Session tomorrow"),
    NotificationKind.SESSION_CANCELLED: _l("Session cancelled"),
    NotificationKind.SESSION_CHANGED: _l("Session changed"),
    NotificationKind.ANNOUNCEMENT: _l("Announcement"),
    NotificationKind.GO_LIVE_MOVED: _l("Go-live moved"),
    NotificationKind.SURVEY_TO_APPROVE: _l("Survey to approve"),
}


class OutboxStatus(StrEnum):
    """Where a mail in the outbox stands."""

    QUEUED = "queued"  # waiting for its next attempt (next_attempt_at)
    SENDING = "sending"  # claimed by one delivery run, which is talking to the mail server
    SENT = "sent"  # accepted by the mail server
    FAILED = "failed"  # refused for good, or given up after LMS_MAIL_MAX_ATTEMPTS
    HELD = "held"  # no mail server configured: kept, unsent, for administrators to read

    @property
    def label(self) -> str:
        return str(_STATUS_LABELS[self])


_STATUS_LABELS = {
    OutboxStatus.QUEUED: _l("queued"),
    OutboxStatus.SENDING: _l("being sent"),
    OutboxStatus.SENT: _l("sent"),
    OutboxStatus.FAILED: _l("not delivered"),
    OutboxStatus.HELD: _l("held (no mail server)"),
}


class Notification(Model):
    """A message to one person, shown under "Notifications". `dedupe_key` makes it happen once:
    whoever inserts the key first creates it (and its mail); every later attempt does nothing."""

    __tablename__ = "notifications"

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str40]
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    link: Mapped[str] = mapped_column(String(500))  # a path on this site
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[timestamp] = mapped_column(default=utcnow, server_default=func.now())
    read_at: Mapped[timestamp | None]


class OutboxMessage(Model):
    """A mail and what became of it. Queued as what it says (`kind`, `params`, `link`), in the
    recipient's language (`locale`); written out (subject, text, HTML) at its first delivery
    attempt and kept as sent, so retries send the same mail. Queuing tens of thousands of
    reminders thus costs rows, not rendering. Rows stay after sending or failing: the outbox is
    also the record of what was mailed."""

    __tablename__ = "mail_outbox"
    __table_args__ = (Index("ix_mail_outbox_status_next_attempt_at", "status", "next_attempt_at"),)

    id: Mapped[intpk]
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    to_address: Mapped[str] = mapped_column(String(254))
    locale: Mapped[str] = mapped_column(String(5))
    kind: Mapped[str | None] = mapped_column(String(40))  # a NotificationKind
    params: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    link: Mapped[str | None] = mapped_column(String(500))  # a path on this site
    optional: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Written at the first delivery attempt (None until then).
    subject: Mapped[str | None] = mapped_column(String(300))
    text_body: Mapped[str | None] = mapped_column(Text)
    html_body: Mapped[str | None] = mapped_column(Text)
    # An iCalendar object sent as the mail's text/calendar part (an invitation); its METHOD names
    # the part's method. Given when the mail is queued.
    calendar: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[timestamp] = mapped_column(default=utcnow, server_default=func.now())
    status: Mapped[str] = mapped_column(String(20), default=OutboxStatus.QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # When the next attempt is due; while SENDING, when the claim lapses (a run that died mid-send).
    next_attempt_at: Mapped[timestamp] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(String(500))
    sent_at: Mapped[timestamp | None]


class MailPreference(Model):
    """A person's choice about optional mails (digests). Mails about mandatory trainings are
    always sent. No row: the default, optional mails on."""

    __tablename__ = "mail_preferences"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    optional_mails: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
