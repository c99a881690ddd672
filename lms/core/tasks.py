"""The retention schedule's daily run, and the recording of the settings in force. `lms.scheduler`
collects `JOBS` from here."""

from __future__ import annotations

import logging

from flask import Flask

from lms.common.dates import utcnow
from lms.common.jobs import ScheduledJob
from lms.extensions import db

log = logging.getLogger(__name__)


def purge_expired(app: Flask) -> dict[str, int]:
    from lms.core import retention

    with app.app_context():
        try:
            counts = retention.run(utcnow(), app.config["RETENTION_DAYS"], dry_run=False)
            db.session.commit()
        except Exception:
            db.session.rollback()
            raise
    log.info("retention: deleted %s", counts)
    return counts


def record_settings(app: Flask) -> dict[str, list]:
    """The settings come from the environment: a change shows when the software restarts with it,
    so they are compared with the recorded ones at the scheduler's start and daily."""
    from lms.privacy.settings import record_settings_in_force

    with app.app_context():
        try:
            changes = record_settings_in_force()
            db.session.commit()
        except Exception:
            db.session.rollback()
            raise
    if changes:
        log.info("settings in force changed: %s", sorted(changes))
    return changes


# Daily (town time), clear of the snapshot (02:30, 03:30) and the reminders: the settings at 04:05
# (and at the scheduler's start), the purge at 04:15.
JOBS = (
    ScheduledJob("privacy.purge_expired", purge_expired, {"hour": 4, "minute": 15}),
    ScheduledJob("privacy.record_settings", record_settings, {"hour": 4, "minute": 5}, run_at_start=True),
)
