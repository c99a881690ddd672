"""Evidence a person holds besides completions: confirmed levels and self-assessments."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, String
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
    """The person's own estimate (0–8). Shown beside the verified level, never counted as verified."""

    __tablename__ = "self_assessments"

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    competence_id: Mapped[int] = mapped_column(ForeignKey("competences.id"), index=True)
    level: Mapped[int] = mapped_column(Integer)
    assessed_at: Mapped[timestamp] = mapped_column(default=utcnow)

    competence: Mapped[Competence] = relationship()
