"""assessments: question pools, types, final checks, attempts and course variants

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 10:41:01.806011

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "course_variants",
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("summary", sa.String(length=1000), nullable=False),
        sa.Column("intro_html", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"], ["courses.id"], name=op.f("fk_course_variants_course_id_courses"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("course_id", "code", name=op.f("pk_course_variants")),
    )
    op.create_table(
        "quiz_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("lesson_key", sa.String(length=120), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("variant", sa.String(length=40), nullable=False),
        sa.Column("course_version", sa.Integer(), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("score_percent", sa.Integer(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"], ["courses.id"], name=op.f("fk_quiz_attempts_course_id_courses"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_quiz_attempts_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quiz_attempts")),
        sa.UniqueConstraint("user_id", "course_id", "lesson_key", "number", name=op.f("uq_quiz_attempts_user_id")),
    )
    with op.batch_alter_table("quiz_attempts", schema=None) as batch_op:
        batch_op.create_index("ix_quiz_attempts_course_lesson", ["course_id", "lesson_key"], unique=False)
        batch_op.create_index(batch_op.f("ix_quiz_attempts_user_id"), ["user_id"], unique=False)

    op.create_table(
        "variant_choices",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("variant", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"], ["courses.id"], name=op.f("fk_variant_choices_course_id_courses"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_variant_choices_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "course_id", name=op.f("pk_variant_choices")),
    )
    with op.batch_alter_table("courses", schema=None) as batch_op:
        batch_op.add_column(sa.Column("final_draw", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("final_pass_score", sa.Integer(), nullable=True))

    with op.batch_alter_table("lessons", schema=None) as batch_op:
        batch_op.add_column(sa.Column("variant", sa.String(length=40), server_default="", nullable=False))
        batch_op.add_column(sa.Column("draw", sa.Integer(), nullable=True))
        batch_op.drop_constraint(batch_op.f("uq_lessons_course_id"), type_="unique")
        batch_op.create_unique_constraint(batch_op.f("uq_lessons_course_id"), ["course_id", "variant", "key"])

    with op.batch_alter_table("quiz_questions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=10), server_default="multiple", nullable=False))
        batch_op.add_column(sa.Column("shuffle", sa.Boolean(), server_default=sa.true(), nullable=False))


def downgrade():
    with op.batch_alter_table("quiz_questions", schema=None) as batch_op:
        batch_op.drop_column("shuffle")
        batch_op.drop_column("kind")

    # The variants' lessons cannot be told apart from the course's own any more: they go (with
    # their questions); the next `flask courses sync` of an older version has no variants.
    op.execute("DELETE FROM lessons WHERE variant <> ''")
    with op.batch_alter_table("lessons", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_lessons_course_id"), type_="unique")
        batch_op.create_unique_constraint(batch_op.f("uq_lessons_course_id"), ["course_id", "key"])
        batch_op.drop_column("draw")
        batch_op.drop_column("variant")

    with op.batch_alter_table("courses", schema=None) as batch_op:
        batch_op.drop_column("final_pass_score")
        batch_op.drop_column("final_draw")

    op.drop_table("variant_choices")
    with op.batch_alter_table("quiz_attempts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quiz_attempts_user_id"))
        batch_op.drop_index("ix_quiz_attempts_course_lesson")

    op.drop_table("quiz_attempts")
    op.drop_table("course_variants")
