"""Test fixtures: one app per database backend per session, a clean database per test.

Every database test runs on SQLite, and again on PostgreSQL when TEST_DATABASE_URL is set.
The schema is built by the real migrations, once per backend; each test then starts from
empty tables.
"""

from __future__ import annotations

import contextvars
import os
import re
import threading
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from flask_migrate import upgrade
from werkzeug.serving import make_server

from lms import create_app
from lms.extensions import db

BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])
CSRF_PATTERN = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


def reset_postgres_schema(url: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text("DROP SCHEMA public CASCADE"))
        connection.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


def database_url(backend: str, directory) -> str:
    if backend == "sqlite":
        return f"sqlite:///{directory}/test.db"
    return os.environ["TEST_DATABASE_URL"]


class IsolatedClient(FlaskClient):
    """Runs each request in a fresh context, as a real server would.

    Without this, a request would reuse the test's app context, sharing `g` (and with it
    Flask-Login's user and the CSRF token) across requests.
    """

    def open(self, *args, **kwargs):
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture(scope="session", params=BACKENDS)
def app(request, tmp_path_factory):
    backend = request.param
    url = database_url(backend, tmp_path_factory.mktemp(f"db-{backend}"))
    if backend == "postgresql":
        reset_postgres_schema(url)
    application = create_app({"LMS_ENV": "testing", "SQLALCHEMY_DATABASE_URI": url})
    application.config["DB_BACKEND"] = backend
    application.test_client_class = IsolatedClient
    with application.app_context():
        upgrade()
    yield application
    with application.app_context():
        db.engine.dispose()


def clean_tables() -> None:
    tables = [table.name for table in db.metadata.sorted_tables]
    if db.engine.dialect.name == "postgresql":
        db.session.execute(sa.text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    else:
        for table in reversed(db.metadata.sorted_tables):
            db.session.execute(table.delete())
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


pytest_plugins = ["tests.factories", "tests.browser"]
