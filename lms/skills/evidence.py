"""Evidence of competence and the rule that turns it into a current level.

Verified evidence: a valid course completion (at the level the course teaches) and a level
confirmed by the person's manager, for LMS_CONFIRMATION_VALID_MONTHS from the day it was confirmed
and unless HR withdrew it (an objection alone does not stop it counting). A self-assessment is
evidence too, but never verified: it is shown beside the current level and never raises it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import or_, select

from lms.catalog.models import Course, CourseCompetence
from lms.common.dates import add_months, as_utc, utcnow
from lms.common.vocabulary import EvidenceType
from lms.extensions import db
from lms.learning.models import Completion
from lms.skills.models import Assessment, SelfAssessment

COURSE, ASSESSMENT, SELF = "course", "assessment", "self"


@dataclass(frozen=True)
class Evidence:
    user_id: int
    competence_id: int
    level: int
    source: str  # course, assessment, self
    date: datetime
    label: str = ""  # the course title, or who assessed
    note: str = ""
    expires_at: datetime | None = None
    course_id: int | None = None  # of a completion
    evidence_type: str = ""  # of a confirmed level (an EvidenceType)

    @property
    def evidence_type_label(self) -> str:
        return EvidenceType(self.evidence_type).label if self.evidence_type in set(EvidenceType) else ""

    @property
    def verified(self) -> bool:
        return self.source != SELF

    def expired(self, now: datetime | None = None) -> bool:
        return self.expires_at is not None and as_utc(self.expires_at) <= (now or utcnow())


def current_level(
    evidence: Iterable[Evidence], now: datetime | None = None, shown_within_months: int | None = None
) -> int:
    """The highest level among valid verified evidence; 0 when there is none.

    Expired completions do not count. With `shown_within_months` (a target that must be shown
    again every N months), evidence older than that does not count either.
    """
    now = now or utcnow()
    levels = [
        item.level
        for item in evidence
        if item.verified
        and not item.expired(now)
        and (shown_within_months is None or add_months(as_utc(item.date), shown_within_months) > now)
    ]
    return max(levels, default=0)


def latest_self_level(evidence: Iterable[Evidence]) -> int | None:
    own = [item for item in evidence if item.source == SELF]
    return max(own, key=lambda item: as_utc(item.date)).level if own else None


def confirmation_expires_on(assessed_on: date, valid_months: int | None = None) -> date:
    """The first day on which a level confirmed on `assessed_on` no longer counts."""
    months = valid_months or current_app.config["CONFIRMATION_VALID_MONTHS"]
    return add_months(assessed_on, months)  # type: ignore[arg-type]


def _confirmations_as_evidence(rows) -> Iterable[Evidence]:
    """Confirmed levels as evidence: dated noon UTC of their day (the same day in any town),
    expiring at the start of their expiry day in the town."""
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    months = current_app.config["CONFIRMATION_VALID_MONTHS"]
    for user_id, competence_id, level, assessed_on, note, evidence_type in rows:
        yield Evidence(
            user_id,
            competence_id,
            level,
            ASSESSMENT,
            datetime.combine(assessed_on, time(12), tzinfo=UTC),
            note=note,
            expires_at=datetime.combine(confirmation_expires_on(assessed_on, months), time.min, tzinfo=zone),
            evidence_type=evidence_type,
        )


EvidenceMap = dict[int, dict[int, list[Evidence]]]  # user id → competence id → evidence


def evidence_for(
    user_ids: Iterable[int], competence_ids: Iterable[int] | None = None, *, viewer_id: int | None
) -> EvidenceMap:
    """All evidence of these people as `viewer_id` may see it (None: a figure for nobody in
    particular), in three statements however many people there are."""
    user_ids = list(user_ids)
    result: EvidenceMap = defaultdict(lambda: defaultdict(list))
    if not user_ids:
        return result
    wanted = list(competence_ids) if competence_ids is not None else None

    completions = (
        select(
            Completion.user_id,
            CourseCompetence.competence_id,
            CourseCompetence.level,
            Completion.completed_at,
            Completion.expires_at,
            Course.title,
            Completion.course_id,
        )
        .join(CourseCompetence, CourseCompetence.course_id == Completion.course_id)
        .join(Course, Course.id == Completion.course_id)
        .where(Completion.user_id.in_(user_ids))
    )
    # Plain columns, not ORM objects: the matrix export reads tens of thousands of rows.
    # A confirmation HR withdrew is no evidence; an expired one is, shown as expired.
    assessments = select(
        Assessment.user_id,
        Assessment.competence_id,
        Assessment.level,
        Assessment.assessed_on,
        Assessment.note,
        Assessment.evidence_type,
    ).where(Assessment.user_id.in_(user_ids), Assessment.withdrawn_on.is_(None))
    # A self-assessment is the person's own: others see it only while it is shared.
    self_assessments = select(
        SelfAssessment.user_id, SelfAssessment.competence_id, SelfAssessment.level, SelfAssessment.assessed_at
    ).where(
        SelfAssessment.user_id.in_(user_ids),
        or_(SelfAssessment.user_id == (viewer_id or -1), SelfAssessment.shared.is_(True)),
    )
    if wanted is not None:
        completions = completions.where(CourseCompetence.competence_id.in_(wanted))
        assessments = assessments.where(Assessment.competence_id.in_(wanted))
        self_assessments = self_assessments.where(SelfAssessment.competence_id.in_(wanted))

    # Every moment aware (SQLite hands back naive UTC): evidence of all sources sorts together.
    for user_id, competence_id, level, completed_at, expires_at, title, course_id in db.session.execute(completions):
        result[user_id][competence_id].append(
            Evidence(
                user_id,
                competence_id,
                level,
                COURSE,
                as_utc(completed_at),
                title,
                expires_at=as_utc(expires_at),
                course_id=course_id,
            )
        )
    for item in _confirmations_as_evidence(db.session.execute(assessments)):
        result[item.user_id][item.competence_id].append(item)
    for user_id, competence_id, level, assessed_at in db.session.execute(self_assessments):
        result[user_id][competence_id].append(Evidence(user_id, competence_id, level, SELF, as_utc(assessed_at)))
    return result
