"""Retention of sign-in data (lms/common/retention.py): failure counters and ended sessions."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import ColumnElement, and_, delete, func, or_, select

from lms.auth.models import AuthSession, LoginThrottle
from lms.common.retention import RetentionRule, delete_rows
from lms.extensions import db


def _old_failures(cutoff: datetime) -> ColumnElement[bool]:
    return LoginThrottle.last_failure_at < cutoff


def _old_sessions(cutoff: datetime) -> ColumnElement[bool]:
    """Ended before the cutoff; or never ended, and too old to be alive since the cutoff."""
    longest = timedelta(hours=current_app.config["SESSION_MAX_HOURS"])
    return or_(
        AuthSession.ended_at < cutoff,
        and_(AuthSession.ended_at.is_(None), AuthSession.created_at < cutoff - longest),
    )


def _counter(model, condition):
    return lambda cutoff: db.session.scalar(select(func.count()).select_from(model).where(condition(cutoff))) or 0


def _purger(model, condition):
    return lambda cutoff: delete_rows(delete(model).where(condition(cutoff)))


RULES = (
    RetentionRule("sign_in_failures", _counter(LoginThrottle, _old_failures), _purger(LoginThrottle, _old_failures)),
    RetentionRule("sessions", _counter(AuthSession, _old_sessions), _purger(AuthSession, _old_sessions)),
)
