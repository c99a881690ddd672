"""Scheduled jobs of sessions. `lms.scheduler` collects `JOBS` from here."""

from __future__ import annotations

import logging
from datetime import date

from flask import Flask

from lms.assignments.services import town_today
from lms.common.jobs import ScheduledJob
from lms.extensions import db
from lms.sessions import services

log = logging.getLogger(__name__)


def remind_of_tomorrows_sessions(app: Flask, today: date | None = None) -> int:
    """Remind the seat holders of tomorrow's sessions (each registration once). Answers how many
    reminders were new."""
    with app.app_context():
        try:
            sent = len(services.remind_tomorrow(today or town_today()))
            db.session.commit()
        except Exception:
            db.session.rollback()
            raise
    log.info("session reminders: %d new", sent)
    return sent


JOBS = (
    # Every day (a session on Monday is reminded of on Sunday) at LMS_REMINDER_HOUR, town time.
    ScheduledJob(
        "sessions.reminders",
        remind_of_tomorrows_sessions,
        lambda config: {"hour": config["REMINDER_HOUR"], "minute": 10},
    ),
)
