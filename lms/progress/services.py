"""The progress report for the council and the staff council (issue 14): one page, also as a PDF.

What it holds, each figure from the domain that owns it and through lms.common.disclosure:

- the strategy's targets with today's figure, a trend summary and the pace (lms.strategy);
- the running initiatives with their go-live and readiness (lms.change.readiness, its figures as
  they are, for the whole target group and for departments of at least LARGE_UNIT people);
- course uptake: per published course, how many active people completed it in the last 12 months
  (a number only from the minimum group size on) and their share of the active staff;
- per large unit, the share of its active people who completed any course in that time;
- course feedback per course, only from the minimum group size of answers on.

Only the whole administration and units of at least LARGE_UNIT active people appear, departments
in tree (code) order and never sorted by a figure: the report compares no small teams and ranks no
department. Every share is given as a quarter band, also where the page elsewhere would show it
exactly: a report that leaves the house says no more than it must. No person is named.

Read-only; a fixed number of statements, plus readiness's own fixed number per running initiative.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from flask import current_app
from sqlalchemy import select

from lms.catalog.models import Course
from lms.catalog.services import published_courses
from lms.change import readiness as change_readiness
from lms.change.models import Initiative, InitiativeStatus
from lms.change.surveys import PulseFigure
from lms.common import disclosure
from lms.common.dates import add_months, utcnow
from lms.common.disclosure import min_group_size
from lms.common.vocabulary import CourseLength
from lms.extensions import db
from lms.learning.models import Completion, CourseFeedback
from lms.people.models import Department, User
from lms.people.services import department_tree, departments_above, town_today
from lms.strategy import services as strategy

# A unit (a department with its sub-departments) appears in the report from this many active
# people on: the staff council's agreement reports on large units only, so that no figure comes
# close to a team a reader knows by name — well above the minimum group size for a single figure.
LARGE_UNIT = 20
UPTAKE_MONTHS = 12  # course uptake counts the completions of the last twelve months
GOOD_RATING = 4  # "helpful": a rating of 4 or 5 out of 5


def banded(share: disclosure.Share) -> disclosure.Share:
    """The share as a quarter band: an exact share becomes its band, anything else stays as it is."""
    return disclosure.Share(share.part, share.whole, disclosure.ShareState.BAND) if share.exact else share


def band_of(part: int, whole: int, minimum: int, withheld: bool = False) -> disclosure.Share:
    """`part` of `whole` as the report shows it: nothing for small groups, else a band."""
    return banded(disclosure.share(part, whole, minimum, exact_from=whole + 1, withheld=withheld))


# --- strategy targets ------------------------------------------------------------------------


@dataclass(frozen=True)
class TargetLine:
    view: strategy.TargetView
    today: disclosure.Share  # banded
    first_month: str | None  # the earliest monthly figure shown, for the trend summary
    first: disclosure.Share | None  # its band


def _targets(today: date) -> tuple[list[TargetLine], int]:
    """The targets of the whole administration and of large units; how many smaller ones were left out."""
    lines, left_out = [], 0
    for view in strategy.overview(today):
        if view.target.department_id is not None and view.figure.people < LARGE_UNIT:
            left_out += 1
            continue
        first = next(
            (
                (month, figure)
                for month, figure in zip(view.trend.months, view.trend.figures, strict=True)
                if figure and figure.shown
            ),
            None,
        )
        lines.append(
            TargetLine(
                view,
                banded(view.figure.view),
                first[0] if first else None,
                banded(first[1].view) if first else None,
            )
        )
    return lines, left_out


# --- initiatives -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ReadinessLine:
    department: Department | None  # None: the whole target group
    completed: disclosure.Share | None  # None: no course linked
    attended: disclosure.Share | None  # None: no session linked
    prepared: disclosure.Share | None  # None: no pulse survey (or nobody of it here)


@dataclass(frozen=True)
class InitiativeLine:
    initiative: Initiative
    survey_minimum: int  # "feel prepared" counts answers, from this many on
    lines: list[ReadinessLine]  # the whole target group first, then large departments in tree order


def _prepared(figure: PulseFigure | None) -> disclosure.Share | None:
    return banded(figure.view) if figure is not None else None


def _banded(share: disclosure.Share | None) -> disclosure.Share | None:
    return banded(share) if share is not None else None


def _initiatives(today: date) -> list[InitiativeLine]:
    """The running initiatives by go-live, with readiness's own protected figures (banded)."""
    running = db.session.execute(
        select(Initiative)
        .where(Initiative.status == InitiativeStatus.RUNNING)
        .order_by(Initiative.go_live, Initiative.id)
    ).scalars()
    result = []
    for initiative in running.all():
        table = change_readiness.readiness(initiative, today, with_trend=False)
        rows = [table.total] if table.total else []
        rows += [row for row in table.rows if row.people >= LARGE_UNIT]
        lines = [
            ReadinessLine(row.department, _banded(row.completed), _banded(row.attended), _prepared(row.prepared))
            for row in rows
        ]
        result.append(InitiativeLine(initiative, table.survey_minimum, lines))
    return result


# --- units and course uptake -----------------------------------------------------------------


@dataclass(frozen=True)
class Unit:
    department: Department | None  # None: the whole administration
    depth: int
    members: frozenset[int]

    @property
    def key(self) -> int:
        return self.department.id if self.department else 0


def large_units(people: dict[int, int | None]) -> list[Unit]:
    """The whole administration, then every department (with its sub-departments) of at least
    LARGE_UNIT of `people` (person id → department id), in tree order: never by a figure."""
    tree = department_tree(include_inactive=True)
    parent_of = {node.department.id: node.department.parent_id for node in tree}
    members: dict[int, set[int]] = defaultdict(set)
    for person_id, department_id in people.items():
        for above in departments_above(department_id, parent_of):
            members[above].add(person_id)
    units = [Unit(None, 0, frozenset(people))]
    units += [
        Unit(node.department, node.depth, frozenset(members[node.department.id]))
        for node in tree
        if len(members[node.department.id]) >= LARGE_UNIT
    ]
    return units


@dataclass(frozen=True)
class CourseUptake:
    course: Course
    people: int  # active people who completed it in the last twelve months
    shown: bool  # may the number be shown (none, or at least the minimum)?
    share: disclosure.Share  # of the active staff, banded


@dataclass(frozen=True)
class UnitUptake:
    unit: Unit
    share: disclosure.Share  # who completed any course, of the unit's active people, banded


def _active_people() -> dict[int, int | None]:
    rows = db.session.execute(select(User.id, User.department_id).where(User.active.is_(True)))
    return {person_id: department_id for person_id, department_id in rows}


def _completers(courses: list[Course], people: dict[int, int | None], since: datetime) -> dict[int, set[int]]:
    """Course id → the active people who completed it since `since` (one statement)."""
    result: dict[int, set[int]] = {course.id: set() for course in courses}
    if not courses:
        return result
    rows = db.session.execute(
        select(Completion.course_id, Completion.user_id)
        .where(Completion.course_id.in_(result), Completion.completed_at >= since)
        .distinct()
    )
    for course_id, user_id in rows:
        if user_id in people:
            result[course_id].add(user_id)
    return result


def _uptake(course: Course, done: set[int], staff: int, minimum: int) -> CourseUptake:
    return CourseUptake(
        course, len(done), disclosure.count_shown(len(done), minimum), band_of(len(done), staff, minimum)
    )


def unit_uptake(units: list[Unit], learners: set[int], minimum: int) -> list[UnitUptake]:
    """Each unit's share of people who completed a course, protected as one table: a unit's figure
    is withheld where the whole minus the units shown would leave a small group."""
    cells = [disclosure.Cell(unit.key, unit.members, keep=unit.department is None) for unit in units]
    withheld = disclosure.protect(cells, minimum)
    return [
        UnitUptake(unit, band_of(len(unit.members & learners), len(unit.members), minimum, unit.key in withheld))
        for unit in units
    ]


# --- course feedback -------------------------------------------------------------------------


@dataclass(frozen=True)
class CourseFeedbackLine:
    course: Course
    answers: int
    shown: bool  # at least the minimum of answers: else nothing but "fewer than N answers"
    helpful: disclosure.Share | None  # rated 4 or 5, banded
    about_right: disclosure.Share | None  # length about right, banded


def _feedback(courses: list[Course], minimum: int) -> list[CourseFeedbackLine]:
    """As lms.learning.feedback.figures, for every course in one statement, without comments."""
    answers: dict[int, list[tuple[int, str]]] = {course.id: [] for course in courses}
    if courses:
        rows = db.session.execute(
            select(CourseFeedback.course_id, CourseFeedback.helpful, CourseFeedback.length).where(
                CourseFeedback.course_id.in_(answers)
            )
        )
        for course_id, helpful, length in rows:
            answers[course_id].append((helpful, length))
    lines = []
    for course in courses:
        given = answers[course.id]
        if len(given) < minimum:
            lines.append(CourseFeedbackLine(course, len(given), False, None, None))
            continue
        good = sum(1 for helpful, _length in given if helpful >= GOOD_RATING)
        right = sum(1 for _helpful, length in given if length == CourseLength.ABOUT_RIGHT)
        lines.append(
            CourseFeedbackLine(
                course, len(given), True, band_of(good, len(given), minimum), band_of(right, len(given), minimum)
            )
        )
    return lines


# --- the report ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Report:
    town: str
    day: date
    minimum: int
    large_unit: int
    months: int
    targets: list[TargetLine]
    small_targets: int  # targets of units under LARGE_UNIT, left out
    initiatives: list[InitiativeLine]
    uptake: list[CourseUptake]
    units: list[UnitUptake]
    feedback: list[CourseFeedbackLine]


def report(today: date | None = None) -> Report:
    """The whole report: a fixed number of statements, plus readiness's per running initiative."""
    today = today or town_today()
    minimum = min_group_size()
    targets, small_targets = _targets(today)
    courses = list(db.session.execute(published_courses().order_by(Course.title, Course.id)).scalars())
    people = _active_people()
    completers = _completers(courses, people, add_months(utcnow(), -UPTAKE_MONTHS))
    uptake = [_uptake(course, completers[course.id], len(people), minimum) for course in courses]
    learners = set().union(*completers.values()) if completers else set()
    return Report(
        town=str(current_app.config["TOWN_NAME"]),
        day=today,
        minimum=minimum,
        large_unit=LARGE_UNIT,
        months=UPTAKE_MONTHS,
        targets=targets,
        small_targets=small_targets,
        initiatives=_initiatives(today),
        uptake=uptake,
        units=unit_uptake(large_units(people), learners, minimum),
        feedback=_feedback(courses, minimum),
    )
