"""In-person and online sessions and who registered for them.

A registration is a seat or a place on the waitlist; after the session its trainer marks each seat
holder attended or not (nothing else: no reason for an absence). Registrations are the participant
list: they are deleted a set time after the session (lms/sessions/retention.py); a completion or a
confirmed level earned there stays in its own domain.
"""

from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.catalog.models import Course
from lms.common.columns import intpk, str200, timestamp
from lms.common.dates import utcnow
from lms.extensions import Model
from lms.people.models import User


class TrainingSession(Model):
    """One session at a place or behind a video link, with a number of seats. Optionally of a
    course; initiatives link their sessions in a table of their own."""

    __tablename__ = "training_sessions"

    id: Mapped[intpk]
    course_id: Mapped[int | None] = mapped_column(ForeignKey("courses.id", ondelete="SET NULL"), index=True)
    title: Mapped[str200]
    description: Mapped[str] = mapped_column(Text, default="")  # plain text
    starts_at: Mapped[timestamp] = mapped_column(index=True)
    ends_at: Mapped[timestamp]
    place: Mapped[str] = mapped_column(String(200), default="")  # either a place ...
    video_link: Mapped[str] = mapped_column(String(500), default="")  # ... or an https link
    capacity: Mapped[int] = mapped_column(Integer)
    registration_closes_at: Mapped[timestamp]
    trainer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    cancelled_at: Mapped[timestamp | None]
    # The iCalendar SEQUENCE: raised by every change, so calendars take the newest invitation.
    sequence: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[timestamp] = mapped_column(default=utcnow)

    course: Mapped[Course | None] = relationship()
    trainer: Mapped[User | None] = relationship()

    @property
    def cancelled(self) -> bool:
        return self.cancelled_at is not None

    @property
    def online(self) -> bool:
        return bool(self.video_link)


class SessionRegistration(Model):
    """A person's seat (or place on the waitlist, in the order registered) in a session."""

    __tablename__ = "session_registrations"
    __table_args__ = (UniqueConstraint("session_id", "user_id"),)

    id: Mapped[intpk]
    session_id: Mapped[int] = mapped_column(ForeignKey("training_sessions.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    registered_at: Mapped[timestamp] = mapped_column(default=utcnow)
    waitlisted: Mapped[bool] = mapped_column(Boolean, default=False)
    attended: Mapped[bool | None] = mapped_column(Boolean)  # None: not recorded yet

    session: Mapped[TrainingSession] = relationship()
    user: Mapped[User] = relationship()
