"""Target profiles: the levels a job role needs, and individual targets per person.

Plain functions over `db.session`; they flush, the caller commits. Rule breaks raise
`ValidationFailed({field: message})`. A person's targets are their job role's target profile plus
their individual targets; where both name the same competence the higher level counts, and the
shorter "show again every N months" (`targets_for`).

The CSV import is in `lms.targets.importer`.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from lms.common.dates import utcnow
from lms.common.errors import ValidationFailed
from lms.common.text import note_problem
from lms.common.urls import MAX_DB_INT
from lms.extensions import db
from lms.frameworks.models import Competence, CompetenceArea, Framework
from lms.frameworks.services import default_framework, max_level
from lms.i18n import _
from lms.people.models import JobRole, User
from lms.targets.models import JobRoleTarget, PersonalTarget

MAX_RECERT_MONTHS = 240  # 20 years; a bound keeps nonsense out of an integer column
MAX_NOTE_LENGTH = 500  # PersonalTarget.note
_WHOLE_NUMBER = re.compile(r"[0-9]{1,9}")


class BadValue(ValueError):
    """A level or a number of months that breaks the rules."""


# --- values -----------------------------------------------------------------------------------


def parse_level(value, top: int) -> int:
    """A target level: 1..`top`, or 0 for "no target" (also from None or an empty text)."""
    if value is None or isinstance(value, bool):
        if value is None:
            return 0
        raise BadValue(value)
    if isinstance(value, int):
        number = value
    else:
        text = str(value).strip()
        if not text:
            return 0
        if not _WHOLE_NUMBER.fullmatch(text):
            raise BadValue(value)
        number = int(text)
    if not 0 <= number <= top:
        raise BadValue(value)
    return number


def parse_months(value) -> int | None:
    """ "Show again every N months": a whole number 1..MAX_RECERT_MONTHS, or None when empty."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise BadValue(value)
    if isinstance(value, int):
        number = value
    else:
        text = str(value).strip()
        if not text:
            return None
        if not _WHOLE_NUMBER.fullmatch(text):
            raise BadValue(value)
        number = int(text)
    if not 1 <= number <= MAX_RECERT_MONTHS:
        raise BadValue(value)
    return number


def _level_message(top: int) -> str:
    return _("Choose a level from 1 to %(max)d, or “no target”.", max=top)


def _months_message() -> str:
    return _("Enter a whole number of months from 1 to %(max)d, or leave the field empty.", max=MAX_RECERT_MONTHS)


def _competence_problem(competence: Competence | None, framework: Framework | None) -> str | None:
    """Why a competence cannot get a new target, or None when it can."""
    if framework is None:
        return _("No competency framework is loaded yet, so no targets can be set.")
    if competence is None:
        return _("This competence does not exist.")
    if competence.framework_id != framework.id:
        return _(
            "A target can only be set for a competence of the framework in use (%(framework)s).",
            framework=framework.t("title"),
        )
    if competence.retired:
        return _("This competence is no longer part of the framework; it cannot get a new target.")
    return None


def _as_id(value) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 <= value <= MAX_DB_INT else None
    text = str(value).strip() if value is not None else ""
    return int(text) if _WHOLE_NUMBER.fullmatch(text) else None


# --- job roles --------------------------------------------------------------------------------


def level_field(competence_id: int) -> str:
    """The form field (and error key) of a competence's level in a target profile."""
    return f"level_{competence_id}"


def months_field(competence_id: int) -> str:
    return f"recert_months_{competence_id}"


def job_roles_with_target_counts() -> list[tuple[JobRole, int]]:
    """Every job role (active first, then by title) with the number of its targets, in one statement."""
    counts = select(JobRoleTarget.job_role_id, func.count().label("n")).group_by(JobRoleTarget.job_role_id).subquery()
    rows = db.session.execute(
        select(JobRole, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.job_role_id == JobRole.id)
        .order_by(JobRole.active.desc(), JobRole.title, JobRole.id)
    ).all()
    return [(job_role, count) for job_role, count in rows]


def job_role_targets(job_role: JobRole) -> dict[int, JobRoleTarget]:
    """The job role's target profile: competence id → target, competences loaded, in one statement."""
    rows = db.session.execute(
        select(JobRoleTarget)
        .where(JobRoleTarget.job_role_id == job_role.id)
        .options(joinedload(JobRoleTarget.competence).joinedload(Competence.area))
    ).scalars()
    return {row.competence_id: row for row in rows}


def people_with_job_role(job_role: JobRole) -> int:
    query = select(func.count(User.id)).where(User.job_role_id == job_role.id, User.active.is_(True))
    return db.session.scalar(query) or 0


@dataclass
class ProfileChanges:
    added: int = 0
    changed: int = 0
    removed: int = 0
    unchanged: int = 0

    @property
    def any(self) -> bool:
        return bool(self.added or self.changed or self.removed)


def save_job_role_profile(job_role: JobRole, wanted: Mapping[int, tuple]) -> ProfileChanges:
    """Save a target profile at once from {competence id: (level, recert_months)}.

    Level 0, None or empty: no target (an existing one is removed). Competences not in `wanted`
    keep their target. Every value is checked first; with any error nothing is written and
    ValidationFailed names each field (`level_<id>`, `recert_months_<id>`).
    """
    framework = default_framework()
    top = max_level(framework) or 8  # without a framework, the competence check below says why
    ids = {cid for cid in (_as_id(key) for key in wanted) if cid is not None}
    competences = (
        {c.id: c for c in db.session.execute(select(Competence).where(Competence.id.in_(ids))).scalars()} if ids else {}
    )
    existing = job_role_targets(job_role)
    errors: dict[str, str] = {}
    clean: dict[int, tuple[int, int | None]] = {}
    for key, value in wanted.items():
        competence_id = _as_id(key)
        level_raw, months_raw = (tuple(value) + (None, None))[:2]
        if competence_id is None:
            errors[level_field(key)] = _("This competence does not exist.")
            continue
        try:
            level = parse_level(level_raw, top)
        except BadValue:
            errors[level_field(competence_id)] = _level_message(top)
            continue
        if level == 0:
            clean[competence_id] = (0, None)
            continue
        problem = _competence_problem(competences.get(competence_id), framework)
        if problem:
            errors[level_field(competence_id)] = problem
            continue
        try:
            clean[competence_id] = (level, parse_months(months_raw))
        except BadValue:
            errors[months_field(competence_id)] = _months_message()
    if errors:
        raise ValidationFailed(errors)

    changes = ProfileChanges()
    for competence_id, (level, months) in clean.items():
        row = existing.get(competence_id)
        if level == 0:
            if row is None:
                changes.unchanged += 1
            else:
                db.session.delete(row)
                changes.removed += 1
        elif row is None:
            db.session.add(
                JobRoleTarget(job_role_id=job_role.id, competence_id=competence_id, level=level, recert_months=months)
            )
            changes.added += 1
        elif (row.level, row.recert_months) != (level, months):
            row.level, row.recert_months = level, months
            changes.changed += 1
        else:
            changes.unchanged += 1
    db.session.flush()
    return changes


# --- people -----------------------------------------------------------------------------------


def personal_targets(user: User) -> list[PersonalTarget]:
    """The person's individual targets in framework order, competences and areas loaded."""
    return _in_framework_order(PersonalTarget, PersonalTarget.user_id == user.id)


def inherited_targets(user: User) -> list[JobRoleTarget]:
    """The targets of the person's job role, in framework order (read-only on the person's page)."""
    if not user.job_role_id:
        return []
    return _in_framework_order(JobRoleTarget, JobRoleTarget.job_role_id == user.job_role_id)


def _in_framework_order(model, condition) -> list:
    """Targets of one kind matching `condition`, ordered by area and competence, both loaded."""
    return list(
        db.session.execute(
            select(model)
            .join(model.competence)
            .join(Competence.area)
            .where(condition)
            .options(joinedload(model.competence).joinedload(Competence.area))
            .order_by(CompetenceArea.position, Competence.position, Competence.id)
        ).scalars()
    )


def user_names(user_ids: Iterable[int | None]) -> dict[int, str]:
    """id → name, for "set by" columns, in one statement."""
    ids = {i for i in user_ids if i}
    if not ids:
        return {}
    return {
        row.id: f"{row.given_name} {row.family_name}"
        for row in db.session.execute(select(User.id, User.given_name, User.family_name).where(User.id.in_(ids)))
    }


def set_personal_target(
    user: User, competence_id, level, recert_months=None, note: str | None = "", set_by: User | None = None
) -> str:
    """Add, change or (level 0/None) remove an individual target.

    Returns "added", "changed", "removed" or "unchanged". Removing needs only the competence id,
    so a target on a competence retired since can still be removed.
    """
    framework = default_framework()
    top = max_level(framework) or 8  # without a framework, the competence check below says why
    errors: dict[str, str] = {}
    cid = _as_id(competence_id)
    note = (note or "").strip()
    try:
        level = parse_level(level, top)
    except BadValue:
        errors["level"] = _level_message(top)
        level = None
    if cid is None:
        errors["competence_id"] = _("Choose a competence.")
    row = db.session.get(PersonalTarget, (user.id, cid)) if cid is not None else None
    if level == 0:
        if errors:
            raise ValidationFailed(errors)
        if row is None:
            return "unchanged"
        db.session.delete(row)
        db.session.flush()
        return "removed"
    if cid is not None:
        problem = _competence_problem(db.session.get(Competence, cid), framework)
        if problem:
            errors["competence_id"] = problem
    try:
        months = parse_months(recert_months)
    except BadValue:
        errors["recert_months"] = _months_message()
    if note_problem_text := note_problem(note, MAX_NOTE_LENGTH):
        errors["note"] = note_problem_text
    if errors:
        raise ValidationFailed(errors)
    set_by_id = set_by.id if set_by is not None else None
    if row is None:
        db.session.add(
            PersonalTarget(
                user_id=user.id,
                competence_id=cid,
                level=level,
                recert_months=months,
                note=note,
                set_by_id=set_by_id,
                set_at=utcnow(),
            )
        )
        action = "added"
    elif (row.level, row.recert_months, row.note or "") == (level, months, note):
        return "unchanged"
    else:
        row.level, row.recert_months, row.note = level, months, note
        row.set_by_id, row.set_at = set_by_id, utcnow()
        action = "changed"
    db.session.flush()
    return action


def remove_personal_target(user: User, competence_id) -> bool:
    """Remove an individual target; False when there was none."""
    return set_personal_target(user, competence_id, 0) == "removed"


# --- targets per person ---------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    level: int
    recert_months: int | None = None
    personal: bool = False


def _merge(a: Target | None, b: Target) -> Target:
    if a is None:
        return b
    months = [m for m in (a.recert_months, b.recert_months) if m]
    return Target(max(a.level, b.level), min(months) if months else None, a.personal or b.personal)


def targets_for(users: Iterable[User]) -> dict[int, dict[int, Target]]:
    """user id → competence id → target, in two statements."""
    users = list(users)
    result: dict[int, dict[int, Target]] = defaultdict(dict)
    job_roles = {u.job_role_id for u in users if u.job_role_id}
    by_role: dict[int | None, list[JobRoleTarget]] = defaultdict(list)
    if job_roles:
        for role_target in db.session.execute(
            select(JobRoleTarget).where(JobRoleTarget.job_role_id.in_(job_roles))
        ).scalars():
            by_role[role_target.job_role_id].append(role_target)
    for user in users:
        for role_target in by_role.get(user.job_role_id, []):
            result[user.id][role_target.competence_id] = Target(role_target.level, role_target.recert_months)
    ids = [u.id for u in users]
    if ids:
        for own in db.session.execute(select(PersonalTarget).where(PersonalTarget.user_id.in_(ids))).scalars():
            result[own.user_id][own.competence_id] = _merge(
                result[own.user_id].get(own.competence_id), Target(own.level, own.recert_months, personal=True)
            )
    return result
