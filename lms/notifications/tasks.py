"""Scheduled jobs of notifications. `lms.scheduler` collects `JOBS` from here."""

from __future__ import annotations

import logging

from flask import Flask

from lms.common.jobs import ScheduledJob
from lms.extensions import db
from lms.notifications import delivery

log = logging.getLogger(__name__)


def deliver_mail(app: Flask) -> delivery.DeliveryReport:
    """Send the mails that are due. Commits per mail (see `lms.notifications.delivery`)."""
    with app.app_context():
        try:
            return delivery.deliver_outbox()
        except Exception:
            db.session.rollback()
            raise


JOBS = (
    # Every minute: a mail goes out at most a minute after it was queued, and the retries' waits
    # (from 1 minute up) are kept. Runs never overlap (max_instances=1); should two schedulers run
    # anyway, each mail is still sent once (it is claimed before it is sent).
    ScheduledJob("notifications.deliver_mail", deliver_mail, {"minute": "*"}, run_at_start=True),
)
