"""Sign-in, sessions, passwords and throttling."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from lms.auth import passwords, services
from lms.auth.models import AuthSession, LoginThrottle
from lms.extensions import db
from tests.conftest import csrf_token
from tests.factories import DEFAULT_PASSWORD, change_password


def test_sign_in_and_out(client, make_user, sign_in):
    user = make_user()
    response = sign_in(user)
    assert response.status_code == 302 and response.headers["Location"].endswith("/")
    assert client.get("/learning/").status_code == 200
    page = client.get("/learning/")
    client.post("/auth/logout", data={"csrf_token": csrf_token(page)})
    assert client.get("/learning/").status_code == 302


def test_passwords_are_stored_as_argon2id(make_user):
    user = make_user()
    assert user.password_hash.startswith("$argon2id$")
    assert DEFAULT_PASSWORD not in user.password_hash


def test_wrong_password_and_unknown_email_get_the_same_answer(client, make_user, sign_in):
    user = make_user()
    wrong = sign_in(user, "falsches-passwort-123")
    unknown = sign_in("niemand@musterhausen.example", "falsches-passwort-123")
    assert wrong.status_code == unknown.status_code == 200
    message = "E-Mail-Adresse oder Passwort ist nicht korrekt"
    assert message in wrong.get_data(as_text=True)
    assert message in unknown.get_data(as_text=True)


def test_unknown_email_still_runs_the_password_hash(app, database, monkeypatch):
    calls = []
    original = passwords.PasswordHasher.verify
    monkeypatch.setattr(passwords.PasswordHasher, "verify", lambda self, h, p: calls.append(h) or original(self, h, p))
    result = services.authenticate("niemand@musterhausen.example", "irgendwas-langes", "10.0.0.1")
    assert result.error == "invalid" and len(calls) == 1


def test_a_new_session_id_at_every_sign_in(client, make_user, sign_in):
    user = make_user()
    client.set_cookie("lernpfad_session", "planted-by-an-attacker")
    sign_in(user)
    first = client.get_cookie("lernpfad_session").value
    assert first != "planted-by-an-attacker"
    page = client.get("/learning/")
    client.post("/auth/logout", data={"csrf_token": csrf_token(page)})
    sign_in(user)
    assert client.get_cookie("lernpfad_session").value != first
    assert db.session.scalar(select(db.func.count(AuthSession.id))) == 2


def test_session_cookie_is_httponly_and_samesite(client, make_user, sign_in):
    sign_in(make_user())
    cookie = client.get_cookie("lernpfad_session")
    assert cookie.http_only and cookie.same_site == "Lax"


def _age_session(**delta):
    row = db.session.execute(select(AuthSession)).scalar_one()
    row.last_seen_at = row.last_seen_at - timedelta(**delta)
    row.created_at = row.created_at - timedelta(**delta)
    db.session.commit()


@pytest.mark.parametrize("age", [{"minutes": 31}, {"hours": 12, "minutes": 1}])
def test_sessions_end_after_idle_time_and_at_most_twelve_hours(client, make_user, sign_in, age):
    sign_in(make_user())
    assert client.get("/learning/").status_code == 200
    if "hours" in age:
        row = db.session.execute(select(AuthSession)).scalar_one()
        row.created_at = row.created_at - timedelta(**age)  # active all along, but too old
        db.session.commit()
    else:
        _age_session(**age)
    response = client.get("/learning/")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
    assert "Sitzung ist abgelaufen" in client.get("/auth/login").get_data(as_text=True)


def test_a_session_twenty_minutes_idle_is_still_valid(client, make_user, sign_in):
    sign_in(make_user())
    _age_session(minutes=20)
    assert client.get("/learning/").status_code == 200


def test_deactivation_ends_the_session_at_once(client, make_user, sign_in):
    user = make_user()
    sign_in(user)
    assert client.get("/learning/").status_code == 200
    user.active = False
    db.session.commit()
    assert client.get("/learning/").status_code == 302


def test_deactivated_user_is_told_after_the_right_password_only(client, make_user, sign_in):
    user = make_user(active=False)
    right = sign_in(user).get_data(as_text=True)
    assert "deaktiviert" in right
    wrong = sign_in(user, "nicht-das-passwort").get_data(as_text=True)
    assert "deaktiviert" not in wrong and "nicht korrekt" in wrong


def test_login_without_csrf_token_is_refused(client, make_user):
    user = make_user()
    response = client.post("/auth/login", data={"email": user.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 400
    assert "Sicherheitsmerkmal" in response.get_data(as_text=True) or "Formular" in response.get_data(as_text=True)
    assert db.session.scalar(select(db.func.count(AuthSession.id))) == 0


def test_throttling_grows_the_delay_without_locking_out_other_addresses(app, database, make_user):
    user = make_user()
    free = app.config["LOGIN_FREE_ATTEMPTS_ACCOUNT"]
    for _ in range(free):
        assert services.authenticate(user.email, "falsch-falsch", "10.0.0.1").error == "invalid"
    waits = []
    for _ in range(3):
        throttle = db.session.execute(select(LoginThrottle).where(LoginThrottle.key.like("acct:%"))).scalar_one()
        throttle.last_failure_at -= timedelta(seconds=1000)  # the wait has passed
        db.session.flush()
        assert services.authenticate(user.email, "falsch-falsch", "10.0.0.1").error == "invalid"
        waits.append(services.authenticate(user.email, DEFAULT_PASSWORD, "10.0.0.1").wait_seconds)
    assert waits[0] < waits[1] < waits[2], waits
    # Even the right password waits at the attacker's address, but a colleague elsewhere signs in at once.
    assert services.authenticate(user.email, DEFAULT_PASSWORD, "10.0.0.1").error == "throttled"
    assert services.authenticate(user.email, DEFAULT_PASSWORD, "10.0.0.2").user == user


def test_throttled_sign_in_says_how_long_to_wait(client, make_user, sign_in, app):
    user = make_user()
    for _ in range(app.config["LOGIN_FREE_ATTEMPTS_ACCOUNT"] + 1):
        sign_in(user, "immer-noch-falsch")
    response = sign_in(user)
    assert "Bitte warten Sie" in response.get_data(as_text=True)
    assert client.get("/learning/").status_code == 302


@pytest.mark.parametrize(
    "candidate, ok",
    [
        ("kurz", False),
        ("x" * 129, False),
        ("password1", False),
        ("passwort123", False),
        ("Sommer auf dem Marktplatz", True),
        ("x" * 128, False),  # long, but one repeated character
        (("Kaffee trinken im Rathaus um acht " * 4)[:128], True),
        ("ganz-lange-passphrase", True),
    ],
)
def test_password_policy(app, candidate, ok):
    with app.test_request_context():
        assert (passwords.password_problem(candidate) is None) is ok


def test_change_own_password(client, make_user, sign_in):
    user = make_user()
    sign_in(user)
    response = change_password(client, DEFAULT_PASSWORD, "Neues Passwort im Rathaus")
    assert response.status_code == 302
    db.session.refresh(user)
    assert passwords.verify_password(user.password_hash, "Neues Passwort im Rathaus")


def test_change_password_rejects_a_common_password_next_to_the_field(client, make_user, sign_in):
    user = make_user()
    sign_in(user)
    response = change_password(client, DEFAULT_PASSWORD, "password123")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="new_password-error"' in html
    assert re.search(r'aria-describedby="[^"]*new_password-error"', html)
    db.session.refresh(user)
    assert passwords.verify_password(user.password_hash, DEFAULT_PASSWORD)


def test_open_redirect_after_sign_in_is_refused(client, make_user):
    user = make_user()
    token = csrf_token(client.get("/auth/login"))
    response = client.post(
        "/auth/login?next=//evil.example/",
        data={"csrf_token": token, "email": user.email, "password": DEFAULT_PASSWORD},
    )
    assert response.headers["Location"] == "/"


def choose_language(client, language: str) -> None:
    """The header's language switch, used on the sign-in page."""
    page = client.get("/auth/login")
    client.post(
        "/language",
        data={"csrf_token": csrf_token(page), "language": language},
        headers={"Referer": "http://localhost/auth/login"},
    )


@pytest.mark.parametrize("saved, chosen", [("de", "en"), ("en", "de"), (None, "en")])
def test_the_language_chosen_on_the_sign_in_page_stays_after_sign_in(client, make_user, sign_in, saved, chosen):
    user = make_user(locale=saved)
    choose_language(client, chosen)
    sign_in(user)
    assert f'lang="{chosen}"' in client.get("/learning/", headers={"Accept-Language": saved or "de"}).get_data(
        as_text=True
    )
    db.session.refresh(user)
    assert user.locale == chosen  # kept as the preference, as the switch does for a signed-in user


def test_without_a_choice_the_saved_language_is_kept_at_sign_in(client, make_user, sign_in):
    user = make_user(locale="en")
    sign_in(user)
    assert 'lang="en"' in client.get("/learning/", headers={"Accept-Language": "de"}).get_data(as_text=True)
    db.session.refresh(user)
    assert user.locale == "en"


def test_a_language_chosen_before_an_earlier_sign_out_is_not_carried_to_the_next_person(client, make_user, sign_in):
    choose_language(client, "en")
    sign_in(make_user())
    client.post("/auth/logout", data={"csrf_token": csrf_token(client.get("/learning/"))})
    colleague = make_user(locale="de")
    sign_in(colleague)
    db.session.refresh(colleague)
    assert colleague.locale == "de"


@pytest.mark.parametrize(
    "address, expected",
    [("/login", "/auth/login"), ("/login?next=/courses/", "/auth/login?next=/courses/")],
)
def test_login_leads_to_the_sign_in_page_keeping_next(client, address, expected):
    response = client.get(address)
    assert response.status_code == 302 and response.headers["Location"] == expected


def test_signing_in_through_login_returns_to_next(client, make_user):
    user = make_user()
    sign_in_page = client.get("/login?next=/courses/").headers["Location"]
    page = client.get(sign_in_page)
    response = client.post(
        sign_in_page,
        data={"csrf_token": csrf_token(page), "email": user.email, "password": DEFAULT_PASSWORD},
    )
    assert response.headers["Location"] == "/courses/"


def test_logout_by_address_shows_the_sign_out_button_and_signs_nobody_out(client, make_user, sign_in):
    assert client.get("/logout").headers["Location"] == "/auth/logout"
    assert client.get("/auth/logout").headers["Location"] == "/auth/login"  # not signed in
    sign_in(make_user())
    page = client.get("/auth/logout")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Möchten Sie sich von Lernpfad abmelden?" in html
    assert 'action="/auth/logout"' in html and client.get("/learning/").status_code == 200
    client.post("/auth/logout", data={"csrf_token": csrf_token(page)})
    assert client.get("/learning/").status_code == 302


def test_who_must_change_their_password_may_still_sign_out_by_address(client, make_user, sign_in):
    user = make_user()
    sign_in(user)
    user.must_change_password = True
    db.session.commit()
    assert client.get("/learning/").headers["Location"] == "/auth/password"
    assert client.get("/auth/logout").status_code == 200
