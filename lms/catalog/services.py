"""The catalogue: finding courses. Queries load what a page shows in a fixed number of statements."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import selectinload

from lms.catalog.models import Course, CourseCompetence, CourseMedia, CourseTag, Lesson
from lms.extensions import db
from lms.frameworks.models import Competence, CompetenceArea

DURATION_FILTERS = {  # key: (min, max) minutes, inclusive
    "short": (0, 15),
    "medium": (16, 30),
    "long": (31, 10_000),
}


@dataclass
class CatalogueFilter:
    query: str | None = None
    area: str | None = None  # area code
    competence: str | None = None  # competence code
    duration: str | None = None
    language: str | None = None
    tag: str | None = None


def with_card_data(statement: Select) -> Select:
    return statement.options(
        selectinload(Course.tag_rows),
        selectinload(Course.competence_rows).selectinload(CourseCompetence.competence),
    )


def published_courses() -> Select:
    return select(Course).where(Course.archived.is_(False))


def search_catalogue(criteria: CatalogueFilter) -> list[Course]:
    statement = published_courses()
    if criteria.query:
        pattern = f"%{criteria.query.strip().lower()}%"
        statement = statement.where(
            or_(func.lower(Course.title).like(pattern), func.lower(Course.summary).like(pattern))
        )
    if criteria.competence or criteria.area:
        teaching = select(CourseCompetence.course_id).join(Competence).join(CompetenceArea)
        if criteria.competence:
            teaching = teaching.where(Competence.code == criteria.competence)
        if criteria.area:
            teaching = teaching.where(CompetenceArea.code == criteria.area)
        statement = statement.where(Course.id.in_(teaching))
    if criteria.duration in DURATION_FILTERS:
        low, high = DURATION_FILTERS[criteria.duration]
        statement = statement.where(Course.duration_minutes.between(low, high))
    if criteria.language:
        statement = statement.where(Course.language == criteria.language)
    if criteria.tag:
        statement = statement.where(Course.id.in_(select(CourseTag.course_id).where(CourseTag.tag == criteria.tag)))
    statement = with_card_data(statement.order_by(Course.title))
    return list(db.session.execute(statement).scalars())


def newest_courses(limit: int = 3) -> list[Course]:
    statement = with_card_data(published_courses().order_by(Course.created_at.desc(), Course.id.desc()).limit(limit))
    return list(db.session.execute(statement).scalars())


def filter_choices() -> dict:
    """What the catalogue's filters offer: areas with their competences in use, tags and languages."""
    areas = list(
        db.session.execute(
            select(CompetenceArea)
            .options(selectinload(CompetenceArea.competences))
            .where(CompetenceArea.id.in_(select(Competence.area_id).join(CourseCompetence)))
            .order_by(CompetenceArea.position)
        ).scalars()
    )
    used = set(db.session.execute(select(CourseCompetence.competence_id)).scalars())
    tags = list(db.session.execute(select(CourseTag.tag).distinct().order_by(CourseTag.tag)).scalars())
    languages = list(db.session.execute(select(Course.language).distinct().order_by(Course.language)).scalars())
    return {
        "areas": [(area, [c for c in area.competences if c.id in used]) for area in areas],
        "tags": tags,
        "languages": languages,
    }


def course_with_outline(slug: str) -> Course | None:
    """A course with its lessons, questions and competences (for the course and lesson pages)."""
    statement = with_card_data(published_courses().where(Course.slug == slug)).options(
        selectinload(Course.lessons).selectinload(Lesson.questions),
        selectinload(Course.competence_rows).selectinload(CourseCompetence.competence).selectinload(Competence.area),
    )
    return db.session.execute(statement).scalar_one_or_none()


def media_file(slug: str, path: str) -> CourseMedia | None:
    return db.session.execute(
        select(CourseMedia).join(Course).where(Course.slug == slug, CourseMedia.path == path)
    ).scalar_one_or_none()
