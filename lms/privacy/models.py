from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, String, event
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, mapped_column

from lms.common.columns import intpk, timestamp
from lms.extensions import Model


class AuditEntry(Model):
    """One look at (or export of, or refused attempt on) another person's data, or one change an
    administrator made to people and their rights.

    Append-only: an entry is written once and never changed; the oldest leave only when their
    retention period ends, from the start of the chain, behind an `AuditCheckpoint`. Who acted and whose data it was are
    stored as they were at that moment (id, name and e-mail), so renaming or removing a person does
    not rewrite history; the ids are therefore plain numbers, not foreign keys. What the request
    asked for is kept as structured fields in `context`, never pasted into a sentence.

    Each entry's `entry_hash` covers its content and the previous entry's hash (`previous_hash`),
    so changing, removing or inserting an entry breaks the chain (`flask audit verify`).
    Ids are handed out by the chain (see `AuditChain`), consecutively, not by a sequence.
    """

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    at: Mapped[timestamp] = mapped_column(index=True)
    actor_id: Mapped[int | None] = mapped_column(index=True)
    actor_name: Mapped[str] = mapped_column(String(200), default="")
    actor_email: Mapped[str] = mapped_column(String(254), default="")
    subject_id: Mapped[int | None] = mapped_column(index=True)
    subject_name: Mapped[str] = mapped_column(String(200), default="")
    subject_email: Mapped[str] = mapped_column(String(254), default="")
    action: Mapped[str] = mapped_column(String(40), index=True)
    context: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    ip_address: Mapped[str | None] = mapped_column(String(45))
    previous_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditChain(Model):
    """The head of the audit chain: one row, the last entry's id and hash.

    Writing entries first moves this row on (one UPDATE), which also serialises concurrent writers:
    a row lock on PostgreSQL, the write lock on SQLite. So no two entries claim the same
    predecessor, and the app's database role needs only SELECT and UPDATE here, and SELECT and
    INSERT on `audit_entries` (docs/security.md).
    """

    __tablename__ = "audit_chain"

    id: Mapped[intpk]
    last_id: Mapped[int]
    last_hash: Mapped[str] = mapped_column(String(64))


class AuditCheckpoint(Model):
    """Where the audit trail now begins, written when its oldest entries are purged (retention).

    It holds the id and hash of the last entry removed and how many entries that purge removed,
    signed with HMAC-SHA256 (`chain.checkpoint_signature`), the signature also covering the
    previous checkpoint's. `verify` starts from the newest one: the first entry kept must link to
    its hash. A checkpoint is written once and never changed, like an entry.
    """

    __tablename__ = "audit_checkpoints"

    id: Mapped[intpk]
    at: Mapped[timestamp]
    last_id: Mapped[int]
    last_hash: Mapped[str] = mapped_column(String(64))
    removed: Mapped[int]
    signature: Mapped[str] = mapped_column(String(64))


class AuditEntryIsAppendOnly(Exception):
    """Code tried to change or delete an audit entry or checkpoint: a bug, never a user's mistake."""


# The ORM refuses to change or delete these; only `chain.remove_prefix` deletes old entries.
WRITE_ONCE = (AuditEntry, AuditCheckpoint)


@event.listens_for(Session, "before_flush")
def _refuse_changed_entries(session: Session, _context, _instances) -> None:
    changed = [entry for entry in session.dirty if isinstance(entry, WRITE_ONCE) and session.is_modified(entry)]
    removed = [entry for entry in session.deleted if isinstance(entry, WRITE_ONCE)]
    if changed or removed:
        raise AuditEntryIsAppendOnly("audit entries are written once and never changed or deleted")


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_changes(state: ORMExecuteState) -> None:
    if (
        (state.is_update or state.is_delete)
        and state.bind_mapper is not None
        and state.bind_mapper.class_ in WRITE_ONCE
    ):
        raise AuditEntryIsAppendOnly("audit entries are written once and never changed or deleted")
