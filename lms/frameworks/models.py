"""Competency frameworks (DigComp 2.2 and others): areas, competences and proficiency levels."""

from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint, false, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.common.columns import intpk, timestamp
from lms.common.dates import utcnow
from lms.common.localized import Localized
from lms.extensions import Model


class Framework(Localized, Model):
    """A competency framework such as DigComp 2.2, loaded from a YAML file."""

    __tablename__ = "frameworks"

    id: Mapped[intpk]
    key: Mapped[str] = mapped_column(String(60), unique=True)
    version: Mapped[str] = mapped_column(String(40))
    title_de: Mapped[str] = mapped_column(String(300))
    title_en: Mapped[str] = mapped_column(String(300))
    publisher: Mapped[str | None] = mapped_column(String(300))
    licence: Mapped[str | None] = mapped_column(String(60))
    source: Mapped[str | None] = mapped_column(Text)
    attribution_de: Mapped[str | None] = mapped_column(Text)
    attribution_en: Mapped[str | None] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    loaded_at: Mapped[timestamp] = mapped_column(default=utcnow, server_default=func.now())

    areas: Mapped[list[CompetenceArea]] = relationship(
        back_populates="framework", order_by="CompetenceArea.position", cascade="all, delete-orphan"
    )
    levels: Mapped[list[ProficiencyLevel]] = relationship(
        order_by="ProficiencyLevel.level", cascade="all, delete-orphan"
    )


class ProficiencyLevel(Localized, Model):
    __tablename__ = "proficiency_levels"
    __table_args__ = (UniqueConstraint("framework_id", "level"),)

    id: Mapped[intpk]
    framework_id: Mapped[int] = mapped_column(ForeignKey("frameworks.id", ondelete="CASCADE"))
    level: Mapped[int] = mapped_column(Integer)
    band_de: Mapped[str] = mapped_column(String(100))
    band_en: Mapped[str] = mapped_column(String(100))
    description_de: Mapped[str] = mapped_column(Text)
    description_en: Mapped[str] = mapped_column(Text)


class CompetenceArea(Localized, Model):
    __tablename__ = "competence_areas"
    __table_args__ = (UniqueConstraint("framework_id", "code"),)

    id: Mapped[intpk]
    framework_id: Mapped[int] = mapped_column(ForeignKey("frameworks.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(20))
    title_de: Mapped[str] = mapped_column(String(300))
    title_en: Mapped[str] = mapped_column(String(300))
    position: Mapped[int] = mapped_column(Integer, default=0)

    framework: Mapped[Framework] = relationship(back_populates="areas")
    competences: Mapped[list[Competence]] = relationship(back_populates="area", order_by="Competence.position")

    @property
    def active_competences(self) -> list[Competence]:
        """The competences still in the framework (retired ones stay for old evidence only)."""
        return [c for c in self.competences if not c.retired]


class Competence(Localized, Model):
    __tablename__ = "competences"
    __table_args__ = (UniqueConstraint("framework_id", "code"),)

    id: Mapped[intpk]
    framework_id: Mapped[int] = mapped_column(ForeignKey("frameworks.id", ondelete="CASCADE"), index=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("competence_areas.id"), index=True)
    code: Mapped[str] = mapped_column(String(20))
    title_de: Mapped[str] = mapped_column(String(300))
    title_en: Mapped[str] = mapped_column(String(300))
    description_de: Mapped[str | None] = mapped_column(Text)
    description_en: Mapped[str | None] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer, default=0)
    # A competence dropped from a newer framework file is retired, never deleted, while anything refers to it.
    retired: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    area: Mapped[CompetenceArea] = relationship(back_populates="competences")
    framework: Mapped[Framework] = relationship()
