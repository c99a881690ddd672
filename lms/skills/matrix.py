"""The skill matrix: people × competences, current against target, for HR and managers.

Filters narrow it down; paging keeps 500 people usable. The export uses the same rows, so the
file and the page show the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import joinedload

from lms.extensions import db
from lms.frameworks.models import Competence, CompetenceArea
from lms.frameworks.services import framework_outline
from lms.people.models import User
from lms.privacy import services as privacy
from lms.skills.profiles import Cell, cells_for


@dataclass
class MatrixFilter:
    department_id: int | None = None
    job_role_id: int | None = None
    area_code: str | None = None
    gaps_only: bool = False

    def as_context(self) -> dict[str, int | str | bool]:
        """The filter as structured audit fields (ids, as chosen)."""
        values = {
            "department_id": self.department_id,
            "job_role_id": self.job_role_id,
            "area": self.area_code,
            "gaps_only": self.gaps_only,
        }
        return {key: value for key, value in values.items() if value}

    def describe(self, departments: dict[int, str], job_roles: dict[int, str]) -> str:
        parts = []
        if self.department_id:
            parts.append(f"department={departments.get(self.department_id, self.department_id)}")
        if self.job_role_id:
            parts.append(f"job_role={job_roles.get(self.job_role_id, self.job_role_id)}")
        if self.area_code:
            parts.append(f"area={self.area_code}")
        if self.gaps_only:
            parts.append("gaps_only")
        return ", ".join(parts) or "none"


@dataclass
class Matrix:
    areas: list[CompetenceArea]
    competences: list[Competence]
    people: list[User]  # this page's people
    cells: dict[int, dict[int, Cell]]
    total: int
    page: int = 1
    pages: int = 1
    all_people: list[User] = field(default_factory=list)

    def has_gap(self, user: User) -> bool:
        return any(self.cells[user.id][c.id].gap for c in self.competences)


def build_matrix(viewer: User | None, criteria: MatrixFilter, page: int | None = 1, page_size: int = 25) -> Matrix:
    """The matrix as this viewer may see it; page=None gives everyone (for exports)."""
    areas = framework_outline(area_code=criteria.area_code)
    competences = [c for area in areas for c in area.active_competences]
    people = list(
        db.session.execute(
            privacy.visible_people(viewer, criteria.department_id, criteria.job_role_id).options(
                joinedload(User.department), joinedload(User.job_role)
            )
        ).scalars()
    )
    cells = cells_for(people, competences, viewer_id=viewer.id if viewer else None)
    matrix = Matrix(areas, competences, people, cells, total=len(people), all_people=people)
    if criteria.gaps_only:
        people = [person for person in people if matrix.has_gap(person)]
        matrix.total, matrix.all_people = len(people), people
    if page is None:
        matrix.people = people
        return matrix
    matrix.pages = max(1, -(-len(people) // page_size))
    matrix.page = min(max(1, page), matrix.pages)
    start = (matrix.page - 1) * page_size
    matrix.people = people[start : start + page_size]
    return matrix
