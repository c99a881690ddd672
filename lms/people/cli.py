"""`flask people ...`: people on the command line."""

import csv
import sys

import click
from flask.cli import AppGroup

from lms.people import services

people_cli = AppGroup("people", help="Manage and export people.")

EXPORT_COLUMNS = (
    "personnel_number",
    "given_name",
    "family_name",
    "email",
    "department_code",
    "job_role_code",
    "roles",
    "active",
)


@people_cli.command("export")
@click.option(
    "--format", "output_format", type=click.Choice(["csv"]), default="csv", show_default=True, help="Output format."
)
def export_people(output_format: str) -> None:
    """Write every person (active and deactivated) to standard output."""
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    for user in services.people_for_export():
        writer.writerow(
            [
                user.personnel_number or "",
                user.given_name,
                user.family_name,
                user.email,
                user.department.code if user.department else "",
                user.job_role.code if user.job_role else "",
                " ".join(sorted(user.roles)),
                "yes" if user.active else "no",
            ]
        )
