"""How ready an initiative's target group is, per department: figures only (docs/change.md).

Rows are the departments the target group's people work in, each with its sub-departments (as in
the gap overview), in tree order; limited to the initiative's own departments and those below
them when the target group is given by departments only (a department above them would repeat a
row). For each row and for the whole target group:

- people in the group;
- the share who did every required course (each linked course completed or exempted, in their
  current mandatory assignment: lms.assignments.reports.current_mandatory);
- the share who attended one of the initiative's sessions (`attended_session`: marked attended by
  the session's trainer; "no session linked" when it links none);
- the share who feel prepared, from the latest open or closed pulse survey (lms.change.surveys).

Every share goes through lms.common.disclosure, the people's with `PRIVACY_MIN_GROUP_SIZE`, the
survey's with `PRIVACY_SURVEY_MIN_GROUP_SIZE`; small groups show a band. From
`READINESS_WARNING_DAYS` before go-live a department whose shown completion share lies below
`READINESS_THRESHOLD_PERCENT` is flagged (a band only when the whole band lies below).

A weekly snapshot (`readiness_snapshots`, stored already protected) gives the trend over the weeks.
Read-only but for `take_snapshot`, which flushes; the caller commits.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from flask import current_app
from sqlalchemy import delete, insert, select

from lms.assignments.models import Assignment
from lms.assignments.reports import current_mandatory
from lms.assignments.services import status_expression
from lms.change import surveys
from lms.change.models import (
    Initiative,
    InitiativeStatus,
    LinkedCourse,
    ReadinessSnapshot,
    Survey,
    SurveyStatus,
)
from lms.change.services import target_group
from lms.common import disclosure
from lms.common.disclosure import exact_share_from, min_group_size, survey_min_group_size
from lms.common.vocabulary import AssignmentStatus
from lms.extensions import db
from lms.people.models import Department, User
from lms.people.services import department_tree
from lms.sessions.models import SessionRegistration

DONE = (AssignmentStatus.COMPLETED.value, AssignmentStatus.EXEMPTED.value)
TOTAL = surveys.TOTAL


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year:04d}-W{week:02d}"


def attended_session(initiative: Initiative, people: dict[int, int | None]) -> set[int] | None:
    """Who of `people` attended one of the initiative's sessions (recorded by its trainer); None
    when the initiative links no session (the column then says "no session linked"). One statement.
    Participant lists are purged after LMS_RETENTION_SESSION_PARTICIPANTS_DAYS; so is this count."""
    session_ids = [session.id for session in initiative.sessions]
    if not session_ids:
        return None
    attended = db.session.execute(
        select(SessionRegistration.user_id).where(
            SessionRegistration.session_id.in_(session_ids),
            SessionRegistration.attended.is_(True),
            SessionRegistration.user_id.in_(list(people) or [-1]),
        )
    ).scalars()
    return set(attended)


@dataclass
class Row:
    department: Department | None  # None: the whole target group
    depth: int
    people: int
    completed: disclosure.Share | None  # None: no course linked
    attended: disclosure.Share | None  # None: no session linked
    prepared: surveys.PulseFigure | None  # None: no pulse survey yet, or nobody of it answered here
    flagged: bool = False

    @property
    def key(self) -> int:
        return self.department.id if self.department else TOTAL


@dataclass
class TrendPoint:
    week: str
    share: disclosure.Share | None  # None: no snapshot that week


@dataclass
class Readiness:
    initiative: Initiative
    total: Row | None  # None: not shown to this reader (a digital guide sees their departments only)
    rows: list[Row]
    survey: Survey | None
    courses: int  # linked courses
    minimum: int
    survey_minimum: int
    threshold: int
    warning_from: date
    close_to_go_live: bool
    weeks: list[str] = field(default_factory=list)
    trend: dict[int, list[TrendPoint]] = field(default_factory=dict)  # row key → one point per week

    @property
    def flagged(self) -> list[Row]:
        return [row for row in ([self.total] if self.total else []) + self.rows if row.flagged]


def _people(initiative: Initiative) -> dict[int, int | None]:
    """Person id → department id, for the target group (one statement, after the tree's one)."""
    rows = db.session.execute(select(User.id, User.department_id).where(User.id.in_(target_group(initiative))))
    return {user_id: department_id for user_id, department_id in rows}


def _done(initiative: Initiative, people: dict[int, int | None], course_ids: list[int], today: date) -> set[int]:
    """The people whose current mandatory assignment of every linked course is completed or exempted."""
    if not course_ids or not people:
        return set()
    rows = db.session.execute(
        select(Assignment.user_id, Assignment.course_id, status_expression(today)).where(
            Assignment.user_id.in_(target_group(initiative)),
            Assignment.course_id.in_(course_ids),
            Assignment.id.in_(current_mandatory()),
        )
    )
    finished: dict[int, set[int]] = defaultdict(set)
    for user_id, course_id, status in rows:
        if status in DONE:
            finished[user_id].add(course_id)
    needed = set(course_ids)
    return {user_id for user_id, courses in finished.items() if courses >= needed}


def _share(part: int, whole: int, minimum: int, withheld: bool) -> disclosure.Share:
    return disclosure.share(part, whole, minimum, exact_share_from(), withheld=withheld and whole >= minimum)


def _below(share: disclosure.Share | None, threshold: int) -> bool:
    """Below the threshold as far as what is shown tells: an exact share, or a band wholly below."""
    if share is None or not share.shown:
        return False
    if share.exact:
        return (share.percent or 0) < threshold
    return ((share.band or 0) + 1) * 100 // disclosure.BANDS <= threshold


def latest_survey(initiative: Initiative, today: date) -> Survey | None:
    """The latest survey that is open or closed (with answers given), by its first day."""
    candidates = db.session.execute(
        select(Survey)
        .where(
            Survey.initiative_id == initiative.id,
            Survey.status.in_((SurveyStatus.APPROVED, SurveyStatus.CLOSED)),
            Survey.opens_on <= today,
        )
        .order_by(Survey.opens_on.desc(), Survey.id.desc())
        .limit(1)
    ).scalar()
    return candidates


def readiness(initiative: Initiative, today: date, only: set[int] | None = None, with_trend: bool = True) -> Readiness:
    """The readiness table, protected as a whole; `only`: the departments a digital guide may see
    (their rows alone, no total). A fixed number of statements."""
    minimum = min_group_size()
    config = current_app.config
    threshold, warning_days = int(config["READINESS_THRESHOLD_PERCENT"]), int(config["READINESS_WARNING_DAYS"])
    course_ids = list(
        db.session.execute(select(LinkedCourse.course_id).where(LinkedCourse.initiative_id == initiative.id)).scalars()
    )
    people = _people(initiative)
    done = _done(initiative, people, course_ids, today)
    attended = attended_session(initiative, people)
    tree = department_tree(include_inactive=True)
    chain = surveys.chains(tree, surveys.row_scope(initiative))
    members: dict[int, set[int]] = defaultdict(set)
    for user_id, department_id in people.items():
        for key in (TOTAL, *chain.get(department_id, [])):
            members[key].add(user_id)
    withheld = surveys.protect_groups({key: frozenset(ids) for key, ids in members.items()}, minimum)
    survey = latest_survey(initiative, today)
    pulse = surveys.survey_results(survey, with_comments=False) if survey else None
    warning_from = initiative.go_live - timedelta(days=warning_days)
    close = today >= warning_from and initiative.status == InitiativeStatus.RUNNING

    def row(department: Department | None, depth: int, key: int) -> Row:
        ids = members.get(key, set())
        completed = _share(len(ids & done), len(ids), minimum, key in withheld) if course_ids else None
        present = _share(len(ids & attended), len(ids), minimum, key in withheld) if attended is not None else None
        prepared = None
        if pulse is not None:
            prepared = pulse.total if key == TOTAL else pulse.by_department.get(key)
        return Row(department, depth, len(ids), completed, present, prepared, close and _below(completed, threshold))

    rows = [
        row(node.department, node.depth, node.department.id)
        for node in tree
        if node.department.id in members and (only is None or node.department.id in only)
    ]
    result = Readiness(
        initiative=initiative,
        total=row(None, 0, TOTAL) if only is None else None,
        rows=rows,
        survey=survey,
        courses=len(course_ids),
        minimum=minimum,
        survey_minimum=survey_min_group_size(),
        threshold=threshold,
        warning_from=warning_from,
        close_to_go_live=close,
    )
    if with_trend:
        _add_trend(result, [r.key for r in ([result.total] if result.total else []) + rows])
    return result


# --- the weekly trend -----------------------------------------------------------------------


def take_snapshot(initiative: Initiative, today: date) -> int:
    """Store this week's completion figures, already protected (counts NULL where a share may not
    be shown). Idempotent per week: the week's rows are written again. Answers how many rows."""
    week = iso_week(today)
    table = readiness(initiative, today, with_trend=False)
    rows = [
        {
            "initiative_id": initiative.id,
            "department_id": row.key,
            "week": week,
            "people": row.people if row.completed.shown else None,
            "completed": row.completed.part if row.completed.shown else None,
        }
        for row in ([table.total] if table.total else []) + table.rows
        if row.completed is not None
    ]
    db.session.execute(
        delete(ReadinessSnapshot).where(
            ReadinessSnapshot.initiative_id == initiative.id, ReadinessSnapshot.week == week
        )
    )
    if rows:
        db.session.execute(insert(ReadinessSnapshot), rows)
    db.session.flush()
    return len(rows)


def snapshot_due(today: date) -> int:
    """This week's snapshot of every running initiative that has none yet (the daily job: the
    first run of a week is the week's figure). Answers how many initiatives were taken."""
    week = iso_week(today)
    taken = select(ReadinessSnapshot.initiative_id).where(ReadinessSnapshot.week == week)
    due = db.session.execute(
        select(Initiative).where(Initiative.status == InitiativeStatus.RUNNING, Initiative.id.not_in(taken))
    ).scalars()
    count = 0
    for initiative in due.all():
        take_snapshot(initiative, today)
        count += 1
    return count


def _add_trend(result: Readiness, keys: list[int]) -> None:
    """Each shown row's weekly shares, from the snapshots (one statement). A week whose group
    changed by fewer than the minimum since the last week shown is withheld: the difference would
    be about those few people."""
    stored = db.session.execute(
        select(
            ReadinessSnapshot.week,
            ReadinessSnapshot.department_id,
            ReadinessSnapshot.people,
            ReadinessSnapshot.completed,
        )
        .where(ReadinessSnapshot.initiative_id == result.initiative.id, ReadinessSnapshot.department_id.in_(keys))
        .order_by(ReadinessSnapshot.week)
    ).all()
    result.weeks = sorted({week for week, *_ in stored})
    by_key: dict[tuple[int, str], tuple[int | None, int | None]] = {
        (department_id, week): (people, completed) for week, department_id, people, completed in stored
    }
    for key in keys:
        points, last_shown = [], None
        for week in result.weeks:
            if (key, week) not in by_key:
                points.append(TrendPoint(week, None))
                continue
            people, completed = by_key[(key, week)]
            hidden = people is None or completed is None
            if people is not None and last_shown is not None and 0 < abs(people - last_shown) < result.minimum:
                hidden = True
            share = _share(completed or 0, people or 0, result.minimum, False)
            points.append(TrendPoint(week, disclosure.Share(0, 0, disclosure.ShareState.WITHHELD) if hidden else share))
            if not hidden:
                last_shown = people
        result.trend[key] = points
