"""`flask assignments report`: HR's compliance report on the command line, as on the page.

Aggregates only, so no entry per person; the export itself is recorded, as from the web."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from lms.assignments import export, reports
from lms.assignments.services import town_today
from lms.catalog.models import Course
from lms.common.vocabulary import AuditAction, AuditField
from lms.extensions import db
from lms.people.models import Department
from lms.privacy import services as privacy


@click.command("report")
@click.option("--format", "output_format", type=click.Choice(sorted(export.FORMATS)), required=True)
@click.option(
    "--output", type=click.Path(dir_okay=False, writable=True, path_type=Path), required=True, help="File to write."
)
@click.option("--department", "department_code", default=None, help="Only this department (and below), by code.")
@click.option("--course", "course_slug", default=None, help="Only this course, by its key (slug).")
@with_appcontext
def report(output_format: str, output: Path, department_code: str | None, course_slug: str | None) -> None:
    """Export the compliance report: per mandatory course and department, who completed it."""
    department = None
    if department_code:
        department = db.session.execute(
            select(Department).where(Department.code == department_code)
        ).scalar_one_or_none()
        if department is None:
            raise click.BadParameter(f"no department with code {department_code!r}", param_hint="--department")
    course = None
    if course_slug:
        course = db.session.execute(select(Course).where(Course.slug == course_slug)).scalar_one_or_none()
        if course is None:
            raise click.BadParameter(f"no course with key {course_slug!r}", param_hint="--course")
    criteria = reports.ReportFilter(
        course_id=course.id if course else None, department_id=department.id if department else None
    )
    result = reports.course_report(criteria, town_today())
    header = export.header_rows(
        datetime.now(UTC), "command line", criteria.describe(course_slug, department_code), result.minimum
    )
    body = export.csv_bytes(header, result) if output_format == "csv" else export.xlsx_bytes(header, result)
    output.write_bytes(body)
    privacy.record_event(
        None,
        AuditAction.EXPORT_COMPLIANCE,
        context={AuditField.VIA: "cli", AuditField.FORMAT: output_format, AuditField.FILTER: criteria.as_context()},
    )
    db.session.commit()
    click.echo(f"{output}: {result.row_count} rows")
