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
