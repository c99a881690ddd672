"""The audit trail as a hash chain: appending entries and checking that none was changed.

Each entry's hash is SHA-256 over a canonical JSON text of its content and its predecessor's hash,
so editing, deleting or inserting an entry directly in the database breaks the chain at that
point. `verify` names the first entry where it breaks. What the chain cannot show on its own is
the removal of the newest entries together with the head row: the head's hash, printed by
`flask audit verify`, is what a DPO writes down (or has mailed) to anchor it outside the database.

Entries past their retention period leave from the start of the chain only (`remove_prefix`),
behind a checkpoint that holds the last removed entry's id and hash, signed with HMAC-SHA256
under a key the database does not hold (`checkpoint_key`). `verify` starts from the newest
checkpoint, so someone with the database alone can neither cut entries from the start unseen nor
forge, edit or drop a checkpoint. Whoever also holds the key could; the head hash kept outside the
database still shows what became of the newest entries.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import current_app
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from lms.common.dates import as_utc
from lms.extensions import db
from lms.privacy.models import AuditChain, AuditCheckpoint, AuditEntry

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
    """The same text for a time whether SQLite (naive) or PostgreSQL (aware, in the connection's
    time zone) gives it back."""
    return as_utc(at).astimezone(UTC).isoformat(timespec="microseconds")


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
    checkpoint = _newest_checkpoint() if newest is None else None  # all purged: go on from the checkpoint
    if newest is not None:
        last_id, last_hash = newest
    elif checkpoint is not None:
        last_id, last_hash = checkpoint.last_id, checkpoint.last_hash
    else:
        last_id, last_hash = 0, GENESIS_HASH
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


# --- checkpoints: the start of the chain after old entries were purged ----------------------


def checkpoint_key() -> bytes:
    """`LMS_AUDIT_CHECKPOINT_KEY` if set, else a key derived from SECRET_KEY for this use alone."""
    configured = current_app.config.get("AUDIT_CHECKPOINT_KEY")
    if configured:
        return str(configured).encode("utf-8")
    secret = current_app.config["SECRET_KEY"]
    secret_bytes = secret if isinstance(secret, bytes) else str(secret).encode("utf-8")
    return hmac.new(secret_bytes, b"audit-checkpoint", hashlib.sha256).digest()


def checkpoint_signature(key: bytes, checkpoint: AuditCheckpoint, previous_signature: str) -> str:
    """HMAC-SHA256 over what the checkpoint holds and the previous checkpoint's signature ("" for
    the first), so that none of them can be edited, forged or dropped without the key."""
    values = [
        HASH_VERSION,
        checkpoint.last_id,
        checkpoint.last_hash,
        checkpoint.removed,
        canonical_time(checkpoint.at),
        previous_signature,
    ]
    text = json.dumps(values, separators=(",", ":"))
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()


def _newest_checkpoint() -> AuditCheckpoint | None:
    return db.session.execute(select(AuditCheckpoint).order_by(AuditCheckpoint.id.desc()).limit(1)).scalar_one_or_none()


def _removable(cutoff: datetime) -> tuple[int, int]:
    """(the id of the last entry that may go, how many entries that is): the entries before the
    first one written at or after `cutoff`. Only ever a start of the chain, never a hole in it."""
    first_kept = db.session.scalar(select(func.min(AuditEntry.id)).where(AuditEntry.at >= cutoff))
    through = db.session.scalar(select(func.max(AuditEntry.id))) if first_kept is None else first_kept - 1
    if not through:
        return 0, 0
    return through, db.session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.id <= through)) or 0


def count_removable(cutoff: datetime) -> int:
    return _removable(cutoff)[1]


def remove_prefix(cutoff: datetime, now: datetime) -> int:
    """Delete the entries written before `cutoff` from the start of the chain, behind a signed
    checkpoint; answers how many. Flushes; the caller commits.

    It takes the head's lock first (`_reserve(0)`), so writers and another purge wait for it.
    """
    _reserve(0)
    through, removed = _removable(cutoff)
    if not removed:
        return 0
    previous = _newest_checkpoint()
    checkpoint = AuditCheckpoint(
        at=now,
        last_id=through,
        last_hash=db.session.scalar(select(AuditEntry.entry_hash).where(AuditEntry.id == through)),
        removed=removed,
    )
    checkpoint.signature = checkpoint_signature(checkpoint_key(), checkpoint, previous.signature if previous else "")
    db.session.add(checkpoint)
    db.session.flush()
    # On the connection: the session refuses to delete entries, and this is the one place that may.
    entries = db.metadata.tables[AuditEntry.__tablename__]
    db.session.connection().execute(delete(entries).where(entries.c.id <= through))
    return removed


# --- verification ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Break:
    """Where the chain breaks: the entry (or a checkpoint, or the head) and what is wrong."""

    entry_id: int | None
    problem: str
    checkpoint_id: int | None = None

    @property
    def where(self) -> str:
        if self.checkpoint_id is not None:
            return f"audit checkpoint {self.checkpoint_id}"
        return f"audit entry {self.entry_id}" if self.entry_id is not None else "audit chain head"


@dataclass(frozen=True)
class Verdict:
    entries: int
    last_id: int
    last_hash: str
    first_break: Break | None
    checkpoint: AuditCheckpoint | None = None  # where the walk started, if entries were purged

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
    """Walk the chain from its start (the newest checkpoint, if entries were purged; else the first
    entry); the first break found ends the walk.

    `progress` (optional) is called with the number of entries checked so far, every 1000.
    """
    checkpoint, checkpoint_break = _checked_checkpoints(checkpoint_key())
    if checkpoint_break is not None:
        return Verdict(0, 0, GENESIS_HASH, checkpoint_break)
    start_id, previous = (checkpoint.last_id, checkpoint.last_hash) if checkpoint else (0, GENESIS_HASH)
    count, expected_id = 0, start_id + 1
    for entry in _stored_entries():
        problem = _entry_problem(entry, expected_id, previous, after_checkpoint=checkpoint is not None and not count)
        if problem:
            return Verdict(count, expected_id - 1, previous, Break(entry.id, problem), checkpoint)
        count, expected_id, previous = count + 1, entry.id + 1, entry.entry_hash
        if progress is not None and count % 1000 == 0:
            progress(count)
    head = db.session.get(AuditChain, 1)
    head_problem = _head_problem(head, expected_id - 1, previous)
    return Verdict(count, expected_id - 1, previous, Break(None, head_problem) if head_problem else None, checkpoint)


def _checked_checkpoints(key: bytes) -> tuple[AuditCheckpoint | None, Break | None]:
    """The newest checkpoint, once every checkpoint's signature and count hold (there are few:
    at most one a day)."""
    newest = None
    for checkpoint in db.session.execute(select(AuditCheckpoint).order_by(AuditCheckpoint.id)).scalars():
        problem = _checkpoint_problem(key, checkpoint, newest)
        if problem:
            return None, Break(None, problem, checkpoint.id)
        newest = checkpoint
    return newest, None


def _checkpoint_problem(key: bytes, checkpoint: AuditCheckpoint, previous: AuditCheckpoint | None) -> str | None:
    previous_signature, previous_last_id = (previous.signature, previous.last_id) if previous else ("", 0)
    if not hmac.compare_digest(checkpoint_signature(key, checkpoint, previous_signature), checkpoint.signature):
        return (
            "its signature does not match: the checkpoint was changed or forged, one before it was removed, "
            "or the key (LMS_AUDIT_CHECKPOINT_KEY or SECRET_KEY) is not the one it was signed with"
        )
    if checkpoint.removed != checkpoint.last_id - previous_last_id:
        return (
            f"it records {checkpoint.removed} entries removed up to entry {checkpoint.last_id}, "
            f"but entry {previous_last_id} was the last before: entries were missing when they were purged"
        )
    return None


def _entry_problem(entry: AuditEntry, expected_id: int, previous: str, *, after_checkpoint: bool) -> str | None:
    if entry.id != expected_id:
        return f"expected entry {expected_id} next, found {entry.id}: entries are missing"
    if entry.previous_hash != previous:
        if after_checkpoint:
            return "its link does not match the checkpoint's hash: the entry before it was not the one purged"
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
