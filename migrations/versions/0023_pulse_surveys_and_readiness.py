"""pulse surveys and the readiness of an initiative

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-01 10:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete=ondelete
    )


def upgrade():
    # Pulse surveys (issue 14): answers anonymous by construction (docs/change.md), results and
    # weekly readiness stored already protected (counts NULL where a figure may not be shown).
    op.create_table(
        "pulse_surveys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("initiative_id", sa.Integer(), nullable=False),
        sa.Column("moment", sa.String(length=10), nullable=False),
        sa.Column("questions", sa.JSON(), nullable=False),
        sa.Column("with_comment", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("opens_on", sa.Date(), nullable=False),
        sa.Column("closes_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("refusal_reason", sa.Text(), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _fk("pulse_surveys", "initiative_id", "initiatives", "CASCADE"),
        _fk("pulse_surveys", "decided_by_id", "users", "SET NULL"),
        _fk("pulse_surveys", "created_by_id", "users", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pulse_surveys")),
    )
    op.create_index(op.f("ix_pulse_surveys_initiative_id"), "pulse_surveys", ["initiative_id"], unique=False)

    # Random keys, no person, no time: see PulseAnswer.
    op.create_table(
        "pulse_answers",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.Column("question", sa.SmallInteger(), nullable=False),
        sa.Column("value", sa.SmallInteger(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=True),
        _fk("pulse_answers", "survey_id", "pulse_surveys", "CASCADE"),
        _fk("pulse_answers", "department_id", "departments", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pulse_answers")),
    )
    op.create_index(op.f("ix_pulse_answers_survey_id"), "pulse_answers", ["survey_id"], unique=False)
    op.create_table(
        "pulse_comments",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        _fk("pulse_comments", "survey_id", "pulse_surveys", "CASCADE"),
        _fk("pulse_comments", "department_id", "departments", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pulse_comments")),
    )
    op.create_index(op.f("ix_pulse_comments_survey_id"), "pulse_comments", ["survey_id"], unique=False)
    op.create_table(
        "pulse_participation",
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        _fk("pulse_participation", "survey_id", "pulse_surveys", "CASCADE"),
        _fk("pulse_participation", "user_id", "users", "CASCADE"),
        sa.PrimaryKeyConstraint("survey_id", "user_id", name=op.f("pk_pulse_participation")),
    )
    op.create_table(
        "pulse_results",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("answers", sa.Integer(), nullable=True),
        sa.Column("prepared", sa.Integer(), nullable=True),
        sa.Column("sums", sa.JSON(), nullable=True),
        _fk("pulse_results", "survey_id", "pulse_surveys", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pulse_results")),
        sa.UniqueConstraint("survey_id", "department_id", name=op.f("uq_pulse_results_survey_id")),
    )
    op.create_index(op.f("ix_pulse_results_survey_id"), "pulse_results", ["survey_id"], unique=False)
    op.create_table(
        "readiness_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("initiative_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("week", sa.String(length=8), nullable=False),
        sa.Column("people", sa.Integer(), nullable=True),
        sa.Column("completed", sa.Integer(), nullable=True),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        _fk("readiness_snapshots", "initiative_id", "initiatives", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_readiness_snapshots")),
        sa.UniqueConstraint(
            "initiative_id", "department_id", "week", name=op.f("uq_readiness_snapshots_initiative_id")
        ),
    )
    op.create_index(
        op.f("ix_readiness_snapshots_initiative_id"), "readiness_snapshots", ["initiative_id"], unique=False
    )


def downgrade():
    op.drop_index(op.f("ix_readiness_snapshots_initiative_id"), table_name="readiness_snapshots")
    op.drop_table("readiness_snapshots")
    op.drop_index(op.f("ix_pulse_results_survey_id"), table_name="pulse_results")
    op.drop_table("pulse_results")
    op.drop_table("pulse_participation")
    op.drop_index(op.f("ix_pulse_comments_survey_id"), table_name="pulse_comments")
    op.drop_table("pulse_comments")
    op.drop_index(op.f("ix_pulse_answers_survey_id"), table_name="pulse_answers")
    op.drop_table("pulse_answers")
    op.drop_index(op.f("ix_pulse_surveys_initiative_id"), table_name="pulse_surveys")
    op.drop_table("pulse_surveys")
