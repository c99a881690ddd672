"""audit trail: snapshots of who and whom, structured context, hash chain

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 07:30:00.000000

The entries are rebuilt: ids become consecutive in their old order, who and whom get the names and
e-mails the people have now (the closest there is to "at that moment" for old entries), the old
free-text detail moves into the context, and every entry is chained to the one before.
"""

import json

import sqlalchemy as sa
from alembic import op

from lms.privacy.chain import GENESIS_HASH, entry_hash

# revision identifiers, used by Alembic.
revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _create_entries_table(name: str) -> None:
    op.create_table(
        name,
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_name", sa.String(length=200), nullable=False),
        sa.Column("actor_email", sa.String(length=254), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=True),
        sa.Column("subject_name", sa.String(length=200), nullable=False),
        sa.Column("subject_email", sa.String(length=254), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("context", sa.JSON(), nullable=False),
        sa.Column("ip_address", sa.String(length=45), nullable=True),
        sa.Column("previous_hash", sa.String(length=64), nullable=False),
        sa.Column("entry_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_entries"),
        sa.UniqueConstraint("entry_hash", name="uq_audit_entries_entry_hash"),
    )


def _old_entries(connection) -> list[dict]:
    rows = connection.execute(
        sa.text(
            "SELECT e.at, e.actor_id, e.subject_id, e.action, e.detail, e.ip_address,"
            " a.given_name AS a_given, a.family_name AS a_family, a.email AS a_email,"
            " s.given_name AS s_given, s.family_name AS s_family, s.email AS s_email"
            " FROM audit_entries e LEFT JOIN users a ON a.id = e.actor_id LEFT JOIN users s ON s.id = e.subject_id"
            " ORDER BY e.id"
        ).columns(at=sa.DateTime(timezone=True))
    ).mappings()
    return [
        {
            "at": row["at"],
            "actor_id": row["actor_id"],
            "actor_name": f"{row['a_given']} {row['a_family']}" if row["a_email"] else "",
            "actor_email": row["a_email"] or "",
            "subject_id": row["subject_id"],
            "subject_name": f"{row['s_given']} {row['s_family']}" if row["s_email"] else "",
            "subject_email": row["s_email"] or "",
            "action": row["action"],
            "context": {"detail": row["detail"]} if row["detail"] else {},
            "ip_address": row["ip_address"],
        }
        for row in rows
    ]


def _chain(rows: list[dict]) -> tuple[list[dict], str]:
    previous = GENESIS_HASH
    for number, row in enumerate(rows, start=1):
        row.update(id=number, previous_hash=previous)
        row["entry_hash"] = previous = entry_hash(row)
    return rows, previous


def upgrade():
    connection = op.get_bind()
    rows, last_hash = _chain(_old_entries(connection))

    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_entries_subject_id"))
        batch_op.drop_index(batch_op.f("ix_audit_entries_at"))
        batch_op.drop_index(batch_op.f("ix_audit_entries_actor_id"))
    op.drop_table("audit_entries")

    _create_entries_table("audit_entries")
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_entries_action"), ["action"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_entries_actor_id"), ["actor_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_entries_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_entries_subject_id"), ["subject_id"], unique=False)
    chain = op.create_table(
        "audit_chain",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("last_id", sa.Integer(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain")),
    )
    entries = sa.table(
        "audit_entries",
        *(sa.column(name) for name in ("id", "at", "actor_id", "actor_name", "actor_email", "subject_id")),
        *(sa.column(name) for name in ("subject_name", "subject_email", "action", "ip_address")),
        sa.column("context", sa.JSON()),
        sa.column("previous_hash"),
        sa.column("entry_hash"),
    )
    if rows:
        op.bulk_insert(entries, rows)
    op.bulk_insert(chain, [{"id": 1, "last_id": len(rows), "last_hash": last_hash}])


def downgrade():
    connection = op.get_bind()
    rows = connection.execute(
        sa.text(
            "SELECT id, at, actor_id, subject_id, action, context, ip_address FROM audit_entries ORDER BY id"
        ).columns(at=sa.DateTime(timezone=True), context=sa.JSON())
    ).mappings()
    existing = {user_id for (user_id,) in connection.execute(sa.text("SELECT id FROM users"))}
    old_rows = [
        {
            "id": row["id"],
            "at": row["at"],
            "actor_id": row["actor_id"] if row["actor_id"] in existing else None,
            "subject_id": row["subject_id"] if row["subject_id"] in existing else None,
            "action": row["action"],
            "detail": _detail_text(row["context"]),
            "ip_address": row["ip_address"],
        }
        for row in rows
    ]
    op.drop_table("audit_chain")
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_entries_subject_id"))
        batch_op.drop_index(batch_op.f("ix_audit_entries_at"))
        batch_op.drop_index(batch_op.f("ix_audit_entries_actor_id"))
        batch_op.drop_index(batch_op.f("ix_audit_entries_action"))
    op.drop_table("audit_entries")
    old = op.create_table(
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
    if old_rows:
        op.bulk_insert(old, old_rows)
    if connection.dialect.name == "postgresql":  # ids were handed out by the chain, not the sequence
        connection.execute(
            sa.text(
                "SELECT setval(pg_get_serial_sequence('audit_entries', 'id'), COALESCE(MAX(id), 0) + 1, false)"
                " FROM audit_entries"
            )
        )


def _detail_text(context) -> str:
    values = json.loads(context) if isinstance(context, str) else (context or {})
    return (values.get("detail") or json.dumps(values, ensure_ascii=False, sort_keys=True))[:500] if values else ""
