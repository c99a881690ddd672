"""`flask skills matrix`: the skill matrix on the command line.

The `skills` group also carries the commands of the domains around it (load-framework, targets,
snapshot); `lms/__init__.py` adds them explicitly."""

from datetime import UTC
from pathlib import Path

import click
from flask.cli import AppGroup

from lms.common.vocabulary import AuditAction, AuditField
from lms.extensions import db

skills_cli = AppGroup("skills", help="Competency frameworks, profiles and the skill matrix.")


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
    privacy.record(
        None,
        result.people,
        AuditAction.EXPORT_MATRIX,
        {AuditField.VIA: "cli", AuditField.FORMAT: output_format, AuditField.FILTER: criteria.as_context()},
    )
    db.session.commit()
    click.echo(f"{output}: {len(result.people)} people × {len(result.competences)} competences")
