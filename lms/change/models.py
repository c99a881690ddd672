"""Initiatives of a change ("Vorhaben"): who they are for, when they go live, what people need
to learn for them, and what is said and asked about them."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from markupsafe import Markup
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Integer,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.assignments.models import AssignmentRule
from lms.catalog.models import Course
from lms.common.columns import intpk, str200, timestamp
from lms.common.dates import utcnow
from lms.extensions import Model, db
from lms.i18n import _l
from lms.people.models import Department, JobRole, User
from lms.sessions.models import TrainingSession


class InitiativeStatus(StrEnum):
    """A draft is seen by the change team only; a running initiative assigns its courses and is
    shown to its target group; a closed one stays readable (its assignments stay too)."""

    DRAFT = "draft"
    RUNNING = "running"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return str(_STATUS_LABELS[self])


_STATUS_LABELS = {
    InitiativeStatus.DRAFT: _l("draft"),
    InitiativeStatus.RUNNING: _l("running"),
    InitiativeStatus.CLOSED: _l("closed"),
}

# The target group: people of these departments (with their sub-departments) or with these job roles.
initiative_departments = Table(
    "initiative_departments",
    db.metadata,
    Column("initiative_id", ForeignKey("initiatives.id", ondelete="CASCADE"), primary_key=True),
    Column("department_id", ForeignKey("departments.id", ondelete="CASCADE"), primary_key=True),
)
initiative_job_roles = Table(
    "initiative_job_roles",
    db.metadata,
    Column("initiative_id", ForeignKey("initiatives.id", ondelete="CASCADE"), primary_key=True),
    Column("job_role_id", ForeignKey("job_roles.id", ondelete="CASCADE"), primary_key=True),
)


# The sessions the target group needs (lms.sessions); attending one counts in the readiness view.
initiative_sessions = Table(
    "initiative_sessions",
    db.metadata,
    Column("initiative_id", ForeignKey("initiatives.id", ondelete="CASCADE"), primary_key=True),
    Column("session_id", ForeignKey("training_sessions.id", ondelete="CASCADE"), primary_key=True),
)


class Initiative(Model):
    __tablename__ = "initiatives"

    id: Mapped[intpk]
    title: Mapped[str200]
    description: Mapped[str] = mapped_column(Text, default="")  # Markdown as typed
    description_html: Mapped[str] = mapped_column(Text, default="")  # rendered and sanitised once, on save
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    go_live: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default=InitiativeStatus.DRAFT)
    # Counts the moves of the go-live: each move is told once, under its own number.
    go_live_moves: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[timestamp] = mapped_column(default=utcnow)

    lead: Mapped[User | None] = relationship(foreign_keys=[lead_id])
    departments: Mapped[list[Department]] = relationship(secondary=initiative_departments, order_by=Department.code)
    job_roles: Mapped[list[JobRole]] = relationship(secondary=initiative_job_roles, order_by=JobRole.title)
    phases: Mapped[list[Phase]] = relationship(
        cascade="all, delete-orphan", order_by="Phase.position", back_populates="initiative"
    )
    sessions: Mapped[list[TrainingSession]] = relationship(
        secondary=initiative_sessions, order_by=TrainingSession.starts_at
    )

    @property
    def running(self) -> bool:
        return self.status == InitiativeStatus.RUNNING

    @property
    def status_label(self) -> str:
        return InitiativeStatus(self.status).label

    @property
    def description_markup(self) -> Markup:
        return Markup(self.description_html)  # rendered and sanitised by nh3 when saved (services)


class Phase(Model):
    __tablename__ = "initiative_phases"

    id: Mapped[intpk]
    initiative_id: Mapped[int] = mapped_column(ForeignKey("initiatives.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str200]
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)

    initiative: Mapped[Initiative] = relationship(back_populates="phases")


class LinkedCourse(Model):
    """A course the target group needs, due a number of days before (negative) or after go-live.
    While the initiative runs, each link holds one assignment rule per department and job role of
    the target group (`rules`)."""

    __tablename__ = "initiative_courses"
    __table_args__ = (UniqueConstraint("initiative_id", "course_id"),)

    id: Mapped[intpk]
    initiative_id: Mapped[int] = mapped_column(ForeignKey("initiatives.id", ondelete="CASCADE"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    days: Mapped[int] = mapped_column(Integer)  # relative to go-live: -14 is 14 days before

    course: Mapped[Course] = relationship()
    rules: Mapped[list[AssignmentRule]] = relationship(secondary="initiative_course_rules", order_by=AssignmentRule.id)


initiative_course_rules = Table(
    "initiative_course_rules",
    db.metadata,
    Column("linked_course_id", ForeignKey("initiative_courses.id", ondelete="CASCADE"), primary_key=True),
    Column("rule_id", ForeignKey("assignment_rules.id", ondelete="CASCADE"), primary_key=True),
)


class Announcement(Model):
    """News for the target group, shown on their home page from one day to another."""

    __tablename__ = "initiative_announcements"

    id: Mapped[intpk]
    initiative_id: Mapped[int] = mapped_column(ForeignKey("initiatives.id", ondelete="CASCADE"), index=True)
    title: Mapped[str200]
    body: Mapped[str] = mapped_column(Text, default="")  # Markdown as typed
    body_html: Mapped[str] = mapped_column(Text, default="")  # rendered and sanitised once, on save
    shown_from: Mapped[date] = mapped_column(Date)
    shown_until: Mapped[date] = mapped_column(Date)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[timestamp] = mapped_column(default=utcnow)
    told_at: Mapped[timestamp | None]  # when the target group was told

    initiative: Mapped[Initiative] = relationship()

    @property
    def body_markup(self) -> Markup:
        return Markup(self.body_html)  # rendered and sanitised by nh3 when saved (services)


class Guide(Model):
    """A digital guide ("Digitallotse"): a colleague who helps the people of a department."""

    __tablename__ = "initiative_guides"
    __table_args__ = (UniqueConstraint("initiative_id", "user_id", "department_id"),)

    id: Mapped[intpk]
    initiative_id: Mapped[int] = mapped_column(ForeignKey("initiatives.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id", ondelete="CASCADE"))

    user: Mapped[User] = relationship()
    department: Mapped[Department] = relationship()


class Question(Model):
    """A question about the change. The asker is kept (`user_id`: they see their own questions, and
    it is their data), but never shown to anyone else when they asked without their name."""

    __tablename__ = "initiative_questions"

    id: Mapped[intpk]
    initiative_id: Mapped[int] = mapped_column(ForeignKey("initiatives.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    text: Mapped[str] = mapped_column(Text)
    without_name: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    asked_at: Mapped[timestamp] = mapped_column(default=utcnow)
    answer: Mapped[str] = mapped_column(Text, default="")
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    answered_at: Mapped[timestamp | None]

    asker: Mapped[User | None] = relationship(foreign_keys=[user_id])

    @property
    def shown_asker(self) -> User | None:
        """Whom others see as the asker: nobody when the question was asked without a name."""
        return None if self.without_name else self.asker


# --- pulse surveys (docs/change.md) -----------------------------------------------------------


class SurveyMoment(StrEnum):
    """When in the change a pulse is taken."""

    BEFORE = "before"
    AT = "at"
    AFTER = "after"

    @property
    def label(self) -> str:
        return str(_MOMENT_LABELS[self])


_MOMENT_LABELS = {
    SurveyMoment.BEFORE: _l("before go-live"),
    SurveyMoment.AT: _l("at go-live"),
    SurveyMoment.AFTER: _l("after go-live"),
}


class SurveyStatus(StrEnum):
    """What is stored. Whether an approved survey is open is a matter of its dates
    (`Survey.state`): it opens on `opens_on` and takes answers until `closes_on`."""

    DRAFT = "draft"
    SUBMITTED = "submitted"  # waiting for the staff council
    APPROVED = "approved"
    REFUSED = "refused"  # by the staff council, with a reason; edited, it is a draft again
    CLOSED = "closed"


class SurveyState(StrEnum):
    """What a survey is on a given day, as shown."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    REFUSED = "refused"
    APPROVED = "approved"  # approved, its first day not yet come
    OPEN = "open"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return str(_STATE_LABELS[self])


_STATE_LABELS = {
    SurveyState.DRAFT: _l("draft"),
    SurveyState.SUBMITTED: _l("waiting for the staff council"),
    SurveyState.REFUSED: _l("refused by the staff council"),
    SurveyState.APPROVED: _l("approved, not open yet"),
    SurveyState.OPEN: _l("open"),
    SurveyState.CLOSED: _l("closed"),
}


class Survey(Model):
    """A pulse survey of an initiative's target group: one to three questions answered on a scale
    of 1 to 5, and an optional comment. Staff questionnaires are co-determined: a survey opens only
    after the staff council approved its questions (`decided_by_id`, `decided_at`); changing them
    voids the approval."""

    __tablename__ = "pulse_surveys"

    id: Mapped[intpk]
    initiative_id: Mapped[int] = mapped_column(ForeignKey("initiatives.id", ondelete="CASCADE"), index=True)
    moment: Mapped[str] = mapped_column(String(10))
    questions: Mapped[list[str]] = mapped_column(JSON)  # 1 to 3 texts; the first one is "prepared"
    with_comment: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    opens_on: Mapped[date] = mapped_column(Date)
    closes_on: Mapped[date] = mapped_column(Date)  # the last day answers are taken
    status: Mapped[str] = mapped_column(String(20), default=SurveyStatus.DRAFT)
    submitted_at: Mapped[timestamp | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[timestamp | None]
    refusal_reason: Mapped[str] = mapped_column(Text, default="")
    closed_at: Mapped[timestamp | None]  # raw answers are deleted a retention period after this
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[timestamp] = mapped_column(default=utcnow)

    initiative: Mapped[Initiative] = relationship()
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])

    def state(self, today: date) -> SurveyState:
        if self.status != SurveyStatus.APPROVED:
            return SurveyState(self.status)
        if today < self.opens_on:
            return SurveyState.APPROVED
        return SurveyState.OPEN if today <= self.closes_on else SurveyState.CLOSED

    def is_open(self, today: date) -> bool:
        return self.state(today) == SurveyState.OPEN

    @property
    def moment_label(self) -> str:
        return SurveyMoment(self.moment).label


class PulseAnswer(Model):
    """One answer to one question, anonymous by construction: no person, no time, and a random
    key, so that neither a column nor the order of the keys ties answers to each other, to a
    moment or to the participation list. The department is the answerer's at answering time."""

    __tablename__ = "pulse_answers"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # uuid4 hex: random, tells no order
    survey_id: Mapped[int] = mapped_column(ForeignKey("pulse_surveys.id", ondelete="CASCADE"), index=True)
    question: Mapped[int] = mapped_column(SmallInteger)  # 0, 1 or 2
    value: Mapped[int] = mapped_column(SmallInteger)  # 1 to 5
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id", ondelete="SET NULL"))


class PulseComment(Model):
    """A comment given with a pulse answer: kept apart from the answers (no key joins them)."""

    __tablename__ = "pulse_comments"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # uuid4 hex, as above
    survey_id: Mapped[int] = mapped_column(ForeignKey("pulse_surveys.id", ondelete="CASCADE"), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)


class PulseParticipation(Model):
    """Who has answered a survey, only to refuse a second answer: no time, no link to the
    answers; deleted when the survey closes."""

    __tablename__ = "pulse_participation"

    survey_id: Mapped[int] = mapped_column(ForeignKey("pulse_surveys.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)


class PulseResult(Model):
    """A closed survey's figures for one group (`department_id` 0: the whole target group; else a
    department with its sub-departments), stored already protected: counts NULL where the figure
    may not be shown. They outlive the raw answers (for the readiness trend)."""

    __tablename__ = "pulse_results"
    __table_args__ = (UniqueConstraint("survey_id", "department_id"),)

    id: Mapped[intpk]
    survey_id: Mapped[int] = mapped_column(ForeignKey("pulse_surveys.id", ondelete="CASCADE"), index=True)
    department_id: Mapped[int] = mapped_column(Integer, default=0)  # 0: the whole target group
    answers: Mapped[int | None] = mapped_column(Integer)
    prepared: Mapped[int | None] = mapped_column(Integer)  # 4 or 5 on the first question
    sums: Mapped[list[int] | None] = mapped_column(JSON)  # per question, the sum of the values


class ReadinessSnapshot(Model):
    """A week's readiness of one group of an initiative's target group (`department_id` 0: all),
    stored already protected: counts NULL where the share may not be shown."""

    __tablename__ = "readiness_snapshots"
    __table_args__ = (UniqueConstraint("initiative_id", "department_id", "week"),)

    id: Mapped[intpk]
    initiative_id: Mapped[int] = mapped_column(ForeignKey("initiatives.id", ondelete="CASCADE"), index=True)
    department_id: Mapped[int] = mapped_column(Integer, default=0)
    week: Mapped[str] = mapped_column(String(8))  # ISO week, 2026-W48
    people: Mapped[int | None] = mapped_column(Integer)
    completed: Mapped[int | None] = mapped_column(Integer)
    taken_at: Mapped[timestamp] = mapped_column(default=utcnow)
