"""Test fixtures: one app per database backend per session, a clean database per test.

Every database test runs on SQLite, and again on PostgreSQL when TEST_DATABASE_URL is set.
The suite runs in parallel (pytest-xdist); each worker has its own SQLite file and its own
PostgreSQL database, `<dbname>_<run-id>_<worker>`, created on TEST_DATABASE_URL's server and
dropped when the worker is done, so parallel workers and simultaneous runs never share a schema.
The schema is built by the real migrations, once per backend per worker; each test then starts
from empty tables.
"""

from __future__ import annotations

import contextvars
import os
import re
import secrets
import threading
import time
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from flask_migrate import upgrade
from werkzeug.serving import make_server

from lms import create_app
from lms.extensions import db
from lms.privacy.chain import GENESIS_HASH
from lms.privacy.models import AuditChain

BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])
CSRF_PATTERN = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')
# Databases of runs that crashed before dropping theirs are removed once they are this old.
STALE_AFTER_SECONDS = 3600


# --- one PostgreSQL database per run and worker ---------------------------------------------


def new_run_id() -> str:
    """Start time (to find leftovers of crashed runs) and a random part (for simultaneous runs)."""
    return f"{int(time.time())}_{secrets.token_hex(3)}"


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node):
    """xdist controller: every worker of this run gets the run id and the server's URL."""
    node.workerinput["lms_run_id"] = node.config.lms_run_id
    node.workerinput["lms_test_database_url"] = node.config.lms_test_database_url


def pytest_configure(config):
    workerinput = getattr(config, "workerinput", None)
    if workerinput:
        config.lms_run_id = workerinput["lms_run_id"]
        config.lms_test_database_url = workerinput["lms_test_database_url"]
    else:
        config.lms_run_id = new_run_id()
        config.lms_test_database_url = os.environ.get("TEST_DATABASE_URL")
        if config.lms_test_database_url:
            # Once per run, in the controller (or the only process), before any worker starts.
            drop_stale_databases(sa.engine.make_url(config.lms_test_database_url))
    if config.lms_test_database_url:
        # From here on, TEST_DATABASE_URL names this process's own database, so that tests deriving
        # further databases from it (test_migrations) stay apart from other workers and runs too.
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        os.environ["TEST_DATABASE_URL"] = worker_database_url(config.lms_test_database_url, config.lms_run_id, worker)


def worker_database_url(base: str, run_id: str, worker: str) -> str:
    url = sa.engine.make_url(base)
    name = f"{url.database}_{run_id}_{worker}"
    # PostgreSQL would silently cut a name beyond 63 bytes; leave room for test_migrations' suffix.
    if len(name) > 63 - len("_migrations"):
        raise pytest.UsageError(f"TEST_DATABASE_URL's database name is too long for {name!r}; use a shorter one")
    return url.set(database=name).render_as_string(hide_password=False)


@contextmanager
def postgres_server(url: sa.URL):
    """An AUTOCOMMIT connection to the server's `postgres` database (CREATE/DROP DATABASE)."""
    engine = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        try:
            connection = engine.connect()
        except sa.exc.OperationalError as error:
            raise pytest.UsageError(f"PostgreSQL at TEST_DATABASE_URL is not reachable: {error.orig}") from error
        with connection:
            yield connection
    finally:
        engine.dispose()


def drop_stale_databases(base: sa.URL) -> None:
    pattern = re.compile(rf"{re.escape(base.database)}_(\d{{10}})_[0-9a-f]{{6}}_\w+")
    with postgres_server(base) as server:
        for name in server.execute(sa.text("SELECT datname FROM pg_database")).scalars().all():
            match = pattern.fullmatch(name)
            if not match or time.time() - int(match.group(1)) < STALE_AFTER_SECONDS:
                continue
            try:
                # Without FORCE: a database someone is still connected to is left alone.
                server.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
            except sa.exc.DBAPIError:
                pass


@pytest.fixture(scope="session")
def postgres_database(request):
    """This worker's own PostgreSQL database, from first use to the end of the session."""
    base = sa.engine.make_url(request.config.lms_test_database_url)
    url = sa.engine.make_url(os.environ["TEST_DATABASE_URL"])
    with postgres_server(url) as server:
        # Same encoding and locale as the base database, which the README asks to be UTF-8
        # (case-insensitive search folds umlauts only then); the server's default otherwise.
        like_base = server.execute(
            sa.text(
                "SELECT pg_encoding_to_char(encoding), datcollate, datctype FROM pg_database WHERE datname = :name"
            ),
            {"name": base.database},
        ).first()
        options = (
            "TEMPLATE template0 ENCODING '{}' LC_COLLATE '{}' LC_CTYPE '{}'".format(*like_base) if like_base else ""
        )
        server.execute(sa.text(f'CREATE DATABASE "{url.database}" {options}'))
        # A throwaway database: commits need not wait for the disk.
        server.execute(sa.text(f'ALTER DATABASE "{url.database}" SET synchronous_commit = off'))
    yield url.render_as_string(hide_password=False)
    with postgres_server(url) as server:
        server.execute(sa.text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))


# --- the app and a clean database per test --------------------------------------------------


class IsolatedClient(FlaskClient):
    """Runs each request in a fresh context, as a real server would.

    Without this, a request would reuse the test's app context, sharing `g` (and with it
    Flask-Login's user and the CSRF token) across requests.
    """

    def open(self, *args, **kwargs):
        return contextvars.Context().run(super().open, *args, **kwargs)


def database_url(request, tmp_path_factory) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('db-sqlite')}/test.db"
    return request.getfixturevalue("postgres_database")


@pytest.fixture(scope="session", params=BACKENDS)
def app(request, tmp_path_factory):
    backend = request.param
    application = create_app({"LMS_ENV": "testing", "SQLALCHEMY_DATABASE_URI": database_url(request, tmp_path_factory)})
    application.config["DB_BACKEND"] = backend
    application.test_client_class = IsolatedClient
    with application.app_context():
        if backend == "sqlite":
            sa.event.listen(db.engine, "connect", _sqlite_without_waiting_for_the_disk)
        upgrade()
        clean_tables()  # the PostgreSQL database outlives an app that pytest set up again
    yield application
    with application.app_context():
        db.engine.dispose()


def _sqlite_without_waiting_for_the_disk(dbapi_connection, _record) -> None:
    """A throwaway database: commits need not wait for the disk (like PostgreSQL's
    synchronous_commit = off below). Each commit would otherwise wait for an fsync."""
    dbapi_connection.execute("PRAGMA synchronous = OFF")


def clean_tables() -> None:
    """Empty every table and restart the ids at 1.

    DELETE rather than TRUNCATE: on PostgreSQL, TRUNCATE of every table costs about half a
    second (new files for each table and index), DELETE of the few rows a test wrote costs
    milliseconds.
    """
    for table in reversed(db.metadata.sorted_tables):
        # On the connection: the session refuses to delete audit entries (the log is append-only).
        db.session.connection().execute(table.delete())
    # The audit chain's head row exists from the migration on, as in production.
    db.session.connection().execute(sa.insert(AuditChain).values(id=1, last_id=0, last_hash=GENESIS_HASH))
    if db.engine.dialect.name == "postgresql":
        # Only sequences that handed out a value (last_value is NULL until then).
        db.session.execute(
            sa.text(
                "SELECT setval(format('%I.%I', schemaname, sequencename), 1, false) FROM pg_sequences"
                " WHERE schemaname = current_schema() AND last_value IS NOT NULL"
            )
        )
    db.session.commit()


@pytest.fixture
def database(app):
    """An application context over empty tables."""
    with app.app_context():
        yield db
        db.session.rollback()
        clean_tables()
        db.session.remove()


@pytest.fixture
def client(app, database):
    return app.test_client()


def csrf_token(response) -> str:
    match = CSRF_PATTERN.search(response.get_data(as_text=True))
    assert match, "the page holds no CSRF token"
    return match.group(1)


class QueryCounter:
    def __init__(self):
        self.statements: list[str] = []

    def __call__(self, conn, cursor, statement, parameters, context, executemany):
        self.statements.append(statement)

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_queries(database):
    """Counts the SQL statements run inside the `with` block."""

    @contextmanager
    def counting():
        counter = QueryCounter()
        sa.event.listen(db.engine, "before_cursor_execute", counter)
        try:
            yield counter
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", counter)

    return counting


@pytest.fixture(scope="session")
def live_server(app):
    """The app served over real HTTP for browser tests."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


pytest_plugins = ["tests.factories", "tests.browser", "tests.smtp"]


def _on_postgresql(item) -> bool:
    callspec = getattr(item, "callspec", None)
    return callspec is not None and callspec.params.get("app") == "postgresql"


def pytest_collection_modifyitems(config, items):
    """Browser journeys run against SQLite only: what they add to the other tests — pages in a real
    browser, keyboard use, the accessibility check — does not depend on the database, and the
    database's part of each page is tested on both backends without a browser. Tests marked
    `database_free` use the app only for its translations, and run once too. This keeps the
    suite within its time budget (README: `make test` under 3 minutes, `.ci/run` under 5)."""
    kept, dropped = [], []
    for item in items:
        once = "page" in getattr(item, "fixturenames", ()) or item.get_closest_marker("database_free")
        (dropped if once and _on_postgresql(item) else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
