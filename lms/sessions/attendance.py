"""After a session: its trainer marks each seat holder attended or not (nothing else: no reason
for an absence), and may confirm a competence level for those who attended — under a manager's
rules, which lms.skills enforces (never one's own, only raising, the person told and able to
object); who may is decided here. Functions flush; the caller commits.
"""

from __future__ import annotations

from datetime import datetime

from lms.common.dates import as_utc
from lms.extensions import db
from lms.i18n import _
from lms.learning import services as learning
from lms.people.models import User
from lms.sessions.models import SessionRegistration, TrainingSession
from lms.sessions.services import seat_holders
from lms.skills import services as skills
from lms.skills.models import Assessment


def attendance_refusal(person: User, session: TrainingSession, now: datetime) -> str | None:
    """Why `person` may not record attendance (only the session's trainer, once it has started)."""
    if session.trainer_id != person.id:
        return _("Only the trainer of the session records attendance.")
    if session.cancelled:
        return _("This session has been cancelled.")
    if now < as_utc(session.starts_at):
        return _("Attendance can be recorded once the session has started.")
    return None


def record_attendance(session: TrainingSession, attended_ids: set[int]) -> list[SessionRegistration]:
    """Mark every seat holder attended (their registration's id in `attended_ids`) or not; nothing
    else is stored. A session of a course completes the course for those who attended (it stays
    when the participant list is purged; unmarking later keeps it). Answers the seat holders."""
    holders = seat_holders(session)
    for registration in holders:
        registration.attended = registration.id in attended_ids
    db.session.flush()
    if session.course is not None and not session.course.archived:
        for registration in holders:
            if registration.attended:
                learning.complete_by_attendance(registration.user, session.course, session.ends_at)
        db.session.flush()
    return holders


def attendees(session: TrainingSession) -> list[SessionRegistration]:
    return [registration for registration in seat_holders(session) if registration.attended]


def confirmation_refusal(
    trainer: User, session: TrainingSession, registration: SessionRegistration | None
) -> str | None:
    """Why `trainer` may not confirm a level for this registration's person, or None."""
    if session.trainer_id != trainer.id:
        return _("Only the trainer of the session confirms levels for its participants.")
    if registration is None or registration.session_id != session.id or registration.attended is not True:
        return _("Levels can be confirmed only for people marked as attended.")
    return None


def confirm_level(
    trainer: User,
    session: TrainingSession,
    registration: SessionRegistration | None,
    competence_id,
    level: int,
    note: str = "",
    ip_address: str | None = None,
) -> Assessment:
    """Confirm a level for a person who attended (skills.AssessmentRefused, ValidationFailed)."""
    refusal = confirmation_refusal(trainer, session, registration)
    if registration is None:
        raise skills.AssessmentRefused(refusal or "")
    return skills.record_confirmation_by_trainer(
        trainer,
        registration.user,
        competence_id,
        level,
        session.title,
        authority_refusal=refusal,
        note=note,
        ip_address=ip_address,
    )
