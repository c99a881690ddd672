"""initiatives of a change

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-30 16:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete=ondelete
    )


def upgrade():
    op.create_table(
        "initiatives",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("description_html", sa.Text(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=True),
        sa.Column("go_live", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("go_live_moves", sa.Integer(), server_default="0", nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _fk("initiatives", "lead_id", "users", "SET NULL"),
        _fk("initiatives", "created_by_id", "users", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_initiatives")),
    )
    op.create_index(op.f("ix_initiatives_lead_id"), "initiatives", ["lead_id"], unique=False)

    op.create_table(
        "initiative_departments",
        sa.Column("initiative_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        _fk("initiative_departments", "initiative_id", "initiatives", "CASCADE"),
        _fk("initiative_departments", "department_id", "departments", "CASCADE"),
        sa.PrimaryKeyConstraint("initiative_id", "department_id", name=op.f("pk_initiative_departments")),
    )
    op.create_table(
        "initiative_job_roles",
        sa.Column("initiative_id", sa.Integer(), nullable=False),
        sa.Column("job_role_id", sa.Integer(), nullable=False),
        _fk("initiative_job_roles", "initiative_id", "initiatives", "CASCADE"),
        _fk("initiative_job_roles", "job_role_id", "job_roles", "CASCADE"),
        sa.PrimaryKeyConstraint("initiative_id", "job_role_id", name=op.f("pk_initiative_job_roles")),
    )
    op.create_table(
        "initiative_phases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("initiative_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        _fk("initiative_phases", "initiative_id", "initiatives", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_initiative_phases")),
    )
    op.create_index(op.f("ix_initiative_phases_initiative_id"), "initiative_phases", ["initiative_id"], unique=False)

    op.create_table(
        "initiative_courses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("initiative_id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        _fk("initiative_courses", "initiative_id", "initiatives", "CASCADE"),
        _fk("initiative_courses", "course_id", "courses", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_initiative_courses")),
        sa.UniqueConstraint("initiative_id", "course_id", name=op.f("uq_initiative_courses_initiative_id")),
    )
    op.create_index(op.f("ix_initiative_courses_initiative_id"), "initiative_courses", ["initiative_id"], unique=False)
    op.create_index(op.f("ix_initiative_courses_course_id"), "initiative_courses", ["course_id"], unique=False)

    op.create_table(
        "initiative_course_rules",
        sa.Column("linked_course_id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=False),
        _fk("initiative_course_rules", "linked_course_id", "initiative_courses", "CASCADE"),
        _fk("initiative_course_rules", "rule_id", "assignment_rules", "CASCADE"),
        sa.PrimaryKeyConstraint("linked_course_id", "rule_id", name=op.f("pk_initiative_course_rules")),
    )

    op.create_table(
        "initiative_announcements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("initiative_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("shown_from", sa.Date(), nullable=False),
        sa.Column("shown_until", sa.Date(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("told_at", sa.DateTime(timezone=True), nullable=True),
        _fk("initiative_announcements", "initiative_id", "initiatives", "CASCADE"),
        _fk("initiative_announcements", "created_by_id", "users", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_initiative_announcements")),
    )
    op.create_index(
        op.f("ix_initiative_announcements_initiative_id"), "initiative_announcements", ["initiative_id"], unique=False
    )

    op.create_table(
        "initiative_guides",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("initiative_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        _fk("initiative_guides", "initiative_id", "initiatives", "CASCADE"),
        _fk("initiative_guides", "user_id", "users", "CASCADE"),
        _fk("initiative_guides", "department_id", "departments", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_initiative_guides")),
        sa.UniqueConstraint(
            "initiative_id", "user_id", "department_id", name=op.f("uq_initiative_guides_initiative_id")
        ),
    )
    op.create_index(op.f("ix_initiative_guides_initiative_id"), "initiative_guides", ["initiative_id"], unique=False)
    op.create_index(op.f("ix_initiative_guides_user_id"), "initiative_guides", ["user_id"], unique=False)

    op.create_table(
        "initiative_questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("initiative_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("without_name", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("answered_by_id", sa.Integer(), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        _fk("initiative_questions", "initiative_id", "initiatives", "CASCADE"),
        _fk("initiative_questions", "user_id", "users", "SET NULL"),
        _fk("initiative_questions", "answered_by_id", "users", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_initiative_questions")),
    )
    op.create_index(
        op.f("ix_initiative_questions_initiative_id"), "initiative_questions", ["initiative_id"], unique=False
    )
    op.create_index(op.f("ix_initiative_questions_user_id"), "initiative_questions", ["user_id"], unique=False)


def downgrade():
    op.drop_table("initiative_questions")
    op.drop_table("initiative_guides")
    op.drop_table("initiative_announcements")
    op.drop_table("initiative_course_rules")
    op.drop_table("initiative_courses")
    op.drop_table("initiative_phases")
    op.drop_table("initiative_job_roles")
    op.drop_table("initiative_departments")
    op.drop_table("initiatives")
