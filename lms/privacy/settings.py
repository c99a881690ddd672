"""What the staff council's agreement is about, read from the settings in force: the preset, the
minimum group size, the retention periods, the review rule, the modules that show data about
people, who holds which role, and how often people's data was looked at or exported (counts per
month and role, no names).

The settings come from the environment, so a change shows only when the software runs with it:
`record_settings_in_force` compares them with the last recorded ones (the scheduler at its start
and daily, `flask privacy settings record`), stores what changed and writes it to the audit trail.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import JSON, String, func, select
from sqlalchemy.orm import Mapped, mapped_column

from lms.common.columns import timestamp
from lms.common.dates import utcnow
from lms.common.retention import PERIODS, PERIODS_BY_KEY, Period
from lms.common.vocabulary import AuditAction, AuditField, ManagerVisibility, Module, Role
from lms.extensions import Model, db
from lms.i18n import _, _l
from lms.people.models import User, UserRole
from lms.privacy import services
from lms.privacy.models import AuditEntry

LOOKS = tuple(action for action in AuditAction if action.value.startswith("view_"))
EXPORTS = tuple(action for action in AuditAction if action.value.startswith("export_"))
MONTHS_SHOWN = 12
CHANGES_SHOWN = 10
RETENTION_PREFIX = "retention."


class RecordedSetting(Model):
    """One setting as last recorded, and since when it has held this value.

    Kept beside the access rules it describes (lms/privacy), not in `models.py`: nothing else
    reads it.
    """

    __tablename__ = "recorded_settings"

    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON, nullable=True)
    since: Mapped[timestamp]


# What each recorded setting is called on the settings page (retention periods by their data).
SETTING_LABELS = {
    "manager_visibility": _l("What managers see (preset)"),
    "min_group_size": _l("Minimum group size"),
    "exact_share_from": _l("Exact shares from this group size on (smaller groups: a range)"),
    "survey_min_group_size": _l("Minimum group size of pulse surveys"),
    "course_review_required": _l("A second trainer approves every course"),
    "modules_on": _l("Modules showing data about people that are on"),
    "confirmation_valid_months": _l("Months a confirmed level counts"),
}


def settings_in_force(config: Mapping[str, Any]) -> dict[str, Any]:
    """The settings the agreement is about, as plain values (what is recorded and compared)."""
    values: dict[str, Any] = {
        "manager_visibility": str(config["MANAGER_VISIBILITY"]),
        "min_group_size": int(config["PRIVACY_MIN_GROUP_SIZE"]),
        "exact_share_from": int(config["PRIVACY_EXACT_SHARE_FROM"]),
        "survey_min_group_size": int(config["PRIVACY_SURVEY_MIN_GROUP_SIZE"]),
        "course_review_required": bool(config["COURSE_REVIEW_REQUIRED"]),
        "modules_on": [str(module) for module in modules_on(config)],
    }
    values.update({RETENTION_PREFIX + key: int(days) for key, days in sorted(config["RETENTION_DAYS"].items())})
    if config.get("CONFIRMATION_VALID_MONTHS") is not None:
        values["confirmation_valid_months"] = int(config["CONFIRMATION_VALID_MONTHS"])
    return values


def modules_on(config: Mapping[str, Any]) -> list[Module]:
    return [module for module in Module if module not in config["MODULES_OFF"]]


def setting_label(key: str) -> str:
    if key.startswith(RETENTION_PREFIX) and key.removeprefix(RETENTION_PREFIX) in PERIODS_BY_KEY:
        period = PERIODS_BY_KEY[key.removeprefix(RETENTION_PREFIX)]
        return _("Days kept: %(what)s", what=period.what)
    return str(SETTING_LABELS.get(key, key))


def setting_value_text(key: str, value: Any) -> str:
    """A recorded value as the reader's text: modules and the preset by name, yes and no."""
    if value is None:
        return "–"
    if key == "modules_on" and isinstance(value, list):
        return ", ".join(Module(name).label if name in set(Module) else str(name) for name in value) or _("none")
    if key == "manager_visibility" and value in set(ManagerVisibility):
        return f"„{value}“"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    return str(value)


def record_settings_in_force(now: datetime | None = None) -> dict[str, list[Any]]:
    """Compare the settings running now with the last recorded ones; store what changed, and write
    one audit entry naming each change as [before, after]. Answers the changes (none: nothing
    written). The first run records every setting, each changed from nothing."""
    now = now or utcnow()
    running = settings_in_force(current_app.config)
    recorded = {row.key: row for row in db.session.execute(select(RecordedSetting)).scalars()}
    changes: dict[str, list[Any]] = {}
    for key in sorted(running.keys() | recorded.keys()):
        row = recorded.get(key)
        if row is not None and key in running and row.value == running[key]:
            continue
        changes[key] = [None if row is None else row.value, running.get(key)]
        if key not in running:
            db.session.delete(row)
        elif row is None:
            db.session.add(RecordedSetting(key=key, value=running[key], since=now))
        else:
            row.value, row.since = running[key], now
    if changes:
        services.record_event(None, AuditAction.CHANGE_SETTINGS, context={AuditField.CHANGES: changes})
    db.session.flush()
    return changes


@dataclass
class SettingsChange:
    at: datetime
    changes: dict[str, list[Any]]  # setting → [before, after]


@dataclass
class Settings:
    preset: str
    min_group_size: int
    review_required: bool
    retention: list[tuple[Period, int]]
    role_holders: dict[Role, list[User]]
    modules_on: list[Module] = field(default_factory=list)
    modules_off: list[Module] = field(default_factory=list)
    controller_contact: str = ""
    dpo_contact: str = ""
    # When the settings now recorded took effect (the latest change); None: never recorded
    in_force_since: datetime | None = None
    recent_changes: list[SettingsChange] = field(default_factory=list)
    # Settings running with another value than recorded: the next recording will note them
    unrecorded: list[str] = field(default_factory=list)
    # month ("2026-11") → role → (looks, exports), by the role the looking person holds now
    accesses: dict[str, dict[str, tuple[int, int]]] = field(default_factory=dict)


def current_settings(now: datetime | None = None) -> Settings:
    config = current_app.config
    recorded = {row.key: row for row in db.session.execute(select(RecordedSetting)).scalars()}
    running = settings_in_force(config)
    return Settings(
        preset=str(config["MANAGER_VISIBILITY"]),
        min_group_size=config["PRIVACY_MIN_GROUP_SIZE"],
        review_required=bool(config["COURSE_REVIEW_REQUIRED"]),
        retention=[(period, config["RETENTION_DAYS"][period.key]) for period in PERIODS],
        role_holders=_role_holders(),
        modules_on=modules_on(config),
        modules_off=[module for module in Module if module in config["MODULES_OFF"]],
        controller_contact=config.get("CONTROLLER_CONTACT", ""),
        dpo_contact=config.get("DPO_CONTACT", ""),
        in_force_since=max((row.since for row in recorded.values()), default=None),
        recent_changes=_recent_changes(),
        unrecorded=[
            key
            for key in sorted(running.keys() | recorded.keys())
            if key not in recorded or recorded[key].value != running.get(key)
        ],
        accesses=_accesses(now or utcnow()),
    )


def _recent_changes() -> list[SettingsChange]:
    entries = db.session.execute(
        select(AuditEntry)
        .where(AuditEntry.action == AuditAction.CHANGE_SETTINGS)
        .order_by(AuditEntry.id.desc())
        .limit(CHANGES_SHOWN)
    ).scalars()
    return [SettingsChange(entry.at, dict((entry.context or {}).get(AuditField.CHANGES, {}))) for entry in entries]


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
