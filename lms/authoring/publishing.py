"""From draft to version: the content check, publication (with the optional four-eyes review),
the difference between versions, restoring one, and the zip round trip. Flushes, never commits.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path

from flask_babel import get_locale
from markupsafe import Markup

from lms.assignments.services import leave_archived_courses
from lms.authoring.checks import Finding, Severity, check_course
from lms.authoring.services import FieldError, Workspace, ensure_draft
from lms.authoring.sources import read_lesson
from lms.catalog.bundle import read_course_zip, zip_course
from lms.catalog.drafts import replace_draft_files
from lms.catalog.format import CourseSource, content_hash
from lms.catalog.importer import archive, framework_info, parsed_course, write_course
from lms.catalog.markdown import course_image_url, render_markdown
from lms.catalog.models import Course, CourseDraft, CourseOwner, CourseVersion
from lms.catalog.outline import LruCache
from lms.catalog.versions import published_files, record_version, version, version_files
from lms.common.sourcefile import Problem
from lms.common.vocabulary import CourseOwnership, VersionOrigin
from lms.extensions import db
from lms.i18n import _


@dataclass
class CheckReport:
    """What stands between a draft and publication: the format's problems and the content check."""

    problems: list[Problem] = field(default_factory=list)  # path without the slug: "01-start.md"
    findings: list[Finding] = field(default_factory=list)
    source: CourseSource | None = None

    @property
    def blocking(self) -> bool:
        return self.source is None or any(finding.severity == Severity.ERROR for finding in self.findings)

    @property
    def errors(self) -> list[Problem]:
        return [problem for problem in self.problems if not problem.warning]

    @property
    def warnings(self) -> list[Problem]:
        return [problem for problem in self.problems if problem.warning]


def check(space: Workspace) -> CheckReport:
    """The format's problems and the content check of the draft; both are remembered per
    process for the same files (the course page shows them on every visit)."""
    files: dict[str, bytes | None] = dict(space.files)
    digest = content_hash(files)
    source, problems = parsed_course(Path(space.slug), files, digest, framework_info())
    prefix = f"{space.slug}/"
    found = [
        Problem(problem.path.removeprefix(prefix), problem.line, problem.message, problem.warning)
        for problem in problems
    ]
    return CheckReport(found, _findings(digest, space.files), source)


_FINDINGS: LruCache[tuple[str, str], list[Finding]] = LruCache(limit=32)


def _findings(digest: str, files: dict[str, bytes]) -> list[Finding]:
    key = (digest, str(get_locale()))  # the messages are in the reader's language
    found = _FINDINGS.get(key)
    if found is None:
        found = check_course(files)
        _FINDINGS.put_many({key: found})
    return list(found)


def publish(space: Workspace, user, note: str, *, approved_by_id: int | None = None) -> CourseVersion:
    """Make the draft the course's next version (the first one for a new course)."""
    note = note.strip()
    if not note:
        raise FieldError("note", _("Say in a few words what changed (the change note)."))
    if not space.changed:
        raise FieldError("note", _("Nothing has changed since the published version."))
    report = check(space)
    if report.blocking or report.source is None:
        raise FieldError("note", _("The content check found errors. Correct them, then publish."))
    draft = ensure_draft(space)
    if draft.course_id is None and space.course is not None:
        # Its short name was taken by a course synced from files since the draft was begun.
        raise FieldError("note", _("A course with this short name exists already. Choose another one."))
    author_id = draft.review_requested_by_id if approved_by_id else user.id
    write_course(report.source, space.course.source_path if space.course else None)
    course = db.session.execute(db.select(Course).where(Course.slug == space.slug)).scalar_one()
    draft.course_id, draft.content_hash = course.id, course.content_hash
    draft.review_hash = draft.review_note = draft.review_requested_by_id = None
    space.course = course
    return record_version(
        course, dict(space.files), VersionOrigin.BROWSER, author_id=author_id, note=note, approved_by_id=approved_by_id
    )


def request_review(space: Workspace, user, note: str) -> None:
    """Ask a second trainer to approve the draft as it is now (four eyes)."""
    if not note.strip():
        raise FieldError("note", _("Say in a few words what changed (the change note)."))
    if not space.changed:
        raise FieldError("note", _("Nothing has changed since the published version."))
    if check(space).blocking:
        raise FieldError("note", _("The content check found errors. Correct them, then ask for a review."))
    draft = ensure_draft(space)
    draft.review_hash, draft.review_note, draft.review_requested_by_id = draft.content_hash, note.strip(), user.id
    db.session.flush()


def approve(space: Workspace, user) -> CourseVersion:
    """The reviewer approves the draft they saw, and it is published with their name."""
    draft = space.draft
    if draft is None or draft.review_hash is None:
        raise FieldError("review", _("Nobody has asked for a review of this course."))
    if draft.review_hash != draft.content_hash:
        raise FieldError("review", _("The draft changed after the review was requested. Ask for a new review."))
    return publish(space, user, draft.review_note or "", approved_by_id=user.id)


def withdraw_review(space: Workspace) -> None:
    if space.draft is not None:
        space.draft.review_hash = space.draft.review_note = space.draft.review_requested_by_id = None
        db.session.flush()


# -- versions


def restore(space: Workspace, user, number: int) -> None:
    """An older version's files become the draft (publish them to make them the course again)."""
    if space.course is None:
        raise FieldError("version", _("This course has no published versions."))
    old = version(space.course.id, number)
    if old is None:
        raise FieldError("version", _("There is no version %(number)d.", number=number))
    draft = ensure_draft(space)
    replace_draft_files(draft, version_files(old), user_id=user.id)
    space.files = version_files(old)


@dataclass
class FileDifference:
    path: str
    status: str  # "added", "removed", "changed"
    lines: list[tuple[str, str]]  # (" ", "+", "-" or "@", text) of a unified diff; empty for images
    before_html: Markup = Markup()  # the lesson rendered (sanitised by render_markdown), for comparison
    after_html: Markup = Markup()


def difference(slug: str, before: dict[str, bytes], after: dict[str, bytes]) -> list[FileDifference]:
    """What changed between two states of a course folder, file by file, as Markdown and rendered."""
    result = []
    for path in sorted(set(before) | set(after)):
        old, new = before.get(path), after.get(path)
        if old == new:
            continue
        status = "added" if old is None else "removed" if new is None else "changed"
        if path.startswith("media/"):
            result.append(FileDifference(path, status, []))
            continue
        old_text, new_text = _text(old), _text(new)
        lines = [
            (line[0], line[1:])
            for line in difflib.unified_diff(old_text.splitlines(), new_text.splitlines(), lineterm="", n=2)
        ][2:]  # without the ---/+++ header
        result.append(
            FileDifference(
                path,
                status,
                [("@" if text.startswith("@") else kind, text) for kind, text in lines],
                _rendered(slug, old_text, before),
                _rendered(slug, new_text, after),
            )
        )
    return result


def _text(data: bytes | None) -> str:
    return "" if data is None else data.decode("utf-8", errors="replace")


def _rendered(slug: str, text: str, files: dict[str, bytes]) -> Markup:
    media = {path[len("media/") :] for path in files if path.startswith("media/")}

    def resolve(src: str) -> str | None:
        url, _problem = course_image_url(src, slug, media, files)
        return url and url.replace(f"/courses/{slug}/media/", f"/authoring/{slug}/files/media/")

    lesson = read_lesson(text.encode("utf-8"))
    return Markup(render_markdown(lesson.body, resolve)) if text else Markup()  # sanitised by nh3 in render_markdown


# -- zips


def export_zip(space: Workspace, *, published: bool = True) -> bytes:
    """The course folder as a zip: the published version, or the draft."""
    if published and space.course is not None:
        files = published_files(space.course) or space.files
    else:
        files = space.files
    return zip_course(space.slug, files)


def import_zip(space_of, user, data: bytes, *, replace: bool = False) -> Workspace:
    """A zipped course folder becomes the draft of its course (a new course: owned by the importer).
    `space_of(slug)` finds the workspace and checks the right to edit an existing course. A draft
    with unpublished changes is replaced only with `replace`, so that nothing is lost unasked."""
    slug, files = read_course_zip(data)
    space = space_of(slug)
    if space is not None and space.changed and not replace:
        raise FieldError(
            "replace",
            _("The course %(slug)s has unpublished changes. Confirm that the zip file replaces them.", slug=slug),
        )
    if space is None:
        draft = CourseDraft(slug=slug, content_hash="", updated_by_id=user.id)
        db.session.add(draft)
        draft.owners.append(CourseOwner(user_id=user.id, kind=CourseOwnership.OWNER))
        space = Workspace(slug, None, draft, {})
    replace_draft_files(ensure_draft(space), files, user_id=user.id)
    space.files = files
    return space


def take_out_of_catalogue(space: Workspace) -> None:
    """Archive the course: it leaves the catalogue and open assignments; completions stay."""
    if space.course is not None:
        archive([space.course])
        leave_archived_courses()


def put_back_into_catalogue(space: Workspace) -> None:
    if space.course is not None:
        space.course.archived = False
        db.session.flush()
