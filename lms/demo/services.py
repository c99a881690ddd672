"""Builds the demo town. Idempotent by code, e-mail and personnel number; the caller commits."""

from __future__ import annotations

import random
import secrets
import unicodedata
from dataclasses import dataclass

from sqlalchemy import func, select

from lms.assignments.services import town_today
from lms.auth import services as auth_services
from lms.authoring import services as authoring
from lms.common.vocabulary import CourseOwnership, Role
from lms.demo import data
from lms.demo.audit import seed_audit
from lms.demo.change import seed_change
from lms.demo.learning import seed_learning
from lms.demo.skills import seed_skills
from lms.extensions import db
from lms.frameworks.services import default_framework
from lms.gaps.services import take_snapshot
from lms.people.models import Department, JobRole, User, UserRole

EMPLOYEE_COUNT = 80


@dataclass
class DemoLogin:
    role: str
    email: str
    password: str


def database_has_users() -> bool:
    return bool(db.session.scalar(select(func.count(User.id))))


def _ascii(text: str) -> str:
    replaced = text.replace("ä", "ae").replace("ö", "oe").replace("ü", "ue").replace("ß", "ss")
    replaced = replaced.replace("Ä", "Ae").replace("Ö", "Oe").replace("Ü", "Ue")
    return unicodedata.normalize("NFKD", replaced).encode("ascii", "ignore").decode().lower()


def _departments() -> dict[str, Department]:
    existing = {d.code: d for d in db.session.execute(select(Department)).scalars()}
    for code, name, parent in data.DEPARTMENTS:
        if code not in existing:
            existing[code] = Department(code=code, name=name)
            db.session.add(existing[code])
        existing[code].parent = existing[parent] if parent else None
    db.session.flush()
    return existing


def _job_roles() -> dict[str, JobRole]:
    existing = {j.code: j for j in db.session.execute(select(JobRole)).scalars()}
    for code, title, _departments in data.JOB_ROLES:
        if code not in existing:
            existing[code] = JobRole(code=code, title=title)
            db.session.add(existing[code])
    db.session.flush()
    return existing


def _upsert_user(email: str, **fields) -> User:
    user = db.session.execute(select(User).where(User.email == email)).scalar_one_or_none()
    if user is None:
        user = User(email=email, role_rows=[UserRole(role=Role.EMPLOYEE)], **fields)
        db.session.add(user)
    return user


def seed(password: str | None = None, rng_seed: int = 2026) -> list[DemoLogin]:
    """Create the town; return the demo logins with their (new) passwords."""
    rng = random.Random(rng_seed)
    departments = _departments()
    job_roles = _job_roles()

    logins = []
    for number, (key, roles, given, family, department, job_role, heads) in enumerate(data.LOGINS, start=1):
        email = f"{key}@{data.DOMAIN}"
        user = _upsert_user(
            email,
            given_name=given,
            family_name=family,
            personnel_number=f"{900000 + number}",
            department=departments[department],
            job_role=job_roles[job_role] if job_role else None,
            locale="de",
        )
        for role in roles:
            if role not in user.roles:
                user.role_rows.append(UserRole(role=role))
        user.headed_departments = [departments[code] for code in heads]
        user_password = password or secrets.token_urlsafe(12)
        auth_services.set_password(user, user_password)
        logins.append(DemoLogin(key, email, user_password))

    placements = [(code, departments_) for code, _title, departments_ in data.JOB_ROLES]
    used_emails: set[str] = set()
    for index in range(EMPLOYEE_COUNT):
        given, family = rng.choice(data.GIVEN_NAMES), rng.choice(data.FAMILY_NAMES)
        base = f"{_ascii(given)}.{_ascii(family)}"
        email, suffix = f"{base}@{data.DOMAIN}", 2
        while email in used_emails:
            email, suffix = f"{base}{suffix}@{data.DOMAIN}", suffix + 1
        used_emails.add(email)
        job_code, department_codes = placements[index % len(placements)]
        _upsert_user(
            email,
            given_name=given,
            family_name=family,
            personnel_number=f"{100100 + index}",
            department=departments[rng.choice(department_codes)],
            job_role=job_roles[job_code],
        )
    db.session.flush()
    employees = list(
        db.session.execute(select(User).where(User.email.like(f"%@{data.DOMAIN}")).order_by(User.id)).scalars()
    )
    demo_employee = next(u for u in employees if u.email == f"employee@{data.DOMAIN}")
    seed_learning(demo_employee, employees, rng)
    seed_skills(employees, [u for u in employees if u.has_role(Role.MANAGER)], rng)
    if default_framework() is not None:
        take_snapshot()  # this month's figures, so the gap overview's trend starts today
    by_key = {login.role: next(u for u in employees if u.email == login.email) for login in logins}
    seed_audit(by_key, employees)
    _name_course_owners(by_key["trainer"])
    seed_change(by_key, town_today(), rng)
    return logins


def _name_course_owners(trainer: User) -> None:
    """The demo trainer owns some shipped courses, so the course editor and the trainer page have
    something to show (imported courses have no owner until an admin names one)."""
    for slug in data.TRAINER_COURSES:
        try:
            space = authoring.workspace(slug)
        except authoring.FilesUnavailable:
            continue
        if space is not None:
            authoring.set_owner(space, trainer, CourseOwnership.OWNER, actor=None)
