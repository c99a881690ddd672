"""Editing a course in the browser: its working copy (a draft of its folder's files), the course
settings, lessons, quiz questions and images. Plain functions over the session: they flush,
never commit. Publication, review and versions: `publishing.py`.

Every edit writes the course format (`sources.py`), so a draft is always a folder that
`courses sync` could read, and a save from a stale form is refused with both texts kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from lms.authoring.sources import (
    CourseFile,
    LessonFile,
    free_id,
    key_of,
    lesson_paths,
    numbered_name,
    read_course_file,
    read_lesson,
    slug_of,
    variant_folders,
    write_course_file,
    write_lesson,
)
from lms.catalog.drafts import draft_files, file_sha, put_file, replace_draft_files
from lms.catalog.format import SLUG, content_hash
from lms.catalog.media import check_media
from lms.catalog.models import Course, CourseDraft, CourseOwner
from lms.catalog.versions import published_files
from lms.common.sourcefile import Problems
from lms.common.vocabulary import AuditAction, AuditField, CourseOwnership, Role
from lms.extensions import db
from lms.i18n import _
from lms.people.models import User
from lms.privacy import services as privacy


class FieldError(Exception):
    """Bad input for one field of a form; `message` is in the user's language."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field, self.message = field, message


class StaleEdit(Exception):
    """The file changed since the form was opened: the save is refused; `current` is the saved text."""

    def __init__(self, path: str, current: bytes):
        super().__init__(path)
        self.path, self.current = path, current


class FilesUnavailable(Exception):
    """A course whose published files are not stored (imported before versions were kept)."""


@dataclass
class Workspace:
    """A course as the editor sees it: the published course (if any), its draft (if any) and the
    draft's files, or the published files while nobody has edited it in the browser."""

    slug: str
    course: Course | None
    draft: CourseDraft | None
    files: dict[str, bytes]

    @property
    def changed(self) -> bool:
        """The draft holds edits that are not published."""
        if self.draft is None:
            return False
        return self.course is None or self.draft.content_hash != self.course.content_hash

    def lesson_path(self, ref: str) -> str | None:
        """The file of the lesson with id or key `ref`."""
        for path in lesson_paths(self.files):
            if key_of(path) == ref or read_lesson(self.files[path], path).uid == ref:
                return path
        return None

    def lessons(self) -> list[tuple[str, LessonFile]]:
        return [(path, read_lesson(self.files[path], path)) for path in lesson_paths(self.files)]

    def course_file(self) -> CourseFile:
        return read_course_file(self.files.get("course.md", b""))

    def images(self) -> list[str]:
        return sorted(path for path in self.files if path.startswith("media/"))


def lesson_paths_of(space: Workspace) -> list[str]:
    return lesson_paths(space.files)


def workspace(slug: str) -> Workspace | None:
    draft = db.session.execute(
        select(CourseDraft)
        .where(CourseDraft.slug == slug)
        .options(selectinload(CourseDraft.files), selectinload(CourseDraft.owners))
    ).scalar_one_or_none()
    course = db.session.execute(select(Course).where(Course.slug == slug)).scalar_one_or_none()
    if draft is not None:
        return Workspace(slug, course, draft, draft_files(draft))
    if course is None:
        return None
    files = published_files(course)
    if files is None:
        raise FilesUnavailable(slug)
    return Workspace(slug, course, None, files)


def workspace_without_files(slug: str) -> Workspace:
    """A published course whose files are not stored (imported before versions were kept), to
    be given files by a zip import."""
    course = db.session.execute(select(Course).where(Course.slug == slug)).scalar_one()
    return Workspace(slug, course, None, {})


def ensure_draft(space: Workspace) -> CourseDraft:
    """The draft to write into, begun from the published files on the first edit."""
    if space.draft is None:
        assert space.course is not None
        space.draft = CourseDraft(slug=space.slug, course_id=space.course.id, content_hash="")
        db.session.add(space.draft)
        replace_draft_files(space.draft, space.files)
        space.draft.content_hash = space.course.content_hash
    return space.draft


def _write(space: Workspace, user, path: str, data: bytes) -> None:
    draft = ensure_draft(space)
    put_file(draft, path, data, user_id=user.id)
    space.files = draft_files(draft)


def _write_all(space: Workspace, user, files: dict[str, bytes]) -> None:
    draft = ensure_draft(space)
    replace_draft_files(draft, files, user_id=user.id)
    space.files = draft_files(draft)


def _guard(space: Workspace, path: str, base_sha: str) -> None:
    """Refuse a save from a form opened on another state of the file."""
    current = space.files.get(path, b"")
    if file_sha(current) != base_sha:
        raise StaleEdit(path, current)


def base_of(space: Workspace, path: str) -> str:
    """What a form sends back to prove it was opened on the file's current state."""
    return file_sha(space.files.get(path, b""))


# -- creating a course


def create_course(user, slug: str, title: str, summary: str, language: str) -> Workspace:
    slug = slug.strip()
    if not SLUG.fullmatch(slug) or len(slug) > 80:
        raise FieldError("slug", _("Use lowercase letters a-z, digits and single hyphens, e.g. e-akte-grundlagen."))
    taken = (
        db.session.execute(select(Course.id).where(Course.slug == slug)).first()
        or db.session.execute(select(CourseDraft.id).where(CourseDraft.slug == slug)).first()
    )
    if taken:
        raise FieldError("slug", _("A course with this short name exists already. Choose another one."))
    meta: dict[str, Any] = {"title": title.strip(), "summary": summary.strip(), "language": language}
    files = {"course.md": write_course_file(CourseFile(meta=meta, intro=""))}
    draft = CourseDraft(slug=slug, content_hash=content_hash(dict(files)), updated_by_id=user.id)
    db.session.add(draft)
    replace_draft_files(draft, files, user_id=user.id)
    draft.owners.append(CourseOwner(user_id=user.id, kind=CourseOwnership.OWNER))
    db.session.flush()
    return Workspace(slug, None, draft, files)


# -- course settings


def save_settings(space: Workspace, user, settings: dict[str, Any], intro: str, base_sha: str) -> None:
    """Write course.md: the form's keys replace theirs; keys the form does not show are kept."""
    _guard(space, "course.md", base_sha)
    course = space.course_file()
    meta = dict(course.meta)
    for key, value in settings.items():
        if value in (None, "", []):
            meta.pop(key, None)
        else:
            meta[key] = value
    _write(space, user, "course.md", write_course_file(CourseFile(meta=meta, intro=intro)))


# -- lessons


def add_lesson(space: Workspace, user, title: str) -> str:
    """A new lesson at the end; answers its id."""
    title = title.strip()
    if not title:
        raise FieldError("title", _("Give the lesson a title."))
    lessons = space.lessons()
    uid = free_id(slug_of(title, 36), {lesson.uid for _path, lesson in lessons if lesson.uid})
    name = numbered_name(len(lessons) + 1, slug_of(title) or uid) + ".md"
    if name in space.files:
        raise FieldError("title", _("A lesson file named %(name)s exists already.", name=name))
    text = _("Write the lesson here.")
    _write(space, user, name, write_lesson(LessonFile(meta={"id": uid, "title": title}, body=text)))
    return uid


def save_lesson(space: Workspace, user, path: str, *, title: str, body: str, draw: int | None, base_sha: str) -> None:
    _guard(space, path, base_sha)
    lesson = read_lesson(space.files[path], path)
    if not title.strip():
        raise FieldError("title", _("Give the lesson a title."))
    if draw is not None and draw > len(lesson.questions):
        raise FieldError(
            "draw", _("The lesson has %(count)d questions; ask at most that many.", count=len(lesson.questions))
        )
    lesson.meta = _with_id(lesson, path) | {"title": title.strip()}
    if draw:
        lesson.meta["draw"] = draw
    else:
        lesson.meta.pop("draw", None)
    lesson.body = body
    _write(space, user, path, write_lesson(lesson))


def _with_id(lesson: LessonFile, path: str) -> dict[str, Any]:
    """A lesson without an id gets its file name as id: the documented rule, so it stays the
    same lesson (and learners keep their progress) when the editor renames its file."""
    meta = dict(lesson.meta)
    meta.setdefault("id", key_of(path)[:40])
    return {"id": meta.pop("id"), **meta}


def move_lesson(space: Workspace, user, path: str, offset: int) -> None:
    """Move a lesson up (-1) or down (+1); files are numbered again, their ids keep them the same lessons."""
    paths = lesson_paths(space.files)
    index = paths.index(path)
    target = index + offset
    if not 0 <= target < len(paths):
        return
    paths[index], paths[target] = paths[target], paths[index]
    _renumber(space, user, paths)


def delete_lesson(space: Workspace, user, path: str) -> None:
    if len(lesson_paths(space.files)) <= 1:
        raise FieldError("lesson", _("A course needs at least one lesson."))
    key = key_of(path)
    files = {
        name: data for name, data in space.files.items() if name != path and not name.endswith(f"/{key}.md")
    }  # the lesson's variants go with it
    remaining = [name for name in lesson_paths(space.files) if name != path]
    _write_all(space, user, _renumbered(files, remaining))


def _renumber(space: Workspace, user, ordered: list[str]) -> None:
    _write_all(space, user, _renumbered(dict(space.files), ordered))


def _renumbered(files: dict[str, bytes], ordered: list[str]) -> dict[str, bytes]:
    """Lesson files named 01-…, 02-… in `ordered`'s order; each gets an id first (its old name),
    and the variants' files of a lesson are renamed with it."""
    renames = {}
    for position, path in enumerate(ordered, start=1):
        new = numbered_name(position, key_of(path)) + ".md"
        lesson = read_lesson(files[path], path)
        if lesson.readable and lesson.uid is None:
            lesson.meta = _with_id(lesson, path)
            files[path] = write_lesson(lesson)
        if new != path:
            renames[path] = new
    if not renames:
        return files
    result = {}
    for name, data in files.items():
        folder, _sep, base = name.rpartition("/")
        if folder in variant_folders(files) and base in renames:
            result[f"{folder}/{renames[base]}"] = data
        else:
            result[renames.get(name, name)] = data
    return result


# -- quiz questions


def save_question(
    space: Workspace, user, path: str, index: int | None, question: dict[str, Any], base_sha: str
) -> None:
    """Add (index None) or replace a question of the lesson, as a ```quiz block."""
    _guard(space, path, base_sha)
    answers = question.get("answers") or []
    if len(answers) < 2:
        raise FieldError("answers", _("Give at least two answers."))
    correct = sum(1 for answer in answers if answer.get("correct"))
    if correct == 0:
        raise FieldError("answers", _("Mark at least one answer as correct."))
    if question.get("type") == "single" and correct != 1:
        raise FieldError("answers", _("A question with one right answer needs exactly one answer marked correct."))
    lesson = read_lesson(space.files[path], path)
    lesson.meta = _with_id(lesson, path)
    if index is None:
        lesson.questions.append(question)
    else:
        lesson.questions[index] = question
    _write(space, user, path, write_lesson(lesson))


def delete_question(space: Workspace, user, path: str, index: int, base_sha: str) -> None:
    _guard(space, path, base_sha)
    lesson = read_lesson(space.files[path], path)
    del lesson.questions[index]
    draw = lesson.meta.get("draw")
    if isinstance(draw, int) and draw > len(lesson.questions):
        lesson.meta.pop("draw")  # else the lesson would ask more questions than it has
    _write(space, user, path, write_lesson(lesson))


# -- images


def add_image(space: Workspace, user, filename: str, data: bytes, alt: str, lesson_path: str | None) -> str:
    """Check an uploaded image by its content, store it under a safe name in media/, and (with a
    lesson) append it to the lesson's text with its alt text. Answers its path."""
    alt = " ".join(alt.split())
    if not alt:
        raise FieldError("alt", _("Describe the image for people who cannot see it (alt text)."))
    if any(character in alt for character in "[]"):
        raise FieldError("alt", _("The alt text may not contain square brackets."))
    path = _image_path(filename, data)
    if path in space.files and space.files[path] != data:
        raise FieldError(
            "image",
            _("An image named %(name)s exists already. Rename your file or delete that image first.", name=path[6:]),
        )
    problems = Problems()
    if check_media(path, data, path, problems) is None:
        message = problems.errors[0].message if problems.errors else ""
        raise FieldError("image", _("The file is not an image this course can show: %(reason)s", reason=message))
    files = dict(space.files) | {path: data}
    if lesson_path:
        lesson = read_lesson(files[lesson_path], lesson_path)
        lesson.meta = _with_id(lesson, lesson_path)
        lesson.body = f"{lesson.body}\n\n![{alt}]({path})"
        files[lesson_path] = write_lesson(lesson)
    _write_all(space, user, files)
    return path


_IMAGE_SUFFIXES = {b"\x89PNG\r\n\x1a\n": ".png", b"\xff\xd8\xff": ".jpg", b"RIFF": ".webp"}


def _image_path(filename: str, data: bytes) -> str:
    """media/<safe name><suffix of the content's type>; the uploaded name only lends its stem."""
    stem = slug_of(PurePosixPath(filename.replace("\\", "/")).stem, 80) or "bild"
    suffix = next((suffix for magic, suffix in _IMAGE_SUFFIXES.items() if data.startswith(magic)), None)
    if suffix is None or (suffix == ".webp" and data[8:12] != b"WEBP"):
        raise FieldError("image", _("Upload a PNG, JPEG or WebP image."))
    return f"media/{stem}{suffix}"


def delete_image(space: Workspace, user, path: str) -> None:
    used_in = [name for name, lesson in space.lessons() if path in lesson.body]
    if used_in:
        raise FieldError(
            "image", _("The image is still shown in %(lessons)s. Remove it there first.", lessons=", ".join(used_in))
        )
    _write_all(space, user, {name: data for name, data in space.files.items() if name != path})


# -- lists and people


def all_courses() -> tuple[list[Course], dict[str, CourseDraft]]:
    """Published courses by title, and every draft by slug (with its owners)."""
    courses = list(db.session.execute(select(Course).order_by(Course.title)).scalars())
    drafts = db.session.execute(
        select(CourseDraft).options(selectinload(CourseDraft.owners)).order_by(CourseDraft.slug)
    ).scalars()
    return courses, {draft.slug: draft for draft in drafts}


def people_by_id(ids: list[int | None]) -> dict[int, User]:
    """The people of these ids (authors, approvers, owners), in one statement."""
    wanted = {person_id for person_id in ids if person_id}
    if not wanted:
        return {}
    return {user.id: user for user in db.session.execute(select(User).where(User.id.in_(wanted))).scalars()}


def owners_of(space: Workspace) -> list[tuple[User, CourseOwnership]]:
    if space.draft is None:
        return []
    people = people_by_id([owner.user_id for owner in space.draft.owners])
    return [(people[owner.user_id], CourseOwnership(owner.kind)) for owner in space.draft.owners]


def review_requester(space: Workspace) -> User | None:
    requester_id = space.draft.review_requested_by_id if space.draft else None
    return db.session.get(User, requester_id) if requester_id else None


def active_trainers() -> list[User]:
    """Who can be named an owner."""
    return list(
        db.session.execute(
            select(User)
            .where(User.active.is_(True), User.role_rows.any(role=Role.TRAINER))
            .order_by(User.family_name, User.given_name)
        ).scalars()
    )


# -- owners


def set_owner(
    space: Workspace, person: User, kind: CourseOwnership | None, *, actor: User | None, ip_address: str | None = None
) -> None:
    """Name a person owner or co-owner of the course, or (kind None) remove them; audited, as
    a change of who may edit (`actor` None: the operator on the command line)."""
    draft = ensure_draft(space)
    rows = [row for row in draft.owners if row.user_id != person.id]
    if kind is not None:
        rows.append(CourseOwner(user_id=person.id, kind=kind))
    draft.owners = rows
    db.session.flush()
    context = {AuditField.COURSE: space.slug, AuditField.ROLE: kind.value if kind else "removed"}
    privacy.record_event(actor, AuditAction.SET_COURSE_OWNER, person, context, ip_address)
