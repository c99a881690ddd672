"""Published course versions as files: recorded at every import or publication, read back for the
editor, the difference between versions, a restore and the export. Flushes, never commits."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from lms.catalog.bundle import read_course_zip, zip_course
from lms.catalog.format import content_hash, read_course_files
from lms.catalog.models import Course, CourseVersion
from lms.catalog.outline import LruCache
from lms.config import PROJECT_ROOT
from lms.extensions import db


def record_version(
    course: Course,
    files: dict[str, bytes],
    origin: str,
    *,
    author_id: int | None = None,
    note: str = "",
    approved_by_id: int | None = None,
) -> CourseVersion:
    """The course's current version (`course.version`) as published now, with its files."""
    version = CourseVersion(
        course_id=course.id,
        number=course.version,
        content_hash=course.content_hash,
        origin=origin,
        author_id=author_id,
        change_note=note,
        approved_by_id=approved_by_id,
        files_zip=zip_course(course.slug, files),
    )
    db.session.add(version)
    db.session.flush()
    return version


def versions_of(course_id: int) -> list[CourseVersion]:
    """Newest first, without their files."""
    return list(
        db.session.execute(
            select(CourseVersion).where(CourseVersion.course_id == course_id).order_by(CourseVersion.number.desc())
        ).scalars()
    )


def version(course_id: int, number: int) -> CourseVersion | None:
    return db.session.execute(
        select(CourseVersion).where(CourseVersion.course_id == course_id, CourseVersion.number == number)
    ).scalar_one_or_none()


def latest_version(course_id: int) -> CourseVersion | None:
    return db.session.execute(
        select(CourseVersion).where(CourseVersion.course_id == course_id).order_by(CourseVersion.number.desc()).limit(1)
    ).scalar_one_or_none()


_FILES: LruCache[tuple[int, str], dict[str, bytes]] = LruCache(limit=16)


def version_files(version: CourseVersion) -> dict[str, bytes]:
    """The version's files; kept per process by content (the editor reads them on every page)."""
    key = (version.id, version.content_hash)
    files = _FILES.get(key)
    if files is None:
        files = read_course_zip(version.files_zip)[1]
        _FILES.put_many({key: files})
    return dict(files)


def published_files(course: Course) -> dict[str, bytes] | None:
    """The files of the course as published now: its latest version's, or, for a course imported
    before versions were recorded, its folder's while that still holds the same content."""
    latest = latest_version(course.id)
    if latest is not None and latest.content_hash == course.content_hash:
        return version_files(latest)
    if course.source_path:
        folder = Path(course.source_path)
        folder = folder if folder.is_absolute() else PROJECT_ROOT / folder
        if folder.is_dir():
            files = read_course_files(folder)
            if content_hash(files) == course.content_hash and None not in files.values():
                return {name: data for name, data in files.items() if data is not None}
    return None
