"""People, departments and job roles: the domain rules. Functions flush; the caller commits."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from lms.common.dates import utcnow
from lms.common.errors import ValidationFailed
from lms.common.text import has_control_characters
from lms.common.vocabulary import Role
from lms.extensions import db
from lms.i18n import _
from lms.people.models import Department, JobRole, User, UserRole


def normalise_email(email: str) -> str:
    return email.strip().lower()


# --- users ----------------------------------------------------------------------------------


@dataclass
class UserData:
    given_name: str
    family_name: str
    email: str
    personnel_number: str | None = None
    department_id: int | None = None
    job_role_id: int | None = None
    locale: str | None = None
    roles: Iterable[str] = (Role.EMPLOYEE,)
    headed_department_ids: Iterable[int] = ()


def users_query(search: str | None = None, status: str = "active", department_id: int | None = None) -> Select:
    """Users for the admin list, with what the list shows loaded up front (no N+1)."""
    query = select(User).options(joinedload(User.department), joinedload(User.job_role))
    if status == "active":
        query = query.where(User.active.is_(True))
    elif status == "inactive":
        query = query.where(User.active.is_(False))
    if department_id:
        query = query.where(User.department_id == department_id)
    if search:
        pattern = f"%{search.strip().lower()}%"
        query = query.where(
            or_(
                func.lower(User.given_name + " " + User.family_name).like(pattern),
                func.lower(User.family_name).like(pattern),
                func.lower(User.email).like(pattern),
                func.lower(func.coalesce(User.personnel_number, "")).like(pattern),
            )
        )
    return query.order_by(User.family_name, User.given_name, User.id)


def _check_user_unique(email: str, personnel_number: str | None, user_id: int | None) -> dict[str, str]:
    errors = {}
    same_email = select(User.id).where(User.email == email)
    if db.session.execute(same_email.where(User.id != (user_id or -1))).first():
        errors["email"] = _("Another person already uses this e-mail address.")
    if personnel_number:
        same_number = select(User.id).where(User.personnel_number == personnel_number)
        if db.session.execute(same_number.where(User.id != (user_id or -1))).first():
            errors["personnel_number"] = _("Another person already has this personnel number.")
    return errors


def _check_user_text(email: str, data: UserData) -> dict[str, str]:
    """Values that make no sense and could turn into spreadsheet formulas or break an export.

    An address must start with a letter or a digit (an allowlist: `=x@…` or `@…` are refused, though
    the e-mail validator accepts `=x@…`). Names are free text apart from control characters (tab,
    line break), which no name holds; every export neutralises formulas anyway (lms.common.exports).
    """
    errors = {}
    if email and not email[0].isalnum():
        errors["email"] = _("An e-mail address must start with a letter or a digit.")
    for field in ("given_name", "family_name"):
        if has_control_characters(getattr(data, field).strip()):
            errors[field] = _("A name cannot contain tabs, line breaks or other control characters.")
    return errors


def _apply_user_data(user: User, data: UserData) -> None:
    email = normalise_email(data.email)
    personnel_number = (data.personnel_number or "").strip() or None
    roles = set(data.roles) | {Role.EMPLOYEE}
    errors = _check_user_unique(email, personnel_number, user.id) | _check_user_text(email, data)
    unknown = roles - set(Role)
    if unknown:
        errors["roles"] = _("Unknown role: %(roles)s", roles=", ".join(sorted(unknown)))
    headed = list(
        db.session.execute(select(Department).where(Department.id.in_(list(data.headed_department_ids)))).scalars()
    )
    if headed and Role.MANAGER not in roles:
        errors["headed_departments"] = _("Only a person with the manager role can head departments.")
    if errors:
        raise ValidationFailed(errors)
    user.given_name = data.given_name.strip()
    user.family_name = data.family_name.strip()
    user.email = email
    user.personnel_number = personnel_number
    user.department_id = data.department_id or None
    user.job_role_id = data.job_role_id or None
    user.locale = data.locale or None
    user.role_rows = [row for row in user.role_rows if row.role in roles] + [
        UserRole(role=role) for role in sorted(roles - user.roles)
    ]
    user.headed_departments = headed


def create_user(data: UserData) -> User:
    user = User(given_name="", family_name="", email="", role_rows=[])
    _apply_user_data(user, data)
    db.session.add(user)
    db.session.flush()
    return user


def update_user(user: User, data: UserData) -> User:
    _apply_user_data(user, data)
    db.session.flush()
    return user


def set_user_active(user: User, active: bool) -> None:
    """Deactivation keeps the person's records (lms.admin also ends their sessions) until the
    retention period of people who left has passed since `left_on` (lms/people/retention.py)."""
    if active:
        user.left_on = None
    elif user.active or user.left_on is None:  # deactivating again keeps the first day
        user.left_on = town_today()
    user.active = active
    db.session.flush()


def town_today() -> date:
    """Today in the town's time zone."""
    return utcnow().astimezone(ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])).date()


# --- departments ----------------------------------------------------------------------------


@dataclass
class DepartmentNode:
    department: Department
    depth: int
    headcount: int = 0


def department_tree(include_inactive: bool = True, with_headcount: bool = False) -> list[DepartmentNode]:
    """All departments in tree order (parents before children), in two queries at most."""
    query = select(Department).order_by(Department.code)
    if not include_inactive:
        query = query.where(Department.active.is_(True))
    departments = list(db.session.execute(query).scalars())
    counts: dict[int | None, int] = {}
    if with_headcount:
        rows = db.session.execute(
            select(User.department_id, func.count(User.id)).where(User.active.is_(True)).group_by(User.department_id)
        )
        counts = {department_id: count for department_id, count in rows}
    by_parent: dict[int | None, list[Department]] = {}
    known = {d.id for d in departments}
    for department in departments:
        parent = department.parent_id if department.parent_id in known else None
        by_parent.setdefault(parent, []).append(department)

    def walk(parent_id: int | None, depth: int) -> Iterator[DepartmentNode]:
        for department in by_parent.get(parent_id, []):
            yield DepartmentNode(department, depth, counts.get(department.id, 0))
            yield from walk(department.id, depth + 1)

    return list(walk(None, 0))


def departments_above(department_id: int | None, parent_of: dict[int, int | None]) -> Iterator[int]:
    """A department, its parent, its parent's parent…; stops at the top (or where the chain runs in a circle)."""
    seen: set[int] = set()
    while department_id is not None and department_id not in seen:
        seen.add(department_id)
        yield department_id
        department_id = parent_of.get(department_id)


def descendant_ids(root_ids: Iterable[int]) -> set[int]:
    """The given departments and every department below them."""
    parents = dict(db.session.execute(select(Department.id, Department.parent_id)).all())
    children: dict[int | None, list[int]] = {}
    for child, parent in parents.items():
        children.setdefault(parent, []).append(child)
    result: set[int] = set()
    stack = [i for i in root_ids if i in parents]
    while stack:
        current = stack.pop()
        if current not in result:
            result.add(current)
            stack.extend(children.get(current, []))
    return result


def _one_line_errors(**fields: str) -> dict[str, str]:
    """Codes, names and titles hold no tabs, line breaks, control or text-direction characters, as
    people's names: stored, they would be invisible in lists and could garble exports and logs."""
    messages = {
        "code": _("A code cannot contain tabs, line breaks or other control characters."),
        "name": _("A name cannot contain tabs, line breaks or other control characters."),
        "title": _("A title cannot contain tabs, line breaks or other control characters."),
    }
    return {field: messages[field] for field, value in fields.items() if has_control_characters(value)}


def _code_taken(model: type[Department] | type[JobRole], code: str, own_id: int | None) -> bool:
    """Another department (or job role) has this code, in any case."""
    clash = select(model.id).where(func.lower(model.code) == code.lower())
    if own_id:
        clash = clash.where(model.id != own_id)
    return db.session.execute(clash).first() is not None


def _check_department(department: Department, code: str, name: str, parent_id: int | None) -> None:
    errors = _one_line_errors(code=code, name=name)
    # Only a clean code is looked up: PostgreSQL refuses a NUL even in a query.
    if "code" not in errors and _code_taken(Department, code, department.id):
        errors["code"] = _("Another department already has this code.")
    if parent_id and department.id and parent_id in descendant_ids([department.id]):
        errors["parent_id"] = _("A department cannot be placed below itself or one of its sub-departments.")
    if parent_id and db.session.get(Department, parent_id) is None:
        errors["parent_id"] = _("The chosen parent department does not exist.")
    if errors:
        raise ValidationFailed(errors)


def save_department(department: Department | None, code: str, name: str, parent_id: int | None) -> Department:
    department = department or Department()
    code, name = code.strip(), name.strip()
    _check_department(department, code, name, parent_id or None)
    department.code, department.name, department.parent_id = code, name, parent_id or None
    db.session.add(department)
    db.session.flush()
    return department


def set_department_active(department: Department, active: bool) -> None:
    if not active:
        members = db.session.scalar(
            select(func.count(User.id)).where(User.department_id == department.id, User.active.is_(True))
        )
        open_children = db.session.scalar(
            select(func.count(Department.id)).where(Department.parent_id == department.id, Department.active.is_(True))
        )
        if members or open_children:
            raise ValidationFailed(
                {
                    "active": _(
                        "This department still has %(people)d active people and %(children)d active sub-departments. "
                        "Move them first.",
                        people=members,
                        children=open_children,
                    )
                }
            )
    department.active = active
    db.session.flush()


# --- job roles ------------------------------------------------------------------------------


def save_job_role(job_role: JobRole | None, code: str, title: str) -> JobRole:
    job_role = job_role or JobRole()
    code, title = code.strip(), title.strip()
    errors = _one_line_errors(code=code, title=title)
    if "code" not in errors and _code_taken(JobRole, code, job_role.id):  # a NUL never reaches PostgreSQL
        errors["code"] = _("Another job role already has this code.")
    if errors:
        raise ValidationFailed(errors)
    job_role.code, job_role.title = code, title
    db.session.add(job_role)
    db.session.flush()
    return job_role


def set_job_role_active(job_role: JobRole, active: bool) -> None:
    job_role.active = active
    db.session.flush()


def job_roles_with_headcount(search: str | None = None) -> list[tuple[JobRole, int]]:
    counts = (
        select(User.job_role_id, func.count(User.id).label("n"))
        .where(User.active.is_(True))
        .group_by(User.job_role_id)
        .subquery()
    )
    query = (
        select(JobRole, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.job_role_id == JobRole.id)
        .order_by(JobRole.title)
    )
    if search:
        pattern = f"%{search.strip().lower()}%"
        query = query.where(or_(func.lower(JobRole.title).like(pattern), func.lower(JobRole.code).like(pattern)))
    return [(job_role, count) for job_role, count in db.session.execute(query).all()]


def matching_departments(nodes: list[DepartmentNode], search: str | None) -> list[DepartmentNode]:
    """Tree nodes whose code or name contains the search text (all of them without one)."""
    if not search:
        return nodes
    needle = search.strip().lower()
    return [n for n in nodes if needle in n.department.code.lower() or needle in n.department.name.lower()]


# --- who sees whom --------------------------------------------------------------------------


def team_query(manager: User) -> Select:
    """Active people in the departments a manager heads, sub-departments included."""
    department_ids = descendant_ids(d.id for d in manager.headed_departments)
    return (
        select(User)
        .options(joinedload(User.department), joinedload(User.job_role))
        .where(User.department_id.in_(department_ids), User.active.is_(True))
        .order_by(User.family_name, User.given_name, User.id)
    )


def people_for_export() -> Iterator[User]:
    query = (
        select(User)
        .options(joinedload(User.department), joinedload(User.job_role), selectinload(User.role_rows))
        .order_by(User.personnel_number, User.family_name, User.id)
    )
    yield from db.session.execute(query).scalars()


def counts() -> dict[str, int | None]:
    return {
        "users_active": db.session.scalar(select(func.count(User.id)).where(User.active.is_(True))),
        "users_inactive": db.session.scalar(select(func.count(User.id)).where(User.active.is_(False))),
        "departments": db.session.scalar(select(func.count(Department.id)).where(Department.active.is_(True))),
        "job_roles": db.session.scalar(select(func.count(JobRole.id)).where(JobRole.active.is_(True))),
    }
