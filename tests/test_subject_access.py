"""A person's copy of their data (Art. 15 GDPR): everything about them, nothing about others,
no credentials, in a fixed number of statements."""

from __future__ import annotations

import io
import json
import re
import zipfile

import pytest

from lms.common.vocabulary import AuditAction
from lms.extensions import db
from lms.learning.models import Completion
from lms.privacy import services as privacy
from lms.privacy.subject_access import WITHHELD, actor_columns, personal_data, subject_columns
from lms.skills.models import Assessment, SelfAssessment
from tests.factories import competence


@pytest.fixture
def people(make_user, make_course, digcomp):
    """An employee with data in several domains, and a manager who wrote about them and about a colleague."""
    employee = make_user(email="erika.muster@example.org")
    colleague = make_user(email="kollegin.geheim@example.org")
    manager = make_user(roles=["manager"], email="chef@example.org")
    course = make_course()
    level = competence("4.1")
    db.session.add_all(
        [
            Completion(user_id=employee.id, course_id=course.id, course_version=1, score_percent=90),
            SelfAssessment(user_id=employee.id, competence_id=level.id, level=3),
            Assessment(user_id=employee.id, competence_id=level.id, level=4, assessed_by_id=manager.id),
            Assessment(user_id=colleague.id, competence_id=level.id, level=2, assessed_by_id=employee.id),
        ]
    )
    privacy.record(manager, [employee], AuditAction.VIEW_PROFILE)
    db.session.commit()
    return employee, colleague, manager


def download(client, sign_in, person) -> zipfile.ZipFile:
    sign_in(person)
    response = client.get("/privacy/my-data.zip")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert response.headers["Cache-Control"] == "no-store"
    return zipfile.ZipFile(io.BytesIO(response.data))


def test_the_copy_holds_everything_about_the_person_and_nothing_about_others(client, sign_in, people):
    employee, colleague, manager = people
    archive = download(client, sign_in, employee)
    names = set(archive.namelist())
    assert {"LIESMICH.txt", "daten.json", "users.csv", "completions.csv", "self_assessments.csv"} <= names
    data = json.loads(archive.read("daten.json"))
    tables = data["tables"]
    assert [row["email"] for row in tables["users"]] == [employee.email]
    assert [row["score_percent"] for row in tables["completions"]] == [90]
    assert [(row["level"], row["assessed_by_id"]) for row in tables["assessments"]] == [(4, manager.id)]
    assert [row["subject_id"] for row in tables["audit_entries"]] == [employee.id]  # who looked at their data
    assert data["rows_about_others_counted_only"] == {"assessments": 1}  # the level they confirmed for a colleague
    everything = b"".join(archive.read(name) for name in names)
    assert colleague.email.encode() not in everything
    assert b"password_hash" not in everything and b"argon2" not in everything
    assert archive.read("users.csv").startswith("\ufeff".encode())


def test_the_copy_is_built_in_a_fixed_number_of_statements(client, sign_in, people, count_queries, make_course):
    employee = people[0]
    with count_queries() as before:
        personal_data(employee.id)
    for _ in range(3):
        course = make_course()
        db.session.add(Completion(user_id=employee.id, course_id=course.id, course_version=1, score_percent=80))
    db.session.commit()
    with count_queries() as after:
        assert len(personal_data(employee.id).tables["completions"]) == 4
    assert before.count == after.count


def test_every_table_that_names_a_person_is_read_or_counted():
    """New tables are covered without being listed: a column referring to users is either the
    person a row concerns or someone who acted on it."""
    for table in db.metadata.sorted_tables:
        for column in table.columns:
            if any(key.column.table.name == "users" for key in column.foreign_keys):
                assert column in subject_columns(table) or column in actor_columns(table), (table.name, column.name)


SECRET_LIKE = re.compile(r"password|token|secret|otp|recovery", re.IGNORECASE)


def test_credentials_are_withheld_from_every_table_the_copy_reads():
    """An allowlist would be better than a pattern, but the pattern guards it: a new credential
    column in a table of the copy must be withheld (or this test names it)."""
    for table in db.metadata.sorted_tables:
        if not subject_columns(table):
            continue
        for column in table.columns:
            if SECRET_LIKE.search(column.name) and column.name != "must_change_password":
                if column.name == "password_expires_at":
                    continue  # a date, no secret
                assert (table.name, column.name) in WITHHELD, (table.name, column.name)


def test_signed_out_visitors_get_no_copy(client):
    response = client.get("/privacy/my-data.zip")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_the_copy_needs_no_other_ids_than_the_persons(client, sign_in, people):
    """There is no parameter to ask for someone else's copy: the address takes none."""
    employee, colleague, _manager = people
    sign_in(employee)
    response = client.get(f"/privacy/my-data.zip?user_id={colleague.id}&id={colleague.id}")
    data = json.loads(zipfile.ZipFile(io.BytesIO(response.data)).read("daten.json"))
    assert [row["id"] for row in data["tables"]["users"]] == [employee.id]
