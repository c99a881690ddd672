"""The backup file (docs/backup.md): a gzip-compressed tar archive whose first member is
`manifest.json`: the format and its version, the app, when it was made, the database's kind,
Alembic revision and rows per table, the audit trail's head, and the SHA-256 and size of every
other member. Then the database (`database/…`, lms/core/backup_databases.py) and the files
(`files/…`, relative to the instance folder).

Reading one checks everything before anything is touched: the manifest, the format version, every
member against its hash and size, the gzip checksum to the last byte, and the database copy itself
(SQLite's integrity check and row counts; pg_restore reads the dump's table of contents).

Everything else the application keeps lives in the database (course images, browser drafts and
published versions included), so the files are few: what the instance folder holds besides the
database, the secret key, uploads waiting an hour for their confirmation, and earlier backups.
`state_files` says what is left out and why.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import re
import tarfile
import tempfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Protocol

from flask import current_app

from lms.core import backup_databases as databases
from lms.core.backup_databases import KINDS, BackupError

FORMAT = "lernpfad-backup"
FORMAT_VERSION = 1
READABLE_FORMATS = frozenset({1})
APP_NAME = "Lernpfad"
MANIFEST = "manifest.json"
FILES = "files/"
MAX_MANIFEST_BYTES = 16 * 1024 * 1024
CHUNK = 1024 * 1024
GZIP_MAGIC = b"\x1f\x8b"
SQLITE_MAGIC = b"SQLite format 3\x00"
# Files of the instance folder a backup never holds, and why.
SECRET_FILES = {"secret_key": "a secret (the development SECRET_KEY): keep it apart from the backups"}
# Folders of the instance folder whose files are transient: a backup leaves them out, a restore refuses them.
TRANSIENT_FOLDERS = {
    "hr-import": "HR files uploaded for a preview, kept until confirmed, at most an hour (lms/admin/hr_import.py)",
}
_SHA256 = re.compile(r"[0-9a-f]{64}")
_REVISION = re.compile(r"[0-9A-Za-z_]{1,64}")
_TABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


class Progress(Protocol):
    def stage(self, label: str, total: int | None) -> AbstractContextManager[Callable[[int], None]]:
        """A step of `total` units (None: of unknown length); the callable advances it."""
        ...


class Quiet:
    @contextmanager
    def stage(self, label: str, total: int | None) -> Iterator[Callable[[int], None]]:
        yield lambda _units: None


QUIET = Quiet()


def _damaged(path: Path, why: str) -> BackupError:
    return BackupError(f"{path}: the backup is damaged: {why}")


def _foreign(path: Path, why: str) -> BackupError:
    return BackupError(f"{path}: not a Lernpfad backup: {why}")


# --- the files beside the database ------------------------------------------------------------


def instance_folder() -> Path:
    return Path(current_app.instance_path)


def _starts_like_a_backup(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            block = handle.read(512)
        if block.startswith(GZIP_MAGIC):
            with gzip.open(path, "rb") as unpacked:
                block = unpacked.read(512)
    except (OSError, EOFError, zlib.error):
        return False
    return block.startswith(MANIFEST.encode() + b"\x00")


def _left_out_because(path: Path, relative: str, named: dict[Path, str]) -> str | None:
    if relative in SECRET_FILES:
        return SECRET_FILES[relative]
    if path.absolute() in named:
        return named[path.absolute()]
    if path.is_symlink() or not path.is_file():
        return "not a regular file"
    if path.name.endswith((".partial", ".restoring")):
        return "an unfinished file"
    with path.open("rb") as handle:
        if handle.read(len(SQLITE_MAGIC)) == SQLITE_MAGIC:
            return "a SQLite database other than the configured one"
    if _starts_like_a_backup(path):
        return "a Lernpfad backup"
    return None


def state_files(root: Path, named: dict[Path, str]) -> tuple[list[tuple[str, Path]], list[dict[str, str]]]:
    """The files under `root` (the instance folder) that a backup holds, as (member name, path),
    and those it leaves out, with the reason. `named` gives further paths to leave out."""
    if not root.is_dir():
        return [], []
    named = {path.absolute(): reason for path, reason in named.items()}
    kept, left_out = [], []
    for folder, subfolders, names in os.walk(root):
        for name in [*subfolders]:
            relative = (Path(folder) / name).relative_to(root).as_posix()
            if relative in TRANSIENT_FOLDERS:
                subfolders.remove(name)
                left_out.append({"path": f"{relative}/", "reason": TRANSIENT_FOLDERS[relative]})
            elif (Path(folder) / name).is_symlink():
                subfolders.remove(name)
                names.append(name)
        subfolders.sort()
        for name in sorted(names):
            path = Path(folder) / name
            relative = path.relative_to(root).as_posix()
            reason = _left_out_because(path, relative, named)
            if reason is None:
                kept.append((FILES + relative, path))
            else:
                left_out.append({"path": relative, "reason": reason})
    return kept, left_out


def _is_file_member(name: str) -> bool:
    relative = name.removeprefix(FILES)
    parts = relative.split("/")
    return (
        name.startswith(FILES)
        and len(name) <= 1000
        and "\\" not in name
        and "\x00" not in name
        and all(part not in ("", ".", "..") for part in parts)
        and relative not in SECRET_FILES
        and parts[0] not in TRANSIENT_FOLDERS
    )


# --- hashing, copying, the archive ---------------------------------------------------------


def copy_hashed(source: IO[bytes], target: Path) -> dict[str, Any]:
    digest, size = hashlib.sha256(), 0
    with open(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as copy:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            copy.write(chunk)
    return {"sha256": digest.hexdigest(), "size": size}


def hashed(path: Path) -> dict[str, Any]:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return {"sha256": digest.hexdigest(), "size": size}


class _Counted(io.RawIOBase):
    """A file read or written through this counts its bytes into `advance` and a SHA-256."""

    def __init__(self, inner: IO[bytes], advance: Callable[[int], None]):
        self.inner, self.advance, self.digest = inner, advance, hashlib.sha256()

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data = self.inner.read(size)
        self.digest.update(data)
        self.advance(len(data))
        return data

    def write(self, data) -> int:
        self.inner.write(data)
        self.digest.update(data)
        return len(data)


def _tar_entry(name: str, size: int, mtime: float) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = size, int(mtime), 0o600
    return info


def write_archive(partial: Path, manifest: dict, members: list[tuple[str, Path]], progress: Progress) -> str:
    """Write the archive into `partial` (created here, 0600) and answer its SHA-256."""
    text = json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False).encode("utf-8")
    mtime = datetime.fromisoformat(manifest["created_at"]).timestamp()
    total = sum(manifest["members"][name]["size"] for name, _path in members)
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with open(descriptor, "wb") as raw, progress.stage(f"Writing {partial.name}", total) as advance:
        counted = _Counted(raw, lambda _n: None)
        with gzip.GzipFile(filename="", mode="wb", fileobj=counted, compresslevel=6, mtime=int(mtime)) as packed:
            with tarfile.open(fileobj=packed, mode="w|", format=tarfile.PAX_FORMAT) as tar:
                tar.addfile(_tar_entry(MANIFEST, len(text), mtime), io.BytesIO(text))
                for name, path in members:
                    with path.open("rb") as source:
                        tar.addfile(
                            _tar_entry(name, manifest["members"][name]["size"], mtime), _Counted(source, advance)
                        )
        raw.flush()
        os.fsync(raw.fileno())
    return counted.digest.hexdigest()


def sync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


# --- reading and checking a backup ----------------------------------------------------------


@dataclass
class Verified:
    """A backup whose every member matched its manifest, unpacked into a private folder."""

    path: Path
    sha256: str
    manifest: dict
    staged: dict[str, Path] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return self.manifest["database"]["kind"]

    @property
    def revision(self) -> str:
        return self.manifest["database"]["alembic_revision"]

    @property
    def tables(self) -> dict[str, int]:
        return self.manifest["database"]["tables"]

    @property
    def dump(self) -> Path:
        return self.staged[databases.DUMP_MEMBERS[self.kind]]

    @property
    def files(self) -> list[tuple[str, Path]]:
        return sorted((name.removeprefix(FILES), path) for name, path in self.staged.items() if name.startswith(FILES))


def _what_it_is(raw: IO[bytes]) -> str | None:
    """None for a gzip file; else what the file seems to be."""
    head = raw.read(512)
    raw.seek(0)
    if head.startswith(GZIP_MAGIC):
        return None
    if not head:
        return "it is empty"
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return "it is a zip file"
    if head[257:262] == b"ustar":
        return "it is an uncompressed tar archive"
    return "it is not a gzip-compressed tar archive"


def _manifest_problem(manifest: dict) -> str | None:
    database, audit, members = manifest.get("database"), manifest.get("audit"), manifest.get("members")
    if not isinstance(database, dict) or database.get("kind") not in KINDS:
        return "it names no known database kind"
    if not isinstance(database.get("alembic_revision"), str) or not _REVISION.fullmatch(database["alembic_revision"]):
        return "it names no Alembic revision"
    tables = database.get("tables")
    if not isinstance(tables, dict) or not all(
        isinstance(name, str) and _TABLE.fullmatch(name) and type(rows) is int and rows >= 0
        for name, rows in tables.items()
    ):
        return "its row counts are malformed"
    if not isinstance(audit, dict) or not isinstance(members, dict):
        return "its audit or member list is missing"
    if databases.DUMP_MEMBERS[database["kind"]] not in members:
        return "it lists no database dump"
    for name, entry in members.items():
        if name != databases.DUMP_MEMBERS[database["kind"]] and not _is_file_member(name):
            return f"it lists {name!r}, which is not a name a backup uses"
        if not isinstance(entry, dict) or not _SHA256.fullmatch(str(entry.get("sha256"))):
            return f"its entry for {name} has no SHA-256"
        if type(entry.get("size")) is not int or entry["size"] < 0:
            return f"its entry for {name} has no size"
    return None


def _parse_manifest(path: Path, text: bytes) -> dict:
    try:
        manifest = json.loads(text.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise _foreign(path, f"its manifest.json is not JSON ({error})") from error
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT or manifest.get("app") != APP_NAME:
        raise _foreign(path, "its manifest.json does not describe a Lernpfad backup")
    if manifest.get("format_version") not in READABLE_FORMATS:
        raise BackupError(
            f"{path}: it is in backup format {manifest.get('format_version')!r}; this version of Lernpfad reads"
            f" format {', '.join(map(str, sorted(READABLE_FORMATS)))}: use the version that made it, or a newer one"
        )
    problem = _manifest_problem(manifest)
    if problem:
        raise _damaged(path, f"its manifest.json is incomplete: {problem}")
    return manifest


def _unpack(path: Path, packed: gzip.GzipFile, staging: Path) -> tuple[dict, dict[str, Path]]:
    with tarfile.open(fileobj=packed, mode="r|") as tar:
        first = tar.next()
        if first is None or first.name != MANIFEST or not first.isfile() or first.size > MAX_MANIFEST_BYTES:
            raise _foreign(path, "it does not begin with manifest.json")
        manifest = _parse_manifest(path, tar.extractfile(first).read())  # type: ignore[union-attr]
        expected: dict[str, dict] = manifest["members"]
        staged: dict[str, Path] = {}
        for info in tar:
            if info is first:  # a stream's iteration starts again at the members read so far
                continue
            if info.name not in expected or info.name in staged or not info.isfile():
                raise _damaged(path, f"it holds {info.name!r}, which its manifest does not list (or lists once)")
            staged[info.name] = target = staging / f"member-{len(staged)}"
            if copy_hashed(tar.extractfile(info), target) != expected[info.name]:  # type: ignore[arg-type]
                raise _damaged(path, f"{info.name} does not match the SHA-256 and size in its manifest")
    while packed.read(CHUNK):  # to the gzip trailer: its checksum and length are checked too
        pass
    missing = sorted(set(expected) - set(staged))
    if missing:
        raise _damaged(
            path, f"{missing[0]} is missing" + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else "")
        )
    return manifest, staged


def _read(path: Path, staging: Path, progress: Progress) -> Verified:
    try:
        raw = path.open("rb")
    except OSError as error:
        raise BackupError(f"{path}: cannot be read: {error.strerror}") from error
    with raw:
        what = _what_it_is(raw)
        if what:
            raise _foreign(path, what)
        with progress.stage(f"Checking {path.name}", os.fstat(raw.fileno()).st_size) as advance:
            counted = _Counted(raw, advance)
            try:
                with gzip.GzipFile(filename="", mode="rb", fileobj=counted) as packed:
                    manifest, staged = _unpack(path, packed, staging)
            except EOFError as error:
                raise BackupError(f"{path}: the backup is incomplete: the file ends early (cut off?)") from error
            except tarfile.ReadError as error:
                if "unexpected end" in str(error) or "empty" in str(error):
                    raise BackupError(f"{path}: the backup is incomplete: the file ends early (cut off?)") from error
                raise _damaged(path, str(error)) from error
            except (gzip.BadGzipFile, zlib.error, tarfile.TarError) as error:
                raise _damaged(path, str(error) or type(error).__name__) from error
    return Verified(path, counted.digest.hexdigest(), manifest, staged)


def check_database_copy(verified: Verified) -> None:
    """The database copy itself is sound (after its hash matched): SQLite's integrity check and
    row counts, or pg_restore reading the dump's table of contents."""
    if verified.kind == "postgresql":
        databases.check_pg_archive(verified.dump, verified.manifest["database"].get("pg_dump"))
        return
    problem = databases.check_sqlite_copy(verified.dump)
    if problem:
        raise _damaged(verified.path, problem)
    if databases.sqlite_file_facts(verified.dump).tables != verified.tables:
        raise _damaged(verified.path, "the rows of its database differ from the counts in its manifest")


@contextmanager
def opened(path: Path, progress: Progress = QUIET) -> Iterator[Verified]:
    """The backup at `path`, checked whole and unpacked into a private temporary folder for the
    time of the `with` block (removed afterwards)."""
    with tempfile.TemporaryDirectory(prefix="lernpfad-restore-") as staging:
        yield _read(Path(os.path.abspath(path)), Path(staging), progress)
