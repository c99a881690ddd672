"""`flask people ...`: people on the command line."""

import sys

import click
from flask.cli import AppGroup

from lms.common import exports
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
    """Write every person (active and deactivated) to standard output, safe to open in a spreadsheet."""
    rows = (
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
        for user in services.people_for_export()
    )
    exports.write_csv(sys.stdout, [EXPORT_COLUMNS])
    exports.write_csv(sys.stdout, rows)  # streamed, person by person
