"""`flask demo ...`: demo data for trying Lernpfad out."""

from pathlib import Path

import click
from flask.cli import AppGroup

from lms.auth.passwords import password_problem
from lms.demo import services
from lms.extensions import db

demo_cli = AppGroup("demo", help="Demo data for a fictional town administration.")


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
    logins = services.seed(password=password)
    db.session.commit()
    lines = [f"{login.role} {login.email} {login.password}" for login in logins]
    for line in lines:
        click.echo(line)
    if save_logins:
        path = Path(save_logins)
        path.touch(mode=0o600, exist_ok=True)
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
