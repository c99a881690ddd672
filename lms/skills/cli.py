"""`flask skills ...`: competency frameworks on the command line."""

from datetime import UTC
from pathlib import Path

import click
from flask.cli import AppGroup

from lms.extensions import db
from lms.skills.frameworks import DEFAULT_FRAMEWORK_FILE, FrameworkFileError, load_framework_file

skills_cli = AppGroup("skills", help="Competency frameworks, profiles and the skill matrix.")


@skills_cli.command("load-framework")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path), default=DEFAULT_FRAMEWORK_FILE)
def load_framework(file: Path) -> None:
    """Validate FILE (a framework in YAML; default: DigComp 2.2) and load or update it."""
    if not file.exists():
        raise click.ClickException(f"{file}:1: file not found")
    try:
        result = load_framework_file(file)
    except FrameworkFileError as failed:
        db.session.rollback()
        for problem in failed.problems.items:
            click.echo(str(problem), err=True)
        raise SystemExit(1) from None
    for warning in result.warnings:
        click.echo(str(warning), err=True)
    db.session.commit()
    framework = result.framework
    click.echo(
        f"{framework.key} {framework.version}: {result.status}"
        + (f", retired: {', '.join(result.retired)}" if result.retired else "")
    )


@skills_cli.command("matrix")
@click.option("--department", "department_code", default=None, help="Only this department (and below), by code.")
@click.option("--format", "output_format", type=click.Choice(["csv", "xlsx"]), required=True)
@click.option(
    "--output", type=click.Path(dir_okay=False, writable=True, path_type=Path), required=True, help="File to write."
)
def matrix(department_code: str | None, output_format: str, output: Path) -> None:
    """Export the skill matrix (one row per person, columns per competence), as on the page."""
    from datetime import datetime

    from sqlalchemy import select

    from lms.people.models import Department
    from lms.privacy import services as privacy
    from lms.skills import export
    from lms.skills.matrix import MatrixFilter, build_matrix

    department = None
    if department_code:
        department = db.session.execute(
            select(Department).where(Department.code == department_code)
        ).scalar_one_or_none()
        if department is None:
            raise click.BadParameter(f"no department with code {department_code!r}", param_hint="--department")
    criteria = MatrixFilter(department_id=department.id if department else None)
    result = build_matrix(None, criteria, page=None)
    filter_text = f"department={department_code}" if department_code else "none"
    header = export.header_rows(datetime.now(UTC), "command line", filter_text)
    body = export.csv_bytes(header, result) if output_format == "csv" else export.xlsx_bytes(header, result)
    output.write_bytes(body)
    privacy.record(None, [p.id for p in result.people], "export_matrix", f"cli {output_format}; {filter_text}")
    db.session.commit()
    click.echo(f"{output}: {len(result.people)} people × {len(result.competences)} competences")


# Further commands of the group live in their own modules and register on `skills_cli`.
from lms.skills import cli_snapshot, cli_targets  # noqa: E402,F401
