"""Retention of course assignments (lms/common/retention.py): closed ones go a while after they
were closed. Open assignments stay; completions and certificates stay."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, delete, func, select

from lms.assignments.models import Assignment
from lms.common.retention import RetentionRule, delete_rows
from lms.extensions import db


def _closed_before(cutoff: datetime) -> ColumnElement[bool]:
    closed_at = func.coalesce(Assignment.completed_at, Assignment.exempted_at, Assignment.withdrawn_at)
    return Assignment.open_key.is_(None) & (closed_at < cutoff)


RULES = (
    RetentionRule(
        "assignments",
        lambda cutoff: (
            db.session.scalar(select(func.count()).select_from(Assignment).where(_closed_before(cutoff))) or 0
        ),
        lambda cutoff: delete_rows(delete(Assignment).where(_closed_before(cutoff))),
    ),
)
