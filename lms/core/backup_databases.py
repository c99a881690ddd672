"""The database part of a backup (lms/core/backup.py): a consistent copy of SQLite or PostgreSQL,
what it holds (rows per table, Alembic revision, the audit trail's head), and its restore.

- SQLite: Python's `sqlite3` online backup API copies the file page by page while the app runs;
  a write in between restarts the copy, so the copy is one consistent state. A restore copies the
  backup's pages over the database in one step (one transaction).
- PostgreSQL: the rows are counted in a transaction whose snapshot `pg_dump --snapshot` then dumps,
  so the counts are those of the dump (`-Fc`, the custom format). A restore pipes `pg_restore`'s
  SQL into one `psql` transaction that first drops what the schema holds and ends by checking
  every table's row count: an error anywhere, or a count that differs, rolls all of it back.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

KINDS = ("sqlite", "postgresql")
DUMP_MEMBERS = {"sqlite": "database/lernpfad.sqlite3", "postgresql": "database/lernpfad.pgdump"}
# Tables a freshly migrated, empty database already fills: the schema's version and the audit
# trail's head row (at its start).
SCHEMA_ONLY_TABLES = frozenset({"alembic_version", "audit_chain"})
SQLITE_PAGES_PER_STEP = 1024
CLIENT_HINT = "install the PostgreSQL client programs (Debian: apt-get install postgresql-client-{major})"


class BackupError(Exception):
    """A backup cannot be made, read or restored; the message says why, in one line."""


@dataclass(frozen=True)
class Facts:
    """What a database holds: rows per table, its Alembic revision, the audit trail's head."""

    tables: dict[str, int]
    revision: str | None
    audit: dict[str, Any] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return sum(self.tables.values())

    def occupied(self) -> dict[str, int]:
        """The tables holding rows that a freshly migrated database does not hold."""
        occupied = {name: count for name, count in self.tables.items() if count and name not in SCHEMA_ONLY_TABLES}
        if self.audit.get("last_id"):
            occupied.setdefault("audit_chain", self.tables.get("audit_chain", 1))
        return occupied


def kind_of(url: sa.URL) -> str:
    kind = url.get_backend_name()
    if kind not in KINDS:
        raise BackupError(f"the database {url.render_as_string()} is {kind}; backups know {' and '.join(KINDS)}")
    return kind


def facts(connection: Connection) -> Facts:
    """Rows per table of the connection's schema, its revision and the audit trail's head."""
    names = sorted(sa.inspect(connection).get_table_names())
    quote = connection.dialect.identifier_preparer.quote
    tables = {name: connection.execute(sa.text(f"SELECT count(*) FROM {quote(name)}")).scalar_one() for name in names}
    revision = None
    if "alembic_version" in tables:
        revision = connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    audit: dict[str, Any] = {}
    if "audit_chain" in tables:
        head = connection.execute(sa.text("SELECT last_id, last_hash FROM audit_chain WHERE id = 1")).first()
        audit = {"last_id": head[0], "last_hash": head[1]} if head else {"last_id": 0, "last_hash": None}
        audit["checkpoints"] = tables.get("audit_checkpoints", 0)
    return Facts(tables, revision, audit)


def current_facts(engine: Engine) -> Facts:
    with engine.connect() as connection:
        return facts(connection)


# --- SQLite ---------------------------------------------------------------------------------


def sqlite_file(url: sa.URL) -> Path:
    database = url.database or ""
    if not database or database == ":memory:" or url.query.get("mode") == "memory":
        raise BackupError("the database is in memory: there is no file to back up or restore into")
    return Path(database)


def _read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)


def sqlite_pages(url: sa.URL) -> int:
    """The database's size in pages (what the copy's progress counts)."""
    path = sqlite_file(url)
    if not path.is_file():
        raise BackupError(f"{path}: the database file does not exist")
    connection = _read_only(path)
    try:
        return int(connection.execute("PRAGMA page_count").fetchone()[0])
    finally:
        connection.close()


def dump_sqlite(url: sa.URL, target: Path, progress: Callable[[int, int], None]) -> Facts:
    """Copy the database to `target` with the online backup API; `progress(done, total)` in pages."""
    source_path = sqlite_file(url)
    if not source_path.is_file():
        raise BackupError(f"{source_path}: the database file does not exist")
    source = _read_only(source_path)
    destination = sqlite3.connect(target)
    try:
        source.backup(
            destination,
            pages=SQLITE_PAGES_PER_STEP,
            progress=lambda _status, remaining, total: progress(total - remaining, total),
        )
    except sqlite3.Error as error:
        raise BackupError(f"{source_path}: the copy failed: {error}") from error
    finally:
        destination.close()
        source.close()
    return sqlite_file_facts(target)


def sqlite_file_facts(path: Path) -> Facts:
    engine = sa.create_engine(sa.URL.create("sqlite", database=str(path)), poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            return facts(connection)
    finally:
        engine.dispose()


def check_sqlite_copy(path: Path) -> str | None:
    """What is wrong with the SQLite file of a backup, or None."""
    try:
        connection = _read_only(path)
        try:
            verdict = connection.execute("PRAGMA quick_check").fetchone()
        finally:
            connection.close()
    except sqlite3.Error as error:
        return f"its database is not a readable SQLite file ({error})"
    if verdict is None or verdict[0] != "ok":
        return f"its SQLite database fails the integrity check ({verdict[0] if verdict else 'no answer'})"
    return None


def restore_sqlite(engine: Engine, dump: Path) -> None:
    """Replace the database's content with the backup's, in one step of the backup API."""
    target = sqlite_file(engine.url)
    if not target.exists():
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))  # private from the start
    engine.dispose()  # no pooled connection of ours holds a lock or a stale schema
    source = _read_only(dump)
    destination = sqlite3.connect(target, timeout=30)
    try:
        source.backup(destination)
    except sqlite3.Error as error:
        raise BackupError(f"{target}: the restore failed, the database is as it was: {error}") from error
    finally:
        destination.close()
        source.close()
        engine.dispose()


# --- PostgreSQL -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Client:
    path: str
    version: tuple[int, int]

    @property
    def name(self) -> str:
        return Path(self.path).name


def client(name: str) -> Client:
    """A PostgreSQL client program (pg_dump, pg_restore, psql) from PATH, with its version."""
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            f"{name} was not found on PATH: install the PostgreSQL client programs of the server's major version"
            " or newer (Debian: apt-get install postgresql-client-15 for PostgreSQL 15)"
        )
    try:
        output = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30, check=True).stdout
    except (OSError, subprocess.SubprocessError) as error:
        raise BackupError(f"{path} --version failed: {error}") from error
    match = re.search(r"\)\s+(\d+)(?:\.(\d+))?", output)
    if match is None:
        raise BackupError(f"{path} --version answered {output.strip()!r}: not a PostgreSQL client")
    return Client(path, (int(match.group(1)), int(match.group(2) or 0)))


def require_major(program: Client, major: int, what: str) -> None:
    if program.version[0] < major:
        raise BackupError(
            f"{program.name} {program.version[0]} cannot {what} PostgreSQL {major}: {CLIENT_HINT.format(major=major)}"
            " or newer first"
        )


def _libpq(url: sa.URL) -> tuple[str, dict[str, str]]:
    """The connection string for the client programs, and their environment: the password goes in
    PGPASSWORD, never on a command line that `ps` shows."""
    conninfo = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    environment = dict(os.environ)
    if url.password is not None:
        environment["PGPASSWORD"] = str(url.password)
    return conninfo, environment


def _first_error(output: bytes, fallback: str) -> str:
    lines = [line.strip() for line in output.decode("utf-8", "replace").splitlines() if line.strip()]
    errors = [line for line in lines if "ERROR:" in line or "error:" in line or "FATAL:" in line]
    line = (errors or lines or [fallback])[0]
    return re.sub(r"^psql:<stdin>:\d+:\s*", "", line)


def dump_postgresql(engine: Engine, target: Path) -> tuple[Facts, dict[str, str]]:
    """`pg_dump -Fc` of the database into `target`, and the facts of the very snapshot it dumped."""
    pg_dump = client("pg_dump")
    conninfo, environment = _libpq(engine.url)
    with engine.connect() as connection:
        server = tuple(int(part) for part in connection.dialect.server_version_info or (0,))
        require_major(pg_dump, server[0], "dump")
        connection = connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            snapshot = connection.execute(sa.text("SELECT pg_export_snapshot()")).scalar_one()
            found = facts(connection)
            command = [pg_dump.path, "--format=custom", f"--snapshot={snapshot}", f"--file={target}", conninfo]
            result = subprocess.run(command, capture_output=True, env=environment, check=False)
            if result.returncode != 0:
                raise BackupError(f"pg_dump failed: {_first_error(result.stderr, 'no message')}")
    tools = {"server": ".".join(map(str, server)), "pg_dump": f"{pg_dump.version[0]}.{pg_dump.version[1]}"}
    return found, tools


def check_pg_archive(dump: Path, written_by: str | None) -> None:
    """pg_restore can read the archive: new enough for its pg_dump, and its table of contents whole."""
    pg_restore = client("pg_restore")
    if written_by:
        require_major(pg_restore, int(written_by.split(".")[0]), "read a dump of pg_dump")
    result = subprocess.run([pg_restore.path, "--list", str(dump)], capture_output=True, check=False)
    if result.returncode != 0:
        raise BackupError(f"pg_restore cannot read its database dump: {_first_error(result.stderr, 'no message')}")


_DROPS = (
    "SELECT format('DROP VIEW IF EXISTS %I.%I CASCADE;', schemaname, viewname) FROM pg_views"
    " WHERE schemaname = current_schema()",
    "SELECT format('DROP MATERIALIZED VIEW IF EXISTS %I.%I CASCADE;', schemaname, matviewname) FROM pg_matviews"
    " WHERE schemaname = current_schema()",
    "SELECT format('DROP TABLE IF EXISTS %I.%I CASCADE;', schemaname, tablename) FROM pg_tables"
    " WHERE schemaname = current_schema()",
    "SELECT format('DROP SEQUENCE IF EXISTS %I.%I CASCADE;', schemaname, sequencename) FROM pg_sequences"
    " WHERE schemaname = current_schema()",
    "SELECT format('DROP FUNCTION IF EXISTS %I.%I(%s) CASCADE;', n.nspname, p.proname,"
    " pg_get_function_identity_arguments(p.oid)) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
    " WHERE n.nspname = current_schema() AND p.prokind = 'f'"
    " AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')",
    "SELECT format('DROP TYPE IF EXISTS %I.%I CASCADE;', n.nspname, t.typname) FROM pg_type t"
    " JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = current_schema()"
    " AND t.typtype IN ('e', 'd', 'r') AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = t.oid"
    " AND d.deptype = 'e')",
)


def _drop_everything(connection: Connection) -> str:
    """SQL dropping what the schema holds (tables, views, sequences, functions, types), so that the
    backup's schema, at whatever revision, is created anew."""
    statements = ["SET client_min_messages = warning;"]
    for query in _DROPS:
        statements.extend(connection.execute(sa.text(query)).scalars())
    return "\n".join(statements)


def _count_check(tables: Mapping[str, int]) -> str:
    """A DO block that fails, and so rolls the restore back, when a table's rows differ from the backup's."""
    lines = ["RESET search_path;", "DO $lernpfad_backup$", "DECLARE found bigint;", "BEGIN"]
    for name, expected in sorted(tables.items()):
        lines.append(f'  SELECT count(*) INTO found FROM "{name}";')
        lines.append(
            f"  IF found <> {int(expected)} THEN RAISE EXCEPTION"
            f" 'table {name}: % rows restored, but the backup holds {int(expected)}', found; END IF;"
        )
    lines.append("END $lernpfad_backup$;")
    return "\n".join(lines)


def restore_postgresql(engine: Engine, dump: Path, tables: Mapping[str, int], *, privileges: bool) -> None:
    """Drop what the schema holds, restore the dump and check the row counts, in one transaction."""
    pg_restore, psql = client("pg_restore"), client("psql")
    conninfo, environment = _libpq(engine.url)
    with engine.connect() as connection:
        drops = _drop_everything(connection)
    engine.dispose()  # no pooled connection of ours waits on the locks the restore takes
    restore_command = [pg_restore.path, "--no-owner", "--no-subscriptions", "--no-publications", "--file=-"]
    if not privileges:
        restore_command.append("--no-privileges")
    psql_command = [psql.path, "-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction"]
    psql_command += ["-c", drops, "-f", "-", "-c", _count_check(tables), conninfo]
    with tempfile.TemporaryFile() as restore_errors, tempfile.TemporaryFile() as psql_errors:
        restorer = subprocess.Popen([*restore_command, str(dump)], stdout=subprocess.PIPE, stderr=restore_errors)
        loader = subprocess.Popen(
            psql_command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=psql_errors, env=environment
        )
        _relay(restorer, loader)
        restore_errors.seek(0)
        psql_errors.seek(0)
        if loader.returncode and loader.returncode > 0:  # not stopped by us (that is negative)
            message = _first_error(psql_errors.read(), "psql failed")
            if re.search(r'role ".*" does not exist', message):
                message += " (create the role, or pass --no-privileges and grant as docs/security.md shows)"
            raise BackupError(f"the restore was rolled back: {message}")
        if restorer.returncode != 0:
            raise BackupError(
                f"the restore was rolled back: pg_restore failed: {_first_error(restore_errors.read(), 'no message')}"
            )
    engine.dispose()


def _relay(restorer: subprocess.Popen, loader: subprocess.Popen) -> None:
    """Pass pg_restore's SQL on to psql. psql's input is closed (and its transaction committed)
    only after pg_restore ended well; otherwise psql is stopped mid-transaction, which rolls back."""
    source: IO[bytes] = restorer.stdout  # type: ignore[assignment]
    sink: IO[bytes] = loader.stdin  # type: ignore[assignment]
    try:
        shutil.copyfileobj(source, sink, 1 << 16)
    except BrokenPipeError:  # psql stopped at an error: its message says which
        pass
    source.close()
    if restorer.wait() != 0 and loader.poll() is None:
        loader.kill()
    try:
        sink.close()
    except BrokenPipeError:
        pass
    loader.wait()
