"""Backup and restore of a whole installation (docs/backup.md): the database and the files the
application keeps beside it, in one file (its format: lms/core/backup_archive.py; the database's
part: lms/core/backup_databases.py).

`create` writes the backup to `FILE.partial`, private to this account (0600), and renames it to
FILE once complete, so FILE is never half-written. A restore is taken in steps the command line
walks through: `opened` checks the whole file and unpacks it, `check_compatible` refuses a backup
of another database kind, of a newer schema or with audit checkpoints under another key,
`target_state` says what the restore would replace (it goes only into an empty database unless
the operator chose to replace), and `restore` replaces it, compares every table's rows with the
manifest, puts the files back and upgrades an older schema. Each step either completes or
leaves the installation as it was; the comparison after the restore fails loudly.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from flask import current_app

from lms.common.vocabulary import AuditAction, AuditField
from lms.core import backup_databases as databases
from lms.core.backup_archive import (
    APP_NAME,
    FILES,
    FORMAT,
    FORMAT_VERSION,
    QUIET,
    Progress,
    Verified,
    check_database_copy,
    copy_hashed,
    hashed,
    instance_folder,
    opened,
    state_files,
    sync_folder,
    write_archive,
)
from lms.core.backup_databases import BackupError
from lms.extensions import db

KEY_CHECK = b"lernpfad backup: the key of the audit checkpoints"

__all__ = ["BackupError", "create", "opened", "check_compatible", "target_state", "restore"]


def key_check() -> str:
    """Tells whether two installations sign audit checkpoints with the same key, without the key
    (an HMAC of a fixed text; written only when there are checkpoints, whose signatures are HMACs
    under the same key anyway)."""
    from lms.privacy.chain import checkpoint_key

    return hmac.new(checkpoint_key(), KEY_CHECK, hashlib.sha256).hexdigest()


def database_shown() -> str:
    return db.engine.url.render_as_string(hide_password=True)


# --- creating a backup ----------------------------------------------------------------------


@dataclass(frozen=True)
class Created:
    path: Path
    sha256: str
    manifest: dict

    @property
    def files(self) -> int:
        return sum(1 for name in self.manifest["members"] if name.startswith(FILES))

    @property
    def rows(self) -> int:
        return sum(self.manifest["database"]["tables"].values())


def _dump(kind: str, target: Path, progress: Progress) -> tuple[databases.Facts, dict[str, str]]:
    if kind == "postgresql":
        with progress.stage("Dumping the database with pg_dump", None):
            return databases.dump_postgresql(db.engine, target)
    with progress.stage("Copying the database", databases.sqlite_pages(db.engine.url)) as advance:
        copied = [0]

        def pages(done: int, _total: int) -> None:
            advance(max(0, done - copied[0]))
            copied[0] = max(copied[0], done)

        return databases.dump_sqlite(db.engine.url, target, pages), {"sqlite": databases.sqlite3.sqlite_version}


def _left_out_paths(kind: str, target: Path, partial: Path) -> dict[Path, str]:
    named = {target: "this backup", partial: "this backup, being written"}
    if kind == "sqlite":
        database = databases.sqlite_file(db.engine.url)
        for suffix in ("", "-journal", "-wal", "-shm"):
            named[database.with_name(database.name + suffix)] = "the database (in the backup as its copy)"
    return named


def _refuse_target(target: Path, partial: Path, force: bool) -> None:
    if target.is_dir():
        raise BackupError(f"{target}: is a folder; name the backup file")
    if not target.parent.is_dir():
        raise BackupError(f"{target.parent}: no such folder")
    if target.exists() and not force:
        raise BackupError(f"{target}: exists already; pass --force to replace it")
    if partial.exists() and not force:
        raise BackupError(f"{partial}: exists: another backup to this file is running, or one was cut off (delete it)")


def create(target: Path, *, force: bool = False, progress: Progress = QUIET) -> Created:
    """Write a backup of the database and of the instance folder's files to `target`."""
    target = Path(os.path.abspath(target))
    partial = target.with_name(target.name + ".partial")
    _refuse_target(target, partial, force)
    partial.unlink(missing_ok=True)
    kind = databases.kind_of(db.engine.url)
    created_at = datetime.now(UTC).replace(microsecond=0)
    with tempfile.TemporaryDirectory(prefix="lernpfad-backup-") as staging_name:
        staging = Path(staging_name)
        found, tools = _dump(kind, staging / "database", progress)
        if not found.revision:
            raise BackupError("the database has no schema yet (no Alembic revision): run `flask db upgrade` first")
        files, left_out = state_files(instance_folder(), _left_out_paths(kind, target, partial))
        members = [(databases.DUMP_MEMBERS[kind], staging / "database")]
        entries = {members[0][0]: hashed(members[0][1])}
        for index, (name, path) in enumerate(files):
            copy = staging / f"file-{index}"  # a still copy: the archive holds what was hashed
            with path.open("rb") as source:
                entries[name] = copy_hashed(source, copy)
            members.append((name, copy))
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "app": APP_NAME,
            "created_at": created_at.isoformat(),
            "database": {"kind": kind, "alembic_revision": found.revision, "tables": found.tables, **tools},
            "audit": {**found.audit, "key_check": key_check() if found.audit.get("checkpoints") else None},
            "members": entries,
            "left_out": left_out,
        }
        try:
            digest = write_archive(partial, manifest, members, progress)
            if target.exists() and not force:
                raise BackupError(f"{target}: was created meanwhile; pass --force to replace it")
            os.replace(partial, target)
            sync_folder(target.parent)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    return Created(target, digest, manifest)


def record_created(created: Created) -> None:
    """The audit entry of a backup: a copy of everyone's data now exists at this place. Flushes."""
    from lms.privacy import services as privacy

    summary = {
        "file": str(created.path),
        "sha256": created.sha256,
        "tables": len(created.manifest["database"]["tables"]),
        "rows": created.rows,
        "files": created.files,
    }
    privacy.record_event(None, AuditAction.CREATE_BACKUP, context={AuditField.VIA: "cli", AuditField.BACKUP: summary})


# --- restoring one --------------------------------------------------------------------------


def code_revisions() -> tuple[str, set[str]]:
    """This code's newest Alembic revision, and every revision it knows."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(current_app.extensions["migrate"].directory)
    return str(script.get_current_head()), {revision.revision for revision in script.walk_revisions()}


def check_compatible(verified: Verified, *, other_key: bool = False) -> bool:
    """Refuse a backup this installation cannot take; answer whether it needs `flask db upgrade`."""
    kind = databases.kind_of(db.engine.url)
    if verified.kind != kind:
        raise BackupError(f"{verified.path}: a backup of a {verified.kind} database; this installation uses {kind}")
    head, known = code_revisions()
    if verified.revision not in known:
        raise BackupError(
            f"{verified.path}: its database is at revision {verified.revision}, which this version of Lernpfad does"
            f" not know (its newest is {head}): restore it with the newer version that made it"
        )
    audit = verified.manifest["audit"]
    signed_elsewhere = audit.get("checkpoints") and not hmac.compare_digest(str(audit.get("key_check")), key_check())
    if signed_elsewhere and not other_key:
        raise BackupError(
            f"{verified.path}: its audit trail starts at checkpoints signed with another key than this installation's"
            " (LMS_AUDIT_CHECKPOINT_KEY, or else SECRET_KEY): set the key of the installation that made it, or pass"
            " --other-audit-key to restore anyway (`flask audit verify` will then report the checkpoints)"
        )
    check_database_copy(verified)
    return verified.revision != head


@dataclass(frozen=True)
class Target:
    """What a restore would replace: tables holding rows, and files of the backup present with other content."""

    database: str
    rows: dict[str, int]
    files: list[str]
    folder: Path

    @property
    def occupied(self) -> bool:
        return bool(self.rows or self.files)

    def describe(self) -> str:
        parts = []
        if self.rows:
            largest = sorted(self.rows.items(), key=lambda item: (-item[1], item[0]))
            shown = ", ".join(f"{name}: {rows}" for name, rows in largest[:3]) + (", …" if len(largest) > 3 else "")
            parts.append(f"{sum(self.rows.values())} rows in {len(self.rows)} tables of {self.database} ({shown})")
        if self.files:
            shown = ", ".join(self.files[:3]) + (", …" if len(self.files) > 3 else "")
            parts.append(f"{len(self.files)} files in {self.folder} with other content than the backup's ({shown})")
        return " and ".join(parts)


def _differs(present: Path, staged: Path) -> bool:
    if not present.exists() and not present.is_symlink():
        return False
    if present.is_symlink() or not present.is_file():
        return True
    return present.stat().st_size != staged.stat().st_size or hashed(present) != hashed(staged)


def target_state(verified: Verified) -> Target:
    engine = db.engine
    if verified.kind == "sqlite" and not databases.sqlite_file(engine.url).exists():
        rows: dict[str, int] = {}  # not even the file: empty (and not created by looking)
    else:
        rows = databases.current_facts(engine).occupied()
    folder = instance_folder()
    files = [name for name, staged in verified.files if _differs(folder.joinpath(*name.split("/")), staged)]
    return Target(database_shown(), rows, files, folder)


@dataclass(frozen=True)
class Restored:
    path: Path
    sha256: str
    manifest: dict
    files: int
    upgraded_to: str | None
    replaced: bool


def _restore_files(files: list[tuple[str, Path]], folder: Path) -> None:
    """Each file written beside its place and renamed into it, private to this account."""
    for name, staged in files:
        parts = name.split("/")
        for depth in range(1, len(parts)):
            if folder.joinpath(*parts[:depth]).is_symlink():
                raise BackupError(f"{folder.joinpath(*parts[:depth])}: is a symbolic link; not written through")
        target = folder.joinpath(*parts)
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        temporary = target.with_name(f".{target.name}.restoring")
        temporary.unlink(missing_ok=True)
        with staged.open("rb") as source:
            copy_hashed(source, temporary)
        os.replace(temporary, target)


def _compare_rows(expected: dict[str, int], found: dict[str, int]) -> None:
    differing = [
        f"{name}: {expected.get(name, 'no table')} in the backup, {found.get(name, 'no table')} restored"
        for name in sorted(set(expected) | set(found))
        if expected.get(name) != found.get(name)
    ]
    if differing:
        raise BackupError(
            f"the restored database differs from the backup ({'; '.join(differing[:5])}"
            f"{', …' if len(differing) > 5 else ''}): do not use it; restore again or from another backup"
        )


def restore(
    verified: Verified, *, needs_upgrade: bool, replaced: bool, privileges: bool = True, progress: Progress = QUIET
) -> Restored:
    """Replace the database and the backup's files with the backup's; flask db upgrade if it is older."""
    engine = db.engine
    db.session.remove()
    with progress.stage(f"Restoring the database into {database_shown()}", None):
        if verified.kind == "sqlite":
            databases.restore_sqlite(engine, verified.dump)
        else:
            databases.restore_postgresql(engine, verified.dump, verified.tables, privileges=privileges)
    _compare_rows(verified.tables, databases.current_facts(engine).tables)
    _restore_files(verified.files, instance_folder())
    upgraded_to = None
    if needs_upgrade:
        from flask_migrate import upgrade

        upgrade()
        upgraded_to = code_revisions()[0]
    return Restored(verified.path, verified.sha256, verified.manifest, len(verified.files), upgraded_to, replaced)


def record_restored(restored: Restored) -> None:
    """The audit entry of a restore, written into the restored trail (so after it). Flushes."""
    from lms.privacy import services as privacy

    summary = {
        "file": str(restored.path),
        "sha256": restored.sha256,
        "created_at": restored.manifest["created_at"],
        "revision": restored.manifest["database"]["alembic_revision"],
        "upgraded_to": restored.upgraded_to,
        "replaced": restored.replaced,
        "files": restored.files,
    }
    privacy.record_event(None, AuditAction.RESTORE_BACKUP, context={AuditField.VIA: "cli", AuditField.BACKUP: summary})
