"""Sending the outbox over SMTP: `deliver_outbox`, run by `flask notifications deliver` and the scheduler.

Unlike a service, this function commits, once per step, because each step must be durable before
the next one talks to the mail server:

1. Claim: `UPDATE ... SET status='sending' WHERE id=:id AND status='queued'`, committed. Only the run
   whose update hit the row sends it, so two runs (two processes, two servers) never send one mail.
2. Write the mail out (`lms.notifications.mail.write`: at its first attempt; kept for retries) and
   send it over SMTP (no transaction open meanwhile).
3. Record the outcome (sent, retry later, failed), committed at once: a crash afterwards must not
   forget that the mail went out.

A run that dies between 1 and 3 leaves its mail "sending"; after `CLAIM_LEASE` a later run queues it
again. It may then go out twice; both copies carry the same Message-ID, so mail systems and readers
can tell the second for a repeat. Nothing is lost: every mail stays in the outbox with its status,
its attempts and its last error.

Outcomes: a refused recipient (5xx for that address, or for that message) fails that one mail for
good and the run goes on; an unreachable server, a dropped connection or a 4xx ("try later") retries
after 1 minute, 5 minutes, 30 minutes, 2 hours, then every 12 hours, until LMS_MAIL_MAX_ATTEMPTS
attempts, then the mail is failed. Without MAIL_SERVER nothing is sent: queued mails become "held".
"""

from __future__ import annotations

import hashlib
import logging
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from enum import Enum
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import func, select, update

from lms.common.dates import as_utc, utcnow
from lms.extensions import db
from lms.notifications import mail, services
from lms.notifications.models import OutboxMessage, OutboxStatus
from lms.people.models import User

log = logging.getLogger(__name__)

BACKOFF = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=12),
)
# A claimed mail not recorded as sent or failed after this long: its run died; it is queued again.
CLAIM_LEASE = timedelta(minutes=15)
SMTP_TIMEOUT_SECONDS = 30
DEFAULT_LIMIT = 500


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0  # will be tried again later
    failed: int = 0  # refused for good or given up
    held: int = 0  # no mail server configured
    taken: int = 0  # claimed by another run first
    requeued: int = 0  # claims of runs that died, queued again
    stopped: str | None = None  # why the run stopped early (the server could not be reached)

    @property
    def attempted(self) -> int:
        return self.sent + self.retrying + self.failed


class Outcome(Enum):
    SENT = "sent"
    RETRY = "retry"  # temporary: try again later
    FAILED = "failed"  # permanent for this mail


@dataclass(frozen=True)
class _Result:
    outcome: Outcome
    error: str | None = None
    stop: bool = False  # the server cannot be reached: try the others in a later run


class Unreachable(Exception):
    """Connecting, STARTTLS or login failed."""


# --- the run --------------------------------------------------------------------------------


def due_count(now: datetime | None = None) -> int:
    """How many queued mails are due (for a progress bar)."""
    now = now or utcnow()
    statement = select(func.count()).where(
        OutboxMessage.status == OutboxStatus.QUEUED, OutboxMessage.next_attempt_at <= now
    )
    return db.session.scalar(statement) or 0


def deliver_outbox(
    now: datetime | None = None, limit: int = DEFAULT_LIMIT, progress: Callable[[int], Any] | None = None
) -> DeliveryReport:
    """Send up to `limit` due queued mails; see the module's description. Commits per mail.

    `now` fixes the clock (tests); `progress(1)` is called after each mail handled.
    """
    clock: Callable[[], datetime] = (lambda: now) if now is not None else utcnow
    report = DeliveryReport()
    config = current_app.config
    if not config.get("MAIL_SERVER"):
        report.held = services.hold_queued()
        db.session.commit()
        return report
    report.requeued = _requeue_lapsed_claims(clock())
    db.session.commit()
    connection = _Connection(config)
    try:
        for message_id in _due_ids(clock(), limit):
            result = _deliver_one(message_id, connection, clock, report)
            if progress is not None:
                progress(1)
            if result is not None and result.stop:
                report.stopped = result.error
                break
    finally:
        connection.close()
    log.info(
        "mail delivery: %d sent, %d to retry, %d failed%s",
        report.sent,
        report.retrying,
        report.failed,
        f", stopped: {report.stopped}" if report.stopped else "",
    )
    return report


def _deliver_one(
    message_id: int, connection: _Connection, clock: Callable[[], datetime], report: DeliveryReport
) -> _Result | None:
    if not _claim(message_id, clock()):
        db.session.commit()
        report.taken += 1
        return None
    db.session.commit()  # the claim is durable before the server hears of the mail
    message = db.session.get(OutboxMessage, message_id)
    assert message is not None  # claimed a moment ago; outbox rows are not deleted
    result = _written(message) or _send(connection, message)
    _record(message, result, clock())
    status = message.status
    db.session.commit()  # the outcome is durable before the next mail
    if status == OutboxStatus.SENT:
        report.sent += 1
    elif status == OutboxStatus.FAILED:
        report.failed += 1
    else:
        report.retrying += 1
    return result


def _due_ids(now: datetime, limit: int) -> list[int]:
    statement = (
        select(OutboxMessage.id)
        .where(OutboxMessage.status == OutboxStatus.QUEUED, OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
    )
    ids = list(db.session.scalars(statement))
    db.session.commit()  # no transaction (or snapshot) kept open across the sends
    return ids


def _claim(message_id: int, now: datetime) -> bool:
    """Take the mail for this run: True only for the one run whose update changed the row."""
    result = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.status == OutboxStatus.QUEUED)
        .values(
            status=OutboxStatus.SENDING,
            attempts=OutboxMessage.attempts + 1,
            next_attempt_at=now + CLAIM_LEASE,
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def _written(message: OutboxMessage) -> _Result | None:
    """Write the mail out for sending; a result (failed) when it cannot be sent at all."""
    recipient = db.session.get(User, message.user_id) if message.user_id is not None else None
    if message.text_body is None and recipient is None:
        return _Result(Outcome.FAILED, "not sent: the recipient no longer exists")
    if recipient is not None and not recipient.active:  # deactivated after the mail was queued
        return _Result(Outcome.FAILED, "not sent: the recipient has been deactivated")
    if recipient is not None:
        try:
            mail.write(message, recipient)
        except (KeyError, TypeError, ValueError) as error:
            return _Result(Outcome.FAILED, f"could not write the mail: {_describe(error)}")
    return None


def _requeue_lapsed_claims(now: datetime) -> int:
    result = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.SENDING, OutboxMessage.next_attempt_at <= now)
        .values(status=OutboxStatus.QUEUED, last_error="the delivery run sending it stopped before it finished")
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _record(message: OutboxMessage, result: _Result, now: datetime) -> None:
    if result.outcome is Outcome.SENT:
        message.status, message.sent_at, message.last_error = OutboxStatus.SENT, now, None
        return
    message.last_error = (result.error or "")[:500]
    if result.outcome is Outcome.FAILED:
        message.status = OutboxStatus.FAILED
    elif message.attempts >= current_app.config["LMS_MAIL_MAX_ATTEMPTS"]:
        message.status = OutboxStatus.FAILED
        message.last_error = f"given up after {message.attempts} attempts: {result.error}"[:500]
    else:
        message.status = OutboxStatus.QUEUED
        message.next_attempt_at = now + BACKOFF[min(message.attempts, len(BACKOFF)) - 1]


# --- one mail over SMTP ---------------------------------------------------------------------


def email_message(message: OutboxMessage, sender: str) -> EmailMessage:
    """The outbox row as a multipart/alternative mail (plain text, HTML and, if it carries one, its
    calendar) with a stable Message-ID."""
    email = EmailMessage()
    if message.text_body is None:
        raise ValueError("the mail has not been written out yet")
    email["Subject"] = message.subject or ""
    email["From"] = sender
    email["To"] = message.to_address
    email["Date"] = format_datetime(as_utc(message.created_at))
    email["Message-ID"] = message_id_of(message, sender)
    email["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies to this
    email.set_content(message.text_body)
    email.add_alternative(message.html_body or "", subtype="html")
    if message.calendar:
        # The third alternative: mail programs show it as an invitation to accept or decline.
        method = calendar_method(message.calendar)
        email.add_alternative(message.calendar, subtype="calendar", params={"method": method})
    email["Content-Language"] = message.locale  # after the parts: a Content-* header set before moves into them
    return email


def calendar_method(calendar: str) -> str:
    """The iCalendar object's METHOD (REQUEST, CANCEL, ...), which its MIME part repeats."""
    for line in calendar.splitlines():
        if line.upper().startswith("METHOD:"):
            return line.partition(":")[2].strip().upper()
    return "PUBLISH"


def message_id_of(message: OutboxMessage, sender: str) -> str:
    """The same for every attempt at one outbox row, so a repeat after a crash can be recognised."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "lernpfad.invalid"
    digest = hashlib.sha256(message.dedupe_key.encode()).hexdigest()[:16]
    return f"<lernpfad.{message.id}.{digest}@{domain}>"


def _send(connection: _Connection, message: OutboxMessage) -> _Result:
    try:
        email = email_message(message, current_app.config["MAIL_DEFAULT_SENDER"])
    except (ValueError, TypeError) as error:  # e.g. an address the mail library refuses
        return _Result(Outcome.FAILED, f"could not build the mail: {error}")
    try:
        smtp = connection.open()
    except Unreachable as error:
        return _Result(Outcome.RETRY, str(error), stop=True)
    try:
        smtp.send_message(email)
    except smtplib.SMTPRecipientsRefused as error:
        codes = [code for code, _text in error.recipients.values()]
        permanent = bool(codes) and all(code >= 500 for code in codes)
        return _Result(Outcome.FAILED if permanent else Outcome.RETRY, _refusals(error.recipients))
    except smtplib.SMTPSenderRefused as error:  # concerns every mail: try later, all of them
        connection.close()
        return _Result(Outcome.RETRY, _response("sender refused", error), stop=True)
    except smtplib.SMTPResponseException as error:  # the message refused (DATA), or another reply
        permanent = error.smtp_code >= 500
        return _Result(Outcome.FAILED if permanent else Outcome.RETRY, _response("refused", error))
    except (smtplib.SMTPException, OSError) as error:  # dropped connection, timeout
        connection.close()  # the next mail connects afresh
        return _Result(Outcome.RETRY, f"connection lost: {_describe(error)}")
    return _Result(Outcome.SENT)


def _describe(error: BaseException) -> str:
    return str(error) or type(error).__name__


def _response(what: str, error: smtplib.SMTPResponseException) -> str:
    text = error.smtp_error.decode(errors="replace") if isinstance(error.smtp_error, bytes) else str(error.smtp_error)
    return f"{what}: {error.smtp_code} {text}"


def _refusals(recipients: dict[str, tuple[int, bytes]]) -> str:
    return "; ".join(
        f"recipient refused: {code} {text.decode(errors='replace') if isinstance(text, bytes) else text}"
        for _address, (code, text) in recipients.items()
    )


class _Connection:
    """One SMTP connection per run, opened when the first mail needs it, again after a drop."""

    def __init__(self, config: Any):
        self.config = config
        self.smtp: smtplib.SMTP | None = None

    def open(self) -> smtplib.SMTP:
        if self.smtp is None:
            try:
                self.smtp = self._connect()
            except (smtplib.SMTPException, OSError) as error:
                raise Unreachable(f"mail server not reachable: {_describe(error)}") from error
        return self.smtp

    def _connect(self) -> smtplib.SMTP:
        config = self.config
        host, port = config["MAIL_SERVER"], config["MAIL_PORT"]
        # Our own name in EHLO: the platform's host, not a DNS lookup of this machine's name.
        local_name = urlsplit(config.get("LMS_BASE_URL") or "").hostname or "localhost"
        smtp: smtplib.SMTP
        if config["MAIL_USE_SSL"]:
            smtp = smtplib.SMTP_SSL(
                host,
                port,
                local_hostname=local_name,
                timeout=SMTP_TIMEOUT_SECONDS,
                context=ssl.create_default_context(),
            )
        else:
            smtp = smtplib.SMTP(host, port, local_hostname=local_name, timeout=SMTP_TIMEOUT_SECONDS)
        try:
            if config["MAIL_USE_TLS"]:
                smtp.starttls(context=ssl.create_default_context())
            if config["MAIL_USERNAME"]:
                smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
        except BaseException:
            smtp.close()
            raise
        return smtp

    def close(self) -> None:
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (smtplib.SMTPException, OSError):
                self.smtp.close()
            self.smtp = None
