"""Retention of pulse answers (lms/common/retention.py): the raw answers and comments of a survey
go a while after it closed. Its protected results per department (`pulse_results`) stay, for the
readiness trend; they name nobody. Who answered (`pulse_participation`) is gone already: it is
deleted when the survey closes (lms.change.surveys.close)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, delete, func, select

from lms.change.models import PulseAnswer, PulseComment, Survey, SurveyStatus
from lms.common.retention import RetentionRule, delete_rows
from lms.extensions import db


def _of_surveys_closed_before(survey_id, cutoff: datetime) -> ColumnElement[bool]:
    return survey_id.in_(select(Survey.id).where(Survey.status == SurveyStatus.CLOSED, Survey.closed_at < cutoff))


def count(cutoff: datetime) -> int:
    answers = (
        select(func.count()).select_from(PulseAnswer).where(_of_surveys_closed_before(PulseAnswer.survey_id, cutoff))
    )
    comments = (
        select(func.count()).select_from(PulseComment).where(_of_surveys_closed_before(PulseComment.survey_id, cutoff))
    )
    return (db.session.scalar(answers) or 0) + (db.session.scalar(comments) or 0)


def purge(cutoff: datetime) -> int:
    removed = delete_rows(delete(PulseAnswer).where(_of_surveys_closed_before(PulseAnswer.survey_id, cutoff)))
    return removed + delete_rows(delete(PulseComment).where(_of_surveys_closed_before(PulseComment.survey_id, cutoff)))


RULES = (RetentionRule("pulse_answers", count, purge),)
