"""`flask privacy ...`: the retention schedule on the command line."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from lms.extensions import db

privacy_cli = AppGroup("privacy", help="Personal data: delete what is past its retention period.")


@privacy_cli.command("purge")
@click.option("--dry-run", is_flag=True, help="Only count what would be deleted.")
def purge(dry_run: bool) -> None:
    """Delete the personal data whose retention period has ended (docs/security.md, "Retention").

    Prints one line per rule with its period and the number of rows; a real run also writes one
    audit entry with the counts (no names), which the DPO reads.
    """
    from lms.common.dates import utcnow
    from lms.core import retention

    days = current_app.config["RETENTION_DAYS"]
    counts = retention.run(utcnow(), days, dry_run=dry_run)
    verb = "would delete" if dry_run else "deleted"
    for key, rows in counts.items():
        click.echo(f"{key} ({days[key]} days): {verb} {rows} — {retention.describe(key)}")
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()
