"""`flask privacy ...`: the retention schedule and the settings in force on the command line."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from lms.extensions import db

privacy_cli = AppGroup(
    "privacy", help="Personal data: delete what is past its retention period; record the settings in force."
)
settings_cli = AppGroup("settings", help="The data-protection settings in force.")
privacy_cli.add_command(settings_cli)


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
        period = f"{days[key]} day" if days[key] == 1 else f"{days[key]} days"
        click.echo(f"{key} ({period}): {verb} {rows} — {retention.describe(key)}")
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()


@settings_cli.command("record")
def record_settings() -> None:
    """Record the data-protection settings this installation runs with; a change since the last
    recording is written to the audit trail (the scheduler does this at its start and daily)."""
    from lms.privacy.settings import record_settings_in_force, setting_label

    changes = record_settings_in_force()
    db.session.commit()
    for key, (before, after) in changes.items():
        click.echo(f"{setting_label(key)}: {before} -> {after}")
    click.echo(f"{len(changes)} settings changed" if changes else "settings unchanged")
