"""outbox mails written when first sent: the outbox keeps what a mail says until then

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 09:51:14.499123

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("mail_outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("params", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("link", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("optional", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.alter_column("subject", existing_type=sa.String(length=300), nullable=True)
        batch_op.alter_column("text_body", existing_type=sa.Text(), nullable=True)
        batch_op.alter_column("html_body", existing_type=sa.Text(), nullable=True)


def downgrade():
    # Mails not yet written cannot be kept in the old form: they are failed, with the reason, and
    # kept (empty) as the record that they were not sent.
    op.execute(
        "UPDATE mail_outbox SET status = 'failed', subject = '', text_body = '', html_body = '', "
        "last_error = 'not sent: the outbox was downgraded before the mail was written' "
        "WHERE text_body IS NULL"
    )
    with op.batch_alter_table("mail_outbox", schema=None) as batch_op:
        batch_op.alter_column("html_body", existing_type=sa.Text(), nullable=False)
        batch_op.alter_column("text_body", existing_type=sa.Text(), nullable=False)
        batch_op.alter_column("subject", existing_type=sa.String(length=300), nullable=False)
        batch_op.drop_column("optional")
        batch_op.drop_column("link")
        batch_op.drop_column("params")
        batch_op.drop_column("kind")
