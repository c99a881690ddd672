"""Scheduled jobs of the initiatives. `lms.scheduler` collects `JOBS` from here.

An announcement whose first day lies ahead is told to its target group on that day: the daily job
tells whatever is due (each person once per announcement, by the notification's key). Pulse
surveys past their last day are closed (results stored protected, who answered forgotten), and
each running initiative's readiness is recorded once a week.
"""

from __future__ import annotations

import logging

from flask import Flask

from lms.assignments.services import town_today
from lms.change import readiness, services, surveys
from lms.common.jobs import ScheduledJob
from lms.extensions import db

log = logging.getLogger(__name__)


def tell_announcements(app: Flask) -> int:
    with app.app_context():
        try:
            told = services.tell_announcements(town_today())
            db.session.commit()
        except Exception:
            db.session.rollback()
            raise
    log.info("initiative announcements: %d people told", told)
    return told


def close_surveys(app: Flask) -> int:
    with app.app_context():
        try:
            closed = surveys.close_due(town_today())
            db.session.commit()
        except Exception:
            db.session.rollback()
            raise
    log.info("pulse surveys: %d closed", closed)
    return closed


def readiness_snapshot(app: Flask) -> int:
    with app.app_context():
        try:
            taken = readiness.snapshot_due(town_today())
            db.session.commit()
        except Exception:
            db.session.rollback()
            raise
    log.info("readiness snapshots: %d initiatives", taken)
    return taken


JOBS = (
    # Early in the morning (town time), before people start work; also at start, for a missed day.
    ScheduledJob("change.tell_announcements", tell_announcements, {"hour": 6, "minute": 15}, run_at_start=True),
    # Just after midnight: a survey whose last day was yesterday takes no more answers from today on.
    ScheduledJob("change.close_surveys", close_surveys, {"hour": 0, "minute": 20}, run_at_start=True),
    # Daily and at start, but only the first run of a week records the week (snapshot_due): a
    # missed Monday is made up on the next day the scheduler runs.
    ScheduledJob("change.readiness_snapshot", readiness_snapshot, {"hour": 5, "minute": 30}, run_at_start=True),
)
