"""Audit entries past their retention period leave from the start of the chain, behind a signed
checkpoint: what remains still verifies, and a checkpoint that was edited, forged or dropped, or
an entry removed after it, is found."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from lms.common.dates import utcnow
from lms.common.vocabulary import AuditAction
from lms.core import retention
from lms.extensions import db
from lms.privacy import chain
from lms.privacy.models import AuditCheckpoint, AuditEntry, AuditEntryIsAppendOnly

PERIOD = timedelta(days=365)


def write_entries(count: int, days_ago: int) -> None:
    """`count` entries written `days_ago` days ago, through the real chain."""
    at = utcnow() - timedelta(days=days_ago)
    row = {
        "at": at,
        "actor_id": None,
        "actor_name": "",
        "actor_email": "",
        "subject_id": 7,
        "subject_name": "Erika Muster",
        "subject_email": "erika@musterhausen.example",
        "action": AuditAction.VIEW_PROFILE.value,
        "context": {},
        "ip_address": None,
    }
    chain.append([row] * count)
    db.session.commit()


def purge(dry_run: bool = False) -> dict[str, int]:
    counts = retention.run(utcnow(), retention_days(), dry_run=dry_run)
    (db.session.rollback if dry_run else db.session.commit)()
    return counts


def retention_days() -> dict[str, int]:
    from flask import current_app

    return current_app.config["RETENTION_DAYS"]


def entry_ids() -> list[int]:
    return list(db.session.scalars(select(AuditEntry.id).order_by(AuditEntry.id)))


def run_sql(statement: str, **parameters) -> None:
    db.session.connection().execute(sa.text(statement), parameters)
    db.session.commit()


@pytest.fixture
def purged_once(database):
    """Entries 1–3 over a year old, 4–5 not yet; a purge removes 1–3 and adds its entry 6."""
    write_entries(3, days_ago=400)
    write_entries(2, days_ago=300)
    assert purge()["audit_entries"] == 3


def test_a_purge_removes_the_old_entries_behind_a_checkpoint_and_the_rest_verifies(purged_once):
    assert entry_ids() == [4, 5, 6]
    checkpoint = db.session.execute(select(AuditCheckpoint)).scalar_one()
    assert (checkpoint.last_id, checkpoint.removed) == (3, 3)
    assert db.session.get(AuditEntry, 4).previous_hash == checkpoint.last_hash
    purge_entry = db.session.get(AuditEntry, 6)
    assert purge_entry.action == AuditAction.PURGE and purge_entry.context["deleted"]["audit_entries"] == 3
    verdict = chain.verify()
    assert verdict.intact and verdict.entries == 3 and verdict.checkpoint.id == checkpoint.id


def test_a_dry_run_counts_and_changes_nothing(database):
    write_entries(3, days_ago=400)
    write_entries(1, days_ago=10)
    assert purge(dry_run=True)["audit_entries"] == 3
    assert entry_ids() == [1, 2, 3, 4]
    assert db.session.scalar(select(func.count()).select_from(AuditCheckpoint)) == 0


def test_only_the_start_of_the_chain_goes_never_a_hole(database):
    write_entries(2, days_ago=400)
    write_entries(1, days_ago=10)
    write_entries(2, days_ago=400)  # older by its time, but after a kept entry in the chain
    assert purge()["audit_entries"] == 2
    assert entry_ids() == [3, 4, 5, 6]
    assert chain.verify().intact


def test_nothing_old_writes_no_checkpoint(database):
    write_entries(2, days_ago=10)
    assert purge()["audit_entries"] == 0
    assert db.session.scalar(select(func.count()).select_from(AuditCheckpoint)) == 0
    assert chain.verify().intact


def purge_again() -> None:
    """A purge 100 days later: entries 4–5 are past the period then, the first purge's entry not."""
    retention.run(utcnow() + timedelta(days=100), retention_days(), dry_run=False)
    db.session.commit()


def test_two_purges_leave_two_chained_checkpoints_and_the_trail_verifies(purged_once, app):
    purge_again()
    checkpoints = list(db.session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.id)))
    assert [(c.last_id, c.removed) for c in checkpoints] == [(3, 3), (5, 2)]
    assert entry_ids() == [6, 7]
    assert chain.verify().intact
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "intact: 2 entries" in result.output and "Entries 1 to 5 were purged" in result.output


def test_everything_old_goes_and_the_chain_goes_on_from_the_checkpoint(database):
    write_entries(3, days_ago=400)
    assert purge()["audit_entries"] == 3
    assert entry_ids() == [4]  # the purge's own entry, linked to the checkpoint
    run_sql("DELETE FROM audit_chain")  # a lost head row is rebuilt from the checkpoint
    write_entries(1, days_ago=0)
    assert entry_ids() == [4, 5] and chain.verify().intact


@pytest.mark.parametrize(
    "tampering",
    [
        "UPDATE audit_checkpoints SET signature = :forged",
        "UPDATE audit_checkpoints SET last_hash = :forged",
        "UPDATE audit_checkpoints SET removed = 2",
        "UPDATE audit_checkpoints SET last_id = 2",
    ],
)
def test_an_edited_checkpoint_fails_verify(purged_once, app, tampering):
    run_sql(tampering, forged="f" * 64)
    verdict = chain.verify()
    assert not verdict.intact
    assert verdict.first_break.checkpoint_id == 1 and "signature does not match" in verdict.first_break.problem
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert "audit checkpoint 1: its signature does not match" in result.output


def test_a_checkpoint_signed_with_another_key_fails_verify(purged_once, app, monkeypatch):
    monkeypatch.setitem(app.config, "AUDIT_CHECKPOINT_KEY", "ein anderer Schlüssel")
    verdict = chain.verify()
    assert verdict.first_break.checkpoint_id == 1 and "key" in verdict.first_break.problem


def test_a_forged_checkpoint_covering_removed_entries_fails_verify(purged_once):
    """Someone with the database but not the key removes entry 4 and adds a checkpoint for it."""
    entry_4 = db.session.get(AuditEntry, 4)
    first = db.session.execute(select(AuditCheckpoint)).scalar_one()
    forged = AuditCheckpoint(at=utcnow(), last_id=4, last_hash=entry_4.entry_hash, removed=1)
    forged.signature = chain.checkpoint_signature(b"guessed key", forged, first.signature)
    db.session.add(forged)
    db.session.commit()
    run_sql("DELETE FROM audit_entries WHERE id = 4")
    verdict = chain.verify()
    assert verdict.first_break.checkpoint_id == forged.id
    assert "signature does not match" in verdict.first_break.problem


@pytest.mark.parametrize(
    "tampering, broken_at, problem",
    [
        ("DELETE FROM audit_entries WHERE id = 4", 5, "expected entry 4 next, found 5: entries are missing"),
        ("DELETE FROM audit_entries WHERE id = 5", 6, "expected entry 5 next, found 6: entries are missing"),
        ("UPDATE audit_entries SET previous_hash = :forged WHERE id = 4", 4, "does not match the checkpoint's hash"),
        ("UPDATE audit_entries SET subject_name = 'Niemand' WHERE id = 5", 5, "content does not match"),
    ],
)
def test_an_entry_removed_or_changed_after_the_checkpoint_fails_verify(purged_once, tampering, broken_at, problem):
    run_sql(tampering, forged="f" * 64)
    verdict = chain.verify()
    assert verdict.first_break.entry_id == broken_at and problem in verdict.first_break.problem


def test_dropping_the_newest_checkpoint_fails_verify(purged_once):
    purge_again()
    run_sql("DELETE FROM audit_checkpoints WHERE id = 2")  # the walk starts before the entries kept
    verdict = chain.verify()
    assert verdict.first_break.entry_id == 6
    assert "expected entry 4 next, found 6: entries are missing" in verdict.first_break.problem


def test_dropping_an_older_checkpoint_breaks_the_newer_ones_signature(purged_once):
    purge_again()
    run_sql("DELETE FROM audit_checkpoints WHERE id = 1")
    verdict = chain.verify()
    assert verdict.first_break.checkpoint_id == 2 and "signature does not match" in verdict.first_break.problem


def test_code_cannot_change_or_delete_a_checkpoint(purged_once):
    checkpoint = db.session.execute(select(AuditCheckpoint)).scalar_one()
    checkpoint.removed = 1
    with pytest.raises(AuditEntryIsAppendOnly):
        db.session.flush()
    db.session.rollback()
    for statement in (sa.update(AuditCheckpoint).values(removed=1), sa.delete(AuditCheckpoint)):
        with pytest.raises(AuditEntryIsAppendOnly):
            db.session.execute(statement)
        db.session.rollback()
    assert chain.verify().intact


def test_the_apps_database_role_deletes_only_old_entries_behind_a_checkpoint(database):
    """PostgreSQL, with the grants of docs/security.md: DELETE on entries, limited by a trigger."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("database roles are PostgreSQL's")
    write_entries(3, days_ago=400)
    write_entries(2, days_ago=10)
    role = f"lernpfad_purge_test_{utcnow().strftime('%H%M%S%f')}"
    with db.engine.connect() as owner:
        owner.execute(sa.text(f"CREATE ROLE {role}"))
        owner.execute(sa.text(f"GRANT SELECT, INSERT, DELETE ON audit_entries TO {role}"))
        owner.execute(sa.text(f"GRANT SELECT, INSERT ON audit_checkpoints TO {role}"))
        owner.execute(sa.text(f"GRANT USAGE ON SEQUENCE audit_checkpoints_id_seq TO {role}"))
        owner.execute(sa.text(f"GRANT SELECT, UPDATE ON audit_chain TO {role}"))
        owner.commit()
    try:
        db.session.connection().execute(sa.text(f"SET LOCAL ROLE {role}"))
        for statement in ("DELETE FROM audit_entries WHERE id = 5", "DELETE FROM audit_entries WHERE id = 1"):
            with pytest.raises(sa.exc.ProgrammingError, match="only be deleted behind a checkpoint"):
                with db.session.begin_nested():
                    db.session.connection().execute(sa.text(statement))
        assert chain.remove_prefix(utcnow() - PERIOD, utcnow()) == 3
        with pytest.raises(sa.exc.ProgrammingError, match="permission denied"):
            with db.session.begin_nested():
                db.session.connection().execute(sa.text("UPDATE audit_checkpoints SET removed = 1"))
        db.session.commit()
    finally:
        db.session.rollback()
        with db.engine.connect() as cleanup:
            cleanup.execute(sa.text(f"DROP OWNED BY {role}"))
            cleanup.execute(sa.text(f"DROP ROLE {role}"))
            cleanup.commit()
    assert entry_ids() == [4, 5] and chain.verify().intact
