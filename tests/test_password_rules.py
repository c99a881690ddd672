"""Password rules: zxcvbn with the person's own data, and one-time passwords that expire,
cannot be kept, and never travel in the session cookie."""

import re
from datetime import timedelta

import pytest
from flask.sessions import SecureCookieSessionInterface
from sqlalchemy import select

from lms.auth import passwords, services
from lms.common.dates import as_utc, utcnow
from lms.extensions import db
from lms.people.models import User
from tests.conftest import csrf_token
from tests.factories import DEFAULT_PASSWORD, change_password

PERSON = {"email": "erika.mustermann@musterhausen.example", "given_name": "Erika", "family_name": "Mustermann"}


@pytest.mark.parametrize(
    "candidate",
    [
        "aaaaaaaa",
        "qwertz123",
        "Winter2025!",
        "Musterhausen1",  # the town (LMS_TOWN_NAME "Stadt Musterhausen") and a digit
        "Lernpfad2026!",
        "Erika-Mustermann-1",
        "Mustermann2026!",
        "erika.mustermann",
        "erika.mustermann@musterhausen.example",
        "x" * 128,
    ],
)
def test_easily_guessed_passwords_are_refused(app, candidate):
    with app.test_request_context():
        assert passwords.password_problem(candidate, **PERSON) is not None


@pytest.mark.parametrize(
    "candidate",
    ["Kaffee trinken im Rathaus um acht", DEFAULT_PASSWORD, "Sommer auf dem Marktplatz", "ganz-lange-passphrase"],
)
def test_long_passphrases_pass(app, candidate):
    with app.test_request_context():
        assert passwords.password_problem(candidate, **PERSON) is None


@pytest.mark.parametrize(
    "candidate, reason",
    [
        ("aaaaaaaa", "Sie folgt einem bekannten Muster (Wiederholungen, Tastaturfolgen, Jahreszahlen)."),
        ("Mustermann2026!", "Sie enthält Ihren Namen oder Ihre E-Mail-Adresse."),
        ("Musterhausen1", "Sie enthält den Namen der Stadt oder dieser Anwendung."),
    ],
)
def test_the_refusal_says_why_in_the_users_language(app, candidate, reason):
    with app.test_request_context(headers={"Accept-Language": "de"}):
        problem = passwords.password_problem(candidate, **PERSON)
    assert reason in problem
    assert "Ein langer Satz, den Sie sich merken können, ist am sichersten." in problem
    with app.test_request_context(headers={"Accept-Language": "en"}):
        problem = passwords.password_problem(candidate, **PERSON)
    assert "A long sentence you can remember is the safest." in problem


def test_the_same_password_without_the_persons_context_may_pass(app):
    # Without knowing the person, a name is just a word: the context is what refuses it.
    with app.test_request_context():
        assert passwords.password_problem("Erika-Mustermann-1") is None
        assert passwords.password_problem("Erika-Mustermann-1", **PERSON) is not None


def test_changing_the_password_to_ones_own_name_is_refused(client, make_user, sign_in):
    user = make_user(given_name="Erika", family_name="Mustermann", email="erika.mustermann@musterhausen.example")
    sign_in(user)
    response = change_password(client, DEFAULT_PASSWORD, "Mustermann2026!")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and 'id="new_password-error"' in html
    assert "Sie enthält Ihren Namen oder Ihre E-Mail-Adresse." in html
    db.session.refresh(user)
    assert passwords.verify_password(user.password_hash, DEFAULT_PASSWORD)


# --- one-time passwords ---------------------------------------------------------------------


@pytest.fixture
def admin_client(client, make_user, sign_in):
    sign_in(make_user(roles=["admin"], email="admin@musterhausen.example"))
    return client


def _shown_password(html: str) -> str:
    match = re.search(r'<code class="one-time-password__value"[^>]*>([^<]+)</code>', html)
    assert match, "no one-time password on the page"
    return match.group(1)


def _cookie_session(app, client) -> dict:
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    if cookie is None:
        return {}
    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    return serializer.loads(cookie.value)


def test_a_new_persons_one_time_password_is_shown_on_the_page_not_in_the_cookie(app, admin_client):
    page = admin_client.get("/admin/users/new")
    response = admin_client.post(
        "/admin/users/new",
        data={
            "csrf_token": csrf_token(page),
            "given_name": "Jana",
            "family_name": "Neu",
            "email": "jana.neu@musterhausen.example",
            "personnel_number": "100888",
            "department_id": "",
            "job_role_id": "",
            "locale": "",
            "roles": ["employee"],
        },
    )
    assert response.status_code == 200  # the answer to the POST itself, no redirect
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    temporary = _shown_password(html)
    user = db.session.execute(select(User).where(User.personnel_number == "100888")).scalar_one()
    assert passwords.verify_password(user.password_hash, temporary)
    # Saving the form shown now edits this person; it does not create another one.
    assert f'action="/admin/users/{user.id}"' in html
    assert temporary not in repr(_cookie_session(app, admin_client))
    assert temporary not in admin_client.get(f"/admin/users/{user.id}").get_data(as_text=True)  # shown once


def test_a_reset_shows_the_one_time_password_once_and_sets_an_expiry(app, admin_client, make_user):
    person = make_user()
    page = admin_client.get(f"/admin/users/{person.id}")
    before = utcnow()
    response = admin_client.post(f"/admin/users/{person.id}/password-reset", data={"csrf_token": csrf_token(page)})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    temporary = _shown_password(html)
    assert person.given_name in html and f'value="{person.email}"' in html  # the form shows the saved person
    assert temporary not in repr(_cookie_session(app, admin_client))
    db.session.expire_all()
    person = db.session.get(User, person.id)
    assert person.must_change_password and passwords.verify_password(person.password_hash, temporary)
    expected = before + timedelta(hours=72)
    assert abs(as_utc(person.password_expires_at) - expected) < timedelta(minutes=1)
    assert temporary not in admin_client.get(f"/admin/users/{person.id}").get_data(as_text=True)


def test_an_expired_one_time_password_cannot_sign_in(app, client, make_user, sign_in):
    user = make_user()
    with app.test_request_context():
        temporary = services.issue_temporary_password(user).password
        db.session.commit()
    user.password_expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    response = sign_in(user, temporary)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Einmalpasswort ist abgelaufen" in html
    assert client.get("/learning/").status_code == 302
    # A wrong password still gets the usual answer: only the right one learns of the expiry.
    assert "Einmalpasswort ist abgelaufen" not in sign_in(user, "ganz-falsches-Passwort-99").get_data(as_text=True)


def test_a_valid_one_time_password_signs_in_and_must_be_replaced_by_a_different_one(app, client, make_user, sign_in):
    user = make_user()
    with app.test_request_context():
        temporary = services.issue_temporary_password(user).password
        db.session.commit()
    sign_in(user, temporary)
    assert client.get("/learning/").headers["Location"] == "/auth/password"
    response = change_password(client, temporary, temporary)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and 'id="new_password-error"' in html
    assert "Das neue Passwort muss sich vom bisherigen unterscheiden." in html
    db.session.refresh(user)
    assert user.must_change_password
    response = change_password(client, temporary, "Kaffee trinken im Rathaus um acht")
    assert response.status_code == 302
    db.session.refresh(user)
    assert not user.must_change_password and user.password_expires_at is None
