"""Target levels: per job role, and individual ones on top."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.common.columns import timestamp
from lms.common.dates import utcnow
from lms.extensions import Model
from lms.frameworks.models import Competence


class JobRoleTarget(Model):
    """The level a job role needs; `recert_months`: the level must be shown again that often."""

    __tablename__ = "job_role_targets"

    job_role_id: Mapped[int] = mapped_column(ForeignKey("job_roles.id", ondelete="CASCADE"), primary_key=True)
    competence_id: Mapped[int] = mapped_column(ForeignKey("competences.id"), primary_key=True, index=True)
    level: Mapped[int] = mapped_column(Integer)
    recert_months: Mapped[int | None] = mapped_column(Integer)

    competence: Mapped[Competence] = relationship()


class PersonalTarget(Model):
    """An individual target on top of the job role's (agreed in the annual staff talk)."""

    __tablename__ = "personal_targets"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    competence_id: Mapped[int] = mapped_column(ForeignKey("competences.id"), primary_key=True, index=True)
    level: Mapped[int] = mapped_column(Integer)
    recert_months: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(String(500), default="")
    set_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    set_at: Mapped[timestamp] = mapped_column(default=utcnow)

    competence: Mapped[Competence] = relationship()
