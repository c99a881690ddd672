"""A person's copy of what is stored about them (GDPR Art. 15): every row that is about them, as
JSON and as one CSV file per table, in a zip.

Complete by construction: the tables are found in the schema, not listed by hand. A row is about
a person when a column that names the person it concerns (`user_id`; `users.id`; the audit
trail's `subject_id`) holds their id. Rows a person only wrote about others (a level they
confirmed, an assignment they made) are counted, not copied: they are the others' data.
Credentials are withheld: they say nothing about the person and would let a thief sign in.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from lms.common.exports import csv_bytes
from lms.extensions import db

# Columns naming the person a row concerns (beyond the foreign keys called user_id).
SUBJECT_COLUMNS = {("users", "id"), ("audit_entries", "subject_id")}
# Columns naming who did something to others' data: such rows are counted only.
ACTOR_COLUMNS_WITHOUT_KEY = {("audit_entries", "actor_id")}
# Credentials: one-way hashes of a password or a secret link.
WITHHELD = {
    ("users", "password_hash"),
    ("auth_sessions", "token_hash"),
    ("calendar_feeds", "token_hash"),
    # Two-factor sign-in (lms/auth/twofactor.py): the code secrets, recovery codes' hashes, pending sign-ins.
    ("two_factor_credentials", "secret"),
    ("two_factor_credentials", "new_secret"),
    ("recovery_codes", "salt"),
    ("recovery_codes", "code_hash"),
    ("pending_sign_ins", "token_hash"),
}


@dataclass
class PersonalData:
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # rows about the person
    written_about_others: dict[str, int] = field(default_factory=dict)  # table → rows counted only


def _references_users(column: sa.Column) -> bool:
    return any(key.column.table.name == "users" for key in column.foreign_keys)


def subject_columns(table: sa.Table) -> list[sa.Column]:
    return [
        column
        for column in table.columns
        if (table.name, column.name) in SUBJECT_COLUMNS or (column.name == "user_id" and _references_users(column))
    ]


def actor_columns(table: sa.Table) -> list[sa.Column]:
    return [
        column
        for column in table.columns
        if column not in subject_columns(table)
        and (_references_users(column) or (table.name, column.name) in ACTOR_COLUMNS_WITHOUT_KEY)
    ]


def personal_data(user_id: int) -> PersonalData:
    """What is stored about the person: one statement per table that can hold it."""
    result = PersonalData()
    connection = db.session.connection()
    for table in db.metadata.sorted_tables:
        subjects, actors = subject_columns(table), actor_columns(table)
        if subjects:
            shown = [column for column in table.columns if (table.name, column.name) not in WITHHELD]
            statement = sa.select(*shown).where(sa.or_(*(column == user_id for column in subjects)))
            rows = connection.execute(statement.order_by(*table.primary_key.columns)).mappings().all()
            if rows:
                result.tables[table.name] = [{key: _plain(value) for key, value in row.items()} for row in rows]
        if actors:
            about_others = sa.and_(
                sa.or_(*(column == user_id for column in actors)),
                *(sa.or_(column.is_(None), column != user_id) for column in subjects),
            )
            count = connection.execute(sa.select(sa.func.count()).select_from(table).where(about_others)).scalar_one()
            if count:
                result.written_about_others[table.name] = count
    return result


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return value


README = """Lernpfad: your data / Ihre Daten (Art. 15 DSGVO)

daten.json   everything stored about you, by table / alles über Sie Gespeicherte, nach Tabellen
<table>.csv  the same, one file per table / dasselbe, eine Datei je Tabelle

Not included / nicht enthalten:
- password and link secrets (one-way hashes) / Passwort und geheime Links (Einweg-Prüfwerte)
- rows you wrote about other people (counted in daten.json) / Einträge über andere Personen
  (nur gezählt in daten.json)
"""


def export_zip(user_id: int, today: date) -> bytes:
    data = personal_data(user_id)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("LIESMICH.txt", README)
        document = {
            "exported_on": today.isoformat(),
            "tables": data.tables,
            "rows_about_others_counted_only": data.written_about_others,
        }
        archive.writestr("daten.json", json.dumps(document, ensure_ascii=False, indent=2, default=str))
        for name, rows in data.tables.items():
            archive.writestr(f"{name}.csv", _csv(rows))
    return buffer.getvalue()


def _csv(rows: list[dict[str, Any]]) -> bytes:
    """Through the kernel's spreadsheet-safe writer (no cell can run as a formula)."""
    columns = list(rows[0])
    values = ([_cell(row[column]) for column in columns] for row in rows)
    return csv_bytes([columns, *values])


def _cell(value: Any) -> Any:
    return json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else value
