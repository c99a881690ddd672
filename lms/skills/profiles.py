"""Current levels against targets, per person: what the profile, the matrix and the gap overview show."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select

from lms.common.dates import as_utc, utcnow
from lms.extensions import db
from lms.frameworks.models import Competence, CompetenceArea
from lms.frameworks.services import framework_outline
from lms.people.models import User
from lms.skills.evidence import COURSE, Evidence, current_level, evidence_for, latest_self_level
from lms.targets.services import Target, targets_for


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


def cells_for(users: list[User], competences: list[Competence], *, viewer_id: int | None) -> dict[int, dict[int, Cell]]:
    """user id → competence id → cell as `viewer_id` may see it, in a fixed number of statements."""
    now = utcnow()
    competence_ids = [c.id for c in competences]
    evidence = evidence_for([u.id for u in users], competence_ids, viewer_id=viewer_id)
    targets = targets_for(users)
    # Voluntary learning is private: others see the evidence behind a target or a mandatory course.
    others = [u.id for u in users if u.id != viewer_id] if viewer_id is not None else []
    mandatory = mandatory_courses(others)
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
                evidence=items
                if user.id == viewer_id or viewer_id is None
                else _shown_to_others(items, target, mandatory.get(user.id, set())),
            )
    return cells


def mandatory_courses(user_ids: list[int]) -> dict[int, set[int]]:
    """user id → the courses ever assigned to them as mandatory (one statement; none for nobody)."""
    from lms.assignments.models import Assignment

    result: dict[int, set[int]] = defaultdict(set)
    if user_ids:
        for user_id, course_id in db.session.execute(
            select(Assignment.user_id, Assignment.course_id).where(
                Assignment.user_id.in_(user_ids), Assignment.mandatory.is_(True)
            )
        ):
            result[user_id].add(course_id)
    return result


def _shown_to_others(items: list[Evidence], target: Target | None, mandatory: set[int]) -> list[Evidence]:
    """What others may see of a person's evidence for one competence: confirmed levels and shared
    estimates; completions only behind a target of this competence or of a mandatory course."""
    return [item for item in items if item.source != COURSE or target is not None or item.course_id in mandatory]


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


def profile_of(user: User, *, viewer_id: int | None) -> Profile:
    """A person's competence profile as `viewer_id` may see it: per area current/target/self,
    gaps with courses, history."""
    from lms.catalog.models import Course, CourseCompetence

    areas = framework_outline()
    competences = [c for area in areas for c in area.active_competences]
    cells = cells_for([user], competences, viewer_id=viewer_id)[user.id]
    gap_targets = {cid: cell.target.level for cid, cell in cells.items() if cell.target and cell.gap}
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
