"""lessons keep their identity by a stable id

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 11:27:40.311666

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("lessons", schema=None) as batch_op:
        batch_op.add_column(sa.Column("uid", sa.String(length=40), nullable=True))


def downgrade():
    with op.batch_alter_table("lessons", schema=None) as batch_op:
        batch_op.drop_column("uid")
