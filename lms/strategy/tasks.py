"""Scheduled jobs of the strategy's targets. `lms.scheduler` collects `JOBS` from here.

Each job opens its own application context (a fresh database session) and commits once.
"""

from __future__ import annotations

import logging

from flask import Flask

from lms.common.jobs import ScheduledJob
from lms.extensions import db
from lms.gaps.services import current_month
from lms.strategy import services as strategy

log = logging.getLogger(__name__)


def monthly_snapshot(app: Flask) -> strategy.SnapshotResult:
    """Take (or replace) the current month's figures of every strategy target."""
    with app.app_context():
        try:
            result = strategy.take_snapshot()
            db.session.commit()
        except Exception:
            db.session.rollback()
            raise
    log.info("strategy snapshot %s: %d targets", result.month, result.rows)
    return result


def snapshot_catch_up(app: Flask) -> strategy.SnapshotResult | None:
    """Take the current month's figures only if there are none yet (a missed 1st-of-month run)."""
    with app.app_context():
        if strategy.snapshot_exists(current_month()):
            return None
    return monthly_snapshot(app)


JOBS = (
    # On the 1st of each month, like the gap overview's snapshot (02:30) but after it, so that the
    # two never compete for the database: every month's figures describe the start of the month.
    ScheduledJob("strategy.monthly_snapshot", monthly_snapshot, {"day": 1, "hour": 2, "minute": 45}),
    # Daily and once at start: a missed 1st-of-month run is made up; a month that has figures keeps them.
    ScheduledJob("strategy.snapshot_catch_up", snapshot_catch_up, {"hour": 3, "minute": 45}, run_at_start=True),
)
