"""two-factor sign-in

Revision ID: 0026
Revises: 0025
Create Date: 2026-11-30 18:10:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade():
    # Issue 15: a second factor per person (TOTP secret, app or hardware token), recovery codes
    # stored hashed, and sign-ins waiting for their code (docs/two-factor.md).
    op.create_table(
        "two_factor_credentials",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=True),
        sa.Column("secret", sa.String(length=128), nullable=True),
        sa.Column("serial", sa.String(length=64), nullable=True),
        sa.Column("enabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_step", sa.Integer(), nullable=True),
        sa.Column("new_secret", sa.String(length=128), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_two_factor_credentials_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_two_factor_credentials")),
    )
    op.create_table(
        "recovery_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("salt", sa.String(length=32), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_recovery_codes_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recovery_codes")),
    )
    with op.batch_alter_table("recovery_codes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_recovery_codes_user_id"), ["user_id"], unique=False)
    op.create_table(
        "pending_sign_ins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_pending_sign_ins_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pending_sign_ins")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_pending_sign_ins_token_hash")),
    )
    with op.batch_alter_table("pending_sign_ins", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pending_sign_ins_user_id"), ["user_id"], unique=False)


def downgrade():
    with op.batch_alter_table("pending_sign_ins", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pending_sign_ins_user_id"))
    op.drop_table("pending_sign_ins")
    with op.batch_alter_table("recovery_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recovery_codes_user_id"))
    op.drop_table("recovery_codes")
    op.drop_table("two_factor_credentials")
