"""What an admin does that spans people and sign-in. Functions flush; the view commits.

Every change an admin makes to a person, their rights, departments or job roles is written to the
audit trail with who did it, to whom, and what changed (before → after).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from lms.auth import services as auth_services
from lms.auth import twofactor
from lms.common.errors import ValidationFailed
from lms.common.vocabulary import AuditAction, AuditField, Role
from lms.extensions import db
from lms.i18n import _
from lms.people import services as people
from lms.people.models import Department, JobRole, User, UserRole
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


# --- two-factor sign-in (docs/two-factor.md) --------------------------------------------------


def reset_two_factor(actor: User, user: User, ip_address: str | None = None) -> bool:
    """Remove the person's second factor and recovery codes (a lost device); answers whether there was one."""
    had = twofactor.reset(user)
    privacy.record_event(actor, AuditAction.RESET_TWO_FACTOR, user, ip_address=ip_address)
    return had


def enrol_hardware_token(
    actor: User, user: User, seed: str | None, serial: str | None, code: str | None, ip_address: str | None = None
) -> None:
    """A hardware token for the person (no private phone needed); the seed is never recorded."""
    twofactor.enrol_hardware_token(user, seed, serial, code)
    status = twofactor.status(user)
    context = {AuditField.SERIAL: status.serial} if status.serial else None
    privacy.record_event(actor, AuditAction.ENROL_HARDWARE_TOKEN, user, context, ip_address)


def end_sessions(actor: User, user: User, ip_address: str | None = None) -> None:
    """Sign the person out everywhere (and cancel a sign-in waiting for its code); an admin who
    does this to themself keeps the session they are using."""
    keep = actor.session_token if actor.id == user.id else None
    auth_services.end_all_sessions(user.id, except_token=keep)
    twofactor.end_pending_of(user.id)
    privacy.record_event(actor, AuditAction.END_SESSIONS, user, ip_address=ip_address)


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


def add_administrator(
    email: str, given_name: str, family_name: str
) -> tuple[User, auth_services.OneTimePassword | None]:
    """The first administrator of an installation, from the command line (nobody can sign in yet to
    create them): a new person with the admin role and a one-time password, or the admin role for
    an existing active person (a one-time password only if they have none yet). Audited without an
    actor, via the command line. Raises ValidationFailed for bad names or a deactivated person."""
    user = db.session.execute(select(User).where(User.email == people.normalise_email(email))).scalar_one_or_none()
    via = {AuditField.VIA: "cli"}
    if user is None:
        user = people.create_user(people.UserData(given_name, family_name, email, roles=(Role.EMPLOYEE, Role.ADMIN)))
        changes = _changes({}, _person_state(user))
        privacy.record_event(None, AuditAction.CREATE_PERSON, user, {**via, AuditField.CHANGES: changes})
        privacy.record_event(None, AuditAction.GRANT_ROLE, user, {**via, AuditField.ROLE: Role.ADMIN})
        return user, auth_services.issue_temporary_password(user)
    if not user.active:
        raise ValidationFailed({"email": _("This e-mail address belongs to a deactivated person.")})
    if not user.has_role(Role.ADMIN):
        user.role_rows.append(UserRole(role=Role.ADMIN))
        db.session.flush()
        privacy.record_event(None, AuditAction.GRANT_ROLE, user, {**via, AuditField.ROLE: Role.ADMIN})
    return user, (None if user.password_hash else auth_services.issue_temporary_password(user))
