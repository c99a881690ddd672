"""Assignments: who must complete which course by when, and where each one stands.

Rules say "everyone in <scope> must complete <course> by <due>"; `apply_rule` turns a rule into one
assignment per person in its scope, and `sync` keeps them current: people who joined the scope are
assigned, people who left it before completing are withdrawn (what they completed stays), met
assignments are closed, and completions about to expire get a recertification assignment ahead of
time. A completion earned before the assignment counts while it is still valid.

Functions flush; the caller commits. `today` is the town's date, passed in so that jobs and tests
can run any day.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import Select, and_, case, exists, func, or_, select
from sqlalchemy.orm import joinedload

from lms.assignments.models import Assignment, AssignmentRule
from lms.catalog.models import Course, Lesson
from lms.common.dates import as_utc, utcnow
from lms.common.errors import ValidationFailed
from lms.common.text import note_problem
from lms.common.vocabulary import AssignmentScope, AssignmentStatus, DueKind, Role
from lms.extensions import db
from lms.i18n import _
from lms.learning.models import Completion, Enrollment
from lms.people.models import Department, JobRole, User
from lms.people.services import descendant_ids, town_today  # town_today: a deadline is a day in the town
from lms.privacy.services import managed_department_ids

MAX_REASON_LENGTH = 500
MAX_DUE_DAYS = 3650


def end_of_day(day: date) -> datetime:
    """The last moment of a day in the town, as an aware time: a completion is valid "on" a day
    if it has not expired by then."""
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return datetime.combine(day, time.max, tzinfo=zone)


# --- rules ------------------------------------------------------------------------------------


@dataclass
class RuleData:
    """A rule as an HR person, a manager or the command line asks for it."""

    course_id: int | None
    scope: str
    user_id: int | None = None
    department_id: int | None = None
    job_role_id: int | None = None
    due_kind: str = DueKind.WITHIN_DAYS
    due_date: date | None = None
    due_days: int | None = None
    mandatory: bool = False
    reason: str = ""


def may_assign_to_anyone(actor: User | None) -> bool:
    """HR (and the command line, `actor` None) assign to anyone; managers to their departments."""
    return actor is None or actor.has_role(Role.HR)


def _check_rule(actor: User | None, data: RuleData, today: date, standing: bool = False) -> dict[str, str]:
    errors: dict[str, str] = {}
    course = db.session.get(Course, data.course_id) if data.course_id else None
    if course is None or course.archived:
        errors["course_id"] = _("Choose a published course.")
    elif not db.session.scalar(select(func.count(Lesson.id)).where(Lesson.course_id == course.id)):
        errors["course_id"] = _("This course has no published lessons yet.")
    errors |= _check_scope(actor, data, standing)
    errors |= _check_due(data, today)
    reason = (data.reason or "").strip()
    if problem := note_problem(reason, MAX_REASON_LENGTH):
        errors["reason"] = problem
    return errors


_SCOPE_FIELDS: dict[AssignmentScope, tuple[str, type[User] | type[Department] | type[JobRole]]] = {
    AssignmentScope.PERSON: ("user_id", User),
    AssignmentScope.DEPARTMENT: ("department_id", Department),
    AssignmentScope.JOB_ROLE: ("job_role_id", JobRole),
}


def _check_scope(actor: User | None, data: RuleData, standing: bool = False) -> dict[str, str]:
    """The scope exists, holds active people (unless the rule is `standing`), and lies within what
    the actor may assign to."""
    if data.scope not in set(AssignmentScope):
        return {"scope": _("Choose whom to assign the course to.")}
    scope = AssignmentScope(data.scope)
    field_name, model = _SCOPE_FIELDS[scope]
    target_id = getattr(data, field_name)
    target = db.session.get(model, target_id) if target_id else None
    if not isinstance(target, (User, Department, JobRole)) or not target.active:
        return {field_name: _("Choose an active person, department or job role.")}
    if actor is not None and not may_assign_to_anyone(actor) and not _within_headed(actor, scope, target):
        return {field_name: _("You can assign courses only to the people of the departments you head.")}
    if standing:
        return {}
    if not db.session.scalar(select(func.count()).select_from(_people_statement(scope, data).subquery())):
        return {field_name: _("Nobody active belongs to it: there is no one to assign the course to.")}
    return {}


def _within_headed(manager: User, scope: AssignmentScope, target: User | Department | JobRole) -> bool:
    """A manager assigns to a person or a department within the departments they head."""
    allowed = managed_department_ids(manager)
    if isinstance(target, User):
        return target.department_id is not None and target.department_id in allowed
    return isinstance(target, Department) and target.id in allowed


def _check_due(data: RuleData, today: date) -> dict[str, str]:
    if data.due_kind not in set(DueKind):
        return {"due_kind": _("Choose how the due date is set.")}
    if data.due_kind == DueKind.FIXED:
        if data.due_date is None:
            return {"due_date": _("Enter the due date.")}
        if data.due_date < today:
            return {"due_date": _("The due date lies in the past. Choose today or a later day.")}
        return {}
    if data.due_days is None or not 1 <= data.due_days <= MAX_DUE_DAYS:
        return {"due_days": _("Enter a number of days from 1 to %(max)d.", max=MAX_DUE_DAYS)}
    return {}


def create_rule(
    actor: User | None, data: RuleData, today: date | None = None, *, standing: bool = False
) -> tuple[AssignmentRule, list[Assignment]]:
    """Store a rule and assign its course to everyone in its scope. Answers the rule and the new
    open assignments (to tell those people). Raises ValidationFailed; nothing is stored then.

    A `standing` rule may cover nobody yet: it waits for the people who join its scope (an
    initiative's target group, whose departments may still be empty)."""
    today = today or town_today()
    errors = _check_rule(actor, data, today, standing)
    if errors:
        raise ValidationFailed(errors)
    scope = AssignmentScope(data.scope)
    rule = AssignmentRule(
        course_id=data.course_id,
        scope=scope,
        user_id=data.user_id if scope == AssignmentScope.PERSON else None,
        department_id=data.department_id if scope == AssignmentScope.DEPARTMENT else None,
        job_role_id=data.job_role_id if scope == AssignmentScope.JOB_ROLE else None,
        due_kind=data.due_kind,
        due_date=data.due_date if data.due_kind == DueKind.FIXED else None,
        due_days=data.due_days if data.due_kind != DueKind.FIXED else None,
        mandatory=data.mandatory,
        reason=(data.reason or "").strip(),
        created_by_id=actor.id if actor else None,
    )
    db.session.add(rule)
    db.session.flush()
    return rule, apply_rule(rule, today)


def end_rule(rule: AssignmentRule, today: date | None = None) -> int:
    """Stop a rule: nobody new is assigned, and open assignments from it are withdrawn. Answers
    how many were withdrawn; completed ones stay."""
    rule.active = False
    withdrawn = _withdraw(select(Assignment).where(Assignment.rule_id == rule.id, Assignment.open_key.is_not(None)))
    db.session.flush()
    return withdrawn


def move_due_date(rule: AssignmentRule, due_date: date) -> list[Assignment]:
    """A rule with a fixed due date gets a new one, and so do its open assignments (closed ones
    keep the date they had). Answers the open assignments whose date changed, to tell the people."""
    if rule.due_kind != DueKind.FIXED:
        raise ValueError("only a rule with a fixed due date can be moved")
    rule.due_date = due_date
    moved = list(
        db.session.execute(
            select(Assignment).where(
                Assignment.rule_id == rule.id, Assignment.open_key.is_not(None), Assignment.due_on != due_date
            )
        ).scalars()
    )
    for assignment in moved:
        assignment.due_on = due_date
    db.session.flush()
    return moved


def _people_statement(scope: AssignmentScope, data: RuleData | AssignmentRule) -> Select:
    """Ids of the active people a rule covers."""
    query = select(User.id).where(User.active.is_(True))
    if scope == AssignmentScope.PERSON:
        return query.where(User.id == data.user_id)
    if scope == AssignmentScope.DEPARTMENT:
        return query.where(User.department_id.in_(descendant_ids([data.department_id or -1]) or {-1}))
    return query.where(User.job_role_id == data.job_role_id)


def people_in_scope(rule: AssignmentRule) -> set[int]:
    return set(db.session.execute(_people_statement(AssignmentScope(rule.scope), rule)).scalars())


def due_date_for(rule: AssignmentRule, user: User, today: date) -> date:
    if rule.due_kind == DueKind.FIXED and rule.due_date is not None:
        return rule.due_date
    if rule.due_kind == DueKind.WITHIN_DAYS_OF_JOINING:
        # The account's creation stands for the first day; a later joiner gets at least the days.
        joined = as_utc(user.created_at).astimezone(ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])).date()
        return max(joined + timedelta(days=rule.due_days or 0), today)
    return today + timedelta(days=rule.due_days or 0)


def apply_rule(rule: AssignmentRule, today: date) -> list[Assignment]:
    """Assign the rule's course to everyone in its scope who has no open assignment of it.

    Someone whose completion is still valid on the due date is assigned and at once met by it.
    Answers the new open assignments.
    """
    if not rule.active:
        return []
    in_scope = people_in_scope(rule)
    already = set(
        db.session.execute(
            select(Assignment.user_id).where(
                Assignment.course_id == rule.course_id,
                Assignment.user_id.in_(in_scope or {-1}),
                or_(Assignment.open_key.is_not(None), Assignment.rule_id == rule.id),
            )
        ).scalars()
    )
    people = db.session.execute(select(User).where(User.id.in_((in_scope - already) or {-1}))).scalars().all()
    latest = latest_completions([p.id for p in people], [rule.course_id])
    opened = []
    for person in people:
        due_on = due_date_for(rule, person, today)
        assignment = Assignment(
            rule_id=rule.id,
            user_id=person.id,
            course_id=rule.course_id,
            due_on=due_on,
            mandatory=rule.mandatory,
            reason=rule.reason,
            open_key=f"{person.id}:{rule.course_id}",
        )
        completion = latest.get((person.id, rule.course_id))
        if completion is not None and _valid_on(completion, due_on):
            _close_completed(assignment, completion)
        else:
            opened.append(assignment)
        db.session.add(assignment)
    db.session.flush()
    return opened


def _valid_on(completion: Completion, day: date) -> bool:
    return completion.expires_at is None or as_utc(completion.expires_at) > end_of_day(day)


def _close_completed(assignment: Assignment, completion: Completion) -> None:
    assignment.completion_id = completion.id
    assignment.completed_at = completion.completed_at
    assignment.open_key = None


def latest_completions(user_ids: Sequence[int], course_ids: Sequence[int]) -> dict[tuple[int, int], Completion]:
    """Each person's latest completion of each course (one query)."""
    if not user_ids or not course_ids:
        return {}
    newest = (
        select(Completion.user_id, Completion.course_id, func.max(Completion.sequence).label("sequence"))
        .where(Completion.user_id.in_(user_ids), Completion.course_id.in_(course_ids))
        .group_by(Completion.user_id, Completion.course_id)
        .subquery()
    )
    rows = db.session.execute(
        select(Completion).join(
            newest,
            and_(
                Completion.user_id == newest.c.user_id,
                Completion.course_id == newest.c.course_id,
                Completion.sequence == newest.c.sequence,
            ),
        )
    ).scalars()
    return {(c.user_id, c.course_id): c for c in rows}


# --- keeping assignments current ------------------------------------------------------------


@dataclass
class SyncResult:
    """What one sync changed, for the people to be told and the job's log line."""

    assigned: list[Assignment] = field(default_factory=list)
    completed: list[Assignment] = field(default_factory=list)
    recertifications: list[Assignment] = field(default_factory=list)
    withdrawn: int = 0


def sync(today: date, recertification_lead_days: int | None = None) -> SyncResult:
    """Bring every assignment up to date (the daily job does this before any reminder)."""
    result = SyncResult()
    result.completed = close_met_assignments()
    result.withdrawn += leave_archived_courses()
    rules = db.session.execute(select(AssignmentRule).where(AssignmentRule.active.is_(True))).scalars().all()
    for rule in rules:
        result.withdrawn += _withdraw_outside_scope(rule)
        result.assigned += apply_rule(rule, today)
    lead = recertification_lead_days
    if lead is None:
        lead = current_app.config["ASSIGNMENT_RECERTIFICATION_LEAD_DAYS"]
    result.recertifications = renew_expiring(today, lead)
    return result


def leave_archived_courses() -> int:
    """An archived course leaves the assignments: its rules end and its open assignments are
    withdrawn (completed ones stay). Answers how many were withdrawn."""
    archived = select(Course.id).where(Course.archived.is_(True))
    for rule in db.session.execute(
        select(AssignmentRule).where(AssignmentRule.active.is_(True), AssignmentRule.course_id.in_(archived))
    ).scalars():
        rule.active = False
    return _withdraw(select(Assignment).where(Assignment.open_key.is_not(None), Assignment.course_id.in_(archived)))


def _withdraw_outside_scope(rule: AssignmentRule) -> int:
    in_scope = people_in_scope(rule)
    return _withdraw(
        select(Assignment).where(
            Assignment.rule_id == rule.id, Assignment.open_key.is_not(None), Assignment.user_id.not_in(in_scope or {-1})
        )
    )


def _withdraw(statement: Select) -> int:
    leaving = db.session.execute(statement).scalars().all()
    now = utcnow()
    for assignment in leaving:
        assignment.withdrawn_at, assignment.open_key = now, None
    db.session.flush()
    return len(leaving)


def close_met_assignments(user_id: int | None = None) -> list[Assignment]:
    """Close open assignments a valid completion meets: one earned since the assignment, or an
    earlier one still valid on the due date. Answers the assignments closed (to tell the people)."""
    query = select(Assignment).where(Assignment.open_key.is_not(None))
    if user_id is not None:
        query = query.where(Assignment.user_id == user_id)
    open_ones = db.session.execute(query).scalars().all()
    latest = latest_completions(sorted({a.user_id for a in open_ones}), sorted({a.course_id for a in open_ones}))
    closed = []
    for assignment in open_ones:
        completion = latest.get((assignment.user_id, assignment.course_id))
        if completion is not None and _meets(completion, assignment):
            _close_completed(assignment, completion)
            closed.append(assignment)
    db.session.flush()
    return closed


def _meets(completion: Completion, assignment: Assignment) -> bool:
    """A completion earned since the assignment meets it; so does an earlier one still valid on the
    due date — except for a recertification, which exists because the earlier one expires."""
    earned_since = as_utc(completion.completed_at) >= as_utc(assignment.assigned_at)
    if assignment.recertification:
        return earned_since
    return earned_since or _valid_on(completion, assignment.due_on)


def renew_expiring(today: date, lead_days: int) -> list[Assignment]:
    """A recertification assignment, due on the expiry day, for every mandatory course whose
    completion expires within `lead_days` and that the person has no open assignment of."""
    horizon = end_of_day(today + timedelta(days=lead_days))
    had_mandatory = (
        select(Assignment.user_id, Assignment.course_id)
        .where(Assignment.mandatory.is_(True), Assignment.completed_at.is_not(None))
        .distinct()
        .subquery()
    )
    candidates = db.session.execute(
        select(had_mandatory.c.user_id, had_mandatory.c.course_id)
        .join(User, User.id == had_mandatory.c.user_id)
        .where(
            User.active.is_(True),
            ~exists().where(
                Assignment.user_id == had_mandatory.c.user_id,
                Assignment.course_id == had_mandatory.c.course_id,
                Assignment.open_key.is_not(None),
            ),
        )
    ).all()
    latest = latest_completions(sorted({u for u, _c in candidates}), sorted({c for _u, c in candidates}))
    created = []
    for (user_id, course_id), completion in latest.items():
        if completion.expires_at is None or as_utc(completion.expires_at) > horizon:
            continue
        if db.session.scalar(
            select(func.count(Assignment.id)).where(
                Assignment.user_id == user_id,
                Assignment.course_id == course_id,
                Assignment.recertification.is_(True),
                Assignment.assigned_at > completion.completed_at,
            )
        ):
            continue  # this expiry already has its recertification (done or exempted)
        expiry = as_utc(completion.expires_at).astimezone(ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"]))
        assignment = Assignment(
            user_id=user_id,
            course_id=course_id,
            recertification=True,
            due_on=max(expiry.date(), today),
            mandatory=True,
            reason=_(
                "Your completion expires on %(date)s: please complete the course again.", date=expiry.date().isoformat()
            ),
            open_key=f"{user_id}:{course_id}",
        )
        db.session.add(assignment)
        created.append(assignment)
    db.session.flush()
    return created


def exempt(actor: User, assignment: Assignment, reason: str) -> None:
    """HR releases a person from an assignment, with a reason (kept)."""
    reason = (reason or "").strip()
    errors: dict[str, str] = {}
    if assignment.closed:
        errors["reason"] = _("This assignment is already closed.")
    elif not reason:
        errors["reason"] = _("Say briefly why the person is exempted.")
    elif problem := note_problem(reason, MAX_REASON_LENGTH):
        errors["reason"] = problem
    if errors:
        raise ValidationFailed(errors)
    assignment.exempted_at, assignment.exempted_by_id = utcnow(), actor.id
    assignment.exemption_reason, assignment.open_key = reason, None
    db.session.flush()


# --- where an assignment stands -------------------------------------------------------------


def status_of(assignment: Assignment, today: date, started: bool = False) -> AssignmentStatus:
    if assignment.completed_at is not None:
        return AssignmentStatus.COMPLETED
    if assignment.exempted_at is not None:
        return AssignmentStatus.EXEMPTED
    if assignment.withdrawn_at is not None:
        return AssignmentStatus.WITHDRAWN
    if assignment.due_on < today:
        return AssignmentStatus.OVERDUE
    return AssignmentStatus.IN_PROGRESS if started else AssignmentStatus.OPEN


def status_expression(today: date):
    """The same as `status_of`, in SQL (for counting many at once)."""
    return case(
        (Assignment.completed_at.is_not(None), AssignmentStatus.COMPLETED.value),
        (Assignment.exempted_at.is_not(None), AssignmentStatus.EXEMPTED.value),
        (Assignment.withdrawn_at.is_not(None), AssignmentStatus.WITHDRAWN.value),
        (Assignment.due_on < today, AssignmentStatus.OVERDUE.value),
        else_=AssignmentStatus.OPEN.value,
    )


@dataclass(frozen=True)
class AssignmentView:
    """An assignment with its status, for lists."""

    assignment: Assignment
    status: AssignmentStatus


def started_courses(user_ids: Iterable[int]) -> set[tuple[int, int]]:
    """(person, course) pairs the people have started (one query)."""
    ids = list(user_ids)
    if not ids:
        return set()
    rows = db.session.execute(select(Enrollment.user_id, Enrollment.course_id).where(Enrollment.user_id.in_(ids)))
    return {(user_id, course_id) for user_id, course_id in rows}


def views_of(assignments: Sequence[Assignment], today: date) -> list[AssignmentView]:
    started = started_courses({a.user_id for a in assignments})
    return [AssignmentView(a, status_of(a, today, (a.user_id, a.course_id) in started)) for a in assignments]


def my_assignments(user: User, today: date, closed_days: int = 30) -> list[AssignmentView]:
    """The person's open assignments by due date (overdue first), then those closed lately."""
    since = utcnow() - timedelta(days=closed_days)
    rows = db.session.execute(
        select(Assignment)
        .options(joinedload(Assignment.course))
        .where(
            Assignment.user_id == user.id,
            or_(
                Assignment.open_key.is_not(None),
                Assignment.completed_at >= since,
                Assignment.exempted_at >= since,
            ),
        )
        .order_by(Assignment.open_key.is_(None), Assignment.due_on, Assignment.id)
    ).scalars()
    return views_of(list(rows), today)


def assignments_of_people(user_ids: Iterable[int], mandatory_only: bool = False) -> Select:
    """The open and completed assignments of these people (what a manager's overview lists)."""
    query = (
        select(Assignment)
        .options(joinedload(Assignment.course), joinedload(Assignment.user))
        .where(Assignment.user_id.in_(list(user_ids) or [-1]), Assignment.withdrawn_at.is_(None))
    )
    if mandatory_only:
        query = query.where(Assignment.mandatory.is_(True))
    return query.order_by(Assignment.due_on, Assignment.id)
