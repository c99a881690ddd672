"""`flask courses ...`: course import from Markdown folders."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import AppGroup

from lms.config import PROJECT_ROOT
from lms.extensions import db

courses_cli = AppGroup("courses", help="Import and check courses written in Markdown.")

PROGRESS_FROM_COURSES = 10  # a bar for a handful of courses would only flicker


@courses_cli.command("sync")
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--check", is_flag=True, help="Only validate the courses; write nothing.")
def sync(directory: Path | None, check: bool) -> None:
    """Validate every course in DIRECTORY (default: courses/) and import or update it.

    Problems are printed as path:line: message. Exits with 1 when any course has errors;
    the courses without errors are imported all the same, each one whole.
    """
    directory = directory or PROJECT_ROOT / "courses"
    if not directory.is_dir():
        raise click.ClickException(f"{directory}: no such folder")
    from lms.catalog.importer import course_folders, sync_courses  # Markdown and nh3: only when used

    folders = course_folders(directory)
    if len(folders) >= PROGRESS_FROM_COURSES:
        with click.progressbar(length=len(folders), label="Courses", file=sys.stderr) as bar:
            result = sync_courses(folders, check=check, on_progress=lambda _folder: bar.update(1))
    else:
        result = sync_courses(folders, check=check)
    for problem in result.sorted_problems():
        click.echo(str(problem), err=True)
    if check:
        db.session.rollback()
    else:
        db.session.commit()
    click.echo(result.summary() + (" (checked only, nothing written)" if check else ""))
    if result.failed:
        raise SystemExit(1)
