"""`flask skills snapshot`: store this month's gap figures (the scheduler does the same each month)."""

import click
from flask.cli import with_appcontext

from lms.extensions import db
from lms.gaps import services as gaps


def _month(_ctx, _param, value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return gaps.parse_month(value)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None


@click.command("snapshot")
@with_appcontext
@click.option(
    "--month",
    metavar="YYYY-MM",
    callback=_month,
    help="The month to store the figures under (default: the current month). "
    "The figures are always today's; an existing snapshot of that month is replaced.",
)
def snapshot(month: str | None) -> None:
    """Store the share of people at or above target per group and competence for this month."""
    try:
        result = gaps.take_snapshot(month)
    except ValueError as error:
        db.session.rollback()
        raise click.BadParameter(str(error), param_hint="'--month'") from None
    db.session.commit()
    if result.month != gaps.current_month():
        click.echo(f"note: today's figures are stored as {result.month}", err=True)
    click.echo(f"snapshot {result.month}: {result.rows} rows")
