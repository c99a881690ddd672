from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.common.columns import intpk, timestamp
from lms.common.dates import utcnow
from lms.extensions import Model
from lms.people.models import User


class AuthSession(Model):
    """A signed-in session. The cookie carries its token; only the token's hash is stored,
    so a database leak does not hand out live sessions."""

    __tablename__ = "auth_sessions"

    id: Mapped[intpk]
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[timestamp] = mapped_column(default=utcnow, server_default=func.now())
    last_seen_at: Mapped[timestamp] = mapped_column(default=utcnow, server_default=func.now())
    ended_at: Mapped[timestamp | None]
    # No address and no browser string: nothing reads them (sign-in throttling keeps its own keys).

    user: Mapped[User] = relationship()


class LoginThrottle(Model):
    """Failed sign-ins per key (an account at an address, or an address alone)."""

    __tablename__ = "login_throttles"

    key: Mapped[str] = mapped_column(String(320), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[timestamp] = mapped_column(default=utcnow)


# --- two-factor sign-in (lms/auth/twofactor.py, docs/two-factor.md) ---------------------------


class TwoFactorCredential(Model):
    """A person's second factor: the shared secret of their time-based one-time codes (RFC 6238),
    from an authenticator app they set up themself or a hardware token an admin enrolled for them.

    The secret is stored as it is (base32), not encrypted: the code must read it to check a code,
    so a key would have to sit beside the database anyway (docs/two-factor.md says why and what
    protects it). It is never logged, never shown again after setup, and withheld from the
    person's copy of their data (lms/privacy/subject_access.py).
    """

    __tablename__ = "two_factor_credentials"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    # While two-factor sign-in is on: what makes the codes (a TwoFactorKind), the secret, since when.
    kind: Mapped[str | None] = mapped_column(String(20))
    secret: Mapped[str | None] = mapped_column(String(128))
    serial: Mapped[str | None] = mapped_column(String(64))  # a hardware token's serial number, as printed on it
    enabled_at: Mapped[timestamp | None]
    # The time step of the last code accepted: a code (of that step or an earlier one) never counts twice.
    last_used_step: Mapped[int | None] = mapped_column(Integer)
    # A secret shown for setup and not yet confirmed with a code; it replaces `secret` once confirmed.
    new_secret: Mapped[str | None] = mapped_column(String(128))


class RecoveryCode(Model):
    """One of a person's recovery codes: random, so a salted SHA-256 is enough (no slow hash)."""

    __tablename__ = "recovery_codes"

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    salt: Mapped[str] = mapped_column(String(32))
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[timestamp] = mapped_column(default=utcnow, server_default=func.now())


class PendingSignIn(Model):
    """A sign-in whose password was right and whose one-time code is still to come: not a session.
    The browser holds its token (in the signed session cookie); only the token's hash is stored.
    It counts for a few minutes (lms.auth.twofactor.PENDING_MINUTES) and once."""

    __tablename__ = "pending_sign_ins"

    id: Mapped[intpk]
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[timestamp] = mapped_column(default=utcnow, server_default=func.now())

    user: Mapped[User] = relationship()
