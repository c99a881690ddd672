"""Sign-in behind a proxy, ageing and atomic failure counts, the password-change check, idle sessions,
parallel guesses at one account taking turns."""

from __future__ import annotations

import itertools
import re
import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import event, select

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


def account_key(email: str, address: str) -> str:
    """The throttle key of an account at an address (the e-mail is stored hashed)."""
    return services._sign_in_keys(email, address)[0].name


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
    assert failures(account_key(user.email, GUESSER)) == 1
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
def test_parallel_failures_at_one_address_all_count(app, database, monkeypatch, earlier):
    """Guesses at different accounts from one address: the address counts every one of them.

    Different accounts do not take turns on PostgreSQL (only the account's row is locked), so
    there all attempts pass the throttle and the hash before any counts. SQLite has a single
    writer, so there the attempts take turns anyway.
    """
    spray(earlier)
    attempts = 8
    barrier = threading.Barrier(attempts, timeout=30)
    check = passwords.verify_password

    def verify_together(password_hash, password):
        result = check(password_hash, password)
        barrier.wait()  # every attempt has passed the throttle and the hash before any counts
        return result

    if app.config["DB_BACKEND"] == "postgresql":
        monkeypatch.setattr(passwords, "verify_password", verify_together)
    errors: list[BaseException] = []
    results: list[str | None] = []

    def guess():
        try:
            with app.app_context():
                email = f"raten{next(MADE_UP)}@musterhausen.example"
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


# --- 5: parallel guesses at one account take turns ------------------------------------------------

# A statement that writes or locks a throttle row: an attempt that takes turns waits there until
# the attempt before it has committed.
LOCKING = re.compile(r"^\s*(insert|update|delete)\b.*\blogin_throttles\b|\bfor\s+update\b", re.I | re.S)


class Turns:
    """Runs attempts in parallel threads, counts their password checks, and holds the first check
    until no other attempt can overtake it any more: each has checked its password too, or has
    finished, or has reached a statement that writes or locks a throttle row.

    So the outcome does not depend on the scheduler: without turns, the first attempt's failure
    counts only after all the others have passed the throttle, so more passwords than the free
    ones are checked; with turns, the others queue up behind the first.
    """

    def __init__(self, attempts: list[Callable[[], str]]):
        self.attempts = attempts
        self.checks = 0
        self.overlapped = False  # every other attempt was under way during the first check
        self.condition = threading.Condition()
        self.state: dict[int, str] = {}  # attempt -> "running", "checking", "locking", "done"
        self.first: int | None = None
        self.local = threading.local()
        self.verify = passwords.verify_password

    def run(self) -> list[str]:
        answers: list[str] = []
        errors: list[BaseException] = []

        def attempt(number: int, call: Callable[[], str]) -> None:
            self.local.number = number
            self._set("running")
            try:
                answers.append(call())
            except BaseException as error:  # reported below
                errors.append(error)
            finally:
                self._set("done")

        event.listen(db.engine, "before_cursor_execute", self.statement)
        try:
            with pytest.MonkeyPatch.context() as patch:
                patch.setattr(passwords, "verify_password", self.check)
                threads = [threading.Thread(target=attempt, args=item) for item in enumerate(self.attempts)]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join(timeout=60)
        finally:
            event.remove(db.engine, "before_cursor_execute", self.statement)
        assert not any(thread.is_alive() for thread in threads), "an attempt is stuck"
        assert not errors, errors
        return answers

    def _set(self, state: str, only_from: str | None = None) -> None:
        number = getattr(self.local, "number", None)
        if number is None:
            return  # not one of the attempts (the test itself)
        with self.condition:
            if only_from is None or self.state.get(number) == only_from:
                self.state[number] = state
                self.condition.notify_all()

    def statement(self, _connection, _cursor, statement, *_rest) -> None:
        if LOCKING.search(statement):
            self._set("locking", only_from="running")

    def check(self, password_hash, password):
        self._set("checking")
        with self.condition:
            self.checks += 1
            if self.first is None:
                self.first = self.local.number
                self.overlapped = self.condition.wait_for(self._nobody_can_overtake, timeout=30)
        return self.verify(password_hash, password)

    def _nobody_can_overtake(self) -> bool:
        others = [state for number, state in self.state.items() if number != self.first]
        return len(others) == len(self.attempts) - 1 and "running" not in others


@pytest.fixture
def frozen(monkeypatch):
    """One moment for all attempts: whether one is throttled does not depend on how fast they run."""
    now = utcnow()
    monkeypatch.setattr(services, "utcnow", lambda: now)
    return now


def answer(response) -> str:
    html = response.get_data(as_text=True)
    if "Bitte warten Sie" in html:
        return "throttled"
    return "invalid" if "nicht korrekt" in html else f"unexpected {response.status_code}"


def post(client, path: str, data: dict) -> Callable[[], str]:
    """A form post to make later, with the CSRF token of the page fetched now."""
    data = {"csrf_token": csrf_token(client.get(path)), **data}
    return lambda: answer(client.post(path, data=data))


PARALLEL_GUESSES = 10
FREE = 2


def test_parallel_sign_in_guesses_at_one_account_take_turns(app, database, make_user, monkeypatch, frozen):
    monkeypatch.setitem(app.config, "LOGIN_FREE_ATTEMPTS_ACCOUNT", FREE)
    user = make_user()
    turns = Turns(
        [
            post(app.test_client(), "/auth/login", {"email": user.email, "password": f"geraten-{number}"})
            for number in range(PARALLEL_GUESSES)
        ]
    )
    answers = turns.run()
    assert turns.overlapped
    # Each guess saw the failures before it: only the free ones had their password checked.
    assert turns.checks == FREE
    assert sorted(answers) == ["invalid"] * FREE + ["throttled"] * (PARALLEL_GUESSES - FREE)
    assert failures(account_key(user.email, "127.0.0.1")) == FREE


def test_parallel_guesses_of_the_current_password_take_turns(app, database, make_user, monkeypatch, frozen):
    monkeypatch.setitem(app.config, "LOGIN_FREE_ATTEMPTS_ACCOUNT", FREE)
    user = make_user()
    guesses = []
    for number in range(PARALLEL_GUESSES):  # one session each, as from several open tabs
        client = app.test_client()
        post(client, "/auth/login", {"email": user.email, "password": DEFAULT_PASSWORD})()
        new = "Neues Passwort im Rathaus"
        form = {"current_password": f"geraten-{number}", "new_password": new, "confirm_password": new}
        guesses.append(post(client, "/auth/password", form))
    turns = Turns(guesses)
    answers = turns.run()
    assert turns.overlapped
    assert turns.checks == FREE
    assert sorted(answers) == ["invalid"] * FREE + ["throttled"] * (PARALLEL_GUESSES - FREE)
    assert failures(f"pwd:{user.id}") == FREE
    db.session.refresh(user)
    assert passwords.verify_password(user.password_hash, DEFAULT_PASSWORD)
