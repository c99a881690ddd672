"""`flask backup create | verify | restore` (docs/backup.md): a backup of real data restores into an
empty database with every row and file as it was and an audit trail that verifies; a damaged, cut
off, foreign or unsuitable file is refused with one clear line and changes nothing."""

from __future__ import annotations

import io
import json
import os
import tarfile
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from lms import create_app
from lms.catalog.models import CourseMedia
from lms.common.dates import utcnow
from lms.common.vocabulary import AuditAction
from lms.extensions import db
from lms.privacy import chain
from tests.conftest import clean_tables, postgres_server

PASSWORD = "Rathaus-Demo-2026"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8  # binary, NUL bytes included
FILES = {"demo-logins.txt": b"admin admin@musterhausen.example x\n", "nested/folder/bild.png": PNG}


# --- helpers ----------------------------------------------------------------------------------


def contents(engine: sa.Engine) -> dict[str, list[tuple]]:
    """Every table's rows, in a stable order."""
    with engine.connect() as connection:
        names = sa.inspect(connection).get_table_names()
        return {
            name: sorted((tuple(row) for row in connection.execute(sa.text(f'SELECT * FROM "{name}"'))), key=repr)
            for name in names
        }


def folder_files(folder: Path) -> dict[str, bytes]:
    return {path.relative_to(folder).as_posix(): path.read_bytes() for path in folder.rglob("*") if path.is_file()}


def run(app, *args: str, input: str | None = None):
    return app.test_cli_runner().invoke(args=["backup", *args], input=input)


def write_files(folder: Path) -> None:
    left_out = {"secret_key": b"development secret", "hr-import/1-token.csv": b"personnel_number;email\n"}
    for name, data in {**FILES, **left_out}.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def old_entries_behind_a_checkpoint() -> None:
    """Three audit entries from long ago, purged behind a signed checkpoint (as retention does)."""
    row = {"at": utcnow() - timedelta(days=800), "actor_id": None, "actor_name": "", "actor_email": ""}
    row |= {"subject_id": None, "subject_name": "Erika Muster", "subject_email": "erika@musterhausen.example"}
    chain.append([{**row, "action": AuditAction.VIEW_PROFILE.value, "context": {}, "ip_address": None}] * 3)
    db.session.commit()
    assert chain.remove_prefix(utcnow() - timedelta(days=1), utcnow()) == 3
    db.session.commit()


def repack(source: Path, target: Path, change=None, rename: dict[str, str] | None = None) -> Path:
    """The backup at `source` with its manifest changed (and members renamed); hashes stay valid."""
    with tarfile.open(source, "r:gz") as tar:
        members = [(info.name, tar.extractfile(info).read()) for info in tar]  # type: ignore[union-attr]
    manifest = json.loads(members[0][1])
    rename = rename or {}
    manifest["members"] = {rename.get(name, name): entry for name, entry in manifest["members"].items()}
    if change:
        change(manifest)
    members = [("manifest.json", json.dumps(manifest).encode())] + [(rename.get(n, n), d) for n, d in members[1:]]
    with tarfile.open(target, "w:gz") as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return target


@pytest.fixture
def instance(app, tmp_path, monkeypatch):
    """The app's instance folder, in a temporary place."""
    folder = tmp_path / "instance"
    folder.mkdir()
    monkeypatch.setattr(app, "instance_path", str(folder))
    return folder


@pytest.fixture
def empty_database_url(app, tmp_path):
    """A database with no tables at all, of the app's kind."""
    if app.config["DB_BACKEND"] == "sqlite":
        yield f"sqlite:///{tmp_path}/restored.db"
        return
    url = db.engine.url.set(database=f"{db.engine.url.database}_restore")
    with postgres_server(url) as server:
        server.execute(sa.text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
        server.execute(sa.text(f'CREATE DATABASE "{url.database}"'))
    yield url.render_as_string(hide_password=False)
    with postgres_server(url) as server:
        server.execute(sa.text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))


@pytest.fixture(scope="module")
def small_backup(app, tmp_path_factory):
    """A backup of one person and two files, made once per backend; the database is empty again after."""
    from lms.people.models import User, UserRole

    folder = tmp_path_factory.mktemp("backup")
    write_files(folder / "instance")
    path, instance_path = folder / "small.tar.gz", app.instance_path
    with app.app_context():
        db.session.add(
            User(
                email="erika@musterhausen.example",
                given_name="Erika",
                family_name="Muster",
                role_rows=[UserRole(role="employee")],
            )
        )
        db.session.commit()
        app.instance_path = str(folder / "instance")
        try:
            result = run(app, "create", str(path))
        finally:
            app.instance_path = instance_path
            db.session.remove()
            clean_tables()
    assert result.exit_code == 0, result.output
    return path


def unchanged_by(app, instance: Path, attempt) -> str:
    """Runs `attempt`; asserts it failed and left the database and the instance folder as they were."""
    db.session.commit()
    before = (contents(db.engine), folder_files(instance))
    result = attempt()
    assert result.exit_code != 0
    assert (contents(db.engine), folder_files(instance)) == before
    message = result.output.strip().splitlines()[-1]
    assert message.startswith(("Error: ", "Aborted!")) and "Traceback" not in result.output
    return message


# --- a backup of real data, restored --------------------------------------------------------


def test_a_backup_restores_every_row_and_file_into_an_empty_database(
    app, database, instance, make_course, tmp_path, empty_database_url
):
    courses = [make_course(), make_course()]
    old_entries_behind_a_checkpoint()
    assert app.test_cli_runner().invoke(args=["demo", "seed", "--password", PASSWORD]).exit_code == 0
    db.session.add_all(
        CourseMedia(
            course_id=course.id, path=f"media/bild-{course.id}.png", content_type="image/png", sha256="0" * 64, data=PNG
        )
        for course in courses
    )
    db.session.commit()
    write_files(instance)
    before = contents(db.engine)
    assert before["completions"] and before["course_media"] and before["audit_checkpoints"]

    backup = tmp_path / "lernpfad.tar.gz"
    created = run(app, "create", str(backup))
    assert created.exit_code == 0, created.output
    assert os.stat(backup).st_mode & 0o777 == 0o600 and not Path(f"{backup}.partial").exists()
    with tarfile.open(backup, "r:gz") as tar:
        names = tar.getnames()
        manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
    assert names[0] == "manifest.json" and set(names[1:]) == set(manifest["members"])
    assert manifest["database"]["tables"]["users"] == len(before["users"])
    assert {item["path"] for item in manifest["left_out"]} == {"secret_key", "hr-import/"}
    newest = db.session.scalar(
        sa.select(sa.text("action")).select_from(sa.text("audit_entries")).order_by(sa.text("id DESC")).limit(1)
    )
    assert newest == AuditAction.CREATE_BACKUP

    target = create_app(
        {"LMS_ENV": "testing", "SQLALCHEMY_DATABASE_URI": empty_database_url, "SECRET_KEY": app.config["SECRET_KEY"]}
    )
    target.instance_path = str(tmp_path / "restored-instance")
    with target.app_context():  # the commands run in the current app's context: the target's
        try:
            restored = target.test_cli_runner().invoke(args=["backup", "restore", str(backup)])
            assert restored.exit_code == 0, restored.output
            after = contents(db.engine)
            verified = target.test_cli_runner().invoke(args=["audit", "verify"])
        finally:
            db.session.remove()
            db.engine.dispose()
    assert verified.exit_code == 0 and "Audit trail intact" in verified.output, verified.output
    entries_before, entries_after = before.pop("audit_entries"), after.pop("audit_entries")
    head_before, head_after = before.pop("audit_chain"), after.pop("audit_chain")
    assert after == before  # every other table, row for row
    restore_entries = [entry for entry in entries_after if AuditAction.RESTORE_BACKUP in entry]
    assert len(restore_entries) == 1 and restore_entries[0][0] == max(entry[0] for entry in entries_after)
    assert [entry for entry in entries_after if entry not in restore_entries] == entries_before
    assert head_after[0][1] == head_before[0][1] + 1
    assert folder_files(tmp_path / "restored-instance") == FILES


def test_restore_into_a_migrated_empty_database_and_replace_only_when_asked(
    app, database, small_backup, instance, make_user
):
    verified = run(app, "verify", str(small_backup))
    assert verified.exit_code == 0 and "can be restored" in verified.output, verified.output
    restored = run(app, "restore", str(small_backup))  # the schema of `flask db upgrade`, no rows: empty
    assert restored.exit_code == 0, restored.output
    assert db.session.scalar(sa.text("SELECT email FROM users")) == "erika@musterhausen.example"
    assert folder_files(instance) == FILES
    assert app.test_cli_runner().invoke(args=["audit", "verify"]).exit_code == 0

    make_user(email="someone.else@musterhausen.example")
    (instance / "demo-logins.txt").write_bytes(b"changed since\n")
    message = unchanged_by(app, instance, lambda: run(app, "restore", str(small_backup)))
    assert "not restored" in message and "--replace" in message and "users: 2" in message
    assert "1 files in" in message and "demo-logins.txt" in message
    unchanged_by(app, instance, lambda: run(app, "restore", str(small_backup), "--replace", input="n\n"))

    db.session.commit()
    replaced = run(app, "restore", str(small_backup), "--replace", "--yes")
    assert replaced.exit_code == 0, replaced.output
    assert "--replace drops all there is of" in replaced.output
    assert list(db.session.scalars(sa.text("SELECT email FROM users"))) == ["erika@musterhausen.example"]
    assert folder_files(instance) == FILES


# --- refused, and nothing changed -----------------------------------------------------------


def flipped(backup: Path, tmp_path: Path) -> Path:
    data = bytearray(backup.read_bytes())
    for offset in range(len(data) // 2, len(data) // 2 + 8):
        data[offset] ^= 0xFF
    (tmp_path / "flipped.tar.gz").write_bytes(bytes(data))
    return tmp_path / "flipped.tar.gz"


def cut_off(backup: Path, tmp_path: Path) -> Path:
    (tmp_path / "cut.tar.gz").write_bytes(backup.read_bytes()[: backup.stat().st_size * 2 // 3])
    return tmp_path / "cut.tar.gz"


def a_zip(_backup: Path, tmp_path: Path) -> Path:
    with zipfile.ZipFile(tmp_path / "backup.zip", "w") as archive:
        archive.writestr("manifest.json", "{}")
    return tmp_path / "backup.zip"


def a_text(_backup: Path, tmp_path: Path) -> Path:
    (tmp_path / "notes.txt").write_text("not a backup\n")
    return tmp_path / "notes.txt"


def another_tar(_backup: Path, tmp_path: Path) -> Path:
    with tarfile.open(tmp_path / "other.tar.gz", "w:gz") as tar:
        tar.addfile(tarfile.TarInfo("readme.md"), io.BytesIO(b""))
    return tmp_path / "other.tar.gz"


@pytest.mark.parametrize(
    ("spoil", "expected"),
    [
        (flipped, "the backup is damaged"),
        (cut_off, "the backup is incomplete"),
        (a_zip, "not a Lernpfad backup: it is a zip file"),
        (a_text, "not a Lernpfad backup"),
        (another_tar, "not a Lernpfad backup: it does not begin with manifest.json"),
    ],
)
def test_a_damaged_or_foreign_file_is_refused(app, database, small_backup, instance, tmp_path, spoil, expected):
    spoilt = spoil(small_backup, tmp_path)
    message = unchanged_by(app, instance, lambda: run(app, "restore", str(spoilt)))
    assert expected in message and message.endswith("(nothing was changed)")
    assert expected in run(app, "verify", str(spoilt)).output


def test_a_backup_of_the_other_database_kind_is_refused(app, database, small_backup, instance, tmp_path):
    kind = app.config["DB_BACKEND"]
    other = "postgresql" if kind == "sqlite" else "sqlite"
    members = {"sqlite": "database/lernpfad.sqlite3", "postgresql": "database/lernpfad.pgdump"}

    def other_kind(manifest):
        manifest["database"]["kind"] = other

    foreign = repack(small_backup, tmp_path / "other.tar.gz", other_kind, rename={members[kind]: members[other]})
    message = unchanged_by(app, instance, lambda: run(app, "restore", str(foreign)))
    assert f"a backup of a {other} database; this installation uses {kind}" in message


def test_a_newer_schema_or_another_audit_key_is_refused(app, database, small_backup, instance, tmp_path):
    def newer(manifest):
        manifest["database"]["alembic_revision"] = "9999"

    def other_key(manifest):
        manifest["audit"] |= {"checkpoints": 1, "key_check": "0" * 64}

    message = unchanged_by(
        app, instance, lambda: run(app, "restore", str(repack(small_backup, tmp_path / "n.tgz", newer)))
    )
    assert "revision 9999, which this version of Lernpfad does not know" in message
    message = unchanged_by(
        app, instance, lambda: run(app, "restore", str(repack(small_backup, tmp_path / "k.tgz", other_key)))
    )
    assert "signed with another key" in message


def test_rows_that_differ_from_the_manifest_fail_the_restore_and_change_nothing(
    app, database, small_backup, instance, tmp_path
):
    """SQLite: the copy is counted before it is restored; PostgreSQL: the count in the restore's own
    transaction fails it, and the whole restore is rolled back."""

    def one_more(manifest):
        manifest["database"]["tables"]["users"] += 1

    miscounted = repack(small_backup, tmp_path / "miscounted.tar.gz", one_more)
    message = unchanged_by(app, instance, lambda: run(app, "restore", str(miscounted)))
    if app.config["DB_BACKEND"] == "sqlite":
        assert "the rows of its database differ from the counts in its manifest (nothing was changed)" in message
    else:
        assert "the restore was rolled back: ERROR:  table users: 1 rows restored, but the backup holds 2" in message


def test_create_never_leaves_a_half_written_file_and_overwrites_only_when_forced(
    app, database, instance, tmp_path, monkeypatch
):
    from lms.core import backup

    target = tmp_path / "backup.tar.gz"
    target.write_bytes(b"an older backup")
    refused = run(app, "create", str(target))
    assert refused.exit_code != 0 and "exists already; pass --force" in refused.output
    assert target.read_bytes() == b"an older backup"

    def fails_midway(partial, *args, **kwargs):
        partial.write_bytes(b"half")
        raise OSError(28, "No space left on device", str(partial))

    monkeypatch.setattr(backup, "write_archive", fails_midway)
    failed = run(app, "create", str(target), "--force")
    assert failed.exit_code != 0 and "No space left on device" in failed.output
    assert target.read_bytes() == b"an older backup" and not Path(f"{target}.partial").exists()
    monkeypatch.undo()
    monkeypatch.setattr(app, "instance_path", str(instance))
    assert run(app, "create", str(target), "--force").exit_code == 0
    assert run(app, "verify", str(target)).exit_code == 0


def test_a_backup_of_an_older_schema_is_upgraded_after_the_restore(app, tmp_path):
    """On SQLite only: the upgrade after a restore is Alembic's own, the same on either database."""
    import sqlite3

    from alembic.script import ScriptDirectory
    from flask_migrate import downgrade

    if app.config["DB_BACKEND"] != "sqlite":
        pytest.skip("the restore paths of PostgreSQL are tested above; the upgrade after them is the same")
    migrated = sa.engine.make_url(app.config["SQLALCHEMY_DATABASE_URI"]).database  # empty between tests
    source, copy = sqlite3.connect(migrated), sqlite3.connect(tmp_path / "old.db")
    source.backup(copy)  # taken one revision down below
    source.close()
    copy.close()
    apps = [
        create_app({"LMS_ENV": "testing", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/{name}.db"})
        for name in ("old", "new")
    ]
    old, new = apps
    new.config["SECRET_KEY"] = old.config["SECRET_KEY"]
    for name, each in zip(("old", "new"), apps, strict=True):
        each.instance_path = str(tmp_path / name)
    with old.app_context():
        script = ScriptDirectory(old.extensions["migrate"].directory)
        head = script.get_current_head()
        previous = script.get_revision(head).down_revision
        downgrade(revision=previous)
        created = old.test_cli_runner().invoke(args=["backup", "create", str(tmp_path / "old.tar.gz")])
        db.engine.dispose()
    assert created.exit_code == 0, created.output
    with new.app_context():
        restored = new.test_cli_runner().invoke(args=["backup", "restore", str(tmp_path / "old.tar.gz")])
        assert restored.exit_code == 0, restored.output
        assert f"Upgraded the database from revision {previous} to {head}." in restored.output
        assert db.session.scalar(sa.text("SELECT version_num FROM alembic_version")) == head
        actions = list(db.session.scalars(sa.text("SELECT action FROM audit_entries ORDER BY id")))
        assert actions == [AuditAction.RESTORE_BACKUP]  # the backup's own entry came after its copy
        db.session.remove()
        db.engine.dispose()
