from __future__ import annotations

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.catalog.models import Course
from lms.common.columns import intpk, timestamp
from lms.common.dates import utcnow
from lms.extensions import Model


class Enrollment(Model):
    """A learner has started a course (first lesson done or first question answered)."""

    __tablename__ = "enrollments"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True, index=True)
    started_at: Mapped[timestamp] = mapped_column(default=utcnow, server_default=func.now())
    last_activity_at: Mapped[timestamp] = mapped_column(default=utcnow, server_default=func.now())

    course: Mapped[Course] = relationship()


class LessonProgress(Model):
    __tablename__ = "lesson_progress"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lessons.id", ondelete="CASCADE"), primary_key=True, index=True)
    completed_at: Mapped[timestamp] = mapped_column(default=utcnow)


class QuizResponse(Model):
    """The learner's latest answer to a question. Private to the learner: nobody else sees it."""

    __tablename__ = "quiz_responses"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    question_id: Mapped[int] = mapped_column(
        ForeignKey("quiz_questions.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    chosen: Mapped[list] = mapped_column(JSON)
    is_correct: Mapped[bool] = mapped_column(Boolean)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    answered_at: Mapped[timestamp] = mapped_column(default=utcnow)


class Completion(Model):
    """A passed course, with the course version it was earned on. Kept when the course changes.

    `sequence` numbers a learner's completions of one course (recertification adds the next);
    the unique constraint turns a double submit into one completion.
    """

    __tablename__ = "completions"
    __table_args__ = (UniqueConstraint("user_id", "course_id", "sequence"),)

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    sequence: Mapped[int] = mapped_column(Integer, default=1)
    course_version: Mapped[int] = mapped_column(Integer)
    completed_at: Mapped[timestamp] = mapped_column(default=utcnow)
    score_percent: Mapped[int] = mapped_column(Integer)  # the learner's own; never shown to others
    expires_at: Mapped[timestamp | None]

    course: Mapped[Course] = relationship()
