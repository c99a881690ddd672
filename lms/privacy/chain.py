"""The audit trail as a hash chain: appending entries and checking that none was changed.

Each entry's hash is SHA-256 over a canonical JSON text of its content and its predecessor's hash,
so editing, deleting or inserting an entry directly in the database breaks the chain at that
point. `verify` names the first entry where it breaks. What the chain cannot show on its own is
the removal of the newest entries together with the head row: the head's hash, printed by
`flask audit verify`, is what a DPO writes down (or has mailed) to anchor it outside the database.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from lms.common.dates import as_utc
from lms.extensions import db
from lms.privacy.models import AuditChain, AuditEntry

GENESIS_HASH = "0" * 64
HASH_VERSION = 1
# The columns an entry's hash covers, in a fixed order (`id` and the predecessor's hash included).
HASHED_COLUMNS = (
    "id",
    "at",
    "actor_id",
    "actor_name",
    "actor_email",
    "subject_id",
    "subject_name",
    "subject_email",
    "action",
    "context",
    "ip_address",
    "previous_hash",
)


def canonical_time(at: datetime) -> str:
    """The same text for a time whether SQLite (naive) or PostgreSQL (aware) gives it back."""
    return as_utc(at).isoformat(timespec="microseconds")


def entry_hash(values: dict[str, Any]) -> str:
    content = {column: values.get(column) for column in HASHED_COLUMNS}
    content["at"] = canonical_time(values["at"])
    content["context"] = values.get("context") or {}
    text = json.dumps([HASH_VERSION, content], ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _reserve(count: int) -> tuple[int, str]:
    """Move the head on by `count` ids and answer (the first new id, the hash to chain to).

    The UPDATE comes first so that it takes the lock before the head is read: concurrent writers
    wait here until the one ahead commits, then see its entries.
    """
    statement = (
        update(AuditChain)
        .where(AuditChain.id == 1)
        .values(last_id=AuditChain.last_id + count)
        .returning(AuditChain.last_id, AuditChain.last_hash)
    )
    row = db.session.execute(statement).one_or_none()
    if row is None:
        _create_head()
        row = db.session.execute(statement).one()
    last_id, last_hash = row
    return last_id - count + 1, last_hash


def _create_head() -> None:
    """The head row, after the newest entry (a database emptied by the tests, or a new one)."""
    newest = db.session.execute(
        select(AuditEntry.id, AuditEntry.entry_hash).order_by(AuditEntry.id.desc()).limit(1)
    ).one_or_none()
    last_id, last_hash = newest if newest is not None else (0, GENESIS_HASH)
    insert_head = postgresql_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    db.session.execute(
        insert_head(AuditChain).values(id=1, last_id=last_id, last_hash=last_hash).on_conflict_do_nothing()
    )


def append(rows: Sequence[dict[str, Any]]) -> None:
    """Append entries (column values without id and hashes) to the chain, in the given order."""
    if not rows:
        return
    next_id, previous = _reserve(len(rows))
    chained = []
    for offset, row in enumerate(rows):
        values = {**row, "id": next_id + offset, "previous_hash": previous, "context": row.get("context") or {}}
        values["entry_hash"] = previous = entry_hash(values)
        chained.append(values)
    db.session.execute(insert(AuditEntry), chained)
    db.session.execute(update(AuditChain).where(AuditChain.id == 1).values(last_hash=previous))


# --- verification ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Break:
    """Where the chain breaks: the entry (or the head) and what is wrong."""

    entry_id: int | None
    problem: str


@dataclass(frozen=True)
class Verdict:
    entries: int
    last_id: int
    last_hash: str
    first_break: Break | None

    @property
    def intact(self) -> bool:
        return self.first_break is None


def _stored_entries(batch_size: int = 1000) -> Iterator[AuditEntry]:
    """All entries in chain order, a batch at a time (the log grows without bound)."""
    after = 0
    while True:
        batch = list(
            db.session.execute(
                select(AuditEntry).where(AuditEntry.id > after).order_by(AuditEntry.id).limit(batch_size)
            ).scalars()
        )
        yield from batch
        if len(batch) < batch_size:
            return
        after = batch[-1].id
        db.session.expunge_all()  # keep memory flat on a long log


def _column_values(entry: AuditEntry) -> dict[str, Any]:
    return {column: getattr(entry, column) for column in HASHED_COLUMNS}


def verify(progress=None) -> Verdict:
    """Walk the chain from the first entry; the first break found ends the walk.

    `progress` (optional) is called with the number of entries checked so far, every 1000.
    """
    count, expected_id, previous = 0, 1, GENESIS_HASH
    for entry in _stored_entries():
        problem = _entry_problem(entry, expected_id, previous)
        if problem:
            return Verdict(count, expected_id - 1, previous, Break(entry.id, problem))
        count, expected_id, previous = count + 1, entry.id + 1, entry.entry_hash
        if progress is not None and count % 1000 == 0:
            progress(count)
    head = db.session.get(AuditChain, 1)
    head_problem = _head_problem(head, expected_id - 1, previous)
    return Verdict(count, expected_id - 1, previous, Break(None, head_problem) if head_problem else None)


def _entry_problem(entry: AuditEntry, expected_id: int, previous: str) -> str | None:
    if entry.id != expected_id:
        return f"expected entry {expected_id} next, found {entry.id}: entries are missing"
    if entry.previous_hash != previous:
        return "its link to the previous entry does not match: an entry before it was removed or replaced"
    if entry_hash(_column_values(entry)) != entry.entry_hash:
        return "its content does not match its hash: the entry was changed"
    return None


def _head_problem(head: AuditChain | None, last_id: int, last_hash: str) -> str | None:
    if head is None:
        return None if last_id == 0 else "the chain's head row is missing"
    if head.last_id != last_id or head.last_hash != last_hash:
        return (
            f"the chain's head points to entry {head.last_id}, the last entry found is {last_id}: "
            "the newest entries were removed or changed"
        )
    return None
