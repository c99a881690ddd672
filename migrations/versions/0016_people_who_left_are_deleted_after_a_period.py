"""people who left are deleted after a period

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30 15:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("left_on", sa.Date(), nullable=True))
    # When those deactivated before left is not known: their retention period starts today.
    users = sa.table("users", sa.column("active", sa.Boolean()), sa.column("left_on", sa.Date()))
    op.execute(users.update().where(users.c.active.is_(sa.false())).values(left_on=sa.func.current_date()))


def downgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("left_on")
