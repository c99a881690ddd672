"""`flask reminders ...`: the daily reminder run on the command line."""

from __future__ import annotations

from datetime import date

import click
from flask.cli import AppGroup

from lms.assignments import reminders, services
from lms.extensions import db

reminders_cli = AppGroup("reminders", help="Reminders of deadlines: run the daily job once, or see what it would send.")


@reminders_cli.command("run")
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Run as on this day (YYYY-MM-DD), e.g. to see a given day's reminders; default: today in the town.",
)
@click.option("--dry-run", is_flag=True, help="List what would go out; change and send nothing.")
def run(today, dry_run: bool) -> None:
    """Bring assignments up to date and queue the day's reminders, each exactly once.

    Mails are queued in the outbox; the scheduler's delivery job (or `flask notifications deliver`)
    sends them. Weekends and the town's closing days send nothing.
    """
    day: date = today.date() if today else services.town_today()
    report = reminders.run(day)
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()
    if not report.working_day:
        click.echo(f"{day}: not a working day, nothing sent")
        return
    shown = report.sent
    verb = "would send" if dry_run else "queued"
    for reminder in shown:
        click.echo(f"{reminder.kind}\t{reminder.recipient.email}\t{reminder.key}")
    click.echo(f"{day}: {len(report.planned)} reminders due, {len(shown)} new {verb}")
