"""competence evidence, targets, snapshots and the audit log

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 13:02:23.555553

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "audit_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("subject_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("detail", sa.String(length=500), nullable=False),
        sa.Column("ip_address", sa.String(length=45), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_audit_entries_actor_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["users.id"], name=op.f("fk_audit_entries_subject_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_entries")),
    )
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_entries_actor_id"), ["actor_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_entries_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_entries_subject_id"), ["subject_id"], unique=False)

    op.create_table(
        "assessments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("competence_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("assessed_by_id", sa.Integer(), nullable=True),
        sa.Column("assessed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assessed_by_id"], ["users.id"], name=op.f("fk_assessments_assessed_by_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["competence_id"], ["competences.id"], name=op.f("fk_assessments_competence_id_competences")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_assessments_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessments")),
    )
    with op.batch_alter_table("assessments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_assessments_competence_id"), ["competence_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_assessments_user_id"), ["user_id"], unique=False)

    op.create_table(
        "job_role_targets",
        sa.Column("job_role_id", sa.Integer(), nullable=False),
        sa.Column("competence_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("recert_months", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["competence_id"], ["competences.id"], name=op.f("fk_job_role_targets_competence_id_competences")
        ),
        sa.ForeignKeyConstraint(
            ["job_role_id"],
            ["job_roles.id"],
            name=op.f("fk_job_role_targets_job_role_id_job_roles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("job_role_id", "competence_id", name=op.f("pk_job_role_targets")),
    )
    with op.batch_alter_table("job_role_targets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_job_role_targets_competence_id"), ["competence_id"], unique=False)

    op.create_table(
        "personal_targets",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("competence_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("recert_months", sa.Integer(), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("set_by_id", sa.Integer(), nullable=True),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["competence_id"], ["competences.id"], name=op.f("fk_personal_targets_competence_id_competences")
        ),
        sa.ForeignKeyConstraint(
            ["set_by_id"], ["users.id"], name=op.f("fk_personal_targets_set_by_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_personal_targets_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "competence_id", name=op.f("pk_personal_targets")),
    )
    with op.batch_alter_table("personal_targets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_personal_targets_competence_id"), ["competence_id"], unique=False)

    op.create_table(
        "self_assessments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("competence_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("assessed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["competence_id"], ["competences.id"], name=op.f("fk_self_assessments_competence_id_competences")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_self_assessments_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_self_assessments")),
    )
    with op.batch_alter_table("self_assessments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_self_assessments_competence_id"), ["competence_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_self_assessments_user_id"), ["user_id"], unique=False)

    op.create_table(
        "skill_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("scope", sa.String(length=20), nullable=False),
        sa.Column("scope_id", sa.Integer(), nullable=False),
        sa.Column("competence_id", sa.Integer(), nullable=False),
        sa.Column("people_with_target", sa.Integer(), nullable=False),
        sa.Column("people_at_target", sa.Integer(), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["competence_id"], ["competences.id"], name=op.f("fk_skill_snapshots_competence_id_competences")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_skill_snapshots")),
        sa.UniqueConstraint("month", "scope", "scope_id", "competence_id", name=op.f("uq_skill_snapshots_month")),
    )
    with op.batch_alter_table("skill_snapshots", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_skill_snapshots_month"), ["month"], unique=False)


def downgrade():
    with op.batch_alter_table("skill_snapshots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_skill_snapshots_month"))

    op.drop_table("skill_snapshots")
    with op.batch_alter_table("self_assessments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_self_assessments_user_id"))
        batch_op.drop_index(batch_op.f("ix_self_assessments_competence_id"))

    op.drop_table("self_assessments")
    with op.batch_alter_table("personal_targets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_personal_targets_competence_id"))

    op.drop_table("personal_targets")
    with op.batch_alter_table("job_role_targets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_job_role_targets_competence_id"))

    op.drop_table("job_role_targets")
    with op.batch_alter_table("assessments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assessments_user_id"))
        batch_op.drop_index(batch_op.f("ix_assessments_competence_id"))

    op.drop_table("assessments")
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_entries_subject_id"))
        batch_op.drop_index(batch_op.f("ix_audit_entries_at"))
        batch_op.drop_index(batch_op.f("ix_audit_entries_actor_id"))

    op.drop_table("audit_entries")
