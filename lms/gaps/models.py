"""Monthly aggregate snapshots behind the gap overview's trend."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lms.common.columns import intpk, timestamp
from lms.common.dates import utcnow
from lms.extensions import Model


class SkillSnapshot(Model):
    """Monthly aggregate: in a group (all, a department or a job role), how many people have a
    target for a competence and how many reach it. Aggregates only: no person is stored, and a
    figure that may not be shown is stored without its counts (lms.common.disclosure)."""

    __tablename__ = "skill_snapshots"
    __table_args__ = (UniqueConstraint("month", "scope", "scope_id", "competence_id"),)

    id: Mapped[intpk]
    month: Mapped[str] = mapped_column(String(7), index=True)  # YYYY-MM
    scope: Mapped[str] = mapped_column(String(20))  # all, department, job_role
    scope_id: Mapped[int] = mapped_column(Integer, default=0)
    competence_id: Mapped[int] = mapped_column(ForeignKey("competences.id"))
    # None: not shown (too small, or withheld so that a smaller group cannot be worked out)
    people_with_target: Mapped[int | None] = mapped_column(Integer)
    people_at_target: Mapped[int | None] = mapped_column(Integer)
    taken_at: Mapped[timestamp] = mapped_column(default=utcnow)
