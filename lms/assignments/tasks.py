"""Scheduled jobs of assignments and reminders. `lms.scheduler` collects `JOBS` from here."""

from __future__ import annotations

import logging
from datetime import date

from flask import Flask

from lms.assignments import reminders, services
from lms.common.jobs import ScheduledJob
from lms.extensions import db

log = logging.getLogger(__name__)


def daily_reminders(app: Flask, today: date | None = None) -> reminders.RunReport:
    """Bring assignments up to date and queue the day's reminders (nothing on closing days)."""
    with app.app_context():
        try:
            report = reminders.run(today or services.town_today())
            db.session.commit()
        except Exception:
            db.session.rollback()
            raise
    log.info(
        "reminders %s: %s, %d planned, %d new",
        report.day,
        "working day" if report.working_day else "closing day, nothing sent",
        len(report.planned),
        len(report.sent),
    )
    return report


JOBS = (
    # Monday to Friday at LMS_REMINDER_HOUR (town time); public holidays are skipped by the run itself.
    ScheduledJob(
        "assignments.daily_reminders",
        daily_reminders,
        lambda config: {"day_of_week": "mon-fri", "hour": config["REMINDER_HOUR"], "minute": 0},
    ),
)
