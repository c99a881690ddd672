"""Sync a directory of course folders into the database. Flushes, never commits: the caller commits.

A course is validated completely before anything is written, then written inside a savepoint,
so it is imported whole or not at all. Rows are updated in place, never deleted and recreated:
completions (course id), lesson progress (lesson id, matched by file name) and quiz answers
(question id, matched by content hash) survive a change of the course.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import selectinload

from lms.catalog.drafts import replace_draft_files
from lms.catalog.format import CourseSource, FrameworkInfo, content_hash, display_path, parse_course, read_course_files
from lms.catalog.models import (
    Course,
    CourseCompetence,
    CourseDraft,
    CourseMedia,
    CourseTag,
    CourseVariant,
    Lesson,
    QuizQuestion,
)
from lms.catalog.versions import record_version
from lms.common.dates import utcnow
from lms.common.sourcefile import Problem, Problems
from lms.common.vocabulary import VersionOrigin
from lms.config import PROJECT_ROOT
from lms.extensions import db
from lms.frameworks.models import Competence, ProficiencyLevel
from lms.frameworks.services import DEFAULT_FRAMEWORK_KEY, default_framework


@dataclass
class SyncResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    kept: int = 0  # edited in the browser since the folder was last synced: not overwritten
    problems: list[Problem] = field(default_factory=list)

    def summary(self) -> str:
        counts = f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged"
        kept = f", {self.kept} kept as edited in the browser" if self.kept else ""
        return f"{counts}, {self.failed} with errors{kept}"

    def sorted_problems(self) -> list[Problem]:
        return sorted(self.problems, key=lambda problem: (problem.path, problem.line))  # stable: same line keeps order


def missing_courses(directory: Path) -> list[Course]:
    """Published courses imported from a folder of `directory` that is no longer there."""
    present = {folder.name for folder in course_folders(directory)}
    inside = _source_path(directory / "x").rsplit("/", 1)[0]  # its courses' source paths, without the slug
    courses = db.session.execute(select(Course).where(Course.archived.is_(False)).order_by(Course.slug)).scalars()
    return [
        course
        for course in courses
        if course.source_path and course.source_path.rsplit("/", 1)[0] == inside and course.slug not in present
    ]


def archive(courses: Iterable[Course]) -> None:
    """Take the courses out of the catalogue (and, with the next assignments sync, out of open
    assignments); completions and certificates stay valid and visible to their owners."""
    for course in courses:
        course.archived = True
        course.updated_at = utcnow()
    db.session.flush()


def course_folders(directory: Path) -> list[Path]:
    """The course folders of `directory`: its sub-folders, hidden ones skipped."""
    return sorted(path for path in Path(directory).iterdir() if path.is_dir() and not path.name.startswith("."))


def framework_info() -> FrameworkInfo:
    """Competence codes and levels of the installed default framework."""
    framework = default_framework()
    if framework is None:
        return FrameworkInfo(DEFAULT_FRAMEWORK_KEY, {}, loaded=False)
    rows = db.session.execute(
        select(Competence.code, Competence.id, Competence.retired).where(Competence.framework_id == framework.id)
    ).all()
    levels = db.session.execute(
        select(ProficiencyLevel.level).where(ProficiencyLevel.framework_id == framework.id)
    ).scalars()
    return FrameworkInfo(
        framework.key, {code: id_ for code, id_, _ in rows}, {code for code, _, retired in rows if retired}, set(levels)
    )


_PARSED: OrderedDict[tuple, tuple[CourseSource | None, tuple[Problem, ...]]] = OrderedDict()
_PARSED_LIMIT = 64
_PARSED_LOCK = threading.Lock()


def parsed_course(
    folder: Path, files: dict[str, bytes | None], digest: str, framework: FrameworkInfo
) -> tuple[CourseSource | None, tuple[Problem, ...]]:
    """`parse_course`, remembered per process for the same bytes, framework and working directory
    (problems name paths as seen from it): rendering a course is the slow part of a sync, and
    the same folders are read again and again (a second `make run`, the checks, the tests)."""
    key = (
        str(folder.resolve()),
        str(Path.cwd()),
        digest,
        framework.key,
        tuple(sorted(framework.competence_ids.items())),
        frozenset(framework.retired),
        frozenset(framework.levels),
        framework.loaded,
    )
    with _PARSED_LOCK:
        if key in _PARSED:
            _PARSED.move_to_end(key)
            return _PARSED[key]
    problems = Problems()
    parsed = (parse_course(folder, files, framework, problems), tuple(problems.items))
    with _PARSED_LOCK:
        _PARSED[key] = parsed
        while len(_PARSED) > _PARSED_LIMIT:
            _PARSED.popitem(last=False)
    return parsed


def sync_directory(directory: Path, *, check: bool = False, force: bool = False) -> SyncResult:
    return sync_courses(course_folders(directory), check=check, force=force)


@dataclass(frozen=True)
class _Stored:
    """What the sync compares a folder with."""

    content_hash: str
    files_hash: str | None  # the folder's hash when it was last synced
    draft_hash: str | None  # the browser draft's, if there is one

    @property
    def edited_in_browser(self) -> bool:
        """Published or drafted in the browser since the folder was last synced."""
        return self.content_hash != self.files_hash or not self.draft_clean

    @property
    def has_clean_draft(self) -> bool:
        return self.draft_hash is not None and self.draft_clean

    @property
    def draft_clean(self) -> bool:
        """No draft, or one without edits of its own."""
        return self.draft_hash in (None, self.content_hash)


def _stored_courses() -> dict[str, _Stored]:
    rows = db.session.execute(
        select(Course.slug, Course.content_hash, Course.files_hash, CourseDraft.content_hash).outerjoin(
            CourseDraft, CourseDraft.course_id == Course.id
        )
    ).all()
    return {slug: _Stored(content, files, draft) for slug, content, files, draft in rows}


def sync_courses(
    folders: Iterable[Path],
    *,
    check: bool = False,
    force: bool = False,
    on_progress: Callable[[Path], None] | None = None,
) -> SyncResult:
    """Validate each course folder and create or update its course (only validate with `check`).

    Outside `check`, a folder whose content hash matches the stored course is skipped unparsed.
    A course edited in the browser since its folder was last synced is not overwritten (and the
    sync says so), unless `force` (docs/authoring.md, "Files and the browser").
    """
    result = SyncResult()
    stored = _stored_courses()
    framework = None  # looked up once, and only when some course has to be parsed
    for folder in folders:
        files = read_course_files(folder)
        digest = content_hash(files)
        known = stored.get(folder.name)
        same = known is not None and known.content_hash == digest
        if same and not check:
            result.unchanged += 1
            if known is not None and known.files_hash != digest:  # the browser's version, exported into the folder
                _mark_in_step(folder.name, digest)
        elif known is not None and not same and known.edited_in_browser and not force:
            result.kept += 1
            result.problems.append(_kept_problem(folder, known, digest))
        else:
            framework = framework or framework_info()
            source, problems = parsed_course(folder, files, digest, framework)
            result.problems.extend(problems)
            if source is None:
                result.failed += 1
            elif check:
                status = "created" if known is None else ("unchanged" if same else "updated")
                setattr(result, status, getattr(result, status) + 1)
            else:
                refresh_draft = known is not None and known.has_clean_draft
                _write_or_report(source, folder, files, result, refresh_draft=refresh_draft)
        if on_progress:
            on_progress(folder)
    return result


def _kept_problem(folder: Path, known: _Stored, digest: str) -> Problem:
    where = display_path(folder / "course.md")
    if digest == known.files_hash:
        return Problem(
            where,
            1,
            f"warning: course '{folder.name}' was edited in the browser since this folder was synced; "
            "the browser's version stays (export it with `flask courses export` to update the folder)",
        )
    return Problem(
        where,
        1,
        f"warning: course '{folder.name}' changed both here and in the browser; not overwritten: export the "
        "browser's version (`flask courses export`) and merge, or replace it with this folder using --force",
    )


def _mark_in_step(slug: str, digest: str) -> None:
    db.session.execute(update(Course).where(Course.slug == slug).values(files_hash=digest))


def _write_or_report(
    source: CourseSource, folder: Path, files: dict[str, bytes | None], result: SyncResult, *, refresh_draft: bool
) -> None:
    try:
        status = write_course(source, _source_path(folder))
        course = db.session.execute(select(Course).where(Course.slug == source.slug)).scalar_one()
        course.files_hash = source.content_hash
        readable = {name: data for name, data in files.items() if data is not None}
        record_version(course, readable, VersionOrigin.FILES, note=f"{display_path(folder)}")
        if refresh_draft:
            _refresh_draft(course, readable)
    except SQLAlchemyError as error:  # the savepoint is rolled back: nothing of this course was written
        result.problems.append(
            Problem(
                display_path(folder), 1, f"could not be saved: {error.__class__.__name__}: {str(error).splitlines()[0]}"
            )
        )
        result.failed += 1
        return
    setattr(result, status, getattr(result, status) + 1)


def _refresh_draft(course: Course, files: dict[str, bytes]) -> None:
    """A browser draft without edits of its own follows the folder's new content."""
    draft = db.session.execute(select(CourseDraft).where(CourseDraft.course_id == course.id)).scalar_one()
    replace_draft_files(draft, files)


def _source_path(folder: Path) -> str:
    folder = folder.resolve()
    try:
        return folder.relative_to(PROJECT_ROOT).as_posix()
    except ValueError:
        return str(folder)


def write_course(source: CourseSource, source_path: str | None = None) -> str:
    """Create or update the course of `source` inside a savepoint; returns "created" or "updated"."""
    course = db.session.execute(
        select(Course)
        .where(Course.slug == source.slug)
        .options(
            selectinload(Course.lessons).selectinload(Lesson.questions),
            selectinload(Course.variant_lessons).selectinload(Lesson.questions),
            selectinload(Course.variants),
            selectinload(Course.tag_rows),
            selectinload(Course.competence_rows),
            selectinload(Course.media).defer(CourseMedia.data),
        )
    ).scalar_one_or_none()
    status = "created" if course is None else "updated"
    with db.session.begin_nested():
        if course is None:
            course = Course(slug=source.slug, version=1)
            db.session.add(course)
        else:
            # Same row, next version: completions keep pointing at this course and their version.
            course.version += 1
            course.updated_at = utcnow()
        course.title, course.summary, course.language = source.title, source.summary, source.language
        course.duration_minutes, course.pass_score = source.duration_minutes, source.pass_score
        course.valid_months, course.intro_html = source.valid_months, source.intro_html
        course.final_draw, course.final_pass_score = source.final_draw, source.final_pass_score
        course.content_hash, course.source_path = source.content_hash, source_path
        _sync_tags(course, source.tags)
        _sync_competences(course, source.competences)
        _sync_lessons(course, source)
        _sync_variants(course, source)
        _sync_media(course, source)
        db.session.flush()
    return status


def _sync_tags(course: Course, tags: list[str]) -> None:
    kept = [row for row in course.tag_rows if row.tag in tags]
    present = {row.tag for row in kept}
    course.tag_rows = kept + [CourseTag(tag=tag) for tag in tags if tag not in present]


def _sync_competences(course: Course, levels: dict[int, int]) -> None:
    rows = {row.competence_id: row for row in course.competence_rows}
    wanted = []
    for competence_id, level in levels.items():
        row = rows.get(competence_id) or CourseCompetence(competence_id=competence_id)
        row.level = level
        wanted.append(row)
    course.competence_rows = wanted


def _sync_lessons(course: Course, source: CourseSource) -> None:
    """Lessons are matched by key (file name): learners keep their progress on lessons that stay."""
    course.lessons = _lessons(course.lessons, source.lessons, "")  # lessons whose file is gone are deleted


def _lessons(existing_lessons: list[Lesson], items, variant: str) -> list[Lesson]:
    lessons = []
    renamed = []
    for position, item in enumerate(items, start=1):
        lesson = _same_lesson(existing_lessons, item)
        if lesson is None or lesson in lessons:
            lesson = Lesson(key=item.key, variant=variant)
        elif lesson.key != item.key:
            renamed.append((lesson, item.key))
        lesson.uid = item.uid
        lesson.position, lesson.title = position, item.title
        lesson.body_html, lesson.content_hash, lesson.draw = item.body_html, item.content_hash, item.draw
        _sync_questions(lesson, item.questions)
        lessons.append(lesson)
    if renamed:  # two files may have swapped names: free the old keys first (they are unique)
        for lesson, _key in renamed:
            lesson.key = f"~{lesson.id}"
        db.session.flush()
        for lesson, key in renamed:
            lesson.key = key
    return lessons


def _same_lesson(existing: list[Lesson], item) -> Lesson | None:
    """The stored lesson a file is: the one with its `id`, else the one of its file name (unless
    that one carries another id)."""
    if item.uid:
        same = next((lesson for lesson in existing if lesson.uid == item.uid), None)
        # A lesson without an id gets one (the editor writes it) that is its file name until then.
        same = same or next((lesson for lesson in existing if lesson.uid is None and lesson.key == item.uid), None)
        if same is not None:
            return same
    by_name = next((lesson for lesson in existing if lesson.key == item.key), None)
    if by_name is not None and item.uid and by_name.uid not in (None, item.uid):
        return None
    return by_name


def _sync_variants(course: Course, source: CourseSource) -> None:
    """A variant is its row (title, summary, introduction) and its lessons, matched by key."""
    rows = {row.code: row for row in course.variants}
    by_variant: dict[str, list[Lesson]] = defaultdict(list)
    for lesson in course.variant_lessons:
        by_variant[lesson.variant].append(lesson)
    variants, lessons = [], []
    for item in source.variants:
        row = rows.get(item.code) or CourseVariant(code=item.code)
        row.title, row.summary, row.intro_html = item.title, item.summary, item.intro_html
        variants.append(row)
        lessons += _lessons(by_variant[item.code], item.lessons, item.code)
    course.variants, course.variant_lessons = variants, lessons


def _sync_questions(lesson: Lesson, items) -> None:
    """A question with an unchanged content hash keeps its row, so learners' answers to it survive."""
    reusable = defaultdict(list)
    for question in lesson.questions:
        reusable[question.content_hash].append(question)
    questions = []
    for position, item in enumerate(items, start=1):
        same = reusable.get(item.content_hash)
        question = (
            same.pop(0)
            if same
            else QuizQuestion(
                question=item.question,
                answers=item.answers,
                explanation=item.explanation,
                content_hash=item.content_hash,
            )
        )
        question.position, question.kind, question.shuffle = position, item.kind, item.shuffle
        questions.append(question)
    lesson.questions = questions


def _sync_media(course: Course, source: CourseSource) -> None:
    rows = {row.path: row for row in course.media}
    media = []
    for item in source.media:
        row = rows.get(item.path) or CourseMedia(path=item.path)
        if row.sha256 != item.sha256:  # only changed images are written again
            row.sha256, row.data = item.sha256, item.data
        row.content_type = item.content_type
        media.append(row)
    course.media = media
