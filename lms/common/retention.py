"""The retention schedule: how long each kind of personal data is kept, with the bounds the code
enforces (a town may choose within them, `LMS_RETENTION_*_DAYS`), and what a rule is.

Each domain lists the rules for its own data in `retention.py` as `RULES`; `flask privacy purge`
and the scheduler's daily job run them all (lms/core/retention.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import CursorResult, Delete

from lms.extensions import db
from lms.i18n import _l


@dataclass(frozen=True)
class Period:
    key: str
    env: str
    default_days: int
    min_days: int
    max_days: int
    what: object  # a lazy text: what is deleted, after what


PERIODS = (
    Period(
        "sign_in_failures",
        "LMS_RETENTION_SIGN_IN_FAILURES_DAYS",
        1,
        1,
        7,
        _l("counters of failed sign-ins, after the last failure"),
    ),
    Period("sessions", "LMS_RETENTION_SESSIONS_DAYS", 7, 1, 90, _l("sign-in sessions, after they ended")),
    Period(
        "quiz_answers",
        "LMS_RETENTION_QUIZ_ANSWERS_DAYS",
        90,
        30,
        730,
        _l("quiz answers and attempts of a course, after its completion"),
    ),
    Period(
        "assignments",
        "LMS_RETENTION_ASSIGNMENTS_DAYS",
        365,
        90,
        1825,
        _l("closed course assignments, after they were completed, exempted or withdrawn"),
    ),
    Period(
        "people_who_left",
        "LMS_RETENTION_PEOPLE_WHO_LEFT_DAYS",
        365,
        30,
        3650,
        _l("people who left, with their learning data, after they were deactivated"),
    ),
    Period(
        "session_participants",
        "LMS_RETENTION_SESSION_PARTICIPANTS_DAYS",
        90,
        30,
        730,
        _l("participant lists of sessions (registrations and attendance), after the session ended"),
    ),
    Period(
        "pulse_answers",
        "LMS_RETENTION_PULSE_ANSWERS_DAYS",
        90,
        7,
        365,
        _l("answers and comments of pulse surveys, after the survey closed (its protected results stay)"),
    ),
    Period(
        "audit_entries",
        "LMS_RETENTION_AUDIT_ENTRIES_DAYS",
        365,
        90,
        1095,
        _l("entries of the audit trail, after they were written (behind a signed checkpoint)"),
    ),
)
PERIODS_BY_KEY = {period.key: period for period in PERIODS}


@dataclass(frozen=True)
class RetentionRule:
    """`count` and `purge` take the cutoff (rows older than it go) and answer how many rows."""

    period: str  # a key of PERIODS
    count: Callable[[datetime], int]
    purge: Callable[[datetime], int]


def delete_rows(statement: Delete) -> int:
    """Run a DELETE and answer how many rows it removed."""
    return int(cast(CursorResult, db.session.execute(statement)).rowcount or 0)
