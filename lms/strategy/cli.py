"""`flask strategy snapshot`: store this month's figures of the strategy's targets (the scheduler
does the same each month)."""

import click
from flask.cli import AppGroup

from lms.extensions import db
from lms.gaps.services import current_month, parse_month
from lms.strategy import services as strategy

strategy_cli = AppGroup("strategy", help="The strategy's targets and their monthly figures.")


def _month(_ctx, _param, value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return parse_month(value)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None


@strategy_cli.command("snapshot")
@click.option(
    "--month",
    metavar="YYYY-MM",
    callback=_month,
    help="The month to store the figures under (default: the current month). "
    "The figures are always today's; an existing snapshot of that month is replaced.",
)
def snapshot(month: str | None) -> None:
    """Store each strategy target's share of people at or above its level for this month."""
    try:
        result = strategy.take_snapshot(month)
    except ValueError as error:
        db.session.rollback()
        raise click.BadParameter(str(error), param_hint="'--month'") from None
    db.session.commit()
    if result.month != current_month():
        click.echo(f"note: today's figures are stored as {result.month}", err=True)
    click.echo(f"strategy snapshot {result.month}: {result.rows} targets")
