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
@click.option(
    "--archive-missing",
    is_flag=True,
    help="Archive the courses whose folder is gone from DIRECTORY (without it they are only reported).",
)
@click.option(
    "--force",
    is_flag=True,
    help="Replace courses edited in the browser since their folder was last synced by the folder's content.",
)
def sync(directory: Path | None, check: bool, archive_missing: bool, force: bool) -> None:
    """Validate every course in DIRECTORY (default: courses/) and import or update it.

    Problems are printed as path:line: message. Exits with 1 when any course has errors;
    the courses without errors are imported all the same, each one whole. A course whose folder
    has disappeared is reported, and archived only with --archive-missing (it leaves the
    catalogue and open assignments; completions and certificates stay). A course edited in the
    browser since its folder was last synced is not overwritten (the sync names it) unless --force.
    """
    directory = directory or PROJECT_ROOT / "courses"
    if not directory.is_dir():
        raise click.ClickException(f"{directory}: no such folder")
    from lms.catalog.importer import course_folders, sync_courses  # Markdown and nh3: only when used

    folders = course_folders(directory)
    if len(folders) >= PROGRESS_FROM_COURSES:
        with click.progressbar(length=len(folders), label="Courses", file=sys.stderr) as bar:
            result = sync_courses(folders, check=check, force=force, on_progress=lambda _folder: bar.update(1))
    else:
        result = sync_courses(folders, check=check, force=force)
    for problem in result.sorted_problems():
        click.echo(str(problem), err=True)
    _report_missing(directory, archive=archive_missing and not check)
    if check:
        db.session.rollback()
    else:
        db.session.commit()
    click.echo(result.summary() + (" (checked only, nothing written)" if check else ""))
    if result.failed:
        raise SystemExit(1)


def _report_missing(directory: Path, archive: bool) -> None:
    from lms.catalog.importer import archive as archive_courses
    from lms.catalog.importer import missing_courses

    missing = missing_courses(directory)
    for course in missing:
        what = "archived" if archive else "still published: archive it with --archive-missing"
        click.echo(f"{course.source_path}:1: warning: the course folder is gone; the course is {what}", err=True)
    if archive and missing:
        archive_courses(missing)


@courses_cli.command("export")
@click.argument("slug")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace DIRECTORY/SLUG if it exists (hidden files such as .git stay).")
def export(slug: str, directory: Path, force: bool) -> None:
    """Write the published version of course SLUG as DIRECTORY/SLUG, in the course format.

    `flask courses sync` on that folder then changes nothing.
    """
    from sqlalchemy import select

    from lms.catalog.bundle import BundleError, write_course_folder
    from lms.catalog.models import Course
    from lms.catalog.versions import published_files

    course = db.session.execute(select(Course).where(Course.slug == slug)).scalar_one_or_none()
    if course is None:
        raise click.ClickException(f"{slug}: no such course")
    files = published_files(course)
    if files is None:
        raise click.ClickException(f"{slug}: the files of its published version are not stored; sync it once")
    try:
        folder = write_course_folder(slug, files, directory, overwrite=force)
    except BundleError as error:
        raise click.ClickException(f"{directory / slug}: {error.message}") from error
    click.echo(f"{folder}: version {course.version}, {len(files)} files")
