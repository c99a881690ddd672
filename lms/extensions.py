"""Flask extensions, created once here and bound to the app in create_app()."""

import importlib
from typing import TYPE_CHECKING, Any

import click
from flask_babel import Babel
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Stable constraint names, so later migrations can drop them by name (SQLite included).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)

# The base every model inherits. At run time it is Flask-SQLAlchemy's `db.Model` (a subclass of
# `Base` with the table-name and bind mixins); type checkers see `Base`, so models are typed.
if TYPE_CHECKING:
    Model = Base
else:
    Model = db.Model
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()


class Migrations:
    """What Flask-Migrate keeps in `app.extensions["migrate"]`, with its `Migrate` made on first use.

    Importing Flask-Migrate loads Alembic, Mako and Pygments: about 0.2 s of CPU that every web
    worker and every other command would pay. `flask_migrate.upgrade()` and `flask db ...` (a
    `LazyGroup`) reach it through `.migrate`, which imports it only then.
    """

    OPTIONS = {"compare_type": True, "render_as_batch": True}

    def __init__(self, database: Any, directory: str):
        self.db = database
        self.directory = directory
        self.configure_args = dict(self.OPTIONS)
        self._migrate: Any = None

    @property
    def migrate(self) -> Any:
        if self._migrate is None:
            from flask_migrate import Migrate

            self._migrate = Migrate(db=self.db, directory=self.directory, **self.OPTIONS)
        return self._migrate

    @property
    def metadata(self) -> Any:
        return self.db.metadata


class LazyGroup(click.Group):
    """A command group imported from `module:attribute` only when it runs: `flask --help` lists it
    by its short help alone; `flask db upgrade` makes the real group's context and runs that."""

    def __init__(self, name: str, target: str, **kwargs: Any):
        super().__init__(name, **kwargs)
        self.target = target

    def real_group(self) -> click.Group:
        module, attribute = self.target.split(":")
        return getattr(importlib.import_module(module), attribute)

    def make_context(self, info_name: str | None, args: list[str], parent: click.Context | None = None, **extra: Any):
        return self.real_group().make_context(info_name, args, parent=parent, **extra)


def unicode_lower(value):
    """SQL `lower()` for SQLite: Python's Unicode case mapping; NULL stays NULL, numbers become text."""
    return None if value is None else str(value).lower()


def configure_sqlite(engine) -> None:
    """Make SQLite behave like the production database where it matters.

    - Foreign keys are enforced (SQLite leaves them off by default).
    - `lower()` folds all of Unicode, as PostgreSQL's does, not only ASCII: a search for
      "özdemir" finds "Özdemir" (SQLite lets an application function replace a built-in one).
    - A savepoint always nests inside a transaction: pysqlite starts a transaction only before
      a write, and a SAVEPOINT issued outside one starts its own that its RELEASE commits, so
      the caller could no longer roll back. Reads still run outside transactions, as before,
      so a long-lived reader never blocks writers.
    """
    from sqlalchemy import event

    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()
        dbapi_connection.create_function("lower", 1, unicode_lower, deterministic=True)

    @event.listens_for(engine, "savepoint")
    def before_savepoint(connection, _name):
        if not connection.connection.dbapi_connection.in_transaction:
            connection.exec_driver_sql("BEGIN")
