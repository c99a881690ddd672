from __future__ import annotations

from datetime import date

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.catalog.models import Course
from lms.common.columns import intpk, timestamp
from lms.common.dates import utcnow
from lms.extensions import Model
from lms.learning.models import Completion
from lms.people.models import Department, JobRole, User


class AssignmentRule(Model):
    """ "Everyone in <scope> must complete <course> by <due>": kept, so that people who join the
    scope later are assigned too. A rule for one person is a rule as well (one code path)."""

    __tablename__ = "assignment_rules"

    id: Mapped[intpk]
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    scope: Mapped[str] = mapped_column(String(20))  # AssignmentScope
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id", ondelete="CASCADE"), index=True)
    job_role_id: Mapped[int | None] = mapped_column(ForeignKey("job_roles.id", ondelete="CASCADE"), index=True)
    due_kind: Mapped[str] = mapped_column(String(30))  # DueKind
    due_date: Mapped[date | None] = mapped_column(Date)
    due_days: Mapped[int | None] = mapped_column(Integer)
    mandatory: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str] = mapped_column(String(500), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[timestamp] = mapped_column(default=utcnow)
    active: Mapped[bool] = mapped_column(Boolean, default=True)  # an ended rule adds nobody

    course: Mapped[Course] = relationship()
    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
    department: Mapped[Department | None] = relationship()
    job_role: Mapped[JobRole | None] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])


class Assignment(Model):
    """One person's duty to complete one course by a date.

    At most one open assignment per person and course: `open_key` is "<user>:<course>" while the
    assignment is open and NULL once it is closed (completed, exempted or withdrawn), and it is
    unique — NULLs never clash, on SQLite and PostgreSQL alike.
    """

    __tablename__ = "assignments"
    __table_args__ = (UniqueConstraint("open_key"),)

    id: Mapped[intpk]
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("assignment_rules.id", ondelete="SET NULL"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    recertification: Mapped[bool] = mapped_column(Boolean, default=False)  # created ahead of an expiry
    assigned_at: Mapped[timestamp] = mapped_column(default=utcnow)
    due_on: Mapped[date] = mapped_column(Date, index=True)
    mandatory: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str] = mapped_column(String(500), default="")
    open_key: Mapped[str | None] = mapped_column(String(40))
    completion_id: Mapped[int | None] = mapped_column(ForeignKey("completions.id", ondelete="SET NULL"))
    completed_at: Mapped[timestamp | None]
    exempted_at: Mapped[timestamp | None]
    exempted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    exemption_reason: Mapped[str] = mapped_column(String(500), default="")
    withdrawn_at: Mapped[timestamp | None]

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    course: Mapped[Course] = relationship()
    rule: Mapped[AssignmentRule | None] = relationship()
    completion: Mapped[Completion | None] = relationship()

    @property
    def closed(self) -> bool:
        return self.open_key is None


class CalendarFeed(Model):
    """A person's private iCalendar feed of their deadlines: only the token's hash is stored; a
    renewed token makes the old address stop working."""

    __tablename__ = "calendar_feeds"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[timestamp] = mapped_column(default=utcnow)
