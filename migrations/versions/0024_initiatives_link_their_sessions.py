"""initiatives link their sessions

Revision ID: 0024
Revises: 0023
Create Date: 2026-11-30 16:05:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade():
    # The sessions an initiative's target group needs; attendance counts in its readiness view.
    op.create_table(
        "initiative_sessions",
        sa.Column("initiative_id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["initiative_id"],
            ["initiatives.id"],
            name=op.f("fk_initiative_sessions_initiative_id_initiatives"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["training_sessions.id"],
            name=op.f("fk_initiative_sessions_session_id_training_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("initiative_id", "session_id", name=op.f("pk_initiative_sessions")),
    )


def downgrade():
    op.drop_table("initiative_sessions")
