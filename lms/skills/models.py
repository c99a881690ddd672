"""Evidence a person holds besides completions: confirmed levels and self-assessments."""

from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.common.columns import intpk, timestamp
from lms.common.dates import utcnow
from lms.extensions import Model
from lms.frameworks.models import Competence


class Assessment(Model):
    """A level confirmed by the person's manager or a trainer: verified evidence."""

    __tablename__ = "assessments"

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    competence_id: Mapped[int] = mapped_column(ForeignKey("competences.id"), index=True)
    level: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(String(500), default="")
    assessed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    assessed_at: Mapped[timestamp] = mapped_column(default=utcnow)

    competence: Mapped[Competence] = relationship()


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
