"""Who may see whose individual learning data, and the audit trail of every such look.

- An employee sees their own data.
- A manager sees the people of the departments they head (sub-departments included); with the
  `compliance-only` preset only their completions of courses, competence data only as aggregates.
- HR sees everyone. A trainer sees no individual data. The data-protection officer reads the log.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import current_app
from sqlalchemy import Select, insert, select

from lms.common.dates import utcnow
from lms.common.vocabulary import AuditAction, ManagerVisibility, Role
from lms.extensions import db
from lms.people.models import User
from lms.people.services import descendant_ids
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


def visible_person(viewer: User, user_id: int, detail: str, ip_address: str | None = None) -> User | None:
    """The person whose levels `viewer` asks for, or None when there is no such person or the viewer
    may not see their levels: the caller answers both alike, so nobody learns which ids exist.

    A refused look at an existing person is recorded as denied; so is any look by a viewer who may
    see nobody's levels (a manager under `compliance-only`), whom the caller refuses outright.
    """
    person = db.session.get(User, user_id)
    if person is not None and may_see_levels_of(viewer, person):
        return person
    if person is not None or not may_see_individual_levels(viewer):
        record_denied(viewer, detail, ip_address, subject_id=person.id if person is not None else None)
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


def record(
    actor: User | None, subject_ids: Iterable[int], action: str, detail: str = "", ip_address: str | None = None
) -> None:
    """Write one audit entry per person whose data was looked at (never for one's own data)."""
    actor_id = actor.id if actor is not None else None
    rows = [
        {
            "actor_id": actor_id,
            "subject_id": subject_id,
            "action": action,
            "detail": detail[:500],
            "ip_address": ip_address,
            "at": utcnow(),
        }
        for subject_id in subject_ids
        if subject_id != actor_id
    ]
    if rows:  # one executemany, however many people were shown
        db.session.execute(insert(AuditEntry), rows)


def record_denied(actor: User, detail: str, ip_address: str | None = None, subject_id: int | None = None) -> None:
    """A refused attempt to see data outside one's rights: logged too."""
    db.session.add(
        AuditEntry(
            actor_id=actor.id,
            subject_id=subject_id,
            action=AuditAction.DENIED,
            detail=detail[:500],
            ip_address=ip_address,
        )
    )
    db.session.flush()


def accesses_to(user: User, limit: int = 200) -> list[AuditEntry]:
    """Who looked at this person's data, newest first (the person's own view of the log)."""
    from sqlalchemy.orm import joinedload

    return list(
        db.session.execute(
            select(AuditEntry)
            .options(joinedload(AuditEntry.actor))
            .where(AuditEntry.subject_id == user.id)
            .order_by(AuditEntry.at.desc())
            .limit(limit)
        ).scalars()
    )


def audit_log(action: str | None = None) -> Select:
    from sqlalchemy.orm import joinedload

    query = select(AuditEntry).options(joinedload(AuditEntry.actor), joinedload(AuditEntry.subject))
    if action:
        query = query.where(AuditEntry.action == action)
    return query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
