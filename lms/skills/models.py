from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint, false, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.db_types import intpk, timestamp, utcnow
from lms.extensions import db
from lms.localized import Localized


class Framework(Localized, db.Model):
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


class ProficiencyLevel(Localized, db.Model):
    __tablename__ = "proficiency_levels"
    __table_args__ = (UniqueConstraint("framework_id", "level"),)

    id: Mapped[intpk]
    framework_id: Mapped[int] = mapped_column(ForeignKey("frameworks.id", ondelete="CASCADE"))
    level: Mapped[int] = mapped_column(Integer)
    band_de: Mapped[str] = mapped_column(String(100))
    band_en: Mapped[str] = mapped_column(String(100))
    description_de: Mapped[str] = mapped_column(Text)
    description_en: Mapped[str] = mapped_column(Text)


class CompetenceArea(Localized, db.Model):
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


class Competence(Localized, db.Model):
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


class Assessment(db.Model):
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


class SelfAssessment(db.Model):
    """The person's own estimate (0–8). Shown beside the verified level, never counted as verified."""

    __tablename__ = "self_assessments"

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    competence_id: Mapped[int] = mapped_column(ForeignKey("competences.id"), index=True)
    level: Mapped[int] = mapped_column(Integer)
    assessed_at: Mapped[timestamp] = mapped_column(default=utcnow)

    competence: Mapped[Competence] = relationship()


class JobRoleTarget(db.Model):
    """The level a job role needs; `recert_months`: the level must be shown again that often."""

    __tablename__ = "job_role_targets"

    job_role_id: Mapped[int] = mapped_column(ForeignKey("job_roles.id", ondelete="CASCADE"), primary_key=True)
    competence_id: Mapped[int] = mapped_column(ForeignKey("competences.id"), primary_key=True, index=True)
    level: Mapped[int] = mapped_column(Integer)
    recert_months: Mapped[int | None] = mapped_column(Integer)

    competence: Mapped[Competence] = relationship()


class PersonalTarget(db.Model):
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


class SkillSnapshot(db.Model):
    """Monthly aggregate: in a group (all, a department or a job role), how many people have a
    target for a competence and how many reach it. Aggregates only: no person is stored."""

    __tablename__ = "skill_snapshots"
    __table_args__ = (UniqueConstraint("month", "scope", "scope_id", "competence_id"),)

    id: Mapped[intpk]
    month: Mapped[str] = mapped_column(String(7), index=True)  # YYYY-MM
    scope: Mapped[str] = mapped_column(String(20))  # all, department, job_role
    scope_id: Mapped[int] = mapped_column(Integer, default=0)
    competence_id: Mapped[int] = mapped_column(ForeignKey("competences.id"))
    people_with_target: Mapped[int] = mapped_column(Integer)
    people_at_target: Mapped[int] = mapped_column(Integer)
    taken_at: Mapped[timestamp] = mapped_column(default=utcnow)
