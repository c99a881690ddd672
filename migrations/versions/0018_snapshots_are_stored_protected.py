"""snapshots are stored protected

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-30 15:30:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

snapshots = sa.table(
    "skill_snapshots",
    sa.column("people_with_target", sa.Integer),
    sa.column("people_at_target", sa.Integer),
)
FLOOR = 5  # the smallest minimum group size the software allows (lms.config)


def upgrade():
    # A figure that may not be shown is stored without its counts (issue 13). Past months get the
    # primary suppression the floor demands; complementary suppression applies from the next snapshot.
    with op.batch_alter_table("skill_snapshots", schema=None) as batch_op:
        batch_op.alter_column("people_with_target", existing_type=sa.Integer(), nullable=True)
        batch_op.alter_column("people_at_target", existing_type=sa.Integer(), nullable=True)
    op.execute(
        snapshots.update()
        .where(snapshots.c.people_with_target > 0, snapshots.c.people_with_target < FLOOR)
        .values(people_with_target=None, people_at_target=None)
    )


def downgrade():
    op.execute(snapshots.delete().where(snapshots.c.people_with_target.is_(None)))
    with op.batch_alter_table("skill_snapshots", schema=None) as batch_op:
        batch_op.alter_column("people_at_target", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column("people_with_target", existing_type=sa.Integer(), nullable=False)
