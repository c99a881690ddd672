"""Scheduled jobs of the gap overview. `lms.scheduler` collects `JOBS` from here.

Each job gets the application and opens its own application context (a fresh database session)
and commits once, like a CLI command.
"""

from __future__ import annotations

import logging

from flask import Flask

from lms.common.jobs import ScheduledJob
from lms.extensions import db
from lms.gaps import services as gaps

log = logging.getLogger(__name__)


def monthly_snapshot(app: Flask) -> gaps.SnapshotResult:
    """Take (or replace) the current month's gap snapshot."""
    with app.app_context():
        try:
            result = gaps.take_snapshot()
            db.session.commit()
        except Exception:
            db.session.rollback()
            raise
    log.info("skill snapshot %s: %d rows", result.month, result.rows)
    return result


def snapshot_catch_up(app: Flask) -> gaps.SnapshotResult | None:
    """Take the current month's snapshot only if there is none yet (a missed 1st-of-month run)."""
    with app.app_context():
        if gaps.snapshot_exists(gaps.current_month()):
            return None
    return monthly_snapshot(app)


JOBS = (
    # The snapshot of record: on the 1st of each month at 02:30 (town time), so each month's figures
    # describe the same moment, the start of the month. (The 1st is never a DST-change day in Europe.)
    ScheduledJob("skills.monthly_snapshot", monthly_snapshot, {"day": 1, "hour": 2, "minute": 30}),
    # Also daily, and once when the scheduler starts: if the 1st-of-month run was missed (the scheduler
    # process was down, the database unreachable), the month's snapshot is taken now. Harmless when the
    # month already has one: it is left as it is, because the snapshot is idempotent per month and the
    # month's figures should stay those of its start. 03:30 keeps clear of the 02:30 run and of the
    # hour that DST changes skip or repeat.
    ScheduledJob("skills.snapshot_catch_up", snapshot_catch_up, {"hour": 3, "minute": 30}, run_at_start=True),
)
