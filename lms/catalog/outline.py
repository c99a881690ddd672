"""Published course versions as immutable snapshots, cached in the memory of each process.

Everything a learner reads of a course (its facts, tags, competences, lessons with their
rendered HTML, quiz questions) changes only through an import, and an import that changes a
course raises Course.version (lms.catalog.importer). So a page asks the database one cheap
question, which versions are current (`key_columns`), and takes the rest from here (`outlines`).

The key is the course id and version, and besides:
- the row's creation time: SQLite hands out the id of a deleted course again, and a new course
  starts at version 1; the creation time tells the two apart;
- the content hashes of the frameworks: a framework update may rename a competence while no
  course changes.
Lesson HTML does not depend on the reader's language (it is rendered at import) and competences
keep both titles, so the language is not part of the key.

Every gunicorn worker has a cache of its own. A new version is a new key, so no worker serves an
old version once its query has seen the new one; old entries are simply no longer asked for and
fall out. The cache keeps at most MAX_VERSIONS snapshots (well over a town's whole catalogue,
which the catalogue page needs at once), forgetting the least recently used.
Snapshots are frozen dataclasses, detached from any database session.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace
from typing import Generic, TypeVar

from flask import current_app
from markupsafe import Markup
from sqlalchemy import func, select

from lms.catalog.models import Course, CourseCompetence, CourseTag, CourseVariant, Lesson, QuizQuestion
from lms.common.localized import Localized
from lms.extensions import db
from lms.frameworks.models import Competence, CompetenceArea, Framework

MAX_VERSIONS = 500
_EXTENSION_KEY = "lms.catalog.outlines"
K = TypeVar("K")
V = TypeVar("V")


# --- the snapshot --------------------------------------------------------------------------------


@dataclass(frozen=True)
class AreaOutline(Localized):
    id: int
    code: str
    title_de: str
    title_en: str
    position: int


@dataclass(frozen=True)
class CompetenceOutline(Localized):
    """A competence the course teaches, with the level a learner reaches."""

    id: int
    code: str
    title_de: str
    title_en: str
    position: int
    level: int
    area: AreaOutline


@dataclass(frozen=True)
class Answer:
    text: str
    correct: bool


@dataclass(frozen=True)
class QuestionOutline:
    id: int
    question: str
    answers: tuple[Answer, ...]
    explanation: str | None
    kind: str = "multiple"  # single: exactly one answer right (radio buttons)
    shuffle: bool = True

    @property
    def correct_indexes(self) -> frozenset[int]:
        return frozenset(index for index, answer in enumerate(self.answers) if answer.correct)


@dataclass(frozen=True)
class LessonOutline:
    id: int
    key: str
    title: str
    body_html: str
    questions: tuple[QuestionOutline, ...]
    draw: int | None = None  # questions asked per attempt; None: all
    variant: str = ""

    @property
    def asked(self) -> int:
        return min(self.draw or len(self.questions), len(self.questions))

    @property
    def body(self) -> Markup:
        """The lesson as HTML; safe because it was sanitised with nh3 when it was imported."""
        return Markup(self.body_html)


@dataclass(frozen=True, eq=False)
class CourseOutline:
    """One version of a course as learners see it. Compared and hashed by identity: there is one
    object per cached version, so what is derived from it can be kept beside it (lms.catalog.views
    keeps its rendered card in a WeakKeyDictionary)."""

    id: int
    version: int
    slug: str
    title: str
    summary: str
    language: str
    duration_minutes: int | None
    pass_score: int
    valid_months: int | None
    intro_html: str
    tags: tuple[str, ...]
    competences: tuple[CompetenceOutline, ...]  # by code
    lessons: tuple[LessonOutline, ...]  # in course order
    final_draw: int | None = None
    final_pass_score: int | None = None
    variants: tuple[VariantOutline, ...] = ()

    @property
    def intro(self) -> Markup:
        """The introduction as HTML; safe because it was sanitised with nh3 when it was imported."""
        return Markup(self.intro_html)

    @property
    def has_final_check(self) -> bool:
        return self.final_draw is not None

    def variant(self, code: str | None) -> VariantOutline | None:
        return next((variant for variant in self.variants if variant.code == code), None)

    def lessons_in(self, code: str | None) -> tuple[LessonOutline, ...]:
        """The lessons as a learner who chose variant `code` reads them (the course's own if it has none)."""
        variant = self.variant(code)
        return variant.lessons if variant is not None else self.lessons

    def lesson_index(self, key: str) -> int | None:
        return next((index for index, lesson in enumerate(self.lessons) if lesson.key == key), None)

    @property
    def question_ids(self) -> list[int]:
        return [question.id for lesson in self.lessons for question in lesson.questions]


@dataclass(frozen=True)
class VariantOutline:
    """The course for another audience: its texts and its lessons (same keys as the course's)."""

    code: str
    title: str
    summary: str
    intro_html: str
    lessons: tuple[LessonOutline, ...]

    @property
    def intro(self) -> Markup:
        """Sanitised with nh3 when it was imported."""
        return Markup(self.intro_html)


@dataclass(frozen=True)
class OutlineKey:
    course_id: int
    version: int
    created_at: datetime
    frameworks: str | None


# --- asking for the current versions -------------------------------------------------------------


def key_columns() -> tuple:
    """The columns a statement over `courses` selects so that `key_of` can build cache keys."""
    frameworks = select(func.aggregate_strings(Framework.content_hash, ",")).scalar_subquery()
    return Course.id, Course.version, Course.created_at, frameworks.label("frameworks")


def key_of(row) -> OutlineKey:
    return OutlineKey(row.id, row.version, row.created_at, row.frameworks)


def outlines(keys: Iterable[OutlineKey]) -> list[CourseOutline]:
    """The snapshots of these versions, in the same order; the missing ones are loaded together.

    A course deleted since its key was read is left out. One changed by an import committed in
    between is served as it is now, for this request only: it is not cached under the old key.
    """
    keys = list(keys)
    cache = _cache()
    found = cache.get_many(keys)
    missing = [key for key in keys if key not in found]
    if missing:
        loaded = _load(missing)
        cache.put_many({key: course for key, course in loaded.items() if course.version == key.version})
        found.update(loaded)
    return [found[key] for key in keys if key in found]


# --- the cache ----------------------------------------------------------------------------------


class LruCache(Generic[K, V]):
    """A small LRU map, safe for the threads of one process (the development server has several)."""

    def __init__(self, limit: int):
        self.limit = limit
        self._items: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get_many(self, keys: list[K]) -> dict[K, V]:
        with self._lock:
            found = {key: self._items[key] for key in keys if key in self._items}
            for key in found:
                self._items.move_to_end(key)
        return found

    def put_many(self, items: dict[K, V]) -> None:
        with self._lock:
            for key, value in items.items():
                self._items[key] = value
                self._items.move_to_end(key)
            while len(self._items) > self.limit:
                self._items.popitem(last=False)

    def get(self, key: K) -> V | None:
        return self.get_many([key]).get(key)

    def put(self, key: K, value: V) -> V:
        self.put_many({key: value})
        return value

    def __len__(self) -> int:
        return len(self._items)


def _cache() -> LruCache[OutlineKey, CourseOutline]:
    """The cache of this application (one per app, so two test databases never share one)."""
    cache = current_app.extensions.get(_EXTENSION_KEY)
    if cache is None:
        cache = current_app.extensions.setdefault(_EXTENSION_KEY, LruCache(MAX_VERSIONS))
    return cache


# --- loading: four statements for any number of courses ------------------------------------------
# Plain rows, not ORM objects: a snapshot that other requests share holds nothing bound to this
# request's session, and the session's identity map cannot hand back objects it loaded earlier.


def _load(keys: list[OutlineKey]) -> dict[OutlineKey, CourseOutline]:
    ids = [key.course_id for key in keys]
    lessons, tags, competences = _lessons(ids), _tags(ids), _competences(ids)
    by_id = {key.course_id: key for key in keys}
    loaded = {}
    rows, variants = _courses_with_variants(ids)
    for row in rows:
        loaded[by_id[row.id]] = CourseOutline(
            id=row.id,
            version=row.version,
            slug=row.slug,
            title=row.title,
            summary=row.summary,
            language=row.language,
            duration_minutes=row.duration_minutes,
            pass_score=row.pass_score,
            valid_months=row.valid_months,
            intro_html=row.intro_html,
            tags=tuple(tags.get(row.id, ())),
            competences=tuple(competences.get(row.id, ())),
            lessons=tuple(lessons.get((row.id, ""), ())),
            final_draw=row.final_draw,
            final_pass_score=row.final_pass_score,
            variants=tuple(
                VariantOutline(
                    variant.code,
                    variant.title,
                    variant.summary,
                    variant.intro_html,
                    tuple(lessons.get((row.id, variant.code), ())),
                )
                for variant in variants.get(row.id, ())
            ),
        )
    return loaded


def _courses_with_variants(course_ids: list[int]) -> tuple[list, dict[int, list]]:
    """The course rows, and their variants' rows by course: one statement (a row per variant)."""
    variant = CourseVariant.__table__
    statement = (
        select(
            Course.__table__,
            variant.c.code.label("variant_code"),
            variant.c.title.label("variant_title"),
            variant.c.summary.label("variant_summary"),
            variant.c.intro_html.label("variant_intro_html"),
        )
        .outerjoin(variant, variant.c.course_id == Course.id)
        .where(Course.id.in_(course_ids))
        .order_by(Course.id, variant.c.code)
    )
    courses: dict[int, object] = {}
    variants: dict[int, list] = {}
    for row in db.session.execute(statement):
        courses.setdefault(row.id, row)
        if row.variant_code is not None:
            variants.setdefault(row.id, []).append(
                SimpleNamespace(
                    code=row.variant_code,
                    title=row.variant_title,
                    summary=row.variant_summary,
                    intro_html=row.variant_intro_html,
                )
            )
    return list(courses.values()), variants


def _lessons(course_ids: list[int]) -> dict[tuple[int, str], list[LessonOutline]]:
    """Lessons with their questions, by (course, variant): one row per question, or per lesson
    without questions."""
    statement = (
        select(
            Lesson.course_id,
            Lesson.id,
            Lesson.key,
            Lesson.title,
            Lesson.body_html,
            Lesson.draw,
            Lesson.variant,
            QuizQuestion.id.label("question_id"),
            QuizQuestion.question,
            QuizQuestion.answers,
            QuizQuestion.explanation,
            QuizQuestion.kind,
            QuizQuestion.shuffle,
        )
        .outerjoin(QuizQuestion, QuizQuestion.lesson_id == Lesson.id)
        .where(Lesson.course_id.in_(course_ids))
        .order_by(Lesson.course_id, Lesson.position, Lesson.id, QuizQuestion.position, QuizQuestion.id)
    )
    lessons: dict[int, tuple] = {}
    for row in db.session.execute(statement):
        _first, questions = lessons.setdefault(row.id, (row, []))
        if row.question_id is not None:
            questions.append(_question(row))
    result: dict[tuple[int, str], list[LessonOutline]] = {}
    for row, questions in lessons.values():
        lesson = LessonOutline(row.id, row.key, row.title, row.body_html, tuple(questions), row.draw, row.variant)
        result.setdefault((row.course_id, row.variant), []).append(lesson)
    return result


def _question(row) -> QuestionOutline:
    answers = tuple(Answer(str(item.get("text", "")), bool(item.get("correct"))) for item in row.answers)
    return QuestionOutline(row.question_id, row.question, answers, row.explanation, row.kind, row.shuffle)


def _tags(course_ids: list[int]) -> dict[int, list[str]]:
    result: dict[int, list[str]] = {}
    statement = select(CourseTag.course_id, CourseTag.tag).where(CourseTag.course_id.in_(course_ids))
    for course_id, tag in db.session.execute(statement.order_by(CourseTag.tag)):
        result.setdefault(course_id, []).append(tag)
    return result


def _competences(course_ids: list[int]) -> dict[int, list[CompetenceOutline]]:
    statement = (
        select(
            CourseCompetence.course_id,
            CourseCompetence.level,
            Competence.id,
            Competence.code,
            Competence.title_de,
            Competence.title_en,
            Competence.position,
            CompetenceArea.id.label("area_id"),
            CompetenceArea.code.label("area_code"),
            CompetenceArea.title_de.label("area_title_de"),
            CompetenceArea.title_en.label("area_title_en"),
            CompetenceArea.position.label("area_position"),
        )
        .join(Competence, Competence.id == CourseCompetence.competence_id)
        .join(CompetenceArea, CompetenceArea.id == Competence.area_id)
        .where(CourseCompetence.course_id.in_(course_ids))
        .order_by(Competence.code, Competence.id)
    )
    areas: dict[int, AreaOutline] = {}
    result: dict[int, list[CompetenceOutline]] = {}
    for row in db.session.execute(statement):
        area = areas.setdefault(
            row.area_id,
            AreaOutline(row.area_id, row.area_code, row.area_title_de, row.area_title_en, row.area_position),
        )
        competence = CompetenceOutline(row.id, row.code, row.title_de, row.title_en, row.position, row.level, area)
        result.setdefault(row.course_id, []).append(competence)
    return result
