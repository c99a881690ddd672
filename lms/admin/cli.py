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
