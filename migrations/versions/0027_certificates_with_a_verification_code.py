"""certificates with a verification code

Revision ID: 0027
Revises: 0026
Create Date: 2026-11-30 18:10:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade():
    # One certificate per completion, with its verification code (issue 15). Completions from
    # before get theirs on their first download (lms.learning.certificates), not here.
    op.create_table(
        "certificates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("completion_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("course_title", sa.String(length=300), nullable=False),
        sa.Column("course_version", sa.Integer(), nullable=False),
        sa.Column("competences", sa.JSON(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["completion_id"],
            ["completions.id"],
            name=op.f("fk_certificates_completion_id_completions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_certificates_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificates")),
        sa.UniqueConstraint("code", name=op.f("uq_certificates_code")),
        sa.UniqueConstraint("completion_id", name=op.f("uq_certificates_completion_id")),
    )
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_certificates_user_id"), ["user_id"], unique=False)
    # Wrong codes per person on the verification page (the throttle against guessing).
    op.create_table(
        "certificate_lookup_failures",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("first_failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_certificate_lookup_failures_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_certificate_lookup_failures")),
    )


def downgrade():
    op.drop_table("certificate_lookup_failures")
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_certificates_user_id"))
    op.drop_table("certificates")
