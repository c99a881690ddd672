"""What the staff council's agreement is about, read from the settings in force: the preset, the
minimum group size, the retention periods, the review rule, who holds which role, and how often
people's data was looked at or exported (counts per month and role, no names)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app
from sqlalchemy import func, select

from lms.common.dates import utcnow
from lms.common.retention import PERIODS, Period
from lms.common.vocabulary import AuditAction, Role
from lms.extensions import db
from lms.people.models import User, UserRole
from lms.privacy.models import AuditEntry

LOOKS = tuple(action for action in AuditAction if action.value.startswith("view_"))
EXPORTS = tuple(action for action in AuditAction if action.value.startswith("export_"))
MONTHS_SHOWN = 12


@dataclass
class Settings:
    preset: str
    min_group_size: int
    review_required: bool
    retention: list[tuple[Period, int]]
    role_holders: dict[Role, list[User]]
    # month ("2026-11") → role → (looks, exports), by the role the looking person holds now
    accesses: dict[str, dict[str, tuple[int, int]]] = field(default_factory=dict)


def current_settings(now: datetime | None = None) -> Settings:
    config = current_app.config
    return Settings(
        preset=str(config["MANAGER_VISIBILITY"]),
        min_group_size=config["PRIVACY_MIN_GROUP_SIZE"],
        review_required=bool(config["COURSE_REVIEW_REQUIRED"]),
        retention=[(period, config["RETENTION_DAYS"][period.key]) for period in PERIODS],
        role_holders=_role_holders(),
        accesses=_accesses(now or utcnow()),
    )


def _role_holders() -> dict[Role, list[User]]:
    holders: dict[Role, list[User]] = {role: [] for role in Role if role != Role.EMPLOYEE}
    rows = db.session.execute(
        select(UserRole.role, User)
        .join(User, User.id == UserRole.user_id)
        .where(User.active.is_(True), UserRole.role != Role.EMPLOYEE)
        .order_by(User.family_name, User.given_name)
    ).all()
    for role, user in rows:
        if role in holders:
            holders[Role(role)].append(user)
    return holders


def _accesses(now: datetime) -> dict[str, dict[str, tuple[int, int]]]:
    """Looks at and exports of others' data per month and role of who did them (one statement)."""
    month = func.substr(func.cast(AuditEntry.at, db.String), 1, 7)
    year, month_index = divmod(now.year * 12 + now.month - MONTHS_SHOWN, 12)
    first_month = f"{year}-{month_index + 1:02d}"  # this month and the eleven before it
    rows = db.session.execute(
        select(month, UserRole.role, AuditEntry.action, func.count())
        .join(UserRole, UserRole.user_id == AuditEntry.actor_id)
        .where(AuditEntry.action.in_([*LOOKS, *EXPORTS]), UserRole.role != Role.EMPLOYEE, month >= first_month)
        .group_by(month, UserRole.role, AuditEntry.action)
    ).all()
    counts: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for month_text, role, action, number in rows:
        counts[month_text][role][0 if action in LOOKS else 1] += number
    return {
        month_text: {role: (looks, exports) for role, (looks, exports) in sorted(by_role.items())}
        for month_text, by_role in sorted(counts.items(), reverse=True)
    }
