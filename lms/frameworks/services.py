"""The framework in use and its outline. Functions read; loading is in `loader.py`."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from lms.extensions import db
from lms.frameworks.models import CompetenceArea, Framework

DEFAULT_FRAMEWORK_KEY = "digcomp-2.2"


def default_framework() -> Framework | None:
    return db.session.execute(select(Framework).where(Framework.key == DEFAULT_FRAMEWORK_KEY)).scalar_one_or_none()


def max_level(framework: Framework | None = None) -> int:
    """The highest proficiency level of a framework (8 for DigComp); the default framework's without one."""
    framework = framework or default_framework()
    return max((level.level for level in framework.levels), default=0) if framework else 0


def framework_outline(framework: Framework | None = None, area_code: str | None = None) -> list[CompetenceArea]:
    """The framework's areas with their (not retired) competences, in order."""
    framework = framework or default_framework()
    if framework is None:
        return []
    query = (
        select(CompetenceArea)
        .where(CompetenceArea.framework_id == framework.id)
        .options(selectinload(CompetenceArea.competences))
        .order_by(CompetenceArea.position)
    )
    if area_code:
        query = query.where(CompetenceArea.code == area_code)
    return list(db.session.execute(query).scalars())
