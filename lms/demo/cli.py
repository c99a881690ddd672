"""`flask demo ...`: demo data for trying Lernpfad out."""

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from lms.auth.passwords import password_problem
from lms.demo import services
from lms.extensions import db

demo_cli = AppGroup("demo", help="Demo data for a fictional town administration.")

LOGINS_FILE_NAME = "demo-logins.txt"


@demo_cli.command("seed")
@click.option("--password", default=None, help="Use this password for every demo login instead of random ones.")
@click.option("--if-empty", is_flag=True, help="Seed only when the database holds no users; otherwise do nothing.")
@click.option(
    "--save-logins",
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    help="Also write the login lines to this file (readable by its owner only).",
)
@click.option(
    "--force",
    is_flag=True,
    help="Run even though the database already holds users (adds what is missing, resets the demo logins' passwords).",
)
def seed(password: str | None, if_empty: bool, save_logins: str | None, force: bool) -> None:
    """Create the demo town and print one line per login: <role> <e-mail> <password>."""
    if password is not None and (problem := password_problem(password)):
        raise click.BadParameter(problem, param_hint="--password")
    if if_empty and services.database_has_users():
        click.echo("The database already holds users; nothing seeded.", err=True)
        return
    if services.database_has_users() and not force:
        raise click.ClickException("the database already holds users; use --force to seed anyway")
    lines = _seed(password)
    for line in lines:
        click.echo(line)
    if save_logins:
        _save_logins(Path(save_logins), lines)


@demo_cli.command("setup")
@click.option(
    "--logins-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help=f"Where the demo logins are kept (default: instance/{LOGINS_FILE_NAME}).",
)
@click.option(
    "--courses",
    "courses_dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=None,
    help="The course folders to import (default: courses/).",
)
def setup(logins_file: Path | None, courses_dir: Path | None) -> None:
    """Make the database ready to try out, in one process (what `make run` does before serving).

    Migrates, loads or updates DigComp 2.2, imports or updates the courses (courses/), seeds the
    demo town if the database holds no users, and prints the demo logins. Each step is quick when
    nothing changed. Courses with errors are listed and skipped; the others are imported.
    """
    from flask_migrate import upgrade

    from lms.frameworks.cli import load_framework
    from lms.privacy.settings import record_settings_in_force

    upgrade()
    record_settings_in_force()  # the settings this start runs with, audited when they changed
    db.session.commit()
    click.get_current_context().invoke(load_framework)  # the default framework, as `skills load-framework`
    _sync_courses(courses_dir)
    _seed_if_empty(logins_file or Path(current_app.instance_path) / LOGINS_FILE_NAME)


def _sync_courses(directory: Path | None) -> None:
    from lms.catalog.importer import sync_directory
    from lms.config import PROJECT_ROOT

    result = sync_directory(directory or PROJECT_ROOT / "courses")
    for problem in result.sorted_problems():
        click.echo(str(problem), err=True)
    db.session.commit()
    click.echo(result.summary())
    if result.failed:
        click.echo("Some courses have errors (listed above); the others are imported.", err=True)


def _seed_if_empty(logins_file: Path) -> None:
    if services.database_has_users():
        lines = _saved_logins(logins_file)
    else:
        lines = _seed(password=None)
        _save_logins(logins_file, lines)
    click.echo("Demo logins (role, e-mail, password):")
    for line in lines or ["(none saved: this database was not seeded by `make run` or `flask demo setup`)"]:
        click.echo(line)


def _seed(password: str | None) -> list[str]:
    """Seed, commit, and return one line per login: <role> <e-mail> <password>."""
    logins = services.seed(password=password)
    db.session.commit()
    return [f"{login.role} {login.email} {login.password}" for login in logins]


def _save_logins(path: Path, lines: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _saved_logins(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines() if path.is_file() else []
