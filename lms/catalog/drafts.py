"""A course draft's files, kept in step with its content hash. Flushes, never commits."""

from __future__ import annotations

import hashlib

from lms.catalog.format import content_hash
from lms.catalog.models import CourseDraft, CourseDraftFile
from lms.common.dates import utcnow
from lms.extensions import db


def draft_files(draft: CourseDraft) -> dict[str, bytes]:
    return {row.path: row.data for row in draft.files}


def file_sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def replace_draft_files(draft: CourseDraft, files: dict[str, bytes], *, user_id: int | None = None) -> None:
    """The draft holds exactly `files` afterwards; unchanged files keep their rows."""
    rows = {row.path: row for row in draft.files}
    kept = []
    for path, data in sorted(files.items()):
        row = rows.get(path) or CourseDraftFile(path=path, sha256="", data=b"")
        if row.sha256 != file_sha(data):
            row.data, row.sha256 = data, file_sha(data)
        kept.append(row)
    draft.files = kept
    _touch(draft, files, user_id)


def put_file(draft: CourseDraft, path: str, data: bytes, *, user_id: int | None) -> None:
    files = draft_files(draft) | {path: data}
    replace_draft_files(draft, files, user_id=user_id)


def remove_files(draft: CourseDraft, paths: set[str], *, user_id: int | None) -> None:
    files = {path: data for path, data in draft_files(draft).items() if path not in paths}
    replace_draft_files(draft, files, user_id=user_id)


def _touch(draft: CourseDraft, files: dict[str, bytes], user_id: int | None) -> None:
    digest = content_hash(dict(files))
    if digest != draft.content_hash:
        draft.content_hash = digest
        draft.updated_at = utcnow()
        if user_id is not None:
            draft.updated_by_id = user_id
    db.session.flush()
