"""Pulse surveys of an initiative's target group (docs/change.md).

- The change team writes a survey (one to three questions on a scale of 1 to 5, optionally a
  comment) and submits it; the staff council approves or refuses it, with a reason (staff
  questionnaires are co-determined). Changing the questions or the comment option voids a decision.
- An approved survey is open from `opens_on` to `closes_on`. Each person of the target group
  answers once: `pulse_participation` says who answered, only to refuse a second answer, and is
  deleted when the survey closes. The answers carry the survey, the question, the value and the
  answerer's department, nothing else (no person, no time; random keys that tell no order).
- Results per department (with its sub-departments) and for the whole target group go through
  lms.common.disclosure with the survey minimum (`PRIVACY_SURVEY_MIN_GROUP_SIZE`): the cells'
  members are synthetic ids, one per answerer (their answer to the first question), which
  partition the answers by department exactly as people would. "Prepared" is a 4 or a 5 on the
  first question. Comments only for the whole target group, from the minimum on, in random order.
- Closing stores the results already protected (`pulse_results`); the raw answers go a retention
  period later (lms/change/retention.py).

Functions flush; the caller commits.
"""

from __future__ import annotations

import random
import uuid
from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import delete, exists, func, insert, select
from sqlalchemy.orm import joinedload

from lms.change.models import (
    Initiative,
    PulseAnswer,
    PulseComment,
    PulseParticipation,
    PulseResult,
    Survey,
    SurveyMoment,
    SurveyState,
    SurveyStatus,
)
from lms.change.services import target_group
from lms.common import disclosure
from lms.common.dates import utcnow
from lms.common.disclosure import exact_share_from, survey_min_group_size
from lms.common.errors import ValidationFailed
from lms.common.text import has_control_characters, note_problem
from lms.common.vocabulary import Role
from lms.extensions import db
from lms.i18n import _
from lms.notifications import services as notifications
from lms.notifications.models import NotificationKind
from lms.people.models import Department, User, UserRole
from lms.people.services import department_tree, departments_above, descendant_ids

MAX_QUESTIONS = 3
MAX_QUESTION_TEXT = 300
MAX_REASON = 2000
MAX_COMMENT = 1000
SCALE = range(1, 6)
PREPARED_FROM = 4  # 4 or 5 on the first question counts as "feels prepared"
TOTAL = 0  # the key of the whole target group among the department ids


# --- writing and deciding -----------------------------------------------------------------


@dataclass
class SurveyData:
    moment: str | None
    questions: list[str]  # as typed, blank ones skipped
    with_comment: bool
    opens_on: date | None
    closes_on: date | None


class NotEditable(Exception):
    """An open or closed survey keeps its questions: answers were given to them."""


def editable(survey: Survey, today: date) -> bool:
    return survey.state(today) not in (SurveyState.OPEN, SurveyState.CLOSED)


def _check(data: SurveyData, today: date) -> dict[str, str]:
    errors: dict[str, str] = {}
    if data.moment not in set(SurveyMoment):
        errors["moment"] = _("Choose when the survey is taken.")
    questions = [q.strip() for q in data.questions if q.strip()]
    if not questions:
        errors["question_1"] = _("Enter at least one question.")
    for index, text in enumerate(data.questions[:MAX_QUESTIONS]):
        name = f"question_{index + 1}"
        if len(text.strip()) > MAX_QUESTION_TEXT:
            errors[name] = _("Keep the question to at most %(max)d characters.", max=MAX_QUESTION_TEXT)
        elif has_control_characters(text.strip()):
            errors[name] = _("A question cannot contain tabs, line breaks or other control characters.")
    if data.opens_on is None:
        errors["opens_on"] = _("Enter the first day of the survey.")
    if data.closes_on is None:
        errors["closes_on"] = _("Enter the last day of the survey.")
    elif data.opens_on is not None and data.closes_on < data.opens_on:
        errors["closes_on"] = _("The survey cannot end before it starts.")
    elif data.closes_on < today:
        errors["closes_on"] = _("The last day lies in the past: nobody could answer.")
    return errors


def save_survey(actor: User, initiative: Initiative, survey: Survey | None, data: SurveyData, today: date) -> Survey:
    """Create or change a survey. Changed questions (or comment option) void the staff council's
    decision: the survey is a draft again. Raises ValidationFailed, NotEditable."""
    if survey is not None and not editable(survey, today):
        raise NotEditable
    errors = _check(data, today)
    if errors:
        raise ValidationFailed(errors)
    assert data.opens_on is not None and data.closes_on is not None
    questions = [q.strip() for q in data.questions[:MAX_QUESTIONS] if q.strip()]
    if survey is None:
        survey = Survey(initiative_id=initiative.id, created_by_id=actor.id, status=SurveyStatus.DRAFT)
        db.session.add(survey)
    elif survey.questions != questions or survey.with_comment != data.with_comment:
        _void_decision(survey)
    survey.moment = str(data.moment)
    survey.questions = questions
    survey.with_comment = data.with_comment
    survey.opens_on, survey.closes_on = data.opens_on, data.closes_on
    db.session.flush()
    return survey


def _void_decision(survey: Survey) -> None:
    survey.status = SurveyStatus.DRAFT
    survey.submitted_at = survey.decided_at = survey.decided_by_id = None
    survey.refusal_reason = ""


def submit(survey: Survey) -> int:
    """Ask the staff council to approve the questions; each member is told in the app. Answers
    how many were told."""
    if survey.status not in (SurveyStatus.DRAFT, SurveyStatus.REFUSED):
        return 0
    survey.status = SurveyStatus.SUBMITTED
    survey.submitted_at = utcnow()
    survey.refusal_reason = ""
    survey.decided_at = survey.decided_by_id = None
    db.session.flush()
    council = db.session.execute(
        select(User).where(
            User.active.is_(True),
            exists().where(UserRole.user_id == User.id, UserRole.role == Role.STAFF_COUNCIL),
        )
    ).scalars()
    notices = [
        notifications.Notice(
            user=member,
            kind=NotificationKind.SURVEY_TO_APPROVE,
            params={"initiative": survey.initiative.title},
            link="/change/surveys/approval",
            dedupe_key=f"survey:{survey.id}:submitted:{survey.submitted_at.isoformat()}:{member.id}",
        )
        for member in council
    ]
    return len(notifications.notify_many(notices))


def _decider(actor: User, survey: Survey) -> None:
    if not actor.has_role(Role.STAFF_COUNCIL):
        raise PermissionError("only the staff council decides on a survey")
    if survey.status != SurveyStatus.SUBMITTED:
        raise ValidationFailed({"reason": _("This survey is not waiting for a decision.")})


def approve(survey: Survey, actor: User) -> None:
    """The staff council approves the questions (who and when are kept on the survey)."""
    _decider(actor, survey)
    survey.status = SurveyStatus.APPROVED
    survey.decided_by_id, survey.decided_at = actor.id, utcnow()
    db.session.flush()


def refuse(survey: Survey, actor: User, reason: str) -> None:
    """The staff council refuses, saying why; the change team may change the survey and submit it again."""
    _decider(actor, survey)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed({"reason": _("Say why the survey is refused, so that it can be changed.")})
    if problem := note_problem(reason, MAX_REASON):
        raise ValidationFailed({"reason": problem})
    survey.status = SurveyStatus.REFUSED
    survey.decided_by_id, survey.decided_at, survey.refusal_reason = actor.id, utcnow(), reason
    db.session.flush()


def close(survey: Survey, now: datetime | None = None) -> None:
    """Close a survey: its results are stored protected, and who answered is forgotten."""
    if survey.status == SurveyStatus.CLOSED:
        return
    if survey.status == SurveyStatus.APPROVED:
        _store_results(survey)
    survey.status = SurveyStatus.CLOSED
    survey.closed_at = now or utcnow()
    db.session.execute(delete(PulseParticipation).where(PulseParticipation.survey_id == survey.id))
    db.session.flush()


def close_due(today: date) -> int:
    """Close every survey whose last day has passed (the daily job). Answers how many."""
    due = db.session.execute(
        select(Survey)
        .options(joinedload(Survey.initiative))
        .where(Survey.status == SurveyStatus.APPROVED, Survey.closes_on < today)
    ).scalars()
    closed = 0
    for survey in due.all():
        close(survey)
        closed += 1
    return closed


# --- lists ----------------------------------------------------------------------------------


def surveys_of(initiative: Initiative) -> list[Survey]:
    return list(
        db.session.execute(
            select(Survey)
            .options(joinedload(Survey.decided_by))
            .where(Survey.initiative_id == initiative.id)
            .order_by(Survey.opens_on, Survey.id)
        ).scalars()
    )


def awaiting_approval() -> list[Survey]:
    return list(
        db.session.execute(
            select(Survey)
            .options(joinedload(Survey.initiative))
            .where(Survey.status == SurveyStatus.SUBMITTED)
            .order_by(Survey.submitted_at, Survey.id)
        ).scalars()
    )


def open_for(initiative: Initiative, user: User, today: date) -> list[tuple[Survey, bool]]:
    """The initiative's open surveys, each with whether the person has answered it (one statement)."""
    answered = exists().where(PulseParticipation.survey_id == Survey.id, PulseParticipation.user_id == user.id)
    rows = db.session.execute(
        select(Survey, answered)
        .where(
            Survey.initiative_id == initiative.id,
            Survey.status == SurveyStatus.APPROVED,
            Survey.opens_on <= today,
            Survey.closes_on >= today,
        )
        .order_by(Survey.closes_on, Survey.id)
    ).all()
    return [(survey, bool(done)) for survey, done in rows]


# --- answering ------------------------------------------------------------------------------


class AlreadyAnswered(Exception):
    """Each person answers a survey once."""


def has_answered(survey: Survey, user: User) -> bool:
    return bool(
        db.session.scalar(
            select(func.count())
            .select_from(PulseParticipation)
            .where(PulseParticipation.survey_id == survey.id, PulseParticipation.user_id == user.id)
        )
    )


def answer(survey: Survey, user: User, values: Sequence[int | None], comment: str, today: date) -> None:
    """Store one person's answers, anonymously. Raises ValidationFailed (a missing value, a too
    long comment, the survey not open, the person not in the target group), AlreadyAnswered."""
    if not survey.is_open(today) or not _in_target_group(survey.initiative, user):
        raise ValidationFailed({"value_0": _("This survey is not open for you.")})
    errors = {
        f"value_{index}": _("Choose a value from 1 to 5.")
        for index in range(len(survey.questions))
        if index >= len(values) or values[index] not in SCALE
    }
    comment = (comment or "").strip() if survey.with_comment else ""
    if comment and (problem := note_problem(comment, MAX_COMMENT)):
        errors["comment"] = problem
    if errors:
        raise ValidationFailed(errors)
    if has_answered(survey, user):
        raise AlreadyAnswered
    # The primary key refuses a second answer sent at the same moment (IntegrityError at flush).
    db.session.add(PulseParticipation(survey_id=survey.id, user_id=user.id))
    db.session.flush()
    department_id = user.department_id  # where they work now; nothing else about them is kept
    rows = [
        {
            "id": uuid.uuid4().hex,
            "survey_id": survey.id,
            "question": index,
            "value": values[index],
            "department_id": department_id,
        }
        for index in range(len(survey.questions))
    ]
    db.session.execute(insert(PulseAnswer), rows)
    if comment:
        db.session.add(
            PulseComment(id=uuid.uuid4().hex, survey_id=survey.id, department_id=department_id, text=comment)
        )
    db.session.flush()


def _in_target_group(initiative: Initiative, user: User) -> bool:
    return bool(db.session.scalar(select(target_group(initiative).where(User.id == user.id).exists())))


# --- results --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PulseFigure:
    """A group's answers to a survey, as they may be shown."""

    answers: int
    prepared: int
    sums: tuple[int, ...]
    minimum: int
    exact_from: int
    withheld: bool = False

    @property
    def view(self) -> disclosure.Share:
        return disclosure.share(self.prepared, self.answers, self.minimum, self.exact_from, self.withheld)

    @property
    def means(self) -> list[float | None]:
        """Mean per question, only where the share is exact (a small group's mean of 5.0 would
        tell that everyone answered 5)."""
        if not self.view.exact:
            return [None] * len(self.sums)
        return [round(total / self.answers, 1) for total in self.sums]


@dataclass
class ResultRow:
    department: Department
    depth: int
    figure: PulseFigure


@dataclass
class SurveyResults:
    survey: Survey
    total: PulseFigure
    rows: list[ResultRow]
    comments: list[str] | None  # None: not shown (fewer answers than the minimum)
    minimum: int
    by_department: dict[int, PulseFigure] = field(default_factory=dict)


def row_scope(initiative: Initiative) -> set[int] | None:
    """Departments that may be rows: those of the target group with their sub-departments; every
    department when the target group is (also) given by job roles (None)."""
    if initiative.job_roles or not initiative.departments:
        return None
    return descendant_ids([d.id for d in initiative.departments])


def chains(tree: list, scope: set[int] | None) -> dict[int | None, list[int]]:
    """Department id → the rows it counts in: itself and the departments above it, within `scope`."""
    parent_of = {node.department.id: node.department.parent_id for node in tree}
    result: dict[int | None, list[int]] = {None: []}
    for department_id in parent_of:
        result[department_id] = [d for d in departments_above(department_id, parent_of) if scope is None or d in scope]
    return result


def protect_groups(members: Mapping[int, frozenset[int]], minimum: int) -> set[Hashable]:
    """The keys to withhold among one table's groups (`TOTAL` is the whole, kept longest)."""
    cells = [disclosure.Cell(key, people, keep=key == TOTAL) for key, people in members.items()]
    return disclosure.protect(cells, minimum)


def survey_results(survey: Survey, *, with_comments: bool = True) -> SurveyResults:
    """The survey's figures: stored ones once it is closed, else from the answers. A fixed number
    of statements."""
    if survey.status == SurveyStatus.CLOSED:
        stored = db.session.execute(select(PulseResult).where(PulseResult.survey_id == survey.id)).scalars().all()
        return _results(survey, _stored_figures(survey, stored), with_comments)
    return _results(survey, _live_figures(survey), with_comments)


def _live_figures(survey: Survey) -> dict[int, PulseFigure]:
    """Group key (TOTAL or a department id) → figure, protected together."""
    minimum, exact_from = survey_min_group_size(), exact_share_from()
    answers = db.session.execute(
        select(PulseAnswer.department_id, PulseAnswer.question, PulseAnswer.value).where(
            PulseAnswer.survey_id == survey.id
        )
    ).all()
    tree = department_tree(include_inactive=True) if answers else []
    chain = chains(tree, row_scope(survey.initiative))
    members: dict[int, set[int]] = defaultdict(set)
    prepared: dict[int, int] = defaultdict(int)
    sums: dict[int, list[int]] = defaultdict(lambda: [0] * len(survey.questions))
    answerer = 0  # a synthetic id per answer to the first question: one per person who answered
    for department_id, question, value in answers:
        groups = [TOTAL, *chain.get(department_id, [])]
        for key in groups:
            if question < len(survey.questions):
                sums[key][question] += value
        if question != 0:
            continue
        answerer += 1
        for key in groups:
            members[key].add(answerer)
            prepared[key] += value >= PREPARED_FROM
    withheld = protect_groups({key: frozenset(ids) for key, ids in members.items()}, minimum)
    return {
        key: PulseFigure(
            len(ids), prepared[key], tuple(sums[key]), minimum, exact_from, key in withheld and len(ids) >= minimum
        )
        for key, ids in members.items()
    }


def _stored_figures(survey: Survey, stored: Iterable[PulseResult]) -> dict[int, PulseFigure]:
    minimum, exact_from = survey_min_group_size(), exact_share_from()
    figures = {}
    for row in stored:
        shown = row.answers is not None
        figures[row.department_id] = PulseFigure(
            row.answers or 0,
            row.prepared or 0,
            tuple(row.sums or [0] * len(survey.questions)),
            minimum,
            exact_from,
            withheld=not shown,
        )
    return figures


def _results(survey: Survey, figures: dict[int, PulseFigure], with_comments: bool) -> SurveyResults:
    minimum, exact_from = survey_min_group_size(), exact_share_from()
    total = figures.get(TOTAL) or PulseFigure(0, 0, (0,) * len(survey.questions), minimum, exact_from)
    rows = []
    if len(figures) > 1:
        for node in department_tree(include_inactive=True):
            if node.department.id in figures:
                rows.append(ResultRow(node.department, node.depth, figures[node.department.id]))
    comments = None
    if with_comments and total.view.shown and total.answers >= minimum:
        comments = list(
            db.session.execute(select(PulseComment.text).where(PulseComment.survey_id == survey.id)).scalars()
        )
        random.SystemRandom().shuffle(comments)  # no order to read anything from
    by_department = {key: figure for key, figure in figures.items() if key != TOTAL}
    return SurveyResults(survey, total, rows, comments, minimum, by_department)


def _store_results(survey: Survey) -> None:
    """The closing survey's figures, stored already protected (counts NULL where not shown)."""
    figures = _live_figures(survey)
    db.session.execute(delete(PulseResult).where(PulseResult.survey_id == survey.id))
    rows = [
        {
            "survey_id": survey.id,
            "department_id": key,
            "answers": figure.answers if figure.view.shown else None,
            "prepared": figure.prepared if figure.view.shown else None,
            "sums": list(figure.sums) if figure.view.exact else None,  # means only for exact figures
        }
        for key, figure in figures.items()
    ]
    if rows:
        db.session.execute(insert(PulseResult), rows)
