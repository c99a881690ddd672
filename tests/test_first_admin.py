"""`flask people add-admin`: the first administrator of a new installation, from the command line."""

from __future__ import annotations

import re

from sqlalchemy import select

from lms.common.vocabulary import AuditAction
from lms.extensions import db
from lms.people.models import User
from lms.privacy.models import AuditEntry
from tests.conftest import csrf_token


def add_admin(app, *args: str):
    return app.test_cli_runner().invoke(args=["people", "add-admin", *args])


def test_a_new_installation_gets_its_first_administrator(app, client, database):
    result = add_admin(app, "It-Leitung@Rathaus.example", "--given-name", "Ida", "--family-name", "Admin")
    assert result.exit_code == 0, result.output
    password = re.search(r"one-time password \(shown once, valid until [^)]+\): (\S+)", result.output).group(1)
    admin = db.session.execute(select(User).where(User.email == "it-leitung@rathaus.example")).scalar_one()
    assert admin.roles == {"employee", "admin"} and admin.must_change_password
    actions = db.session.execute(select(AuditEntry.action).where(AuditEntry.subject_id == admin.id)).scalars().all()
    assert AuditAction.CREATE_PERSON in actions and AuditAction.GRANT_ROLE in actions

    token = csrf_token(client.get("/auth/login"))
    client.post("/auth/login", data={"csrf_token": token, "email": admin.email, "password": password})
    response = client.get("/admin/")
    assert response.status_code == 302 and "/auth/password" in response.headers["Location"]  # replace it first


def test_an_existing_person_gets_the_role_and_keeps_their_password(app, database, make_user):
    person = make_user(email="erika@rathaus.example")
    before = person.password_hash
    result = add_admin(app, "erika@rathaus.example", "--given-name", "Erika", "--family-name", "Muster")
    assert result.exit_code == 0, result.output
    assert "one-time password" not in result.output
    db.session.expire_all()
    person = db.session.get(User, person.id)
    assert "admin" in person.roles and person.password_hash == before
    again = add_admin(app, "erika@rathaus.example", "--given-name", "Erika", "--family-name", "Muster")
    assert again.exit_code == 0
    grants = db.session.execute(select(AuditEntry).where(AuditEntry.action == AuditAction.GRANT_ROLE)).scalars().all()
    assert len(grants) == 1  # the second run changed nothing


def test_bad_input_is_refused_and_nothing_is_stored(app, database, make_user):
    make_user(email="weg@rathaus.example", active=False)
    gone = add_admin(app, "weg@rathaus.example", "--given-name", "W", "--family-name", "Eg")
    assert gone.exit_code == 1 and "deaktivierten Person" in gone.output  # the default language
    bad = add_admin(app, "kein-adresse", "--given-name", "K", "--family-name", "A")
    assert bad.exit_code == 1 and "email" in bad.output
    assert db.session.execute(select(User).where(User.email == "kein-adresse")).first() is None
