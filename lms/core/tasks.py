"""The retention schedule's daily run. `lms.scheduler` collects `JOBS` from here."""

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


# Daily at 04:15 (town time): clear of the snapshot (02:30, 03:30) and the reminders.
JOBS = (ScheduledJob("privacy.purge_expired", purge_expired, {"hour": 4, "minute": 15}),)
