"""Sign-in, server-side sessions and throttling. Plain functions over the session; callers commit."""

from __future__ import annotations

import functools
import hashlib
import secrets
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import Select, bindparam, case, delete, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import contains_eager

from lms.auth import directory, passwords
from lms.auth.models import AuthSession, LoginThrottle
from lms.common.dates import as_utc, utcnow
from lms.common.text import has_control_characters
from lms.extensions import db
from lms.people.models import User
from lms.people.services import normalise_email

# last_seen_at is written at most this often, so a busy page does not write on every request.
LAST_SEEN_RESOLUTION = timedelta(seconds=60)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- sessions -------------------------------------------------------------------------------


def start_session(user: User) -> str:
    """Create a new session for the user and return its token (a fresh id at every sign-in)."""
    token = secrets.token_urlsafe(32)
    db.session.add(AuthSession(token_hash=token_hash(token), user_id=user.id))
    user.last_login_at = utcnow()
    user.session_token = token
    db.session.flush()
    return token


@dataclass
class SessionLookup:
    user: User | None
    expired: bool = False
    wrote: bool = False  # last_seen_at or ended_at was written: the caller must commit


def load_session(token: str, now: datetime | None = None) -> SessionLookup:
    """The user behind a session token, if the session is still valid.

    A session ends after SESSION_IDLE_MINUTES without a request, SESSION_MAX_HOURS after
    sign-in, and as soon as the user is deactivated. One statement reads the session with its
    user and the user's roles; last_seen_at is written at most once per LAST_SEEN_RESOLUTION.
    The result says whether anything was written (a refreshed last_seen_at, or the end of an
    expired session): the caller commits then, or a reader would be signed out while reading.
    """
    now = now or utcnow()
    row = _open_session(token)
    if row is None:
        return SessionLookup(None)
    config = current_app.config
    idle = now - as_utc(row.last_seen_at) > timedelta(minutes=config["SESSION_IDLE_MINUTES"])
    too_old = now - as_utc(row.created_at) > timedelta(hours=config["SESSION_MAX_HOURS"])
    user = row.user
    if idle or too_old or not user.active:
        row.ended_at = now
        db.session.flush()
        return SessionLookup(None, expired=True, wrote=True)
    wrote = now - as_utc(row.last_seen_at) > LAST_SEEN_RESOLUTION
    if wrote:
        row.last_seen_at = now
        db.session.flush()
    user.session_token = token
    return SessionLookup(user, wrote=wrote)


def _open_session(token: str) -> AuthSession | None:
    """The open session of a token, its user and the user's roles: one statement."""
    result = db.session.execute(_open_session_statement(), {"token_hash": token_hash(token)})
    return result.unique().scalar_one_or_none()


@functools.cache
def _open_session_statement() -> Select:
    # Built once: on every request, building the statement would cost more than running it.
    return (
        select(AuthSession)
        .join(AuthSession.user)
        .options(contains_eager(AuthSession.user).joinedload(User.role_rows))
        .where(AuthSession.token_hash == bindparam("token_hash"), AuthSession.ended_at.is_(None))
    )


def end_session(token: str | None) -> None:
    if token:
        db.session.execute(
            update(AuthSession)
            .where(AuthSession.token_hash == token_hash(token), AuthSession.ended_at.is_(None))
            .values(ended_at=utcnow())
        )


def end_sessions_of(user_ids: Collection[int]) -> None:
    """End every open session of these people in one statement (the HR import's leavers)."""
    if user_ids:
        db.session.execute(
            update(AuthSession)
            .where(AuthSession.user_id.in_(list(user_ids)), AuthSession.ended_at.is_(None))
            .values(ended_at=utcnow())
        )


def end_all_sessions(user_id: int, except_token: str | None = None) -> None:
    """End every open session of a user (deactivation, password reset, password change)."""
    statement = update(AuthSession).where(AuthSession.user_id == user_id, AuthSession.ended_at.is_(None))
    if except_token:
        statement = statement.where(AuthSession.token_hash != token_hash(except_token))
    db.session.execute(statement.values(ended_at=utcnow()))


# --- throttling -----------------------------------------------------------------------------
# Failures are counted per key: an account at an address ("acct:"), an address alone ("addr:"),
# and the current password on the password-change page per user ("pwd:"). The rules:
#
# - Ageing: a counter restarts once its last failure is older than LOGIN_FAILURE_WINDOW_MINUTES.
#   Until then it keeps counting; older failures no longer count at all.
# - Delay: after a key's free attempts, each further failure makes the next attempt wait
#   2**(failures beyond the free ones) seconds after that failure, at most LOGIN_MAX_DELAY_SECONDS.
# - The address key only slows an account that has itself failed at that address within the
#   window, and its delay runs from that account's own last failure there. So a colleague who
#   shares an address with a guesser (one proxy, one NAT) signs in at once with the right password,
#   and after a typo waits at most LOGIN_MAX_DELAY_SECONDS however long the guessing goes on; the
#   guesser, spraying many accounts, gets one attempt per account before the address's delay.
#   A delay, never a lockout. An account is keyed together with its address, so failures at one
#   desk never slow a colleague at another.
# - Taking turns: an attempt first locks the row of its account key ("acct:" or "pwd:"), created
#   with no failures if need be, until the request commits or rolls back. So parallel guesses at
#   one account are checked one after another, each only once the failures before it have counted.
#   The address's row is not locked: sign-ins of different accounts behind one address (a proxy,
#   a NAT) do not queue behind each other's password checks, nor behind a guesser's. (On SQLite
#   the lock is the database's single write lock: all attempts take turns there.)
# - Counting is one atomic statement per attempt (an upsert), so parallel failures all count.


@dataclass(frozen=True)
class ThrottleKey:
    name: str
    free: int


def _sign_in_keys(email: str, ip_address: str | None) -> tuple[ThrottleKey, ThrottleKey]:
    config = current_app.config
    address = ip_address or "unknown"
    # The e-mail as typed is hashed: any text makes a valid key (a NUL too, which PostgreSQL cannot
    # store), and the throttle table holds no addresses of people.
    typed = hashlib.sha256(normalise_email(email).encode("utf-8", "surrogatepass")).hexdigest()
    return (
        ThrottleKey(f"acct:{typed}|{address}", config["LOGIN_FREE_ATTEMPTS_ACCOUNT"]),
        ThrottleKey(f"addr:{address}", config["LOGIN_FREE_ATTEMPTS_ADDRESS"]),
    )


def _password_change_key(user: User) -> ThrottleKey:
    return ThrottleKey(f"pwd:{user.id}", current_app.config["LOGIN_FREE_ATTEMPTS_ACCOUNT"])


def _window_start(now: datetime) -> datetime:
    return now - timedelta(minutes=current_app.config["LOGIN_FAILURE_WINDOW_MINUTES"])


def _recent_failures(keys: list[ThrottleKey], now: datetime) -> dict[str, tuple[int, datetime]]:
    """Failures and the last failure's time of the keys that failed within the window.

    Columns, not entities: a cached LoginThrottle object could be older than the database row.
    A row without failures (made by `take_turn`) is no failure: it must not let the address's
    delay reach an account that has not failed there.
    """
    rows = db.session.execute(
        select(LoginThrottle.key, LoginThrottle.failures, LoginThrottle.last_failure_at).where(
            LoginThrottle.key.in_([key.name for key in keys]), LoginThrottle.failures > 0
        )
    )
    start = _window_start(now)
    return {key: (failures, as_utc(last)) for key, failures, last in rows if as_utc(last) >= start}


def _delay(failures: int, free: int) -> int:
    excess = failures - free
    if excess < 0:
        return 0
    return min(2**excess, current_app.config["LOGIN_MAX_DELAY_SECONDS"])


def _remaining(delay: int, since: datetime, now: datetime) -> int:
    return max(0, int(delay - (now - since).total_seconds() + 0.999))


def seconds_to_wait(email: str, ip_address: str | None, now: datetime | None = None) -> int:
    """How long a sign-in to `email` from `ip_address` must still wait (0: it may try now)."""
    now = now or utcnow()
    account, address = _sign_in_keys(email, ip_address)
    recent = _recent_failures([account, address], now)
    if account.name not in recent:
        return 0  # no failure of this account here: the address's failures do not hold it up
    failures, last_failure = recent[account.name]
    delay = _delay(failures, account.free)
    if address.name in recent:
        delay = max(delay, _delay(recent[address.name][0], address.free))
    return _remaining(delay, last_failure, now)


def key_wait(key: ThrottleKey, now: datetime) -> int:
    recent = _recent_failures([key], now)
    if key.name not in recent:
        return 0
    failures, last_failure = recent[key.name]
    return _remaining(_delay(failures, key.free), last_failure, now)


def take_turn(key: ThrottleKey) -> None:
    """Lock the key's row until the caller commits or rolls back, so that parallel attempts on the
    key take turns: the next one reads this one's failure before its password is checked.

    A row that does not exist yet is made with no failures (which `_recent_failures` ignores and
    `record_failure` counts on from). An upsert rather than INSERT ... DO NOTHING and SELECT ...
    FOR UPDATE: on PostgreSQL it either inserts or locks the row in one statement, even when a
    sign-in that succeeded deletes the row in between (the SELECT would then lock nothing). On
    SQLite the write takes the database's write lock; it is the attempt's first statement, so it
    waits for the lock (busy timeout) rather than failing as a read-then-write would.
    """
    insert = postgresql_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(LoginThrottle).values(key=key.name, failures=0, last_failure_at=utcnow())
    statement = statement.on_conflict_do_update(
        index_elements=[LoginThrottle.key], set_={"failures": LoginThrottle.failures}
    )
    db.session.execute(statement)


def record_failure(keys: tuple[ThrottleKey, ...], now: datetime | None = None) -> None:
    """Count one failure for each key in one statement: an upsert adds 1 in the database (so
    parallel failures all count) and restarts a counter whose last failure left the window."""
    now = now or utcnow()
    insert = postgresql_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(LoginThrottle).values([{"key": key.name, "failures": 1, "last_failure_at": now} for key in keys])
    statement = statement.on_conflict_do_update(
        index_elements=[LoginThrottle.key],
        set_={
            "failures": case((LoginThrottle.last_failure_at < _window_start(now), 1), else_=LoginThrottle.failures + 1),
            "last_failure_at": statement.excluded.last_failure_at,
        },
    )
    db.session.execute(statement)
    for key in keys:  # objects of these rows read earlier in this session are out of date now
        cached = db.session.identity_map.get(db.session.identity_key(LoginThrottle, key.name))
        if cached is not None:
            db.session.expire(cached)


def clear_failures(key: ThrottleKey) -> None:
    db.session.execute(delete(LoginThrottle).where(LoginThrottle.key == key.name))
    cached = db.session.identity_map.get(db.session.identity_key(LoginThrottle, key.name))
    if cached is not None:
        db.session.expunge(cached)


# --- sign-in --------------------------------------------------------------------------------


@dataclass
class SignInResult:
    user: User | None = None
    error: str | None = None  # "invalid", "throttled", "inactive", "expired", "unavailable"
    wait_seconds: int = 0


def _user_with_email(email: str) -> User | None:
    """The account of a typed e-mail. One with control characters is nobody's (they are refused
    when an address is saved), and is not looked up: PostgreSQL cannot even compare a NUL."""
    if has_control_characters(email):
        return None
    return db.session.execute(select(User).where(User.email == normalise_email(email))).scalar_one_or_none()


def authenticate(email: str, password: str, ip_address: str | None) -> SignInResult:
    """Check credentials. Unknown e-mail and wrong password answer alike and take the same time.

    With the town's directory on (lms.auth.directory), the directory checks the password, except for
    the roles that keep a local one; a directory that cannot answer says so ("unavailable"),
    without a delay for the person.

    The account's throttle row stays locked until the caller commits (or rolls back): parallel
    attempts at the account wait here for their turn.
    """
    account, address = _sign_in_keys(email, ip_address)
    take_turn(account)
    wait = seconds_to_wait(email, ip_address)
    if wait > 0:
        return SignInResult(error="throttled", wait_seconds=wait)
    user = _user_with_email(email)
    # With the directory on, only LMS_LDAP_LOCAL_PASSWORD_ROLES keep a local password (admins).
    local = user if user is not None and directory.local_password_allowed(user) else None
    verified = passwords.verify_password(local.password_hash if local else None, password)  # for unknown ones too
    if not verified and directory.enabled():
        try:
            user = directory.sign_in(email, password, ip_address)
        except directory.DirectoryUnavailable:
            if local is not None and local.password_hash:
                record_failure((account, address))  # a wrong local password counts, directory or not
            return SignInResult(error="unavailable")  # nobody's fault at the desk: no delay for it
        if user is not None:
            clear_failures(account)
            return SignInResult(user=user)
    if not verified or user is None or user.password_hash is None:
        record_failure((account, address))
        return SignInResult(error="invalid")
    clear_failures(account)
    if not user.active:
        # Only said after the right password, so it reveals nothing to a guesser.
        return SignInResult(error="inactive")
    if one_time_password_expired(user):
        # Also only said after the right password: the person learns to ask for a new one.
        return SignInResult(error="expired")
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    return SignInResult(user=user)


def check_current_password(user: User, password: str) -> SignInResult:
    """The current password on the password-change page, throttled per user like sign-in.

    Only the user's own sessions reach that page, so the key is the user, whatever the address:
    somebody at an unlocked desk cannot guess the password there faster than at sign-in.
    As at sign-in, the key's row stays locked until the caller commits or rolls back.
    """
    key = _password_change_key(user)
    take_turn(key)
    wait = key_wait(key, utcnow())
    if wait > 0:
        return SignInResult(error="throttled", wait_seconds=wait)
    if not passwords.verify_password(user.password_hash, password):
        record_failure((key,))
        return SignInResult(error="invalid")
    clear_failures(key)
    return SignInResult(user=user)


def set_password(user: User, new_password: str, must_change: bool = False) -> None:
    """The person's own password (no expiry), or with must_change a one-time password."""
    user.password_hash = passwords.hash_password(new_password)
    user.must_change_password = must_change
    user.password_expires_at = None


def one_time_password_expired(user: User, now: datetime | None = None) -> bool:
    expires = user.password_expires_at
    return expires is not None and as_utc(expires) <= (now or utcnow())


@dataclass(frozen=True)
class OneTimePassword:
    password: str
    expires_at: datetime


def issue_temporary_password(user: User) -> OneTimePassword:
    """Admin-issued reset: a random one-time password the user must replace at next sign-in.

    It expires after LMS_ONE_TIME_PASSWORD_HOURS; afterwards only a new one helps.
    """
    temporary = "-".join(secrets.token_urlsafe(4) for _ in range(3))
    set_password(user, temporary, must_change=True)
    user.password_expires_at = utcnow() + timedelta(hours=current_app.config["ONE_TIME_PASSWORD_HOURS"])
    end_all_sessions(user.id)
    db.session.flush()
    return OneTimePassword(temporary, user.password_expires_at)
