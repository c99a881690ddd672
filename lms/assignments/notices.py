"""Telling people about their assignments, at once: in the app and by mail, each occasion once.

The keys name the occasion (`assignment:<id>:assigned`, `assignment:<id>:completed`), so telling
twice — a retried request, a sync after the immediate notice — sends nothing new.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from lms.assignments.models import Assignment
from lms.catalog.models import Course
from lms.extensions import db
from lms.notifications import services as notifications
from lms.notifications.models import NotificationKind
from lms.people.models import User


def _with_people_and_courses(assignments: Iterable[Assignment]) -> list[tuple[Assignment, User, Course]]:
    """The assignments with their person and course, loaded in two queries for all of them."""
    assignments = list(assignments)
    people = {
        u.id: u
        for u in db.session.execute(select(User).where(User.id.in_({a.user_id for a in assignments} or {-1}))).scalars()
    }
    courses = {
        c.id: c
        for c in db.session.execute(
            select(Course).where(Course.id.in_({a.course_id for a in assignments} or {-1}))
        ).scalars()
    }
    return [(a, people[a.user_id], courses[a.course_id]) for a in assignments]


def tell_assigned(assignments: Iterable[Assignment]) -> int:
    """Tell each person about their new assignment (a recertification as such), with the due date
    and the reason. Answers how many were told now."""
    told = 0
    for assignment, person, course in _with_people_and_courses(assignments):
        kind = NotificationKind.RECERTIFICATION if assignment.recertification else NotificationKind.ASSIGNED
        params = {"course": course.title, "due": assignment.due_on, "mandatory": assignment.mandatory}
        if assignment.reason and kind == NotificationKind.ASSIGNED:
            params["reason"] = assignment.reason
        told += notifications.notify(
            person, kind, params, f"/courses/{course.slug}/", dedupe_key=f"assignment:{assignment.id}:assigned"
        )
    return told


def tell_completed(assignments: Iterable[Assignment]) -> int:
    """Tell each person that an assignment is done (it leaves their manager's open list too)."""
    told = 0
    for assignment, person, course in _with_people_and_courses(assignments):
        params = {"course": course.title, "mandatory": assignment.mandatory}
        told += notifications.notify(
            person,
            NotificationKind.COMPLETED,
            params,
            f"/courses/{course.slug}/",
            dedupe_key=f"assignment:{assignment.id}:completed",
        )
    return told
