"""assignments, rules, calendar feeds and the scheduler lease

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 08:00:18.627659

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "leases",
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("holder", sa.String(length=200), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_leases")),
    )
    op.create_table(
        "assignment_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=20), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("job_role_id", sa.Integer(), nullable=True),
        sa.Column("due_kind", sa.String(length=30), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("due_days", sa.Integer(), nullable=True),
        sa.Column("mandatory", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"], ["courses.id"], name=op.f("fk_assignment_rules_course_id_courses"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_assignment_rules_created_by_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name=op.f("fk_assignment_rules_department_id_departments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["job_role_id"],
            ["job_roles.id"],
            name=op.f("fk_assignment_rules_job_role_id_job_roles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_assignment_rules_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignment_rules")),
    )
    with op.batch_alter_table("assignment_rules", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_assignment_rules_course_id"), ["course_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_assignment_rules_department_id"), ["department_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_assignment_rules_job_role_id"), ["job_role_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_assignment_rules_user_id"), ["user_id"], unique=False)

    op.create_table(
        "calendar_feeds",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_calendar_feeds_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_calendar_feeds")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_calendar_feeds_token_hash")),
    )
    op.create_table(
        "assignments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("recertification", sa.Boolean(), nullable=False),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("mandatory", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("open_key", sa.String(length=40), nullable=True),
        sa.Column("completion_id", sa.Integer(), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("exempted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("exempted_by_id", sa.Integer(), nullable=True),
        sa.Column("exemption_reason", sa.String(length=500), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["completion_id"],
            ["completions.id"],
            name=op.f("fk_assignments_completion_id_completions"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["course_id"], ["courses.id"], name=op.f("fk_assignments_course_id_courses"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["exempted_by_id"], ["users.id"], name=op.f("fk_assignments_exempted_by_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["assignment_rules.id"],
            name=op.f("fk_assignments_rule_id_assignment_rules"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_assignments_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignments")),
        sa.UniqueConstraint("open_key", name=op.f("uq_assignments_open_key")),
    )
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_assignments_course_id"), ["course_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_assignments_due_on"), ["due_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_assignments_rule_id"), ["rule_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_assignments_user_id"), ["user_id"], unique=False)


def downgrade():
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assignments_user_id"))
        batch_op.drop_index(batch_op.f("ix_assignments_rule_id"))
        batch_op.drop_index(batch_op.f("ix_assignments_due_on"))
        batch_op.drop_index(batch_op.f("ix_assignments_course_id"))

    op.drop_table("assignments")
    op.drop_table("calendar_feeds")
    with op.batch_alter_table("assignment_rules", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assignment_rules_user_id"))
        batch_op.drop_index(batch_op.f("ix_assignment_rules_job_role_id"))
        batch_op.drop_index(batch_op.f("ix_assignment_rules_department_id"))
        batch_op.drop_index(batch_op.f("ix_assignment_rules_course_id"))

    op.drop_table("assignment_rules")
    op.drop_table("leases")
