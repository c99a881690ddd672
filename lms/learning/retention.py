"""Retention of learners' answers (lms/common/retention.py): a course's quiz answers and attempts
go a while after the learner completed it. Completions, progress and certificates stay."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, delete, func, select

from lms.catalog.models import Lesson, QuizQuestion
from lms.common.retention import RetentionRule, delete_rows
from lms.extensions import db
from lms.learning.models import Completion, QuizAttempt, QuizResponse


def _completed_before(cutoff: datetime, user_id, course_id) -> ColumnElement[bool]:
    """The learner's latest completion of the course is older than the cutoff."""
    return (
        select(func.max(Completion.completed_at))
        .where(Completion.user_id == user_id, Completion.course_id == course_id)
        .correlate_except(Completion)  # the outer row may sit two levels up
        .scalar_subquery()
        < cutoff
    )


def _old_attempts(cutoff: datetime) -> ColumnElement[bool]:
    return _completed_before(cutoff, QuizAttempt.user_id, QuizAttempt.course_id)


def _old_responses(cutoff: datetime) -> ColumnElement[bool]:
    course_of_question = (
        select(Lesson.course_id)
        .join(QuizQuestion, QuizQuestion.lesson_id == Lesson.id)
        .where(QuizQuestion.id == QuizResponse.question_id)
        .correlate_except(Lesson, QuizQuestion)
        .scalar_subquery()
    )
    return _completed_before(cutoff, QuizResponse.user_id, course_of_question)


def count(cutoff: datetime) -> int:
    attempts = db.session.scalar(select(func.count()).select_from(QuizAttempt).where(_old_attempts(cutoff))) or 0
    responses = db.session.scalar(select(func.count()).select_from(QuizResponse).where(_old_responses(cutoff))) or 0
    return attempts + responses


def purge(cutoff: datetime) -> int:
    attempts = delete_rows(delete(QuizAttempt).where(_old_attempts(cutoff)))
    responses = delete_rows(delete(QuizResponse).where(_old_responses(cutoff)))
    return attempts + responses


RULES = (RetentionRule("quiz_answers", count, purge),)
