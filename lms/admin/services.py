"""What an admin does that spans people and sign-in. Functions flush; the view commits.

Every change an admin makes to a person, their rights, departments or job roles is written to the
audit trail with who did it, to whom, and what changed (before → after).
"""

from __future__ import annotations

from typing import Any

from lms.auth import services as auth_services
from lms.common.vocabulary import AuditAction, AuditField, Role
from lms.people import services as people
from lms.people.models import Department, JobRole, User
from lms.privacy import services as privacy

_PERSON_FIELDS = (
    "given_name",
    "family_name",
    "email",
    "personnel_number",
    "department_id",
    "job_role_id",
    "locale",
)


def _person_state(user: User) -> dict[str, Any]:
    state = {field: getattr(user, field) for field in _PERSON_FIELDS}
    state["headed_department_ids"] = sorted(d.id for d in user.headed_departments)
    return state


def _changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    return {field: [before.get(field), value] for field, value in after.items() if before.get(field) != value}


def _record_role_changes(actor: User, user: User, before: set[str], ip_address: str | None) -> list[Role]:
    """One entry per granted or revoked role (being an employee is no grant). Answers the roles
    the actor granted themself, which the DPO is shown prominently."""
    after = set(user.roles)
    for role in sorted(after - before - {Role.EMPLOYEE}):
        privacy.record_event(actor, AuditAction.GRANT_ROLE, user, {AuditField.ROLE: role}, ip_address)
    for role in sorted(before - after - {Role.EMPLOYEE}):
        privacy.record_event(actor, AuditAction.REVOKE_ROLE, user, {AuditField.ROLE: role}, ip_address)
    return [Role(role) for role in sorted(after - before - {Role.EMPLOYEE})] if actor.id == user.id else []


def create_person(
    actor: User, data: people.UserData, ip_address: str | None = None
) -> tuple[User, auth_services.OneTimePassword]:
    """A new person with a one-time password they must replace at their first sign-in."""
    user = people.create_user(data)
    temporary = auth_services.issue_temporary_password(user)
    privacy.record_event(
        actor, AuditAction.CREATE_PERSON, user, {AuditField.CHANGES: _changes({}, _person_state(user))}, ip_address
    )
    _record_role_changes(actor, user, set(), ip_address)
    return user, temporary


def update_person(actor: User, user: User, data: people.UserData, ip_address: str | None = None) -> list[Role]:
    """Save the person's data; answers the roles the actor granted themself (if any)."""
    before, roles_before = _person_state(user), set(user.roles)
    people.update_user(user, data)
    changes = _changes(before, _person_state(user))
    if changes:
        privacy.record_event(actor, AuditAction.EDIT_PERSON, user, {AuditField.CHANGES: changes}, ip_address)
    return _record_role_changes(actor, user, roles_before, ip_address)


def set_person_active(actor: User, user: User, active: bool, ip_address: str | None = None) -> None:
    """Deactivation keeps the person's records but ends their sessions and sign-in at once."""
    if user.active == active:
        return
    people.set_user_active(user, active)
    if not active:
        auth_services.end_all_sessions(user.id)
    action = AuditAction.REACTIVATE_PERSON if active else AuditAction.DEACTIVATE_PERSON
    privacy.record_event(actor, action, user, ip_address=ip_address)


def reset_password(actor: User, user: User, ip_address: str | None = None) -> auth_services.OneTimePassword:
    temporary = auth_services.issue_temporary_password(user)
    privacy.record_event(actor, AuditAction.RESET_PASSWORD, user, ip_address=ip_address)
    return temporary


def save_department(
    actor: User, department: Department | None, code: str, name: str, parent_id: int | None, ip_address: str | None
) -> Department:
    before = _department_state(department) if department else {}
    saved = people.save_department(department, code, name, parent_id)
    changes = _changes(before, _department_state(saved))
    if changes:
        context = {AuditField.DEPARTMENT: saved.code, AuditField.CHANGES: changes}
        privacy.record_event(actor, AuditAction.SAVE_DEPARTMENT, context=context, ip_address=ip_address)
    return saved


def _department_state(department: Department) -> dict[str, Any]:
    return {"code": department.code, "name": department.name, "parent_id": department.parent_id}


def set_department_active(actor: User, department: Department, active: bool, ip_address: str | None) -> None:
    if department.active == active:
        return
    people.set_department_active(department, active)
    context = {AuditField.DEPARTMENT: department.code, AuditField.ACTIVE: active}
    privacy.record_event(actor, AuditAction.SET_DEPARTMENT_ACTIVE, context=context, ip_address=ip_address)


def save_job_role(actor: User, job_role: JobRole | None, code: str, title: str, ip_address: str | None) -> JobRole:
    before = {"code": job_role.code, "title": job_role.title} if job_role else {}
    saved = people.save_job_role(job_role, code, title)
    changes = _changes(before, {"code": saved.code, "title": saved.title})
    if changes:
        context = {AuditField.JOB_ROLE: saved.code, AuditField.CHANGES: changes}
        privacy.record_event(actor, AuditAction.SAVE_JOB_ROLE, context=context, ip_address=ip_address)
    return saved


def set_job_role_active(actor: User, job_role: JobRole, active: bool, ip_address: str | None) -> None:
    if job_role.active == active:
        return
    people.set_job_role_active(job_role, active)
    context = {AuditField.JOB_ROLE: job_role.code, AuditField.ACTIVE: active}
    privacy.record_event(actor, AuditAction.SET_JOB_ROLE_ACTIVE, context=context, ip_address=ip_address)
