"""The strategy's targets and their monthly figures."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.common.columns import intpk, timestamp
from lms.common.dates import utcnow
from lms.extensions import Model
from lms.frameworks.models import Competence
from lms.people.models import Department


class StrategyTarget(Model):
    """A target of the strategy: by `deadline`, `share_percent` % of all active staff (of
    `department` and the departments below it; everyone without one) at `level` or above in
    `competence`. HR sets it; it counts everyone in the group, unlike a person's own target
    (lms.targets)."""

    __tablename__ = "strategy_targets"

    id: Mapped[intpk]
    competence_id: Mapped[int] = mapped_column(ForeignKey("competences.id"), index=True)
    level: Mapped[int] = mapped_column(Integer)  # 1–8 (DigComp)
    share_percent: Mapped[int] = mapped_column(Integer)  # 1–100
    deadline: Mapped[date] = mapped_column(Date)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[timestamp] = mapped_column(default=utcnow)

    competence: Mapped[Competence] = relationship()
    department: Mapped[Department | None] = relationship()


class StrategySnapshot(Model):
    """A target's figure at the start of a month: how many people the group had and how many were
    at the level or above. Aggregates only, stored already protected: a figure that may not be
    shown (a group under the minimum, or withheld so that no smaller group can be worked out) is
    stored without its counts (lms.common.disclosure)."""

    __tablename__ = "strategy_snapshots"
    __table_args__ = (UniqueConstraint("month", "target_id"),)

    id: Mapped[intpk]
    month: Mapped[str] = mapped_column(String(7), index=True)  # YYYY-MM
    target_id: Mapped[int] = mapped_column(ForeignKey("strategy_targets.id", ondelete="CASCADE"), index=True)
    people: Mapped[int | None] = mapped_column(Integer)  # None: not shown
    at_level: Mapped[int | None] = mapped_column(Integer)
    taken_at: Mapped[timestamp] = mapped_column(default=utcnow)
