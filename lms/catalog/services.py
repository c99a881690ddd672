"""The catalogue: finding courses. A page asks which versions are current in one statement and
takes the courses themselves from the outline cache (lms.catalog.outline)."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload

from lms.catalog import outline
from lms.catalog.models import Course, CourseCompetence, CourseDraft, CourseMedia, CourseOwner
from lms.catalog.outline import CourseOutline
from lms.extensions import db

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
    """ORM courses with what a card shows (the trainers' figures; learners' pages use outlines)."""
    return statement.options(
        selectinload(Course.tag_rows),
        selectinload(Course.competence_rows).selectinload(CourseCompetence.competence),
    )


def published_courses() -> Select:
    return select(Course).where(Course.archived.is_(False))


def catalogue_courses() -> list[CourseOutline]:
    """Every published course by title: one statement for the versions, the rest from the cache."""
    return outline.outlines(outline.key_of(row) for row in db.session.execute(_catalogue_statement()))


@functools.cache
def _catalogue_statement() -> Select:
    # Built once: on every request, building the statement would cost more than running it.
    return select(*outline.key_columns()).where(Course.archived.is_(False)).order_by(Course.title, Course.id)


def search_catalogue(criteria: CatalogueFilter, courses: list[CourseOutline] | None = None) -> list[CourseOutline]:
    """The courses that meet every criterion given (of `courses`, or of the whole catalogue)."""
    courses = catalogue_courses() if courses is None else courses
    return [course for course in courses if _matches(course, criteria)]


def _matches(course: CourseOutline, criteria: CatalogueFilter) -> bool:
    return (
        _matches_words(course, criteria.query)
        and _teaches(course, criteria.competence, criteria.area)
        and _lasts(course, criteria.duration)
        and (not criteria.language or course.language == criteria.language)
        and (not criteria.tag or criteria.tag in course.tags)
    )


def _matches_words(course: CourseOutline, query: str | None) -> bool:
    """The search text in the title or summary, in any case (umlauts included)."""
    words = (query or "").strip().casefold()
    return not words or words in course.title.casefold() or words in course.summary.casefold()


def _teaches(course: CourseOutline, competence: str | None, area: str | None) -> bool:
    if not competence and not area:
        return True
    return any(
        (not competence or taught.code == competence) and (not area or taught.area.code == area)
        for taught in course.competences
    )


def _lasts(course: CourseOutline, duration: str | None) -> bool:
    if duration not in DURATION_FILTERS:
        return True
    low, high = DURATION_FILTERS[duration]
    return course.duration_minutes is not None and low <= course.duration_minutes <= high


def filter_choices(courses: list[CourseOutline]) -> dict:
    """What the catalogue's filters offer, from the courses it holds: the areas with their
    competences that courses teach, the tags and the languages."""
    taught = {competence.id: competence for course in courses for competence in course.competences}
    areas = sorted({c.area.id: c.area for c in taught.values()}.values(), key=lambda a: (a.position, a.code))
    return {
        "areas": [
            (area, sorted((c for c in taught.values() if c.area.id == area.id), key=lambda c: (c.position, c.code)))
            for area in areas
        ],
        "tags": sorted({tag for course in courses for tag in course.tags}),
        "languages": sorted({course.language for course in courses}),
    }


def media_file(slug: str, path: str) -> CourseMedia | None:
    return db.session.execute(
        select(CourseMedia).join(Course).where(Course.slug == slug, CourseMedia.path == path)
    ).scalar_one_or_none()


def owned_course_ids(user_id: int) -> set[int]:
    """The published courses a person owns or co-owns (lms.authoring names them)."""
    course_ids = db.session.execute(
        select(CourseDraft.course_id)
        .join(CourseOwner, CourseOwner.draft_id == CourseDraft.id)
        .where(CourseOwner.user_id == user_id)
    ).scalars()
    return {course_id for course_id in course_ids if course_id is not None}
