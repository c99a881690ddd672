"""Which reminders are due on a day, and sending each of them exactly once.

A daily run (`run`) first brings the assignments up to date (`services.sync`: joiners assigned,
met ones closed, recertifications created), then plans the day's reminders:

- due soon: once per threshold of LMS_REMINDER_DAYS_BEFORE (14 and 3 days), the nearest one that
  has been reached, so a run missed over a weekend is made up on the next working day;
- overdue: on the first working day after the due date, then weekly;
- escalation: to the person's manager (the head of their department, else of the nearest
  department above) once a mandatory assignment is LMS_REMINDER_ESCALATION_DAYS overdue;
- a weekly digest for managers (first working day of the week) and a monthly summary for HR
  (first working day of the month); both optional, so people can switch them off.

Every reminder carries a key (assignment, kind, period): the notifications domain stores each key
once, so nothing goes out twice — across restarts, retries, several workers and servers. Nothing
is sent on weekends and closing days. Mails carry course titles and dates, never scores; a
manager's mails list only the mandatory trainings of their own people.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import lazyload

from lms.assignments import notices, services
from lms.assignments.models import Assignment
from lms.catalog.models import Course
from lms.common.vocabulary import AssignmentStatus, Role
from lms.common.workdays import first_working_day_of_month, first_working_day_of_week, is_working_day
from lms.extensions import db
from lms.notifications import services as notifications
from lms.notifications.models import NotificationKind
from lms.people.models import Department, User, UserRole, department_heads


@dataclass(frozen=True)
class Reminder:
    recipient: User
    kind: NotificationKind
    key: str
    params: dict[str, Any]
    link: str
    optional: bool = False


@dataclass
class RunReport:
    """What one run did (or, in a dry run, would do)."""

    day: date
    working_day: bool
    sync: services.SyncResult | None = None
    planned: list[Reminder] = field(default_factory=list)
    sent: list[Reminder] = field(default_factory=list)  # new keys: queued now


def run(today: date) -> RunReport:
    """The daily job's work for `today`. Flushes; the caller commits — or, for a dry run, rolls
    back: the run is the same, so the list of what would go out is exact."""
    report = RunReport(today, is_working_day(today))
    if not report.working_day:
        return report
    report.sync = services.sync(today)
    notices.tell_assigned(report.sync.assigned + report.sync.recertifications)
    notices.tell_completed(report.sync.completed)
    report.planned = plan(today)
    created = {
        notice.dedupe_key
        for notice in notifications.notify_many(
            notifications.Notice(r.recipient, r.kind, r.params, r.link, r.key, r.optional) for r in report.planned
        )
    }
    report.sent = [r for r in report.planned if r.key in created]
    return report


# --- planning -------------------------------------------------------------------------------


def plan(today: date) -> list[Reminder]:
    """Every reminder due today, already sent or not (the keys decide)."""
    rows = db.session.execute(
        select(Assignment, User, Course.title, Course.slug)
        .join(User, User.id == Assignment.user_id)
        .join(Course, Course.id == Assignment.course_id)
        .where(Assignment.open_key.is_not(None), User.active.is_(True))
        .order_by(Assignment.due_on, Assignment.id)
        .options(lazyload(User.role_rows))  # not needed: no statements per 500 people for them
    ).all()
    managers = _managers_by_department()
    reminders: list[Reminder] = []
    for assignment, person, title, slug in rows:
        reminders += _for_assignment(assignment, person, title, slug, today, managers)
    if first_working_day_of_week(today):
        reminders += _digests(rows, today, managers)
    if first_working_day_of_month(today):
        reminders += _summaries(today)
    return reminders


def _course_params(assignment: Assignment, title: str) -> dict[str, Any]:
    return {"course": title, "due": assignment.due_on.isoformat(), "mandatory": assignment.mandatory}


def _for_assignment(
    assignment: Assignment, person: User, title: str, slug: str, today: date, managers: dict[int, list[User]]
) -> list[Reminder]:
    config = current_app.config
    link, params = f"/courses/{slug}/", _course_params(assignment, title)
    days_left = (assignment.due_on - today).days
    if days_left >= 0:
        reached = [days for days in config["REMINDER_DAYS_BEFORE"] if days_left <= days]
        if not reached:
            return []
        threshold = min(reached)
        key = f"assignment:{assignment.id}:due_soon:{threshold}"
        return [Reminder(person, NotificationKind.DUE_SOON, key, params, link)]
    overdue_days = -days_left
    week = (overdue_days - 1) // 7  # the first working day after the due date, then weekly
    reminders = [Reminder(person, NotificationKind.OVERDUE, f"assignment:{assignment.id}:overdue:{week}", params, link)]
    if assignment.mandatory and overdue_days >= config["REMINDER_ESCALATION_DAYS"]:
        escalation = params | {"person": person.name}
        for manager in managers.get(person.department_id or -1, []):
            if manager.id != person.id:
                key = f"assignment:{assignment.id}:escalation:{manager.id}"
                reminders.append(Reminder(manager, NotificationKind.ESCALATION, key, escalation, "/compliance/team"))
    return reminders


def _managers_by_department() -> dict[int, list[User]]:
    """Per department, who is told about its people: its active heads, else those of the nearest
    department above that has any."""
    parents = dict(db.session.execute(select(Department.id, Department.parent_id)).all())
    heads: dict[int, list[User]] = defaultdict(list)
    rows = db.session.execute(
        select(department_heads.c.department_id, User)
        .join(User, User.id == department_heads.c.user_id)
        .where(User.active.is_(True))
        .order_by(User.id)
        .options(lazyload(User.role_rows))
    ).all()
    for department_id, user in rows:
        heads[department_id].append(user)
    managers: dict[int, list[User]] = {}
    for department_id in parents:
        current: int | None = department_id
        seen: set[int] = set()
        while current is not None and current not in seen and not heads.get(current):
            seen.add(current)
            current = parents.get(current)
        managers[department_id] = heads.get(current, []) if current is not None else []
    return managers


def _digests(rows: Iterable, today: date, managers: dict[int, list[User]]) -> list[Reminder]:
    """Each manager's week: their people's open mandatory trainings, overdue ones first."""
    per_manager: dict[int, tuple[User, list[dict[str, Any]]]] = {}
    for assignment, person, title, _slug in rows:
        if not assignment.mandatory:
            continue
        status = services.status_of(assignment, today)
        for manager in managers.get(person.department_id or -1, []):
            if manager.id == person.id:
                continue
            entry = per_manager.setdefault(manager.id, (manager, []))
            entry[1].append(
                {
                    "person": person.name,
                    "course": title,
                    "due": assignment.due_on.isoformat(),
                    "overdue": status == AssignmentStatus.OVERDUE,
                }
            )
    year, week, _day = today.isocalendar()
    return [
        Reminder(
            manager,
            NotificationKind.DIGEST,
            f"digest:{manager.id}:{year}-W{week:02d}",
            {"items": sorted(items, key=lambda item: (not item["overdue"], item["due"], item["person"]))},
            "/compliance/team",
            optional=True,
        )
        for manager, items in per_manager.values()
    ]


def _summaries(today: date) -> list[Reminder]:
    """HR's month: the mandatory assignments of active people by status, as totals."""
    status = services.status_expression(today)
    counts: dict[str, int] = dict(
        db.session.execute(
            select(status, func.count(Assignment.id))
            .join(User, User.id == Assignment.user_id)
            .where(Assignment.mandatory.is_(True), User.active.is_(True), Assignment.withdrawn_at.is_(None))
            .group_by(status)
        ).all()
    )
    params = {str(key): value for key, value in counts.items()} | {"month": today.strftime("%Y-%m")}
    hr_people = db.session.execute(
        select(User).join(UserRole, UserRole.user_id == User.id).where(UserRole.role == Role.HR, User.active.is_(True))
    ).scalars()
    return [
        Reminder(
            person,
            NotificationKind.SUMMARY,
            f"summary:{person.id}:{today:%Y-%m}",
            params,
            "/compliance/report",
            optional=True,
        )
        for person in hr_people
    ]
