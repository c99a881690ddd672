"""`flask skills load-framework`: load or update a competency framework from YAML."""

from pathlib import Path

import click
from flask.cli import with_appcontext

from lms.extensions import db


@click.command("load-framework")
@with_appcontext
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path), required=False)
def load_framework(file: Path | None) -> None:
    """Validate FILE (a framework in YAML; default: DigComp 2.2) and load or update it."""
    # The loader (YAML) is imported here, not at start-up: every other command starts faster.
    from lms.frameworks.loader import DEFAULT_FRAMEWORK_FILE, FrameworkFileError, load_framework_file

    file = file or DEFAULT_FRAMEWORK_FILE
    if not file.exists():
        raise click.ClickException(f"{file}:1: file not found")
    try:
        result = load_framework_file(file)
    except FrameworkFileError as failed:
        db.session.rollback()
        for problem in failed.problems.items:
            click.echo(str(problem), err=True)
        raise SystemExit(1) from None
    for warning in result.warnings or ():
        click.echo(str(warning), err=True)
    db.session.commit()
    framework = result.framework
    click.echo(
        f"{framework.key} {framework.version}: {result.status}"
        + (f", retired: {', '.join(result.retired)}" if result.retired else "")
    )
