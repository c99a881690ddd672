"""`flask notifications ...`: delivering the mail outbox by hand."""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import AppGroup

from lms.extensions import db
from lms.notifications import delivery, services

notifications_cli = AppGroup("notifications", help="Notification mails: send the outbox, release held mails.")


@notifications_cli.command("deliver")
@click.option(
    "--limit",
    default=delivery.DEFAULT_LIMIT,
    show_default=True,
    type=click.IntRange(min=1),
    help="Send at most this many mails in this run.",
)
def deliver(limit: int) -> None:
    """Send the queued mails that are due, once (the scheduler does this every minute).

    Each mail is claimed, sent and recorded on its own, so this may run beside the scheduler or on
    several servers: every mail goes out once. Exits 1 if the mail server could not be reached
    (the mails stay queued and are tried again later).
    """
    total = min(delivery.due_count(), limit) if current_app.config.get("MAIL_SERVER") else 0
    db.session.commit()
    with click.progressbar(length=total, label="Sending mails", file=sys.stderr) as bar:
        report = delivery.deliver_outbox(limit=limit, progress=bar.update)
    if report.held:
        click.echo(f"No MAIL_SERVER configured: {report.held} mail(s) held, not sent.")
    click.echo(
        f"{report.sent} sent, {report.retrying} to be tried again, {report.failed} failed"
        + (f", {report.taken} taken by another run" if report.taken else "")
    )
    if report.stopped:
        click.echo(f"Stopped early: {report.stopped}", err=True)
        raise SystemExit(1)


@notifications_cli.command("release-held")
def release_held() -> None:
    """Queue the held mails for sending, once MAIL_SERVER is configured.

    Mails are held while no mail server is configured; they are not sent by themselves later,
    since they may be out of date by then. This sends them all.
    """
    if not current_app.config.get("MAIL_SERVER"):
        click.echo("MAIL_SERVER is not configured: the mails would only be held again.", err=True)
        raise SystemExit(1)
    count = services.release_held()
    db.session.commit()
    click.echo(f"{count} held mail(s) queued; `flask notifications deliver` sends them.")
