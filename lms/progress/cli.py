"""`flask report progress --output FILE.pdf`: the progress report as on the page, for the council's
papers. The file appears whole or not at all; the export is recorded, as from the web."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import click
from flask.cli import AppGroup

from lms.common.vocabulary import AuditAction, AuditField
from lms.extensions import db
from lms.privacy import services as privacy
from lms.progress import pdf
from lms.progress import services as progress

report_cli = AppGroup("report", help="Reports for the council and the staff council.")


def _writable_directory(output: Path) -> None:
    directory = output.parent
    if not directory.is_dir():
        raise click.BadParameter(f"the directory {str(directory)!r} does not exist", param_hint="'--output'")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise click.BadParameter(f"the directory {str(directory)!r} is not writable", param_hint="'--output'")
    if output.is_dir():
        raise click.BadParameter(f"{str(output)!r} is a directory", param_hint="'--output'")


def write_whole(output: Path, body: bytes) -> None:
    """Write to a temporary file beside `output`, then rename: no half-written report is left."""
    handle, temporary = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(body)
        os.chmod(temporary, 0o666 & ~_umask())  # as a plain write would create it (mkstemp: owner only)
        os.replace(temporary, output)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@report_cli.command("progress")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), required=True, help="The PDF file to write.")
def progress_report(output: Path) -> None:
    """Write the progress report (targets, initiatives, course uptake and feedback) as a PDF."""
    _writable_directory(output)
    report = progress.report()
    body = pdf.render(report)
    try:
        write_whole(output, body)
    except OSError as error:
        raise click.ClickException(f"{output}: {error.strerror or error}") from None
    privacy.record_event(
        None, AuditAction.EXPORT_PROGRESS_REPORT, context={AuditField.VIA: "cli", AuditField.FORMAT: "pdf"}
    )
    db.session.commit()
    click.echo(f"{output}: the progress report of {report.day.isoformat()}")
