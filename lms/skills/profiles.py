"""Targets, current levels and gaps per person: what the profile, the matrix and the gap overview show.

A person's targets are their job role's target profile plus their individual targets; where both
name the same competence the higher level counts, and the shorter "show again every N months".
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from lms.db_types import as_utc, utcnow
from lms.extensions import db
from lms.people.models import User
from lms.skills.evidence import Evidence, current_level, evidence_for, latest_self_level
from lms.skills.frameworks import default_framework
from lms.skills.models import Competence, CompetenceArea, Framework, JobRoleTarget, PersonalTarget


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
    by_role: dict[int, list[JobRoleTarget]] = defaultdict(list)
    if job_roles:
        for row in db.session.execute(select(JobRoleTarget).where(JobRoleTarget.job_role_id.in_(job_roles))).scalars():
            by_role[row.job_role_id].append(row)
    for user in users:
        for row in by_role.get(user.job_role_id, []):
            result[user.id][row.competence_id] = Target(row.level, row.recert_months)
    ids = [u.id for u in users]
    if ids:
        for row in db.session.execute(select(PersonalTarget).where(PersonalTarget.user_id.in_(ids))).scalars():
            result[row.user_id][row.competence_id] = _merge(
                result[row.user_id].get(row.competence_id), Target(row.level, row.recert_months, personal=True)
            )
    return result


@dataclass
class Cell:
    """One person and one competence: current (verified) level, target, self-assessment."""

    current: int
    target: Target | None
    self_level: int | None
    evidence: list[Evidence] = field(default_factory=list)

    @property
    def gap(self) -> int:
        return max(0, self.target.level - self.current) if self.target else 0

    @property
    def meets_target(self) -> bool | None:
        return None if self.target is None else self.current >= self.target.level


def cells_for(users: list[User], competences: list[Competence]) -> dict[int, dict[int, Cell]]:
    """user id → competence id → cell, in a fixed number of statements."""
    now = utcnow()
    competence_ids = [c.id for c in competences]
    evidence = evidence_for([u.id for u in users], competence_ids)
    targets = targets_for(users)
    cells: dict[int, dict[int, Cell]] = {}
    no_evidence: dict = {}
    for user in users:
        row = cells[user.id] = {}
        own_evidence = evidence.get(user.id, no_evidence)
        own_targets = targets.get(user.id, no_evidence)
        for competence_id in competence_ids:
            items = own_evidence.get(competence_id, [])
            target = own_targets.get(competence_id)
            row[competence_id] = Cell(
                current=current_level(items, now, target.recert_months if target else None) if items else 0,
                target=target,
                self_level=latest_self_level(items) if items else None,
                evidence=items,
            )
    return cells


def framework_outline(framework: Framework | None = None, area_code: str | None = None) -> list[CompetenceArea]:
    """The framework's areas with their (not retired) competences, in order."""
    framework = framework or default_framework()
    if framework is None:
        return []
    query = (
        select(CompetenceArea)
        .where(CompetenceArea.framework_id == framework.id)
        .options(selectinload(CompetenceArea.competences))
        .order_by(CompetenceArea.position)
    )
    if area_code:
        query = query.where(CompetenceArea.code == area_code)
    areas = list(db.session.execute(query).scalars())
    for area in areas:
        area.active_competences = [c for c in area.competences if not c.retired]
    return areas


@dataclass
class ProfileRow:
    competence: Competence
    cell: Cell
    courses: list = field(default_factory=list)  # courses that close the gap


@dataclass
class Profile:
    user: User
    areas: list[tuple[CompetenceArea, list[ProfileRow]]]
    history: list[Evidence]

    @property
    def competences(self) -> dict[int, Competence]:
        return {row.competence.id: row.competence for _area, rows in self.areas for row in rows}

    @property
    def gaps(self) -> list[ProfileRow]:
        return [row for _area, rows in self.areas for row in rows if row.cell.gap]


def profile_of(user: User) -> Profile:
    """A person's competence profile: per area current/target/self, gaps with courses, history."""
    from lms.catalog.models import Course, CourseCompetence

    areas = framework_outline()
    competences = [c for area in areas for c in area.active_competences]
    cells = cells_for([user], competences)[user.id]
    gap_targets = {cid: cell.target.level for cid, cell in cells.items() if cell.gap}
    closing: dict[int, list] = defaultdict(list)
    if gap_targets:
        for row in db.session.execute(
            select(CourseCompetence.competence_id, CourseCompetence.level, Course)
            .join(Course, Course.id == CourseCompetence.course_id)
            .where(CourseCompetence.competence_id.in_(gap_targets), Course.archived.is_(False))
            .order_by(Course.title)
        ):
            competence_id, level, course = row
            if level >= gap_targets[competence_id]:
                closing[competence_id].append(course)
    rows = [
        (area, [ProfileRow(c, cells[c.id], closing.get(c.id, [])) for c in area.active_competences]) for area in areas
    ]
    history = sorted(
        (item for cell in cells.values() for item in cell.evidence), key=lambda item: as_utc(item.date), reverse=True
    )
    return Profile(user, rows, history)
