"""Who may see whose individual learning data, and the audit trail of every such look.

- An employee sees their own data.
- A manager sees the people of the departments they head (sub-departments included); with the
  `compliance-only` preset only their completions of courses, competence data only as aggregates.
- HR sees everyone. A trainer sees no individual data. The data-protection officer reads the log.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import Select, func, or_, select

from lms.common.dates import utcnow
from lms.common.vocabulary import AuditAction, AuditField, AuditReason, ManagerVisibility, Role
from lms.extensions import db
from lms.people.models import User
from lms.people.services import descendant_ids
from lms.privacy import chain
from lms.privacy.models import AuditEntry


def manager_preset() -> ManagerVisibility:
    return current_app.config["MANAGER_VISIBILITY"]


def managed_department_ids(manager: User) -> set[int]:
    if not manager.has_role(Role.MANAGER):
        return set()
    return descendant_ids(d.id for d in manager.headed_departments)


def may_see_levels_of(viewer: User, subject: User) -> bool:
    """May `viewer` see `subject`'s individual competence levels and evidence?"""
    if viewer.id == subject.id or viewer.has_role(Role.HR):
        return True
    return (
        manager_preset() == ManagerVisibility.LEVELS
        and subject.department_id is not None
        and subject.department_id in managed_department_ids(viewer)
    )


def may_assess(viewer: User, subject: User) -> bool:
    """May `viewer` confirm a level for `subject`? A manager, for the people of the departments they
    head, and only where they may see those people's levels (not under `compliance-only`, unless
    they are HR too). Never for themselves: nobody confirms their own evidence."""
    return (
        viewer.id != subject.id
        and viewer.has_role(Role.MANAGER)
        and subject.department_id is not None
        and subject.department_id in managed_department_ids(viewer)
        and may_see_levels_of(viewer, subject)
    )


def visible_person(
    viewer: User, user_id: int, context: Mapping[AuditField, AuditValue], ip_address: str | None = None
) -> User | None:
    """The person whose levels `viewer` asks for, or None when there is no such person or the viewer
    may not see their levels: the caller answers both alike (404), so nobody learns which ids exist.

    A refused look at an existing person is recorded as denied. A viewer who may see nobody's levels
    (a manager under `compliance-only`) is refused outright by the caller (403), and that refusal
    is recorded with every other 403 (`record_refused_request`).
    """
    person = db.session.get(User, user_id)
    if person is not None and may_see_levels_of(viewer, person):
        return person
    if person is not None and may_see_individual_levels(viewer):
        record_denied(viewer, AuditReason.OUT_OF_SIGHT, context, ip_address, subject=person)
    return None


def may_see_individual_levels(viewer: User) -> bool:
    """Does this viewer see anyone's levels besides their own (HR, or managers under `levels`)?"""
    return viewer.has_role(Role.HR) or (viewer.has_role(Role.MANAGER) and manager_preset() == ManagerVisibility.LEVELS)


def visible_people(viewer: User | None, department_id: int | None = None, job_role_id: int | None = None) -> Select:
    """Active people whose data this viewer may see in the matrix, optionally narrowed down.

    A department filter outside a manager's departments yields nobody (the view answers 403 first).
    No viewer means the command line, run by the operator: everyone.
    """
    query = select(User).where(User.active.is_(True))
    if viewer is not None and not viewer.has_role(Role.HR):
        query = query.where(User.department_id.in_(managed_department_ids(viewer) or {-1}))
    if department_id:
        query = query.where(User.department_id.in_(descendant_ids([department_id]) or {-1}))
    if job_role_id:
        query = query.where(User.job_role_id == job_role_id)
    return query.order_by(User.family_name, User.given_name, User.id)


AuditValue = Any  # str, int, bool, None, or lists and dicts of them: what JSON holds
MAX_CONTEXT_TEXT = 200  # longer values from a request are cut: the log keeps what was asked, not essays


def _bounded(value: AuditValue) -> AuditValue:
    """A request's values as structured data of bounded size (text cut, nesting kept flat)."""
    if isinstance(value, str):
        return value[:MAX_CONTEXT_TEXT]
    if isinstance(value, list):
        return [_bounded(item) for item in value[:20]]
    if isinstance(value, dict):
        return {str(key)[:40]: _bounded(item) for key, item in list(value.items())[:20]}
    return value


def _person_columns(prefix: str, person: User | None) -> dict[str, Any]:
    """Who (or whom) as they are at this moment: id, name and e-mail."""
    if person is None:
        return {f"{prefix}_id": None, f"{prefix}_name": "", f"{prefix}_email": ""}
    return {f"{prefix}_id": person.id, f"{prefix}_name": person.name, f"{prefix}_email": person.email}


def _row(
    actor: User | None,
    subject: User | None,
    action: AuditAction,
    context: Mapping[AuditField, AuditValue] | None,
    ip_address: str | None,
    at: datetime,
) -> dict[str, Any]:
    return {
        "at": at,
        **_person_columns("actor", actor),
        **_person_columns("subject", subject),
        "action": AuditAction(action).value,
        "context": {AuditField(key).value: _bounded(value) for key, value in (context or {}).items()},
        "ip_address": ip_address,
    }


def record(
    actor: User | None,
    subjects: Iterable[User],
    action: AuditAction,
    context: Mapping[AuditField, AuditValue] | None = None,
    ip_address: str | None = None,
) -> None:
    """One entry per person whose data `actor` looked at (never for one's own data).

    `actor` None is the operator on the command line.
    """
    at = utcnow()
    chain.append(
        [
            _row(actor, subject, action, context, ip_address, at)
            for subject in subjects
            if actor is None or subject.id != actor.id
        ]
    )


def record_event(
    actor: User | None,
    action: AuditAction,
    subject: User | None = None,
    context: Mapping[AuditField, AuditValue] | None = None,
    ip_address: str | None = None,
) -> None:
    """One entry for something done (an admin's change, an export of the log): also about oneself."""
    chain.append([_row(actor, subject, action, context, ip_address, utcnow())])


def record_denied(
    actor: User,
    reason: AuditReason,
    context: Mapping[AuditField, AuditValue] | None = None,
    ip_address: str | None = None,
    subject: User | None = None,
) -> None:
    """A refused attempt to see or change data outside one's rights: logged too."""
    record_event(actor, AuditAction.DENIED, subject, {AuditField.REASON: reason, **(context or {})}, ip_address)


def accesses_to(user: User, limit: int = 200) -> list[AuditEntry]:
    """What others did with this person's data, newest first (the person's own view of the log)."""
    return list(
        db.session.execute(
            select(AuditEntry)
            .where(AuditEntry.subject_id == user.id, AuditEntry.actor_id.is_distinct_from(user.id))
            .order_by(AuditEntry.id.desc())
            .limit(limit)
        ).scalars()
    )


@dataclass(frozen=True)
class AuditFilter:
    """What the DPO narrows the log down to. Dates are whole days in the town's time zone."""

    actor: str = ""  # part of a name or e-mail, as recorded at the time
    subject: str = ""
    action: AuditAction | None = None
    date_from: date | None = None
    date_to: date | None = None
    self_granted: bool = False  # only roles people granted themselves

    def as_context(self) -> dict[str, AuditValue]:
        """The filter as the value of the FILTER field of the DPO's own audit entry."""
        return {
            key: str(value) if isinstance(value, date) else value
            for key, value in asdict(self).items()
            if value not in ("", None, False)
        }


def _person_matches(name_column, email_column, text: str):
    """Part of the name or e-mail as recorded; `%` and `_` in the text are matched as typed."""
    needle = text.strip().lower()
    return or_(
        func.lower(name_column).contains(needle, autoescape=True),
        func.lower(email_column).contains(needle, autoescape=True),
    )


def _day_start(day: date) -> datetime:
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)


def audit_log(criteria: AuditFilter | None = None) -> Select:
    """The log, newest first, narrowed down by `criteria`."""
    criteria = criteria or AuditFilter()
    query = select(AuditEntry)
    if criteria.actor.strip():
        query = query.where(_person_matches(AuditEntry.actor_name, AuditEntry.actor_email, criteria.actor))
    if criteria.subject.strip():
        query = query.where(_person_matches(AuditEntry.subject_name, AuditEntry.subject_email, criteria.subject))
    if criteria.action:
        query = query.where(AuditEntry.action == criteria.action)
    if criteria.date_from:
        query = query.where(AuditEntry.at >= _day_start(criteria.date_from))
    if criteria.date_to:
        query = query.where(AuditEntry.at < _day_start(criteria.date_to + timedelta(days=1)))
    if criteria.self_granted:
        query = query.where(_self_granted())
    return query.order_by(AuditEntry.id.desc())


def _self_granted():
    return (AuditEntry.action == AuditAction.GRANT_ROLE) & (AuditEntry.actor_id == AuditEntry.subject_id)


def self_granted_roles(limit: int = 5) -> tuple[int, list[AuditEntry]]:
    """Roles people granted themselves: how many, and the newest. Shown prominently to the DPO."""
    count = db.session.scalar(select(func.count()).select_from(AuditEntry).where(_self_granted())) or 0
    newest = db.session.execute(
        select(AuditEntry).where(_self_granted()).order_by(AuditEntry.id.desc()).limit(limit)
    ).scalars()
    return count, list(newest)


def export_row(entry: AuditEntry) -> list[str]:
    """An entry as CSV cells: every stored field, the context as canonical JSON, hashes included
    (so a copy can be checked against the chain)."""
    return [
        str(entry.id),
        chain.canonical_time(entry.at),
        "" if entry.actor_id is None else str(entry.actor_id),
        entry.actor_name,
        entry.actor_email,
        "" if entry.subject_id is None else str(entry.subject_id),
        entry.subject_name,
        entry.subject_email,
        entry.action,
        json.dumps(entry.context or {}, ensure_ascii=False, sort_keys=True),
        entry.ip_address or "",
        entry.previous_hash,
        entry.entry_hash,
    ]
