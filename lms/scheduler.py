"""Background jobs (APScheduler 3): one place that builds the scheduler and registers every job.

Each domain lists its jobs in `lms/<domain>/tasks.py` as `JOBS`; `scheduled_jobs` names those lists.
Nothing here starts by itself, and `create_app` starts no scheduler: in production the jobs run in
their own process (`flask --app wsgi scheduler run`, e.g. as a systemd service), so that several web
workers do not each run them. Should two such processes run (a second server, a restart overlapping
the old process), only the one holding the database lease (`lms/common/lease.py`) runs the jobs.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from lms.common import lease
from lms.common.jobs import ScheduledJob
from lms.extensions import db

if TYPE_CHECKING:  # APScheduler is imported only when a scheduler is built: the CLI starts faster
    from apscheduler.schedulers.base import BaseScheduler

log = logging.getLogger(__name__)
LEASE_NAME = "scheduler"
HEARTBEAT = ScheduledJob("scheduler.heartbeat", lambda app: None, {"minute": "*"})

JOB_DEFAULTS = {
    "coalesce": True,  # runs missed while the process was busy are done once, not several times
    "max_instances": 1,
    "misfire_grace_time": 3600,  # a run up to an hour late still happens
}


def scheduled_jobs() -> list[ScheduledJob]:
    """Every domain's jobs, listed here explicitly."""
    from lms.admin import tasks as admin_tasks
    from lms.assignments import tasks as assignment_tasks
    from lms.change import tasks as change_tasks
    from lms.core import tasks as core_tasks
    from lms.gaps import tasks as gap_tasks
    from lms.notifications import tasks as notification_tasks
    from lms.sessions import tasks as session_tasks
    from lms.strategy import tasks as strategy_tasks

    return [
        *gap_tasks.JOBS,
        *assignment_tasks.JOBS,
        *session_tasks.JOBS,
        *notification_tasks.JOBS,
        *core_tasks.JOBS,
        *strategy_tasks.JOBS,
        *change_tasks.JOBS,
        *admin_tasks.JOBS,
    ]


def timezone_of(app: Flask) -> ZoneInfo:
    return ZoneInfo(app.config.get("BABEL_DEFAULT_TIMEZONE") or "Europe/Berlin")


def leader_only(job: ScheduledJob, holder: str) -> Callable[[Flask], object]:
    """The job, run only while this process holds the scheduler lease (taken or renewed first)."""

    def run(app: Flask) -> object:
        with app.app_context():
            leading = lease.hold(LEASE_NAME, holder)
            db.session.commit()
        if not leading:
            log.info("%s skipped: another scheduler process holds the lease", job.id)
            return None
        return job.func(app)

    return run


def add_jobs(scheduler: BaseScheduler, app: Flask, holder: str | None = None) -> None:
    from apscheduler.triggers.cron import CronTrigger

    zone = timezone_of(app)
    holder = holder or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    for job in [*scheduled_jobs(), HEARTBEAT]:
        options = {"next_run_time": datetime.now(zone)} if job.run_at_start else {}
        cron = job.cron(app.config) if callable(job.cron) else job.cron
        scheduler.add_job(
            leader_only(job, holder),
            CronTrigger(timezone=zone, **cron),
            args=[app],
            id=job.id,
            name=job.id,
            replace_existing=True,
            **options,
        )


def create_scheduler(app: Flask, blocking: bool = False, holder: str | None = None) -> BaseScheduler:
    """A scheduler with every job registered, not started; `holder` names it for the lease."""
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.schedulers.blocking import BlockingScheduler

    kind = BlockingScheduler if blocking else BackgroundScheduler
    scheduler = kind(timezone=timezone_of(app), job_defaults=dict(JOB_DEFAULTS))
    add_jobs(scheduler, app, holder)
    return scheduler


scheduler_cli = AppGroup("scheduler", help="Background jobs such as the monthly skill snapshot.")


@scheduler_cli.command("run")
def run() -> None:
    """Run the scheduled jobs in the foreground until stopped (Ctrl+C or SIGTERM)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # the real app, for other threads
    holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    scheduler = create_scheduler(app, blocking=True, holder=holder)
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
        lease.release(LEASE_NAME, holder)  # another process may take over at once
        db.session.commit()
    click.echo("scheduler stopped")
