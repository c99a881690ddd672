"""audit entries expire behind a signed checkpoint

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30 15:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


# PostgreSQL: the app's role may delete audit entries (for the purge, docs/security.md) only behind
# a checkpoint and only once they are older than the shortest period allowed (90 days). The schema's
# owner (migrations) is not limited. A checkpoint without a valid signature still fails verify.
LIMIT_DELETES = """
CREATE FUNCTION audit_entries_leave_behind_a_checkpoint() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'USAGE') THEN
        RETURN OLD;
    END IF;
    IF OLD.id > COALESCE((SELECT MAX(last_id) FROM audit_checkpoints), 0)
        OR OLD.at > now() - interval '90 days' THEN
        RAISE EXCEPTION 'audit entry % may only be deleted behind a checkpoint, after 90 days', OLD.id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN OLD;
END
$$;
CREATE TRIGGER audit_entries_leave_behind_a_checkpoint BEFORE DELETE ON audit_entries
    FOR EACH ROW EXECUTE FUNCTION audit_entries_leave_behind_a_checkpoint();
"""


def upgrade():
    op.create_table(
        "audit_checkpoints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_id", sa.Integer(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.Column("removed", sa.Integer(), nullable=False),
        sa.Column("signature", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_checkpoints")),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(LIMIT_DELETES)


def downgrade():
    # Without its checkpoints, a trail whose oldest entries were purged no longer verifies.
    purged = op.get_bind().execute(sa.text("SELECT COUNT(*) FROM audit_checkpoints")).scalar()
    if purged:
        raise RuntimeError(
            "audit_checkpoints holds the start of the purged audit trail: downgrading would leave "
            "`flask audit verify` failing; keep the table (or copy it) before going below 0015"
        )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_entries_leave_behind_a_checkpoint ON audit_entries")
        op.execute("DROP FUNCTION audit_entries_leave_behind_a_checkpoint()")
    op.drop_table("audit_checkpoints")
