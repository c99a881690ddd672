"""people from the HR system

Revision ID: 0025
Revises: 0024
Create Date: 2026-11-30 18:10:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade():
    # The exit date from the HR system's export (docs/hr-import.md): a daily job deactivates the
    # person once it has come.
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("leaves_on", sa.Date(), nullable=True))


def downgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("leaves_on")
