"""course feedback without the person

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-30 16:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade():
    # The answers, without the person: no user id, no time, a random key (issue 14). Who answered
    # is kept apart below, with nothing the two tables share but the course.
    op.create_table(
        "course_feedback",
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("helpful", sa.Integer(), nullable=False),
        sa.Column("length", sa.String(length=20), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"], ["courses.id"], name=op.f("fk_course_feedback_course_id_courses"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_course_feedback")),
    )
    with op.batch_alter_table("course_feedback", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_course_feedback_course_id"), ["course_id"], unique=False)
    op.create_table(
        "course_feedback_given",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"], ["courses.id"], name=op.f("fk_course_feedback_given_course_id_courses"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_course_feedback_given_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "course_id", name=op.f("pk_course_feedback_given")),
    )
    with op.batch_alter_table("course_feedback_given", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_course_feedback_given_course_id"), ["course_id"], unique=False)


def downgrade():
    with op.batch_alter_table("course_feedback_given", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_course_feedback_given_course_id"))
    op.drop_table("course_feedback_given")
    with op.batch_alter_table("course_feedback", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_course_feedback_course_id"))
    op.drop_table("course_feedback")
