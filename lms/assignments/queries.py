"""Read-only queries for the assignment pages: which rules a person may open, their figures, their
people, and a learner's own assignments. Each answers in one statement (or builds one to paginate).

HR sees every rule and everyone on it. A manager sees the rules they created and the rules for
their departments or for a person in them, and on each rule only the people of their departments
(sub-departments included).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select
from sqlalchemy.orm import contains_eager, joinedload, lazyload

from lms.assignments import services
from lms.assignments.models import Assignment, AssignmentRule
from lms.catalog.models import Course, Lesson
from lms.common.dates import utcnow
from lms.common.vocabulary import AssignmentScope, AssignmentStatus, AuditField
from lms.extensions import db
from lms.learning.models import Enrollment
from lms.people.models import Department, JobRole, User
from lms.privacy.services import managed_department_ids


@dataclass(frozen=True)
class Reach:
    """What one viewer of the assignment pages may see, worked out once per request."""

    viewer_id: int
    everything: bool  # HR
    department_ids: frozenset[int]  # the departments a manager heads, sub-departments included


def reach_of(viewer: User) -> Reach:
    everything = services.may_assign_to_anyone(viewer)
    managed = frozenset() if everything else frozenset(managed_department_ids(viewer))
    return Reach(viewer.id, everything, managed)


def _people_of(reach: Reach) -> Select:
    return select(User.id).where(User.department_id.in_(reach.department_ids or {-1}))


def _rule_within(reach: Reach) -> ColumnElement[bool]:
    return or_(
        AssignmentRule.created_by_id == reach.viewer_id,
        and_(
            AssignmentRule.scope == AssignmentScope.DEPARTMENT,
            AssignmentRule.department_id.in_(reach.department_ids or {-1}),
        ),
        and_(AssignmentRule.scope == AssignmentScope.PERSON, AssignmentRule.user_id.in_(_people_of(reach))),
    )


def may_open(reach: Reach, rule: AssignmentRule) -> bool:
    """The same as the list's filter, for one rule already loaded."""
    if reach.everything or rule.created_by_id == reach.viewer_id:
        return True
    if rule.scope == AssignmentScope.DEPARTMENT:
        return rule.department_id in reach.department_ids
    if rule.scope == AssignmentScope.PERSON and rule.user is not None:
        return rule.user.department_id in reach.department_ids
    return False


def may_end(reach: Reach, rule: AssignmentRule) -> bool:
    """HR ends any rule; a manager the rules they created (not HR's rules for their departments)."""
    return reach.everything or rule.created_by_id == reach.viewer_id


def _with_targets(query: Select) -> Select:
    # People's roles (loaded "selectin" by default) are not shown here: no extra statement for them.
    return query.options(
        joinedload(AssignmentRule.course),
        joinedload(AssignmentRule.user).lazyload(User.role_rows),
        joinedload(AssignmentRule.department),
        joinedload(AssignmentRule.job_role),
        joinedload(AssignmentRule.created_by).lazyload(User.role_rows),
    )


def visible_rules(reach: Reach) -> Select:
    """The rules this viewer may open, active ones first, newest first (for paginating)."""
    query = _with_targets(select(AssignmentRule))
    if not reach.everything:
        query = query.where(_rule_within(reach))
    return query.order_by(AssignmentRule.active.desc(), AssignmentRule.created_at.desc(), AssignmentRule.id.desc())


def rule_with_targets(rule_id: int) -> AssignmentRule | None:
    return db.session.execute(_with_targets(select(AssignmentRule)).where(AssignmentRule.id == rule_id)).scalar()


@dataclass
class RuleFigures:
    """How many people a rule assigned (withdrawn ones not counted) and where they stand."""

    people: int = 0
    completed: int = 0
    overdue: int = 0
    exempted: int = 0
    withdrawn: int = 0

    @property
    def to_do(self) -> int:
        return self.people - self.completed - self.exempted


def figures(rule_ids: Sequence[int], reach: Reach, today: date) -> dict[int, RuleFigures]:
    """Each rule's figures, counting only the people the viewer may see (one statement)."""
    if not rule_ids:
        return {}
    rows = select(Assignment.rule_id.label("rule_id"), services.status_expression(today).label("status")).where(
        Assignment.rule_id.in_(list(rule_ids))
    )
    if not reach.everything:
        rows = rows.where(Assignment.user_id.in_(_people_of(reach)))
    inner = rows.subquery()
    counted = db.session.execute(
        select(inner.c.rule_id, inner.c.status, func.count()).group_by(inner.c.rule_id, inner.c.status)
    )
    result = {rule_id: RuleFigures() for rule_id in rule_ids}
    for rule_id, status, count in counted:
        entry = result[rule_id]
        if status == AssignmentStatus.WITHDRAWN:
            entry.withdrawn += count
            continue
        entry.people += count
        if status == AssignmentStatus.COMPLETED:
            entry.completed += count
        elif status == AssignmentStatus.OVERDUE:
            entry.overdue += count
        elif status == AssignmentStatus.EXEMPTED:
            entry.exempted += count
    return result


def people_on_rule(rule: AssignmentRule, reach: Reach) -> Select:
    """The rule's assignments with their people, by name; withdrawn ones last (for paginating)."""
    query = (
        select(Assignment)
        .join(User, User.id == Assignment.user_id)
        .options(contains_eager(Assignment.user).options(joinedload(User.department), lazyload(User.role_rows)))
        .where(Assignment.rule_id == rule.id)
    )
    if not reach.everything:
        query = query.where(User.department_id.in_(reach.department_ids or {-1}))
    return query.order_by(Assignment.withdrawn_at.is_not(None), User.family_name, User.given_name, Assignment.id)


def assignment_on_rule(rule: AssignmentRule, assignment_id: int) -> Assignment | None:
    return db.session.execute(
        select(Assignment)
        .options(joinedload(Assignment.user))
        .where(Assignment.id == assignment_id, Assignment.rule_id == rule.id)
    ).scalar()


def my_assignments(user: User, today: date, closed_days: int = 30) -> list[services.AssignmentView]:
    """`services.my_assignments` in one statement: the person's open assignments by due date
    (overdue first), then those completed or exempted lately, each with whether it is started."""
    since = utcnow() - timedelta(days=closed_days)
    started = (
        exists()
        .where(Enrollment.user_id == Assignment.user_id, Enrollment.course_id == Assignment.course_id)
        .label("started")
    )
    rows = db.session.execute(
        select(Assignment, started)
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
    )
    return [services.AssignmentView(a, services.status_of(a, today, bool(s))) for a, s in rows]


def audit_context(rule: AssignmentRule, people: int) -> dict[AuditField, Any]:
    """What the audit trail keeps of a rule: the course, the rule, whom and by when, how many people."""
    if rule.scope == AssignmentScope.DEPARTMENT and rule.department is not None:
        target: str | int | None = rule.department.code
    elif rule.scope == AssignmentScope.JOB_ROLE and rule.job_role is not None:
        target = rule.job_role.code
    else:
        target = rule.user_id
    return {
        AuditField.COURSE: rule.course.slug,
        AuditField.ASSIGNMENT_RULE: rule.id,
        AuditField.FILTER: {
            "scope": rule.scope,
            "target": target,
            "due_kind": rule.due_kind,
            "due": rule.due_date.isoformat() if rule.due_date else rule.due_days,
            "mandatory": rule.mandatory,
        },
        AuditField.PEOPLE: people,
    }


# --- what the form offers -------------------------------------------------------------------


def assignable_courses() -> list[Course]:
    """Published courses with at least one lesson, by title."""
    return list(
        db.session.execute(
            select(Course)
            .where(Course.archived.is_(False), exists().where(Lesson.course_id == Course.id))
            .order_by(Course.title, Course.id)
        ).scalars()
    )


def assignable_people(reach: Reach) -> list[User]:
    query = select(User).options(joinedload(User.department), lazyload(User.role_rows)).where(User.active.is_(True))
    if not reach.everything:
        query = query.where(User.department_id.in_(reach.department_ids or {-1}))
    return list(db.session.execute(query.order_by(User.family_name, User.given_name, User.id)).scalars())


def active_job_roles() -> list[JobRole]:
    query = select(JobRole).where(JobRole.active.is_(True)).order_by(JobRole.title, JobRole.id)
    return list(db.session.execute(query).scalars())


def find_department(code: str) -> Department | None:
    return db.session.execute(select(Department).where(Department.code == code)).scalar()


def find_job_role(code: str) -> JobRole | None:
    return db.session.execute(select(JobRole).where(JobRole.code == code)).scalar()


def find_person(personnel_number: str) -> User | None:
    return db.session.execute(select(User).where(User.personnel_number == personnel_number)).scalar()


def find_published_course(slug: str) -> Course | None:
    return db.session.execute(select(Course).where(Course.slug == slug, Course.archived.is_(False))).scalar()
