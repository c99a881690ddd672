"""Where mandatory trainings stand: a manager's overview of their people and HR's compliance report.

Both look at each person's *current* mandatory assignment of a course: the newest one that was not
withdrawn. (At most one assignment per person and course is open, and it is always the newest, so
a recertification replaces the completion before it, and a person is counted once per course.)

- `team_overview`: the people of the departments a manager heads, in rows sorted by name (never by
  how they are doing), with the status of each mandatory course. Nothing else: no levels, no
  scores; the view adds the link to a profile only where the preset allows it.
- `course_report`: per mandatory course and department, how many people are assigned, have
  completed, are open, overdue or exempted, and the completion rate. Aggregates only, counted in
  SQL. A department with fewer than PRIVACY_MIN_GROUP_SIZE assigned people shows no figures; and
  when the hidden departments of a course add up to fewer than that, the next smallest are hidden
  too, so that no hidden figure can be worked out from the course's total.

Read-only: nothing here writes; the callers record who looked.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from flask import current_app
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Select, exists, func, select
from sqlalchemy.orm import joinedload, lazyload

from lms.assignments.models import Assignment
from lms.assignments.services import status_expression, status_of
from lms.catalog.models import Course
from lms.common.vocabulary import AssignmentStatus
from lms.extensions import db
from lms.people.models import Department, User
from lms.people.services import department_tree, descendant_ids

# What a manager may filter by; "open" covers those in progress too (progress is not shown).
TEAM_STATUSES = (
    AssignmentStatus.OPEN,
    AssignmentStatus.OVERDUE,
    AssignmentStatus.COMPLETED,
    AssignmentStatus.EXEMPTED,
)


def min_group_size() -> int:
    return int(current_app.config["PRIVACY_MIN_GROUP_SIZE"])


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


def _counts(criteria: ReportFilter, today: date) -> dict[int, dict[int | None, Figures]]:
    """course id → department id → figures, in one statement (GROUP BY over the status)."""
    per_person = (
        select(Assignment.course_id, User.department_id, status_expression(today).label("status"))
        .join(User, User.id == Assignment.user_id)
        .where(User.active.is_(True), Assignment.id.in_(current_mandatory()))
    )
    if criteria.course_id:
        per_person = per_person.where(Assignment.course_id == criteria.course_id)
    if criteria.department_id:
        per_person = per_person.where(User.department_id.in_(descendant_ids([criteria.department_id]) or {-1}))
    inner = per_person.subquery()
    # Grouped outside: PostgreSQL would not see the CASE with its parameters as the same expression twice.
    rows = db.session.execute(
        select(inner.c.course_id, inner.c.department_id, inner.c.status, func.count()).group_by(
            inner.c.course_id, inner.c.department_id, inner.c.status
        )
    ).all()
    counts: dict[int, dict[int | None, dict[str, int]]] = defaultdict(lambda: defaultdict(dict))
    for course_id, department_id, status, number in rows:
        counts[course_id][department_id][status] = number
    return {
        course_id: {department_id: _figures(by_status) for department_id, by_status in departments.items()}
        for course_id, departments in counts.items()
    }


def _figures(by_status: dict[str, int]) -> Figures:
    return Figures(
        assigned=sum(by_status.values()),
        completed=by_status.get(AssignmentStatus.COMPLETED, 0),
        open=by_status.get(AssignmentStatus.OPEN, 0),
        overdue=by_status.get(AssignmentStatus.OVERDUE, 0),
        exempted=by_status.get(AssignmentStatus.EXEMPTED, 0),
    )


def suppress(rows: list[ReportRow], minimum: int) -> None:
    """Hide small groups; then, while the hidden ones add up to fewer than `minimum` people, hide
    the smallest shown one as well (the total minus the shown rows would reveal them otherwise)."""
    for row in rows:
        if row.figures.assigned < minimum:
            row.hidden = Hidden.SMALL
    hidden = sum(row.figures.assigned for row in rows if not row.shown)
    candidates = sorted((row for row in rows if row.shown), key=lambda row: row.figures.assigned)
    for row in candidates:
        if hidden == 0 or hidden >= minimum:
            break
        row.hidden = Hidden.COMPLEMENT
        hidden += row.figures.assigned


def course_report(criteria: ReportFilter, today: date, minimum: int | None = None) -> Report:
    """Per mandatory course (by title), per department (in tree order): a fixed number of queries."""
    minimum = min_group_size() if minimum is None else minimum
    counts = _counts(criteria, today)
    courses = db.session.execute(
        select(Course).where(Course.id.in_(list(counts) or [-1])).order_by(Course.title, Course.id)
    ).scalars()
    tree = department_tree(include_inactive=True) if counts else []
    order: list[int | None] = [node.department.id for node in tree] + [None]
    departments = {node.department.id: node.department for node in tree}
    blocks = []
    for course in courses:
        by_department = counts[course.id]
        rows = [
            ReportRow(departments.get(department_id) if department_id else None, by_department[department_id])
            for department_id in order
            if department_id in by_department
        ]
        total = sum((row.figures for row in rows), Figures())
        suppress(rows, minimum)
        blocks.append(CourseReport(course, rows, total, total_hidden=total.assigned < minimum))
    return Report(blocks, minimum, criteria)
