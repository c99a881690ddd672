"""`flask backup ...`: create, verify and restore a backup of the database and its files (docs/backup.md)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy.exc import SQLAlchemyError

from lms.extensions import db

backup_cli = AppGroup("backup", help="Back up and restore the database and the files beside it (docs/backup.md).")

BACKUP_FILE = click.Path(dir_okay=False, path_type=Path)


class Bars:
    """Progress on stderr: a bar for a step of known length, a line for the others."""

    @contextmanager
    def stage(self, label: str, total: int | None) -> Iterator[Callable[[int], None]]:
        if not total:
            click.echo(f"{label} …", err=True)
            yield lambda _units: None
            return
        with click.progressbar(length=total, label=label, file=sys.stderr) as bar:
            yield bar.update


def _failed(error: Exception, *, untouched: bool) -> click.ClickException:
    """One line for the operator: the backup's own message, a file's, or the database's."""
    if isinstance(error, OSError):
        message = f"{error.filename}: {error.strerror}" if error.filename and error.strerror else str(error)
    elif isinstance(error, SQLAlchemyError):
        cause = getattr(error, "orig", None) or error
        message = f"the database: {(str(cause).strip().splitlines() or [type(cause).__name__])[0]}"
    else:
        message = str(error)
    return click.ClickException(message + (" (nothing was changed)" if untouched else ""))


@backup_cli.command("create")
@click.argument("file", type=BACKUP_FILE)
@click.option("--force", is_flag=True, help="Replace FILE if it exists.")
def create(file: Path, force: bool) -> None:
    """Write a backup of the database and the instance folder's files to FILE.

    The app may keep running: the copy is consistent (SQLite's online backup, one PostgreSQL
    snapshot). FILE is private to this account (0600) and appears only when complete. The backup
    holds everyone's personal data: keep it encrypted (docs/backup.md). Writes an audit entry.
    """
    from lms.core import backup

    try:
        created = backup.create(file, force=force, progress=Bars())
    except (backup.BackupError, OSError, SQLAlchemyError) as error:
        raise _failed(error, untouched=False) from error
    backup.record_created(created)
    db.session.commit()
    database = created.manifest["database"]
    click.echo(
        f"{created.path}: {database['kind']} database at revision {database['alembic_revision']}"
        f" ({len(database['tables'])} tables, {created.rows} rows), {created.files} files; SHA-256 {created.sha256}"
    )
    for item in created.manifest["left_out"]:
        click.echo(f"left out: {item['path']} ({item['reason']})", err=True)


def _describe(verified) -> str:
    database, audit = verified.manifest["database"], verified.manifest["audit"]
    return (
        f"{verified.path}: a complete Lernpfad backup of {verified.manifest['created_at']}: {database['kind']} database"
        f" at revision {database['alembic_revision']} ({len(database['tables'])} tables,"
        f" {sum(database['tables'].values())} rows), {len(verified.files)} files, audit trail up to entry"
        f" {audit.get('last_id', 0)} (head hash {audit.get('last_hash')}); SHA-256 {verified.sha256}"
    )


@backup_cli.command("verify")
@click.argument("file", type=BACKUP_FILE)
def verify(file: Path) -> None:
    """Check FILE without restoring it: complete and undamaged, and one this installation can restore
    (same database kind, a schema no newer than this code's, the same audit checkpoint key)."""
    from lms.core import backup

    try:
        with backup.opened(file, Bars()) as verified:
            needs_upgrade = backup.check_compatible(verified)
            click.echo(_describe(verified))
    except (backup.BackupError, OSError, SQLAlchemyError) as error:
        raise _failed(error, untouched=False) from error
    later = f"; `flask db upgrade` follows the restore (to {backup.code_revisions()[0]})" if needs_upgrade else ""
    click.echo(f"It can be restored into this installation's empty database{later}.")


@backup_cli.command("restore")
@click.argument("file", type=BACKUP_FILE)
@click.option("--replace", is_flag=True, help="Drop what the database holds (and overwrite the backup's files) first.")
@click.option("--yes", is_flag=True, help="With --replace: do not ask before dropping.")
@click.option(
    "--other-audit-key", is_flag=True, help="Restore although the audit checkpoints were signed with another key."
)
@click.option(
    "--no-privileges", is_flag=True, help="PostgreSQL: leave out the backup's GRANTs (its roles do not exist here)."
)
def restore(file: Path, replace: bool, yes: bool, other_audit_key: bool, no_privileges: bool) -> None:
    """Restore the database and the files from FILE, after checking all of it.

    Only into an empty database (no tables, or only those of `flask db upgrade`), unless --replace;
    stop the app and the scheduler first. A backup of an older schema is upgraded afterwards; one of
    a newer schema is refused. Every table's rows are compared with the backup's. The restore's
    audit entry is written into the restored trail.
    """
    from lms.core import backup
    from lms.privacy import chain

    untouched = True
    try:
        with backup.opened(file, Bars()) as verified:
            needs_upgrade = backup.check_compatible(verified, other_key=other_audit_key)
            target = backup.target_state(verified)
            if target.occupied and not replace:
                raise backup.BackupError(
                    f"{verified.path}: not restored: this installation holds {target.describe()}; restore into an"
                    " empty database, or pass --replace to drop that first"
                )
            if target.occupied:
                click.echo(f"--replace drops all there is of {target.describe()}.", err=True)
                if not yes:
                    click.confirm("Drop it and restore the backup?", abort=True, err=True)
            untouched = False
            restored = backup.restore(
                verified,
                needs_upgrade=needs_upgrade,
                replaced=target.occupied,
                privileges=not no_privileges,
                progress=Bars(),
            )
    except (backup.BackupError, OSError, SQLAlchemyError) as error:
        raise _failed(error, untouched=untouched) from error
    backup.record_restored(restored)
    db.session.commit()
    click.echo(_describe(verified).replace(": a complete Lernpfad backup of", ": restored the backup of", 1))
    if restored.upgraded_to:
        click.echo(f"Upgraded the database from revision {verified.revision} to {restored.upgraded_to}.")
    verdict = chain.verify()
    if verdict.first_break is not None:
        raise click.ClickException(
            f"restored, but the audit trail does not verify: {verdict.first_break.where}: {verdict.first_break.problem}"
        )
    click.echo(f"Audit trail intact: {verdict.entries} entries, head hash {verdict.last_hash}")
