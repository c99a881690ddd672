"""Where mandatory trainings stand: a manager's overview of their people and HR's compliance report.

Both look at each person's *current* mandatory assignment of a course: the newest one that was not
withdrawn. (At most one assignment per person and course is open, and it is always the newest, so
a recertification replaces the completion before it, and a person is counted once per course.)

- `team_overview`: the people of the departments a manager heads, in rows sorted by name (never by
  how they are doing), with the status of each mandatory course. Nothing else: no levels, no
  scores; the view adds the link to a profile only where the preset allows it.
- `course_report`: per mandatory course and department, how many people are assigned, have
  completed, are open, overdue or exempted, and the completion rate. Aggregates only, counted in
  SQL. Every figure goes through lms.common.disclosure: a department with fewer than
  PRIVACY_MIN_GROUP_SIZE assigned people shows no figures, and further rows or totals are withheld
  so that no subtraction over what HR can see — each department's row, and the total for every
  department filter (a department with its sub-departments) — gives a smaller group.

Read-only: nothing here writes; the callers record who looked.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Select, exists, func, select
from sqlalchemy.orm import joinedload, lazyload

from lms.assignments.models import Assignment
from lms.assignments.services import status_expression, status_of
from lms.catalog.models import Course
from lms.common import disclosure
from lms.common.disclosure import min_group_size
from lms.common.vocabulary import AssignmentStatus
from lms.extensions import db
from lms.people.models import Department, User
from lms.people.services import department_tree, departments_above, descendant_ids

# What a manager may filter by; "open" covers those in progress too (progress is not shown).
TEAM_STATUSES = (
    AssignmentStatus.OPEN,
    AssignmentStatus.OVERDUE,
    AssignmentStatus.COMPLETED,
    AssignmentStatus.EXEMPTED,
)


def current_mandatory() -> Select:
    """Ids of the current mandatory assignments: per person and course the newest not withdrawn."""
    return (
        select(func.max(Assignment.id))
        .where(Assignment.mandatory.is_(True), Assignment.withdrawn_at.is_(None))
        .group_by(Assignment.user_id, Assignment.course_id)
    )


# --- a manager's team ----------------------------------------------------------------------------


@dataclass(frozen=True)
class TeamFilter:
    department_id: int | None = None  # one of the manager's departments, with its sub-departments
    status: AssignmentStatus | None = None  # only people with a mandatory course in this status

    def as_context(self) -> dict[str, int | str]:
        """The filter as the FILTER field of the audit entry."""
        values: dict[str, int | str | None] = {"department_id": self.department_id, "status": self.status}
        return {key: value for key, value in values.items() if value}


@dataclass(frozen=True)
class TrainingStatus:
    """One person's current mandatory assignment of one course, and where it stands."""

    assignment: Assignment
    status: AssignmentStatus

    @property
    def due_on(self) -> date:
        return self.assignment.due_on


@dataclass
class TeamOverview:
    page: Pagination  # the people of this page, sorted by name
    courses: list[Course]  # the mandatory courses of this page's people, by title
    trainings: dict[int, dict[int, TrainingStatus]]  # person id → course id → status

    @property
    def people(self) -> list[User]:
        return list(self.page.items)


def team_people(department_ids: Iterable[int], criteria: TeamFilter, today: date) -> Select:
    """The active people of these departments, by name; with a status, only those having a
    mandatory course in it."""
    ids = set(department_ids)
    if criteria.department_id is not None:
        ids &= descendant_ids([criteria.department_id])
    query = (
        select(User)
        .options(joinedload(User.department), lazyload(User.role_rows))
        .where(User.active.is_(True), User.department_id.in_(ids or {-1}))
    )
    if criteria.status is not None:
        query = query.where(
            exists().where(
                Assignment.user_id == User.id,
                Assignment.id.in_(current_mandatory()),
                status_expression(today) == criteria.status.value,
            )
        )
    return query.order_by(User.family_name, User.given_name, User.id)


def team_overview(
    department_ids: Iterable[int], criteria: TeamFilter, today: date, page: int, per_page: int
) -> TeamOverview:
    """One page of people with their mandatory courses: a fixed number of queries."""
    people_page = db.paginate(
        team_people(department_ids, criteria, today), page=page, per_page=per_page, error_out=False
    )
    ids = [person.id for person in people_page.items]
    assignments = db.session.execute(
        select(Assignment)
        .options(joinedload(Assignment.course))
        .where(Assignment.user_id.in_(ids or [-1]), Assignment.id.in_(current_mandatory()))
    ).scalars()
    trainings: dict[int, dict[int, TrainingStatus]] = defaultdict(dict)
    courses: dict[int, Course] = {}
    for assignment in assignments:
        trainings[assignment.user_id][assignment.course_id] = TrainingStatus(assignment, status_of(assignment, today))
        courses[assignment.course_id] = assignment.course
    return TeamOverview(
        page=people_page,
        courses=sorted(courses.values(), key=lambda course: (course.title.casefold(), course.id)),
        trainings=trainings,
    )


# --- HR's report -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportFilter:
    course_id: int | None = None
    department_id: int | None = None  # with its sub-departments

    def as_context(self) -> dict[str, int]:
        values = {"course_id": self.course_id, "department_id": self.department_id}
        return {key: value for key, value in values.items() if value}

    def describe(self, course_slug: str | None, department_code: str | None) -> str:
        """For the header of an export, as the matrix export writes its filter."""
        parts = []
        if self.course_id:
            parts.append(f"course={course_slug or self.course_id}")
        if self.department_id:
            parts.append(f"department={department_code or self.department_id}")
        return ", ".join(parts) or "none"


@dataclass(frozen=True)
class Figures:
    """How the assigned people of a group stand on one course."""

    assigned: int = 0
    completed: int = 0
    open: int = 0
    overdue: int = 0
    exempted: int = 0

    def __add__(self, other: Figures) -> Figures:
        return Figures(
            self.assigned + other.assigned,
            self.completed + other.completed,
            self.open + other.open,
            self.overdue + other.overdue,
            self.exempted + other.exempted,
        )

    @property
    def percent(self) -> int | None:
        """Completed of those who must complete it (exempted people need not), in whole percent
        rounded down: 100 only when all have. None when nobody must."""
        due = self.assigned - self.exempted
        return self.completed * 100 // due if due > 0 else None


class Hidden(StrEnum):
    """Why a row of the report shows no figures."""

    SMALL = "small"  # fewer than the minimum group size assigned
    COMPLEMENT = "complement"  # hidden too, so that a small one cannot be worked out from the total


@dataclass
class ReportRow:
    department: Department | None  # None: people without a department
    figures: Figures
    hidden: Hidden | None = None

    @property
    def shown(self) -> bool:
        return self.hidden is None


@dataclass
class CourseReport:
    course: Course
    rows: list[ReportRow]  # departments in tree order, then people without a department
    total: Figures
    total_hidden: bool  # the course's whole group is itself smaller than the minimum


@dataclass
class Report:
    courses: list[CourseReport]
    minimum: int
    criteria: ReportFilter = field(default_factory=ReportFilter)

    @property
    def row_count(self) -> int:
        """Rows of an export: each department row and each course's total."""
        return sum(len(block.rows) + 1 for block in self.courses)


def mandatory_courses() -> list[Course]:
    """Courses anyone was ever assigned as mandatory (the report's course filter), by title."""
    query = select(Course).where(Course.id.in_(select(Assignment.course_id).where(Assignment.mandatory.is_(True))))
    return list(db.session.execute(query.order_by(Course.title, Course.id)).scalars())


def _people(criteria: ReportFilter, today: date) -> dict[int, dict[int, tuple[int | None, str]]]:
    """course id → person id → (department id, status), in one statement. Not narrowed by the
    department filter: every filter setting is protected together (see `course_report`)."""
    statement = (
        select(Assignment.course_id, Assignment.user_id, User.department_id, status_expression(today))
        .join(User, User.id == Assignment.user_id)
        .where(User.active.is_(True), Assignment.id.in_(current_mandatory()))
    )
    if criteria.course_id:
        statement = statement.where(Assignment.course_id == criteria.course_id)
    people: dict[int, dict[int, tuple[int | None, str]]] = defaultdict(dict)
    for course_id, user_id, department_id, status in db.session.execute(statement):
        people[course_id][user_id] = (department_id, status)
    return people


def _figures_of(statuses: Iterable[str]) -> Figures:
    by_status: dict[str, int] = defaultdict(int)
    for status in statuses:
        by_status[status] += 1
    return _figures(by_status)


def _figures(by_status: dict[str, int]) -> Figures:
    return Figures(
        assigned=sum(by_status.values()),
        completed=by_status.get(AssignmentStatus.COMPLETED, 0),
        open=by_status.get(AssignmentStatus.OPEN, 0),
        overdue=by_status.get(AssignmentStatus.OVERDUE, 0),
        exempted=by_status.get(AssignmentStatus.EXEMPTED, 0),
    )


def protected_cells(
    people: dict[int, tuple[int | None, str]], subtrees: dict[int | None, set[int]], minimum: int
) -> set[Hashable]:
    """Which cells of one course to withhold: ("row", department id) for the people working in a
    department itself, ("total", department id) for a department filter (None: all departments)."""
    cells = [
        disclosure.Cell(("row", department_id), frozenset(u for u, (d, _) in people.items() if d == department_id))
        for department_id in {department_id for department_id, _ in people.values()}
    ]
    cells += [
        disclosure.Cell(
            ("total", top),
            frozenset(u for u, (d, _) in people.items() if top is None or d in departments),
            keep=top is None,
        )
        for top, departments in subtrees.items()
    ]
    return disclosure.protect(cells, minimum)


def _subtrees(tree: list) -> dict[int | None, set[int]]:
    """Department id → itself and every department below it (None → all), from the loaded tree."""
    parent_of = {node.department.id: node.department.parent_id for node in tree}
    subtrees: dict[int | None, set[int]] = {None: set(parent_of)}
    for department_id in parent_of:
        for above in departments_above(department_id, parent_of):
            subtrees.setdefault(above, set()).add(department_id)
    return subtrees


def course_report(criteria: ReportFilter, today: date, minimum: int | None = None) -> Report:
    """Per mandatory course (by title), per department (in tree order): a fixed number of queries."""
    minimum = min_group_size() if minimum is None else minimum
    people = _people(criteria, today)
    tree = department_tree(include_inactive=True) if people else []
    order: list[int | None] = [node.department.id for node in tree] + [None]
    departments = {node.department.id: node.department for node in tree}
    subtrees = _subtrees(tree)
    in_scope = subtrees.get(criteria.department_id, set()) if criteria.department_id else None
    courses = db.session.execute(
        select(Course).where(Course.id.in_(list(people) or [-1])).order_by(Course.title, Course.id)
    ).scalars()
    blocks = []
    for course in courses:
        members = people[course.id]
        withheld = protected_cells(members, subtrees, minimum)
        rows = []
        for department_id in order:
            if in_scope is not None and department_id not in in_scope:
                continue
            statuses = [status for d, status in members.values() if d == department_id]
            if statuses:
                row = ReportRow(departments.get(department_id) if department_id else None, _figures_of(statuses))
                if row.figures.assigned < minimum:
                    row.hidden = Hidden.SMALL
                elif ("row", department_id) in withheld:
                    row.hidden = Hidden.COMPLEMENT
                rows.append(row)
        if not rows:
            continue
        total = sum((row.figures for row in rows), Figures())
        total_hidden = ("total", criteria.department_id) in withheld or total.assigned < minimum
        blocks.append(CourseReport(course, rows, total, total_hidden=total_hidden))
    return Report(blocks, minimum, criteria)
