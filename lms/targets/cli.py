"""`flask skills targets ...`: target profiles from a CSV file (see docs/competences.md)."""

from pathlib import Path

import click
from flask.cli import AppGroup

from lms.extensions import db
from lms.targets import importer as target_import

targets_cli = AppGroup("targets", help="Target profiles of job roles and individual targets of people.")


@targets_cli.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--apply",
    "apply_changes",
    is_flag=True,
    help="Write the changes. Without it, only show what would change (a dry run).",
)
def import_targets(file: Path, apply_changes: bool) -> None:
    """Import targets from a CSV file (a dry run unless --apply).

    FILE is UTF-8 (comma or semicolon separated) with the header
    type,code,competence,level,recert_months,note. type is job_role (code: the job
    role's code) or person (code: the personnel number); competence is the
    competence's id in the framework, e.g. 4.1; level 0 removes the target.

    Prints one line per change (+ add, ~ change, - remove) and a summary. Problems
    are printed as file:line: message; if any line has an error, nothing is imported
    and the exit code is 1. With --apply, everything is written in one transaction.
    """
    rows, problems = target_import.parse_targets_csv(file)
    for problem in problems.items:
        click.echo(str(problem), err=True)
    if problems:
        db.session.rollback()
        count = len(problems.errors)
        click.echo(f"Nothing was imported: {count} error{'s' if count != 1 else ''}.", err=True)
        raise SystemExit(1)
    try:
        changes = target_import.apply_targets(rows) if apply_changes else target_import.plan_targets(rows)
        for change in changes:
            if change.action != "unchanged":
                click.echo(str(change))
        if apply_changes:
            db.session.commit()
        else:
            db.session.rollback()
    except Exception:
        db.session.rollback()
        raise
    click.echo(target_import.summary(changes, applied=apply_changes))
    if not apply_changes:
        click.echo("Dry run: nothing was written. Run again with --apply to write these changes.")
