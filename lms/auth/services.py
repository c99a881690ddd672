"""Sign-in, server-side sessions and throttling. Plain functions over the session; callers commit."""

from __future__ import annotations

import functools
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import Select, bindparam, delete, select, update
from sqlalchemy.orm import contains_eager

from lms.auth import passwords
from lms.auth.models import AuthSession, LoginThrottle
from lms.common.dates import as_utc, utcnow
from lms.extensions import db
from lms.people.models import User
from lms.people.services import normalise_email

# last_seen_at is written at most this often, so a busy page does not write on every request.
LAST_SEEN_RESOLUTION = timedelta(seconds=60)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- sessions -------------------------------------------------------------------------------


def start_session(user: User, ip_address: str | None, user_agent: str | None) -> str:
    """Create a new session for the user and return its token (a fresh id at every sign-in)."""
    token = secrets.token_urlsafe(32)
    db.session.add(
        AuthSession(
            token_hash=_token_hash(token),
            user_id=user.id,
            ip_address=(ip_address or "")[:45] or None,
            user_agent=(user_agent or "")[:300] or None,
        )
    )
    user.last_login_at = utcnow()
    user.session_token = token
    db.session.flush()
    return token


@dataclass
class SessionLookup:
    user: User | None
    expired: bool = False


def load_session(token: str, now: datetime | None = None) -> SessionLookup:
    """The user behind a session token, if the session is still valid.

    A session ends after SESSION_IDLE_MINUTES without a request, SESSION_MAX_HOURS after
    sign-in, and as soon as the user is deactivated. One statement reads the session with its
    user and the user's roles; last_seen_at is written at most once per LAST_SEEN_RESOLUTION.
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
        return SessionLookup(None, expired=True)
    if now - as_utc(row.last_seen_at) > LAST_SEEN_RESOLUTION:
        row.last_seen_at = now
        db.session.flush()
    user.session_token = token
    return SessionLookup(user)


def _open_session(token: str) -> AuthSession | None:
    """The open session of a token, its user and the user's roles: one statement."""
    result = db.session.execute(_open_session_statement(), {"token_hash": _token_hash(token)})
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
            .where(AuthSession.token_hash == _token_hash(token), AuthSession.ended_at.is_(None))
            .values(ended_at=utcnow())
        )


def end_all_sessions(user_id: int, except_token: str | None = None) -> None:
    """End every open session of a user (deactivation, password reset, password change)."""
    statement = update(AuthSession).where(AuthSession.user_id == user_id, AuthSession.ended_at.is_(None))
    if except_token:
        statement = statement.where(AuthSession.token_hash != _token_hash(except_token))
    db.session.execute(statement.values(ended_at=utcnow()))


# --- throttling -----------------------------------------------------------------------------
# Failures are counted per account at an address and per address alone. After a few free
# attempts each further attempt must wait twice as long as the last, up to a cap. Because the
# account is keyed together with the address, somebody failing at one desk does not lock a
# colleague out at another: a delay, never a lockout.


def _throttle_keys(email: str, ip_address: str | None) -> list[tuple[str, int]]:
    config = current_app.config
    address = ip_address or "unknown"
    return [
        (f"acct:{normalise_email(email)}|{address}", config["LOGIN_FREE_ATTEMPTS_ACCOUNT"]),
        (f"addr:{address}", config["LOGIN_FREE_ATTEMPTS_ADDRESS"]),
    ]


def seconds_to_wait(email: str, ip_address: str | None, now: datetime | None = None) -> int:
    now = now or utcnow()
    keys = dict(_throttle_keys(email, ip_address))
    rows = db.session.execute(select(LoginThrottle).where(LoginThrottle.key.in_(keys))).scalars()
    longest = 0
    for row in rows:
        excess = row.failures - keys[row.key]
        if excess < 0:
            continue
        delay = min(2**excess, current_app.config["LOGIN_MAX_DELAY_SECONDS"])
        remaining = delay - (now - as_utc(row.last_failure_at)).total_seconds()
        longest = max(longest, int(remaining + 0.999))
    return longest


def _record_failure(email: str, ip_address: str | None) -> None:
    now = utcnow()
    for key, _free in _throttle_keys(email, ip_address):
        row = db.session.get(LoginThrottle, key)
        if row is None:
            db.session.add(LoginThrottle(key=key, failures=1, last_failure_at=now))
        else:
            row.failures += 1
            row.last_failure_at = now
    db.session.flush()


def _clear_account_failures(email: str, ip_address: str | None) -> None:
    account_key = _throttle_keys(email, ip_address)[0][0]
    db.session.execute(delete(LoginThrottle).where(LoginThrottle.key == account_key))


# --- sign-in --------------------------------------------------------------------------------


@dataclass
class SignInResult:
    user: User | None = None
    error: str | None = None  # "invalid", "throttled", "inactive"
    wait_seconds: int = 0


def authenticate(email: str, password: str, ip_address: str | None) -> SignInResult:
    """Check credentials. Unknown e-mail and wrong password answer alike and take the same time."""
    wait = seconds_to_wait(email, ip_address)
    if wait > 0:
        return SignInResult(error="throttled", wait_seconds=wait)
    user = db.session.execute(select(User).where(User.email == normalise_email(email))).scalar_one_or_none()
    verified = passwords.verify_password(user.password_hash if user else None, password)  # runs for unknown ones too
    if not verified or user is None or user.password_hash is None:
        _record_failure(email, ip_address)
        return SignInResult(error="invalid")
    _clear_account_failures(email, ip_address)
    if not user.active:
        # Only said after the right password, so it reveals nothing to a guesser.
        return SignInResult(error="inactive")
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    return SignInResult(user=user)


def set_password(user: User, new_password: str, must_change: bool = False) -> None:
    user.password_hash = passwords.hash_password(new_password)
    user.must_change_password = must_change


def issue_temporary_password(user: User) -> str:
    """Admin-issued reset: a random one-time password the user must replace at next sign-in."""
    temporary = "-".join(secrets.token_urlsafe(4) for _ in range(3))
    set_password(user, temporary, must_change=True)
    end_all_sessions(user.id)
    db.session.flush()
    return temporary
