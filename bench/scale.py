"""The load benchmark's data (bench/load.py): the demo town made ready for a Monday morning, then
grown to a town of 500 people and 40 courses with the project's own services and models.

Two steps, each run on a database that holds the demo town (`flask demo seed`):

- `prepare`: the mandatory course (MANDATORY_COURSE) assigned to everyone, one assignment rule per
  top-level department as HR would make it (the people told, the rule audited); everyone has
  read the privacy notice (returning staff, not a first day) and holds the bench password.
- `grow`: extra departments below the top-level ones (two of them in the demo manager's FB3),
  new people with personnel numbers, e-mail addresses and job roles up to `people` in all,
  extra courses cloned from the shipped ones under new slugs (the folders copied, the title
  marked, imported with the course sync) up to `courses` in all, the new people's learning
  history (`lms.demo.learning.seed_learning`: 0–6 courses each, most completed), and the daily
  assignment sync (the new people get the mandatory course).

Passwords: Argon2id at the production cost takes about 0.15 s of CPU per hash, so hashing one
password for each of 500 people would take over a minute. The password is hashed once
(`lms.auth.passwords.hash_password`, at the cost the server runs with, so signing in does not
rehash) and that one hash is stored for every person who has none. Everyone then shares the
same salt — acceptable for a scratch bench database only.

Run by bench/load.py as `python -m bench.scale ...` in the server's environment (DATABASE_URL,
LMS_ENV), so the hash has the server's cost. The functions need an app context; the caller commits.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select, update

from lms.assignments import notices
from lms.assignments import queries as assignment_queries
from lms.assignments import services as assignments
from lms.assignments.models import AssignmentRule
from lms.auth import passwords
from lms.catalog.importer import sync_courses
from lms.catalog.models import Course
from lms.common.vocabulary import AssignmentScope, AuditAction, AuditField, DueKind, Role
from lms.config import PROJECT_ROOT
from lms.demo import data
from lms.demo.learning import seed_learning
from lms.extensions import db
from lms.people.models import Department, JobRole, User, UserRole
from lms.people.services import town_today
from lms.privacy import notice
from lms.privacy import services as privacy

MANDATORY_COURSE = "informationssicherheit-im-alltag"
EXTRA_DEPARTMENTS = 10  # spread over the top-level departments, in turn
EMAIL_PREFIX = "lasttest"  # lasttest0001@musterhausen.example, ...
FIRST_PERSONNEL_NUMBER = 500001
CLONE_TITLE_SUFFIX = "Lasttest"
SHIPPED_COURSES = PROJECT_ROOT / "courses"


@dataclass
class Grown:
    people_added: int
    courses_added: int
    assigned: int


def shared_password_hash(password: str) -> str:
    """One Argon2id hash of `password` at the app's configured cost, for every bench person."""
    return passwords.hash_password(password)


def _top_departments() -> list[Department]:
    statement = select(Department).where(Department.parent_id.is_(None), Department.active.is_(True))
    return list(db.session.execute(statement.order_by(Department.code)).scalars())


def prepare(password_hash: str, mandatory_slug: str = MANDATORY_COURSE, due_days: int = 30) -> int:
    """Everyone holds a password and has read the notice; the mandatory course is assigned to
    every top-level department (with its sub-departments). Idempotent. Answers the number of
    new assignments."""
    db.session.execute(
        update(User)
        .where(User.password_hash.is_(None))
        .values(password_hash=password_hash, must_change_password=False, password_expires_at=None)
    )
    for person in db.session.execute(select(User).where(User.active.is_(True))).scalars():
        if not notice.has_read_current(person):
            notice.acknowledge(person)
    course = db.session.execute(select(Course).where(Course.slug == mandatory_slug)).scalar_one()
    covered = set(
        db.session.execute(
            select(AssignmentRule.department_id).where(
                AssignmentRule.course_id == course.id, AssignmentRule.active.is_(True)
            )
        ).scalars()
    )
    assigned = 0
    for department in _top_departments():
        if department.id in covered:
            continue
        rule_data = assignments.RuleData(
            course_id=course.id,
            scope=AssignmentScope.DEPARTMENT,
            department_id=department.id,
            due_kind=DueKind.WITHIN_DAYS,
            due_days=due_days,
            mandatory=True,
            reason="Pflichtschulung für alle Beschäftigten",
        )
        rule, opened = assignments.create_rule(None, rule_data, town_today())
        notices.tell_assigned(opened)
        privacy.record_event(
            None,
            AuditAction.ASSIGN_COURSE,
            None,
            {AuditField.VIA: "cli", **assignment_queries.audit_context(rule, people=len(opened))},
        )
        assigned += len(opened)
    db.session.flush()
    return assigned


def _extra_departments() -> list[Department]:
    tops = _top_departments()
    existing = {d.code: d for d in db.session.execute(select(Department)).scalars()}
    departments = []
    for number in range(1, EXTRA_DEPARTMENTS + 1):
        code = f"LT{number}"
        if code not in existing:
            existing[code] = Department(
                code=code, name=f"Lasttest-Abteilung {number}", parent=tops[(number - 1) % len(tops)]
            )
            db.session.add(existing[code])
        departments.append(existing[code])
    db.session.flush()
    return departments


def _add_people(count: int, password_hash: str, rng: random.Random) -> list[User]:
    departments = _extra_departments()
    job_roles = list(
        db.session.execute(select(JobRole).where(JobRole.active.is_(True)).order_by(JobRole.code)).scalars()
    )
    already = db.session.scalar(select(func.count(User.id)).where(User.email.like(f"{EMAIL_PREFIX}%"))) or 0
    people = []
    for index in range(already + 1, already + count + 1):
        person = User(
            email=f"{EMAIL_PREFIX}{index:04d}@{data.DOMAIN}",
            given_name=rng.choice(data.GIVEN_NAMES),
            family_name=rng.choice(data.FAMILY_NAMES),
            personnel_number=str(FIRST_PERSONNEL_NUMBER + index - 1),
            department=departments[index % len(departments)],
            job_role=job_roles[index % len(job_roles)] if job_roles else None,
            password_hash=password_hash,
            must_change_password=False,
            role_rows=[UserRole(role=Role.EMPLOYEE)],
        )
        notice.acknowledge(person)
        db.session.add(person)
        people.append(person)
    db.session.flush()
    return people


def clone_course_folders(
    count: int, target: Path, source: Path = SHIPPED_COURSES, skip: frozenset[str] | set[str] = frozenset()
) -> list[Path]:
    """`count` copies of the course folders in `source`, taken in turn, as `<slug>-<n>` folders in
    `target` (n = 2, 3, ...), their title marked "(Lasttest n)"; slugs in `skip` are left out."""
    sources = [folder for folder in sorted(source.iterdir()) if folder.is_dir() and not folder.name.startswith(".")]
    folders: list[Path] = []
    round_number = 2
    while len(folders) < count:
        for folder in sources:
            slug = f"{folder.name}-{round_number}"
            if len(folders) == count:
                break
            if slug in skip:
                continue
            clone = target / slug
            if clone.exists():
                shutil.rmtree(clone)
            shutil.copytree(folder, clone)
            _mark_title(clone / "course.md", f"{CLONE_TITLE_SUFFIX} {round_number}")
            folders.append(clone)
        round_number += 1
    return folders


def _mark_title(course_file: Path, mark: str) -> None:
    text = course_file.read_text(encoding="utf-8")
    match = re.search(r"^title:\s*(.+)$", text, flags=re.MULTILINE)
    if match is None:
        raise ValueError(f"{course_file}:1: no title line in the front matter")
    old = match.group(1).strip()
    if old[:1] in "\"'" and old[-1:] == old[:1]:
        old = old[1:-1]
    new = json.dumps(f"{old} ({mark})", ensure_ascii=False)  # a JSON string is a YAML string
    course_file.write_text(text[: match.start(1)] + new + text[match.end(1) :], encoding="utf-8")


def _add_courses(count: int, clones_dir: Path) -> int:
    existing = set(db.session.execute(select(Course.slug)).scalars())
    folders = clone_course_folders(count, clones_dir, skip=existing)
    result = sync_courses(folders)
    if result.failed:
        problems = "\n".join(str(problem) for problem in result.sorted_problems())
        raise RuntimeError(f"the cloned courses did not import:\n{problems}")
    return len(folders)


def grow(people: int, courses: int, password_hash: str, clones_dir: Path, rng_seed: int = 15) -> Grown:
    """Grow the town to `people` active people and `courses` published courses (what is there
    already counts); the new people get a learning history and their assignments."""
    rng = random.Random(rng_seed)
    have_people = db.session.scalar(select(func.count(User.id)).where(User.active.is_(True))) or 0
    have_courses = db.session.scalar(select(func.count(Course.id)).where(Course.archived.is_(False))) or 0
    added_courses = _add_courses(courses - have_courses, clones_dir) if courses > have_courses else 0
    new_people = _add_people(people - have_people, password_hash, rng) if people > have_people else []
    if new_people:
        employee = db.session.execute(select(User).where(User.email == f"employee@{data.DOMAIN}")).scalar_one()
        seed_learning(employee, new_people, rng)
    synced = assignments.sync(town_today())
    notices.tell_assigned(synced.assigned + synced.recertifications)
    db.session.flush()
    return Grown(len(new_people), added_courses, len(synced.assigned))


def main(arguments: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__.split("\n\n")[0])
    parser.add_argument("--password", required=True, help="the password every bench person signs in with")
    parser.add_argument("--mandatory", default=MANDATORY_COURSE, help="the slug of the course assigned to everyone")
    parser.add_argument("--people", type=int, default=0, help="grow to this many active people (0: prepare only)")
    parser.add_argument("--courses", type=int, default=0, help="grow to this many published courses")
    parser.add_argument("--clones-dir", type=Path, help="where the cloned course folders are written (with --courses)")
    options = parser.parse_args(arguments)
    if options.courses and options.clones_dir is None:
        parser.error("--courses needs --clones-dir")

    from lms import create_app

    app = create_app()
    with app.app_context():
        password_hash = shared_password_hash(options.password)
        assigned = prepare(password_hash, options.mandatory)
        print(f"prepared: {assigned} mandatory assignments")
        if options.people or options.courses:
            grown = grow(options.people, options.courses, password_hash, options.clones_dir or Path("."))
            print(f"grown: {grown.people_added} people, {grown.courses_added} courses, {grown.assigned} assigned")
        db.session.commit()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
