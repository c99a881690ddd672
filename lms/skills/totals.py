"""The skill matrix's totals: per competence, how many people have a target and how many reach it.

A reader who sees every row (HR; managers under the `levels` preset) gets the plain totals of the
rows: they tell nothing the rows do not. A manager under `compliance-only` sees totals only, and
can switch the filters (each of their departments, each job role, and both together), so every
setting is one table to them: the totals go through lms.common.disclosure, protected together,
and are counted without the "gaps only" filter, which would count people by the very status the
totals are meant to hide.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select

from lms.common import disclosure
from lms.extensions import db
from lms.frameworks.models import Competence
from lms.people.models import Department, JobRole, User
from lms.people.services import departments_above
from lms.privacy import services as privacy
from lms.skills.matrix import Matrix, MatrixFilter
from lms.skills.profiles import cells_for


@dataclass(frozen=True)
class Total:
    with_target: int
    reached: disclosure.Share  # of those with a target, as it may be shown


def row_totals(matrix: Matrix) -> dict[int, Total]:
    """Totals of the rows a reader sees one by one (nothing to protect beyond the rows themselves)."""
    result = {}
    for competence in matrix.competences:
        cells = [matrix.cells[p.id][competence.id] for p in matrix.all_people]
        with_target = [c for c in cells if c.target is not None]
        reached = sum(1 for c in with_target if c.meets_target)
        state = disclosure.ShareState.EXACT if with_target else disclosure.ShareState.EMPTY
        result[competence.id] = Total(len(with_target), disclosure.Share(reached, len(with_target), state))
    return result


def protected_totals(
    viewer: User,
    criteria: MatrixFilter,
    competences: Sequence[Competence],
    department_ids: Sequence[int],
    minimum: int,
    exact_from: int,
) -> dict[int, Total]:
    """Totals for the chosen filter, protected over every filter the viewer can choose: `department_ids`
    are the department filter's choices. A fixed number of statements."""
    people = list(db.session.execute(privacy.visible_people(viewer)).scalars())
    cells = cells_for(people, list(competences), viewer_id=None)  # verified levels only
    role_ids = [None, *db.session.execute(select(JobRole.id).where(JobRole.active.is_(True))).scalars()]
    below = _people_below(people, department_ids)
    groups = {
        (department_id, role_id): [
            p
            for p in people
            if (department_id is None or p.id in below[department_id]) and role_id in (None, p.job_role_id)
        ]
        for department_id in [None, *department_ids]
        for role_id in role_ids
    }
    chosen = (criteria.department_id, criteria.job_role_id)
    result = {}
    # Competences whose targets fall on the same people give the same cells: protected once
    # (protect is a pure function of the cells, and the costly part of the page).
    protected: dict[tuple, set] = {}
    group_ids = {key: frozenset(p.id for p in members) for key, members in groups.items()}
    for competence in competences:
        having = frozenset(person_id for person_id, row in cells.items() if row[competence.id].target is not None)
        with_target = {key: ids & having for key, ids in group_ids.items()}
        members = with_target.get(chosen, frozenset())
        reached = sum(1 for person_id in members if cells[person_id][competence.id].meets_target)
        cells_shown = [disclosure.Cell(key, ids, keep=key == (None, None)) for key, ids in with_target.items()]
        signature = tuple(with_target.items())
        if signature not in protected:
            protected[signature] = disclosure.protect(cells_shown, minimum)
        withheld = chosen in protected[signature]
        share = disclosure.share(reached, len(members), minimum, exact_from, withheld and len(members) >= minimum)
        result[competence.id] = Total(len(members), share)
    return result


def _people_below(people: list[User], department_ids: Sequence[int]) -> dict[int, set[int]]:
    """Department id → the people in it or below it (from one statement for the tree)."""
    parent_of = dict(db.session.execute(select(Department.id, Department.parent_id)).all())
    wanted = set(department_ids)
    below: dict[int, set[int]] = defaultdict(set)
    for person in people:
        for department_id in departments_above(person.department_id, parent_of):
            if department_id in wanted:
                below[department_id].add(person.id)
    return below
