"""Background jobs (APScheduler 3): one place that builds the scheduler and registers every job.

Each domain lists its jobs in `lms/<domain>/tasks.py` as `JOBS`; `scheduled_jobs` names those lists.
Nothing here starts by itself, and `create_app` starts no scheduler: in production the jobs run in
their own process (`flask --app wsgi scheduler run`, e.g. as a systemd service), so that several web
workers do not each run them.
"""

from __future__ import annotations

import signal
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from lms.common.jobs import ScheduledJob

if TYPE_CHECKING:  # APScheduler is imported only when a scheduler is built: the CLI starts faster
    from apscheduler.schedulers.base import BaseScheduler

JOB_DEFAULTS = {
    "coalesce": True,  # runs missed while the process was busy are done once, not several times
    "max_instances": 1,
    "misfire_grace_time": 3600,  # a run up to an hour late still happens
}


def scheduled_jobs() -> list[ScheduledJob]:
    """Every domain's jobs, listed here explicitly."""
    from lms.gaps import tasks as gap_tasks

    return [*gap_tasks.JOBS]


def timezone_of(app: Flask) -> ZoneInfo:
    return ZoneInfo(app.config.get("BABEL_DEFAULT_TIMEZONE") or "Europe/Berlin")


def add_jobs(scheduler: BaseScheduler, app: Flask) -> None:
    from apscheduler.triggers.cron import CronTrigger

    zone = timezone_of(app)
    for job in scheduled_jobs():
        options = {"next_run_time": datetime.now(zone)} if job.run_at_start else {}
        scheduler.add_job(
            job.func,
            CronTrigger(timezone=zone, **job.cron),
            args=[app],
            id=job.id,
            name=job.id,
            replace_existing=True,
            **options,
        )


def create_scheduler(app: Flask, blocking: bool = False) -> BaseScheduler:
    """A scheduler with every job registered, not started."""
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.schedulers.blocking import BlockingScheduler

    kind = BlockingScheduler if blocking else BackgroundScheduler
    scheduler = kind(timezone=timezone_of(app), job_defaults=dict(JOB_DEFAULTS))
    add_jobs(scheduler, app)
    return scheduler


scheduler_cli = AppGroup("scheduler", help="Background jobs such as the monthly skill snapshot.")


@scheduler_cli.command("run")
def run() -> None:
    """Run the scheduled jobs in the foreground until stopped (Ctrl+C or SIGTERM)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # the real app, for other threads
    scheduler = create_scheduler(app, blocking=True)
    for job in scheduler.get_jobs():
        click.echo(f"{job.id}: {job.trigger}")

    def stop(_signum, _frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    click.echo(f"scheduler running ({timezone_of(app)}); stop with Ctrl+C")
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        if scheduler.running:
            scheduler.shutdown(wait=True)
    click.echo("scheduler stopped")
