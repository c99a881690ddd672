"""Evidence a person holds besides completions: confirmed levels and self-assessments."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.common.columns import intpk, str40, timestamp
from lms.common.dates import utcnow
from lms.common.vocabulary import EvidenceType
from lms.extensions import Model
from lms.frameworks.models import Competence


class Assessment(Model):
    """A level confirmed by the person's manager: verified evidence for LMS_CONFIRMATION_VALID_MONTHS
    from `assessed_on` (`lms.skills.evidence`), unless HR withdrew it. The person reads it with its
    evidence type and note, may comment on it and may object to it (an objection goes to HR and the
    DPO; the level counts until HR withdraws it)."""

    __tablename__ = "assessments"

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    competence_id: Mapped[int] = mapped_column(ForeignKey("competences.id"), index=True)
    level: Mapped[int] = mapped_column(Integer)
    evidence_type: Mapped[str40] = mapped_column(default=EvidenceType.OTHER, server_default=EvidenceType.OTHER.value)
    note: Mapped[str] = mapped_column(String(500), default="")  # the person reads it
    assessed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Days, not moments: the time of day a level was confirmed serves no purpose.
    assessed_on: Mapped[date] = mapped_column(Date, default=lambda: utcnow().date())
    # The person's answer: a comment (editable) and an objection with its reason.
    comment: Mapped[str] = mapped_column(String(500), default="", server_default="")
    objection: Mapped[str] = mapped_column(String(500), default="", server_default="")
    objected_on: Mapped[date | None] = mapped_column(Date)
    # Withdrawn by HR (after an objection, say): shown, never counted.
    withdrawn_on: Mapped[date | None] = mapped_column(Date)
    withdrawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    competence: Mapped[Competence] = relationship()

    @property
    def objected(self) -> bool:
        return self.objected_on is not None

    @property
    def withdrawn(self) -> bool:
        return self.withdrawn_on is not None


class SelfAssessment(Model):
    """The person's own estimate (0–8), theirs alone: only the latest value is kept, others see it
    only while the person shares it, and the person may delete it. Shown beside the verified
    level, never counted as verified."""

    __tablename__ = "self_assessments"
    __table_args__ = (UniqueConstraint("user_id", "competence_id"),)

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    competence_id: Mapped[int] = mapped_column(ForeignKey("competences.id"), index=True)
    level: Mapped[int] = mapped_column(Integer)
    assessed_at: Mapped[timestamp] = mapped_column(default=utcnow)
    # Shown to the person's manager and HR only while this is set (by the person; revocable).
    shared: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    competence: Mapped[Competence] = relationship()
