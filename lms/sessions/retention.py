"""Retention of participant lists (lms/common/retention.py): a session's registrations, waitlist
and attendance marks go a while after the session ended. The session itself (no one's personal
data but its trainer's name) stays, and so do completions and confirmed levels earned there, which
live in their own domains."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, delete, func, select

from lms.common.retention import RetentionRule, delete_rows
from lms.extensions import db
from lms.sessions.models import SessionRegistration, TrainingSession


def _of_sessions_ended_before(cutoff: datetime) -> ColumnElement[bool]:
    return SessionRegistration.session_id.in_(select(TrainingSession.id).where(TrainingSession.ends_at < cutoff))


def count(cutoff: datetime) -> int:
    statement = select(func.count()).select_from(SessionRegistration).where(_of_sessions_ended_before(cutoff))
    return db.session.scalar(statement) or 0


def purge(cutoff: datetime) -> int:
    return delete_rows(delete(SessionRegistration).where(_of_sessions_ended_before(cutoff)))


RULES = (RetentionRule("session_participants", count, purge),)
