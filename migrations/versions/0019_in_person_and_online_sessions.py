"""in-person and online sessions

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-30 16:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "training_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("place", sa.String(length=200), nullable=False),
        sa.Column("video_link", sa.String(length=500), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("registration_closes_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("trainer_id", sa.Integer(), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sequence", sa.Integer(), server_default="0", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"], ["courses.id"], name=op.f("fk_training_sessions_course_id_courses"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["trainer_id"], ["users.id"], name=op.f("fk_training_sessions_trainer_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_sessions")),
    )
    with op.batch_alter_table("training_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_training_sessions_course_id"), ["course_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_training_sessions_starts_at"), ["starts_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_training_sessions_trainer_id"), ["trainer_id"], unique=False)

    op.create_table(
        "session_registrations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("waitlisted", sa.Boolean(), nullable=False),
        sa.Column("attended", sa.Boolean(), nullable=True),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["training_sessions.id"],
            name=op.f("fk_session_registrations_session_id_training_sessions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_session_registrations_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_session_registrations")),
        sa.UniqueConstraint("session_id", "user_id", name=op.f("uq_session_registrations_session_id")),
    )
    with op.batch_alter_table("session_registrations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_session_registrations_session_id"), ["session_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_session_registrations_user_id"), ["user_id"], unique=False)

    # A mail may carry one calendar part (an invitation, METHOD:REQUEST, or its cancellation).
    with op.batch_alter_table("mail_outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("calendar", sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table("mail_outbox", schema=None) as batch_op:
        batch_op.drop_column("calendar")
    with op.batch_alter_table("session_registrations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_session_registrations_user_id"))
        batch_op.drop_index(batch_op.f("ix_session_registrations_session_id"))
    op.drop_table("session_registrations")
    with op.batch_alter_table("training_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_training_sessions_trainer_id"))
        batch_op.drop_index(batch_op.f("ix_training_sessions_starts_at"))
        batch_op.drop_index(batch_op.f("ix_training_sessions_course_id"))
    op.drop_table("training_sessions")
