"""Retention of people who left (lms/common/retention.py): a person deactivated longer ago than
the period is deleted, and with them, by the foreign keys' ON DELETE CASCADE, everything about
them: roles, sessions, enrolments, progress, quiz answers, completions, assignments, evidence,
targets, notifications. Rows others wrote keep their content and lose only the author
(ON DELETE SET NULL). The audit trail names people by plain ids and snapshots, not keys, so its
entries and hashes stay untouched until their own period ends. Aggregates already taken (the
monthly competence snapshots) keep their figures; everything else counts what remains.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import ColumnElement, delete, func, select

from lms.common.retention import RetentionRule, delete_rows
from lms.extensions import db
from lms.people.models import User


def _left_before(cutoff: datetime) -> ColumnElement[bool]:
    """Deactivated, and their last day lies before the cutoff's day in the town."""
    last_day_kept = cutoff.astimezone(ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])).date()
    return User.active.is_(False) & (User.left_on < last_day_kept)


def count(cutoff: datetime) -> int:
    """People, not rows: what goes with each person is theirs."""
    return db.session.scalar(select(func.count(User.id)).where(_left_before(cutoff))) or 0


def purge(cutoff: datetime) -> int:
    return delete_rows(delete(User).where(_left_before(cutoff)).execution_options(synchronize_session="fetch"))


RULES = (RetentionRule("people_who_left", count, purge),)
