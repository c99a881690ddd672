"""confirmations are evidence the employee can answer

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30 15:00:00

"""

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op
from flask import current_app, has_app_context

# revision identifiers, used by Alembic.
revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

# The columns as this revision reads and writes them (not the models, which move on).
assessments = sa.table(
    "assessments",
    sa.column("id", sa.Integer),
    sa.column("assessed_at", sa.DateTime(timezone=True)),
    sa.column("assessed_on", sa.Date),
)


def _town_zone() -> ZoneInfo:
    name = current_app.config["BABEL_DEFAULT_TIMEZONE"] if has_app_context() else "Europe/Berlin"
    return ZoneInfo(name)


def upgrade():
    # A confirmation names its kind of evidence (levels confirmed before the list: "other"), the
    # day it was confirmed (no time of day), and the person's comment, objection and HR's withdrawal.
    with op.batch_alter_table("assessments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("evidence_type", sa.String(length=40), server_default="other", nullable=False))
        batch_op.add_column(sa.Column("assessed_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("comment", sa.String(length=500), server_default="", nullable=False))
        batch_op.add_column(sa.Column("objection", sa.String(length=500), server_default="", nullable=False))
        batch_op.add_column(sa.Column("objected_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("withdrawn_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("withdrawn_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_assessments_withdrawn_by_id_users"),
            "users",
            ["withdrawn_by_id"],
            ["id"],
            ondelete="SET NULL",
        )

    # The day in the town on which each level was confirmed (the same on SQLite and PostgreSQL).
    connection = op.get_bind()
    zone = _town_zone()
    days = [
        {"row_id": row_id, "day": _as_utc(moment).astimezone(zone).date()}
        for row_id, moment in connection.execute(sa.select(assessments.c.id, assessments.c.assessed_at))
    ]
    if days:
        connection.execute(
            assessments.update()
            .where(assessments.c.id == sa.bindparam("row_id"))
            .values(assessed_on=sa.bindparam("day")),
            days,
        )

    with op.batch_alter_table("assessments", schema=None) as batch_op:
        batch_op.alter_column("assessed_on", existing_type=sa.Date(), nullable=False)
        batch_op.drop_column("assessed_at")


def downgrade():
    with op.batch_alter_table("assessments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("assessed_at", sa.DateTime(timezone=True), nullable=True))

    # Back to a moment: noon in the town on the day it was confirmed.
    connection = op.get_bind()
    zone = _town_zone()
    moments = [
        {"row_id": row_id, "moment": datetime.combine(day, time(12), tzinfo=zone).astimezone(UTC)}
        for row_id, day in connection.execute(sa.select(assessments.c.id, assessments.c.assessed_on))
    ]
    if moments:
        connection.execute(
            assessments.update()
            .where(assessments.c.id == sa.bindparam("row_id"))
            .values(assessed_at=sa.bindparam("moment")),
            moments,
        )

    # The older schema counts every row: a withdrawn level would count again, so it goes. Evidence
    # types, comments and objections have no place there.
    connection.execute(sa.text("DELETE FROM assessments WHERE withdrawn_on IS NOT NULL"))
    with op.batch_alter_table("assessments", schema=None) as batch_op:
        batch_op.alter_column("assessed_at", existing_type=sa.DateTime(timezone=True), nullable=False)
        batch_op.drop_constraint(batch_op.f("fk_assessments_withdrawn_by_id_users"), type_="foreignkey")
        batch_op.drop_column("withdrawn_by_id")
        batch_op.drop_column("withdrawn_on")
        batch_op.drop_column("objected_on")
        batch_op.drop_column("objection")
        batch_op.drop_column("comment")
        batch_op.drop_column("assessed_on")
        batch_op.drop_column("evidence_type")


def _as_utc(moment: datetime) -> datetime:
    """SQLite hands back naive times; they are UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
