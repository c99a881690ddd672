"""settings in force are recorded and changes audited

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-30 15:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade():
    # The data-protection settings last recorded (issue 13): they come from the environment, so a
    # change is seen by comparing with these rows, and written to the audit trail.
    op.create_table(
        "recorded_settings",
        sa.Column("key", sa.String(length=60), nullable=False),
        sa.Column("value", sa.JSON(), nullable=True),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_recorded_settings")),
    )
    # Which version of the privacy notice a person confirmed having read, and when.
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("privacy_notice_read", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("privacy_notice_read_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("privacy_notice_read_at")
        batch_op.drop_column("privacy_notice_read")
    op.drop_table("recorded_settings")
