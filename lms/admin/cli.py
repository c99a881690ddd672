"""`flask privacy annex`: the annex of the staff council's agreement as Markdown (registered in the
`privacy` group by `lms/__init__.py`)."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext


@click.command("annex")
@with_appcontext
@click.option(
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write the Markdown to this file (default: standard output).",
)
def annex(output: Path | None) -> None:
    """The annex of the agreement, generated from the code's rules and the settings in force."""
    from lms.admin import annex as agreement_annex

    text = agreement_annex.as_markdown(agreement_annex.build())
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as error:
        raise click.ClickException(f"{output}: {error.strerror or error}") from None
    click.echo(f"{output}: annex written")


@click.command("import")
@with_appcontext
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--apply", "apply_changes", is_flag=True, help="Write the changes. Without it, only show them (a dry run)."
)
@click.option(
    "--allow-mass-deactivation",
    is_flag=True,
    help="Apply even if the file deactivates more than LMS_IMPORT_MAX_DEACTIVATE_PERCENT of the active people.",
)
def import_people(file: Path, apply_changes: bool, allow_mass_deactivation: bool) -> None:
    """Create, update and deactivate people from the HR system's export (a dry run unless --apply).

    FILE is CSV in UTF-8 (with or without BOM) or Windows-1252, separated by ; or , with the
    columns personnel_number, given_name, family_name, email and optionally department,
    job_role (their codes), entry_date and exit_date (YYYY-MM-DD or DD.MM.YYYY); German
    names such as Personalnummer, Vorname, Nachname, E-Mail, Organisationseinheit, Stelle,
    Eintritt, Austritt are accepted. A file with any other column is refused.

    People are matched by personnel number; those missing from the file are deactivated,
    and so is anyone whose exit date is today or earlier. Prints one line per person
    changed (+ created, ~ updated, - deactivated, ^ reactivated) and a summary. Problems
    are printed as file:line: message; if there is any, nothing is imported and the exit
    code is 1. With --apply, everything is written in one transaction and audited.
    See docs/hr-import.md.
    """
    from lms.admin import hr_import
    from lms.extensions import db
    from lms.people import hr_import as people_import

    try:
        data = file.read_bytes()
    except OSError as error:
        click.echo(f"{file}:1: cannot read the file: {error.strerror or error}", err=True)
        raise SystemExit(1) from None
    plan = people_import.read(str(file), data)
    if plan.problems:
        for problem in plan.problems:
            click.echo(f"{file}:{problem.line}: {problem.english()}", err=True)
        db.session.rollback()
        count = len(plan.problems)
        click.echo(f"Nothing was imported: {count} error{'s' if count != 1 else ''}.", err=True)
        raise SystemExit(1)
    for change in plan.changes:
        click.echo(str(change))
    if not apply_changes:
        db.session.rollback()
        click.echo(people_import.summary(plan, applied=False))
        if hr_import.needs_mass_deactivation_consent(plan):
            refused = hr_import.MassDeactivationRefused(plan, hr_import.max_deactivate_percent())
            click.echo(f"{file}: warning: --apply would be refused: {refused}.", err=True)
        click.echo("Dry run: nothing was written. Run again with --apply to write these changes.")
        return
    _apply(file, plan, allow_mass_deactivation)


def _apply(file: Path, plan, allow_mass_deactivation: bool) -> None:
    import sys

    from lms.admin import hr_import
    from lms.extensions import db
    from lms.people import hr_import as people_import

    try:
        with click.progressbar(length=len(plan.changes), label="Applying", file=sys.stderr) as bar:
            hr_import.apply_import(
                None, plan, via="cli", allow_mass_deactivation=allow_mass_deactivation, progress=bar.update
            )
        db.session.commit()
    except hr_import.MassDeactivationRefused as refused:
        db.session.rollback()
        click.echo(
            f"{file}: refused: {refused}. Nothing was imported. Check that the export is complete; "
            "if it is, run again with --allow-mass-deactivation.",
            err=True,
        )
        raise SystemExit(1) from None
    except Exception:
        db.session.rollback()
        raise
    click.echo(people_import.summary(plan, applied=True))


@click.command("add-admin")
@with_appcontext
@click.argument("email")
@click.option("--given-name", required=True, help="The person's given name.")
@click.option("--family-name", required=True, help="The person's family name.")
def add_admin(email: str, given_name: str, family_name: str) -> None:
    """Create the first administrator of an installation (or give an existing person the admin role).

    A new person gets a one-time password, printed once, which they replace at their first sign-in;
    it expires like any one-time password. The step is recorded in the audit trail. See
    docs/deployment.md ("The first administrator").
    """
    from email_validator import EmailNotValidError, validate_email

    from lms.admin import services
    from lms.common.errors import ValidationFailed
    from lms.extensions import db

    try:  # the same check as the admin's form (WTForms' Email validator uses this library)
        validate_email(email, check_deliverability=False)
    except EmailNotValidError as error:
        click.echo(f"email: {error}", err=True)
        raise SystemExit(1) from None
    try:
        user, temporary = services.add_administrator(email, given_name, family_name)
    except ValidationFailed as failed:
        db.session.rollback()
        for field, message in failed.errors.items():
            click.echo(f"{field}: {message}", err=True)
        raise SystemExit(1) from None
    db.session.commit()
    click.echo(f"{user.email}: administrator")
    if temporary is not None:
        expires = temporary.expires_at.strftime("%Y-%m-%d %H:%M UTC")
        click.echo(f"one-time password (shown once, valid until {expires}): {temporary.password}")
