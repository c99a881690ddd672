"""A lease in the database: which one of several scheduler processes runs the jobs.

Each scheduler process asks for the lease before every job and renews it every minute; the lease
holds for LEASE_SECONDS. While one process holds it, the others skip their jobs; if the holder
stops, another takes over once the lease has run out. One UPDATE (or INSERT) decides, so this
works alike on PostgreSQL and SQLite, across processes and servers. It is the first guard against
a job running twice; the reminders' keys are the second.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import String, or_, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, mapped_column

from lms.common.columns import timestamp
from lms.common.dates import utcnow
from lms.extensions import Model, db

LEASE_SECONDS = 300


class Lease(Model):
    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[timestamp]


def hold(name: str, holder: str, now: datetime | None = None, seconds: int = LEASE_SECONDS) -> bool:
    """Take or renew the lease `name` for `holder`; False while someone else holds it. Flushes;
    the caller commits at once (a lease only counts once others can see it)."""
    now = now or utcnow()
    expires = now + timedelta(seconds=seconds)

    def take_or_renew() -> bool:
        renewed = db.session.execute(
            update(Lease)
            .where(Lease.name == name, or_(Lease.holder == holder, Lease.expires_at < now))
            .values(holder=holder, expires_at=expires)
        )
        return bool(renewed.rowcount)  # type: ignore[attr-defined]

    if take_or_renew():
        return True
    insert = postgresql_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    created = db.session.execute(
        insert(Lease)
        .values(name=name, holder=holder, expires_at=expires)
        .on_conflict_do_nothing()
        .returning(Lease.name)  # psycopg gives no row count for a skipped insert
    )
    # Someone created the row at the same instant. If it was another job's thread of this same
    # process (the jobs due at a first start run in parallel), the row, committed by now, is ours:
    # ask once more, or this process would skip its own jobs until their next run.
    return created.scalar_one_or_none() is not None or take_or_renew()


def release(name: str, holder: str) -> None:
    """Give the lease up (a scheduler stopping), so another process can take over at once."""
    db.session.execute(update(Lease).where(Lease.name == name, Lease.holder == holder).values(expires_at=utcnow()))
