"""Every migration runs from empty, the result matches the models, and downgrade works."""

import os

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from lms import create_app
from lms.extensions import db
from tests.conftest import BACKENDS


@pytest.fixture(params=BACKENDS)
def empty_database_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/migrations.db"
        return
    base = sa.engine.make_url(os.environ["TEST_DATABASE_URL"])
    name = f"{base.database}_migrations"
    admin = sa.create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = base.set(database=name).render_as_string(hide_password=False)
    yield url
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def schema_differences():
    with db.engine.connect() as connection:
        return compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), db.metadata)


def test_migrations_build_the_schema_of_the_models(empty_database_url):
    app = create_app({"LMS_ENV": "testing", "SQLALCHEMY_DATABASE_URI": empty_database_url})
    with app.app_context():
        upgrade()
        assert schema_differences() == []
        downgrade(revision="base")
        assert set(sa.inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade()
        assert schema_differences() == []
        db.engine.dispose()


def test_old_audit_entries_are_chained_with_snapshots(empty_database_url):
    """Entries written before the chain (0004) get names, fields and hashes, in their old order."""
    from lms.privacy import chain

    app = create_app({"LMS_ENV": "testing", "SQLALCHEMY_DATABASE_URI": empty_database_url})
    with app.app_context():
        upgrade(revision="0004")
        with db.engine.begin() as connection:
            connection.execute(
                sa.text(
                    "INSERT INTO users (id, email, given_name, family_name, active, must_change_password)"
                    " VALUES (1, 'hr@musterhausen.example', 'Helga', 'Hoffmann', true, false),"
                    " (2, 'emil@musterhausen.example', 'Emil', 'Engel', true, false)"
                )
            )
            connection.execute(
                sa.text(
                    "INSERT INTO audit_entries (id, at, actor_id, subject_id, action, detail, ip_address) VALUES"
                    " (5, '2026-01-02 10:00:00.000000', 1, 2, 'view_profile', '', '10.0.0.1'),"
                    " (9, '2026-01-03 11:00:00.000000', 1, 2, 'view_evidence', '4.2', NULL),"
                    " (12, '2026-01-04 12:00:00.000000', NULL, 2, 'export_matrix', 'cli csv; none', NULL)"
                )
            )
        upgrade()
        assert chain.verify().intact and chain.verify().entries == 3
        rows = db.session.execute(
            sa.text("SELECT id, actor_email, subject_name, action, context FROM audit_entries ORDER BY id")
        ).all()
        assert [(r.id, r.actor_email, r.subject_name, r.action) for r in rows] == [
            (1, "hr@musterhausen.example", "Emil Engel", "view_profile"),
            (2, "hr@musterhausen.example", "Emil Engel", "view_evidence"),
            (3, "", "Emil Engel", "export_matrix"),
        ]
        db.session.remove()
        downgrade(revision="0004")
        details = db.session.execute(sa.text("SELECT detail FROM audit_entries ORDER BY id")).scalars().all()
        assert details == ["", "4.2", "cli csv; none"]
        db.session.remove()
        db.engine.dispose()


def test_only_the_latest_self_assessment_is_kept_and_none_is_shared(empty_database_url):
    """0012: a person's older estimates of a competence go; what stays is shown to nobody else."""
    app = create_app({"LMS_ENV": "testing", "SQLALCHEMY_DATABASE_URI": empty_database_url})
    with app.app_context():
        upgrade(revision="0011")
        with db.engine.begin() as connection:
            connection.execute(
                sa.text(
                    "INSERT INTO users (id, email, given_name, family_name, active, must_change_password)"
                    " VALUES (1, 'emil@musterhausen.example', 'Emil', 'Engel', true, false)"
                )
            )
            connection.execute(
                sa.text(
                    "INSERT INTO frameworks (id, key, title_de, title_en, version, content_hash)"
                    " VALUES (1, 'digcomp', 'DigComp', 'DigComp', '2.2', 'x')"
                )
            )
            connection.execute(
                sa.text(
                    "INSERT INTO competence_areas (id, framework_id, code, title_de, title_en, position)"
                    " VALUES (1, 1, '1', 'A', 'A', 1)"
                )
            )
            connection.execute(
                sa.text(
                    "INSERT INTO competences (id, framework_id, area_id, code, title_de, title_en, position, retired)"
                    " VALUES (1, 1, 1, '1.1', 'K', 'C', 1, false), (2, 1, 1, '1.2', 'K', 'C', 2, false)"
                )
            )
            connection.execute(
                sa.text(
                    "INSERT INTO self_assessments (id, user_id, competence_id, level, assessed_at) VALUES"
                    " (1, 1, 1, 2, '2026-01-01 10:00:00'), (2, 1, 1, 4, '2026-02-01 10:00:00'),"
                    " (3, 1, 2, 3, '2026-01-15 10:00:00')"
                )
            )
        upgrade()
        rows = db.session.execute(
            sa.text("SELECT id, competence_id, level, shared FROM self_assessments ORDER BY id")
        ).all()
        assert [(r.id, r.competence_id, r.level, bool(r.shared)) for r in rows] == [(2, 1, 4, False), (3, 2, 3, False)]
        db.session.remove()
        db.engine.dispose()
