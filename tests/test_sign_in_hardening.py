"""Sign-in behind a proxy, ageing and atomic failure counts, the password-change check, idle sessions."""

from __future__ import annotations

import itertools
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from lms import create_app
from lms.auth import passwords, services
from lms.auth.models import AuthSession, LoginThrottle
from lms.common.dates import as_utc, utcnow
from lms.config import ConfigError, load_config
from lms.extensions import db
from tests.conftest import csrf_token
from tests.factories import DEFAULT_PASSWORD, change_password

GUESSER = "10.0.0.9"
MADE_UP = itertools.count()


class Clock:
    """Replaces lms.auth.services' utcnow: real time moved on by `offset`."""

    def __init__(self):
        self.offset = timedelta()

    def __call__(self):
        return utcnow() + self.offset

    def advance(self, **delta):
        self.offset += timedelta(**delta)


@pytest.fixture
def clock(monkeypatch):
    moved = Clock()
    monkeypatch.setattr(services, "utcnow", moved)
    return moved


def failures(key: str) -> int | None:
    return db.session.execute(select(LoginThrottle.failures).where(LoginThrottle.key == key)).scalar_one_or_none()


def spray(count: int, address: str = GUESSER) -> None:
    """A guesser trying made-up e-mail addresses, a new one each time, one failure each."""
    for _ in range(count):
        number = next(MADE_UP)
        assert services.authenticate(f"raten{number}@musterhausen.example", "geraten-123", address).error == "invalid"
    db.session.commit()


# --- 1a: trusted proxies ----------------------------------------------------------------------


def sign_in_failure_addresses(application, headers: dict) -> set[str]:
    client = application.test_client()
    token = csrf_token(client.get("/auth/login"))
    client.post(
        "/auth/login",
        data={"csrf_token": token, "email": "niemand@musterhausen.example", "password": "falsch-falsch"},
        headers=headers,
    )
    keys = db.session.execute(select(LoginThrottle.key).where(LoginThrottle.key.like("addr:%"))).scalars()
    return set(keys)


def test_behind_a_trusted_proxy_the_client_address_is_counted(app, database):
    proxied = create_app(
        {"LMS_ENV": "testing", "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"], "TRUSTED_PROXIES": 1}
    )
    try:
        # The client forged the first entry; the proxy appended the address it really came from.
        addresses = sign_in_failure_addresses(proxied, {"X-Forwarded-For": "198.51.100.1, 203.0.113.7"})
    finally:
        with proxied.app_context():
            db.engine.dispose()
    assert addresses == {"addr:203.0.113.7"}


def test_without_trusted_proxies_forwarded_headers_are_ignored(app, database):
    assert sign_in_failure_addresses(app, {"X-Forwarded-For": "203.0.113.7"}) == {"addr:127.0.0.1"}


def test_trusted_proxies_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("LMS_TRUSTED_PROXIES", "2")
    assert load_config({"LMS_ENV": "testing"})["TRUSTED_PROXIES"] == 2
    monkeypatch.setenv("LMS_TRUSTED_PROXIES", "-1")
    with pytest.raises(ConfigError):
        load_config({"LMS_ENV": "testing"})


# --- 1b: counters age out ---------------------------------------------------------------------


def test_failures_older_than_the_window_no_longer_count(app, database, make_user, clock):
    user = make_user()
    for _ in range(app.config["LOGIN_FREE_ATTEMPTS_ACCOUNT"] + 3):
        clock.advance(seconds=services.seconds_to_wait(user.email, GUESSER, clock()))
        assert services.authenticate(user.email, "falsch-falsch", GUESSER).error == "invalid"
    assert services.seconds_to_wait(user.email, GUESSER, clock()) > 0
    clock.advance(minutes=app.config.get("LOGIN_FAILURE_WINDOW_MINUTES", 0), seconds=1)
    assert services.seconds_to_wait(user.email, GUESSER, clock()) == 0
    # The next failure starts the count again: one failure, no delay.
    assert services.authenticate(user.email, "falsch-falsch", GUESSER).error == "invalid"
    assert failures(f"acct:{user.email}|{GUESSER}") == 1
    assert failures(f"addr:{GUESSER}") == 1
    assert services.seconds_to_wait(user.email, GUESSER, clock()) == 0


# --- 1c: a delay, never a lockout, for a colleague at the guesser's address ------------------------


def test_guesses_on_other_accounts_do_not_hold_up_a_colleague_at_the_same_address(app, database, make_user):
    colleague = make_user()
    spray(app.config["LOGIN_FREE_ATTEMPTS_ADDRESS"] + 5)
    assert services.authenticate(colleague.email, DEFAULT_PASSWORD, GUESSER).user == colleague


def test_a_colleague_who_mistyped_waits_at_most_the_cap_while_guessing_goes_on(app, database, make_user, clock):
    colleague = make_user()
    spray(app.config["LOGIN_FREE_ATTEMPTS_ADDRESS"] + 10)
    assert services.authenticate(colleague.email, "vertippt-123", GUESSER).error == "invalid"
    # Right after the typo the address's delay applies to the colleague too ...
    assert services.authenticate(colleague.email, DEFAULT_PASSWORD, GUESSER).error == "throttled"
    cap = app.config["LOGIN_MAX_DELAY_SECONDS"]
    for _ in range(3):  # ... while the guesser keeps failing at the same address ...
        clock.advance(seconds=cap // 3)
        spray(1)
    clock.advance(seconds=1)
    # ... but no longer than the cap after the colleague's own failure.
    assert services.authenticate(colleague.email, DEFAULT_PASSWORD, GUESSER).user == colleague


def test_an_account_that_failed_at_the_guessers_address_gets_the_address_delay(app, database, make_user):
    user = make_user()
    spray(app.config["LOGIN_FREE_ATTEMPTS_ADDRESS"] + 10)
    # The guesser's second try at any account waits for the address's delay.
    assert services.authenticate(user.email, "geraten-123", GUESSER).error == "invalid"
    result = services.authenticate(user.email, "geraten-456", GUESSER)
    assert result.error == "throttled" and result.wait_seconds > 2**2


# --- 2: the current password on the password-change page ----------------------------------------


def test_the_current_password_check_is_throttled(app, client, make_user, sign_in, clock):
    user = make_user()
    sign_in(user)
    for _ in range(app.config["LOGIN_FREE_ATTEMPTS_ACCOUNT"] + 1):
        html = change_password(client, "geraten-123").get_data(as_text=True)
        assert "Das aktuelle Passwort ist nicht korrekt" in html or "Bitte warten Sie" in html
    response = change_password(client, DEFAULT_PASSWORD)
    assert response.status_code == 200 and "Bitte warten Sie" in response.get_data(as_text=True)
    db.session.refresh(user)
    assert passwords.verify_password(user.password_hash, DEFAULT_PASSWORD)
    # Once the delay has passed, the right password is accepted and the count is cleared.
    clock.advance(seconds=app.config["LOGIN_MAX_DELAY_SECONDS"] + 1)
    assert change_password(client, DEFAULT_PASSWORD).status_code == 302
    db.session.refresh(user)
    assert passwords.verify_password(user.password_hash, "Neues Passwort im Rathaus")
    assert failures(f"pwd:{user.id}") is None


# --- 3: concurrent failures all count -------------------------------------------------------------


@pytest.mark.parametrize("earlier", [0, 1], ids=["first-failures", "counted-before"])
def test_parallel_failures_all_count(app, database, make_user, monkeypatch, earlier):
    user = make_user()
    email = user.email
    attempts = 8
    for _ in range(earlier):
        services.authenticate(email, "geraten-000", GUESSER)
    db.session.commit()
    barrier = threading.Barrier(attempts, timeout=30)
    check = passwords.verify_password

    def verify_together(password_hash, password):
        result = check(password_hash, password)
        barrier.wait()  # every attempt has passed the throttle and the hash before any counts
        return result

    monkeypatch.setattr(passwords, "verify_password", verify_together)
    errors: list[BaseException] = []
    results: list[str | None] = []

    def guess():
        try:
            with app.app_context():
                results.append(services.authenticate(email, "geraten-123", GUESSER).error)
                db.session.commit()
                db.session.remove()
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=guess) for _ in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert results == ["invalid"] * attempts
    assert failures(f"acct:{email}|{GUESSER}") == earlier + attempts
    assert failures(f"addr:{GUESSER}") == earlier + attempts


# --- 4: the idle timer and the end of a session are saved -----------------------------------------


def test_a_reader_who_only_reads_stays_signed_in(app, client, make_user, sign_in, clock):
    sign_in(make_user())
    idle = app.config["SESSION_IDLE_MINUTES"]
    for _ in range(5):  # four idle intervals in all, reading once per two-thirds of one
        clock.advance(minutes=idle * 2 / 3)
        assert client.get("/learning/").status_code == 200
    last_seen = db.session.execute(select(AuthSession.last_seen_at)).scalar_one()
    assert as_utc(last_seen) > utcnow() + timedelta(minutes=idle)


def test_an_expired_session_is_recorded_as_ended(app, client, make_user, sign_in, clock):
    sign_in(make_user())
    clock.advance(minutes=app.config["SESSION_IDLE_MINUTES"] + 1)
    assert client.get("/learning/").status_code == 302
    ended_at = db.session.execute(select(AuthSession.ended_at)).scalar_one()
    assert ended_at is not None
