"""`flask audit ...`: checking the audit trail on the command line."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup
from sqlalchemy import func, inspect, select

from lms.extensions import db
from lms.privacy import chain
from lms.privacy.models import AuditEntry

audit_cli = AppGroup("audit", help="The audit trail: check that no entry was changed, removed or inserted.")


@audit_cli.command("verify")
def verify() -> None:
    """Check the hash chain of the audit trail from its start to its head.

    Exits 0 and prints the head's hash when the chain is intact (write it down: it anchors the
    trail outside the database); exits 1 naming the first broken entry (or checkpoint) otherwise.
    After a purge, the check starts from the newest signed checkpoint.
    """
    if not inspect(db.engine).has_table(AuditEntry.__tablename__):
        # A new or wrongly named database: say so, rather than fail with the database's error.
        raise click.ClickException("this database has no audit trail: is DATABASE_URL right? (flask db upgrade)")
    total = db.session.scalar(select(func.count()).select_from(AuditEntry)) or 0
    with click.progressbar(length=total, label="Checking audit entries", file=sys.stderr) as bar:
        checked = [0]

        def advance(count: int) -> None:
            bar.update(count - checked[0])
            checked[0] = count

        verdict = chain.verify(progress=advance)
        bar.update(verdict.entries - checked[0])
    if verdict.first_break is not None:
        click.echo(f"{verdict.first_break.where}: {verdict.first_break.problem}", err=True)
        if verdict.first_break.checkpoint_id is None:
            click.echo(f"The chain is intact up to entry {verdict.last_id}.", err=True)
        raise SystemExit(1)
    click.echo(
        f"Audit trail intact: {verdict.entries} entries, last entry {verdict.last_id}, head hash {verdict.last_hash}"
    )
    if verdict.checkpoint is not None:
        checkpoint = verdict.checkpoint
        click.echo(
            f"Entries 1 to {checkpoint.last_id} were purged (retention); the trail starts after the signed "
            f"checkpoint of {chain.canonical_time(checkpoint.at)}, hash {checkpoint.last_hash}"
        )
