from __future__ import annotations

import secrets

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, func
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
    # No counter and no time: nothing reads them (the attempts themselves are QuizAttempt rows).


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


class QuizAttempt(Model):
    """One submitted attempt at a lesson's quiz (`lesson_id`) or at a course's final check
    (`lesson_id` None): which questions were drawn, what the learner chose, the score. The draw
    itself is not stored before submission: it follows from the attempt's number (see
    lms.learning.attempts). Private to the learner; trainers see only aggregates."""

    __tablename__ = "quiz_attempts"
    __table_args__ = (
        UniqueConstraint("user_id", "course_id", "lesson_key", "number"),
        Index("ix_quiz_attempts_course_lesson", "course_id", "lesson_key"),
    )

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    lesson_key: Mapped[str] = mapped_column(String(120))  # "" for the final check
    number: Mapped[int] = mapped_column(Integer)  # 1, 2, … per learner and quiz
    variant: Mapped[str] = mapped_column(String(40), default="")
    course_version: Mapped[int] = mapped_column(Integer)
    # [{"question": id, "chosen": [answer indexes as written], "right": bool}] in the order asked
    answers: Mapped[list] = mapped_column(JSON)
    score_percent: Mapped[int] = mapped_column(Integer)
    passed: Mapped[bool] = mapped_column(Boolean)
    submitted_at: Mapped[timestamp] = mapped_column(default=utcnow)


class VariantChoice(Model):
    """The variant of a course a learner chose (e.g. Einfache Sprache); remembered per course."""

    __tablename__ = "variant_choices"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True)
    variant: Mapped[str] = mapped_column(String(40))


def _random_key() -> str:
    return secrets.token_hex(16)


class CourseFeedback(Model):
    """One learner's rating of a course, stored without the person (issue 14).

    No user id, no time (only the month), and a random key instead of a counting id: a counting id
    or a timestamp would give the order of the answers, and with it a way back to who answered
    (lined up with the order of `course_feedback_given`, or with completions). Who has answered is
    kept apart in `CourseFeedbackGiven`, which shares neither a key nor a time with this table, so
    the two cannot be joined. Trainers see aggregates only, from PRIVACY_MIN_GROUP_SIZE answers on
    (lms.learning.feedback)."""

    __tablename__ = "course_feedback"

    key: Mapped[str] = mapped_column(String(32), primary_key=True, default=_random_key)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    helpful: Mapped[int] = mapped_column(Integer)  # 1 (not helpful) – 5 (very helpful)
    length: Mapped[str] = mapped_column(String(20))  # a CourseLength
    comment: Mapped[str | None] = mapped_column(Text)
    month: Mapped[str] = mapped_column(String(7))  # YYYY-MM in town time; no day, no time


class CourseFeedbackGiven(Model):
    """That a person has rated a course: refuses a second answer. Nothing else (no time, no
    reference to the answer), so it says nothing about what they answered. In the person's copy of
    their data (lms.privacy.subject_access) and deleted with them."""

    __tablename__ = "course_feedback_given"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True, index=True)


class Certificate(Model):
    """The certificate of one completion (issue 15), with the verification code HR checks it by.

    One per completion, made with it (or, for completions from before, on the first download), so
    the code never changes. The code is stored as it is, not hashed: the learner's PDF shows it
    again at every download, and it opens no more than the name, course and date that HR and
    administrators may see anyway (lms.learning.certificates). The course's title, version and
    competences are kept as they were at completion; the person's name is read when shown. Deleted
    with the completion or the person (ON DELETE CASCADE), e.g. by the retention of people who left.
    """

    __tablename__ = "certificates"

    id: Mapped[intpk]
    completion_id: Mapped[int] = mapped_column(ForeignKey("completions.id", ondelete="CASCADE"), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)  # without "LP-" and hyphens
    course_title: Mapped[str] = mapped_column(String(300))
    course_version: Mapped[int] = mapped_column(Integer)
    # [{"code": "4.1", "title_de": …, "title_en": …, "level": 3}] as the course taught them
    competences: Mapped[list] = mapped_column(JSON)
    issued_at: Mapped[timestamp] = mapped_column(default=utcnow)
    revoked_at: Mapped[timestamp | None]

    completion: Mapped[Completion] = relationship()


class CertificateLookupFailures(Model):
    """Wrong codes a person entered on the verification page since `first_failed_at`: after
    too many the page refuses lookups for a while (lms.learning.certificates), so that codes
    cannot be guessed. Deleted with the person."""

    __tablename__ = "certificate_lookup_failures"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    first_failed_at: Mapped[timestamp] = mapped_column(default=utcnow)
