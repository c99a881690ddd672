"""the strategy's targets

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-30 16:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade():
    # HR's targets in the terms of the strategy (issue 14), and their monthly figures, stored
    # already protected (counts NULL where the figure may not be shown).
    op.create_table(
        "strategy_targets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("competence_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("share_percent", sa.Integer(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["competence_id"], ["competences.id"], name=op.f("fk_strategy_targets_competence_id_competences")
        ),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name=op.f("fk_strategy_targets_department_id_departments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_strategy_targets")),
    )
    with op.batch_alter_table("strategy_targets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_strategy_targets_competence_id"), ["competence_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_strategy_targets_department_id"), ["department_id"], unique=False)
    op.create_table(
        "strategy_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("people", sa.Integer(), nullable=True),
        sa.Column("at_level", sa.Integer(), nullable=True),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["target_id"],
            ["strategy_targets.id"],
            name=op.f("fk_strategy_snapshots_target_id_strategy_targets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_strategy_snapshots")),
        sa.UniqueConstraint("month", "target_id", name=op.f("uq_strategy_snapshots_month")),
    )
    with op.batch_alter_table("strategy_snapshots", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_strategy_snapshots_month"), ["month"], unique=False)
        batch_op.create_index(batch_op.f("ix_strategy_snapshots_target_id"), ["target_id"], unique=False)


def downgrade():
    with op.batch_alter_table("strategy_snapshots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_strategy_snapshots_target_id"))
        batch_op.drop_index(batch_op.f("ix_strategy_snapshots_month"))
    op.drop_table("strategy_snapshots")
    with op.batch_alter_table("strategy_targets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_strategy_targets_department_id"))
        batch_op.drop_index(batch_op.f("ix_strategy_targets_competence_id"))
    op.drop_table("strategy_targets")
