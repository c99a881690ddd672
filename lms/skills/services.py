"""Skills: self-assessments and confirmed assessments. Functions flush; the caller commits."""

from __future__ import annotations

from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from lms.assignments.services import town_today
from lms.common.dates import utcnow
from lms.common.errors import ValidationFailed
from lms.common.forms import optional_int
from lms.common.text import note_problem
from lms.common.vocabulary import AuditAction, AuditField, EvidenceType
from lms.extensions import db
from lms.frameworks.models import Competence
from lms.frameworks.services import default_framework, max_level
from lms.i18n import _
from lms.people.models import User
from lms.privacy import services as privacy
from lms.skills import confirmations
from lms.skills.evidence import current_level, evidence_for
from lms.skills.models import Assessment, SelfAssessment


def _competence_of_default_framework(competence_id) -> Competence:
    framework = default_framework()
    try:
        competence_key = optional_int(competence_id)
    except (TypeError, ValueError):
        competence_key = None
    competence = db.session.get(Competence, competence_key) if competence_key is not None else None
    if competence is None or framework is None or competence.framework_id != framework.id or competence.retired:
        raise ValidationFailed({"competence_id": _("This competence is not part of the framework in use.")})
    return competence


def _own_estimate(user: User, competence_id: int) -> SelfAssessment | None:
    return db.session.execute(
        select(SelfAssessment).where(SelfAssessment.user_id == user.id, SelfAssessment.competence_id == competence_id)
    ).scalar_one_or_none()


def record_self_assessment(user: User, competence_id, level: int) -> SelfAssessment:
    """The person's estimate: only the latest is kept; whether it is shared stays as it was."""
    competence = _competence_of_default_framework(competence_id)
    if not 0 <= level <= max_level():
        raise ValidationFailed({"level": _("Choose a level from 0 to %(max)d.", max=max_level())})
    entry = _own_estimate(user, competence.id)
    if entry is None:
        entry = SelfAssessment(user_id=user.id, competence_id=competence.id, level=level)
        db.session.add(entry)
    entry.level, entry.assessed_at = level, utcnow()
    db.session.flush()
    return entry


def share_self_assessment(user: User, competence_id, shared: bool) -> SelfAssessment:
    """Show the estimate to the person's manager and HR, or stop showing it."""
    competence = _competence_of_default_framework(competence_id)
    entry = _own_estimate(user, competence.id)
    if entry is None:
        raise ValidationFailed({"competence_id": _("You have not estimated this competence yet.")})
    entry.shared = shared
    db.session.flush()
    return entry


def shared_estimates(user: User) -> set[int]:
    """The competences whose estimate the person shows to their manager and HR."""
    return set(
        db.session.execute(
            select(SelfAssessment.competence_id).where(
                SelfAssessment.user_id == user.id, SelfAssessment.shared.is_(True)
            )
        ).scalars()
    )


def delete_self_assessment(user: User, competence_id) -> None:
    competence = _competence_of_default_framework(competence_id)
    entry = _own_estimate(user, competence.id)
    if entry is not None:
        db.session.delete(entry)
        db.session.flush()


MAX_NOTE_LENGTH = confirmations.MAX_TEXT_LENGTH  # Assessment.note


class AssessmentRefused(Exception):
    """The assessor may not confirm a level for this person; `message` says why."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def assessment_refusal(assessor: User, person: User) -> str | None:
    """Why `assessor` may not confirm a level for `person`, or None when they may."""
    if assessor.id == person.id:
        return _("Nobody can confirm their own level. Your manager confirms your levels.")
    if not privacy.may_assess(assessor, person):
        return _("You can confirm levels only for people of the departments you head whose levels you may see.")
    return None


def verified_level(person: User, competence_id: int) -> int:
    """The person's current verified level in one competence (valid completions, unexpired
    confirmations HR has not withdrawn): what a new confirmation must exceed."""
    evidence = evidence_for([person.id], [competence_id], viewer_id=None)
    return current_level(evidence.get(person.id, {}).get(competence_id, []))


def _confirmation_errors(
    person: User, competence: Competence, level: int, evidence_type: str, note: str, reveal_current: bool = True
) -> dict:
    errors: dict[str, str] = {}
    if not 1 <= level <= max_level():
        errors["level"] = _("Choose a level from 1 to %(max)d.", max=max_level())
    elif level <= (current := verified_level(person, competence.id)) and reveal_current:
        errors["level"] = _(
            "Level %(current)d is already verified in this competence. A confirmation can only raise the "
            "level: choose a higher one.",
            current=current,
        )
    elif level <= current:  # a trainer, who does not see the person's levels, is not told this one
        errors["level"] = _(
            "This level is already verified for the person in this competence (or a higher one). A"
            " confirmation can only raise the level."
        )
    if evidence_type not in set(EvidenceType):
        errors["evidence_type"] = _("Choose what the level is based on from the list.")
    if note and (problem := note_problem(note, MAX_NOTE_LENGTH)):
        errors["note"] = problem
    return errors


def record_assessment(
    assessor: User,
    person: User,
    competence_id,
    level: int,
    evidence_type: str,
    note: str = "",
    ip_address: str | None = None,
) -> Assessment:
    """Confirm a level for `person`: audited, and the person is told (in the app and by mail).

    Raises AssessmentRefused when the assessor may not (their own level; someone outside their
    departments; the `compliance-only` preset) — the caller records the refused attempt — and
    ValidationFailed for a bad competence, level (also one not above the verified level: a
    confirmation only raises), evidence type or note (optional; the person reads it).
    """
    refusal = assessment_refusal(assessor, person)
    if refusal:
        raise AssessmentRefused(refusal)
    return _confirm(assessor, person, competence_id, level, evidence_type, note, ip_address)


def record_confirmation_by_trainer(
    trainer: User,
    person: User,
    competence_id,
    level: int,
    session_title: str,
    *,
    authority_refusal: str | None,
    note: str = "",
    ip_address: str | None = None,
) -> Assessment:
    """A level confirmed by the trainer of a session the person attended, under a manager's rules:
    never one's own level, only raising the verified level, audited, the person told (and able to
    comment or object); its evidence is always "in-person training session". Who may is the
    caller's verdict, `authority_refusal` (sessions checks that `trainer` ran the session and
    `person` attended it; None: they may). Raises AssessmentRefused and ValidationFailed as
    `record_assessment` does; the level a refusal would reveal is not named (a trainer does not
    see the person's levels)."""
    if trainer.id == person.id:
        raise AssessmentRefused(_("Nobody can confirm their own level."))
    if authority_refusal:
        raise AssessmentRefused(authority_refusal)
    return _confirm(
        trainer, person, competence_id, level, EvidenceType.IN_PERSON_SESSION, note, ip_address, session_title
    )


def _confirm(
    assessor: User,
    person: User,
    competence_id,
    level: int,
    evidence_type: str,
    note: str,
    ip_address: str | None,
    session_title: str | None = None,
) -> Assessment:
    competence = _competence_of_default_framework(competence_id)
    note = (note or "").strip()
    reveal = session_title is None
    if errors := _confirmation_errors(person, competence, level, evidence_type, note, reveal_current=reveal):
        raise ValidationFailed(errors)
    entry = Assessment(
        user_id=person.id,
        competence_id=competence.id,
        level=level,
        evidence_type=EvidenceType(evidence_type),
        note=note,
        assessed_by_id=assessor.id,
        assessed_on=town_today(),  # the town's day
    )
    db.session.add(entry)
    db.session.flush()
    privacy.record(
        assessor,
        [person],
        AuditAction.ASSESS,
        {AuditField.COMPETENCE: competence.code, AuditField.LEVEL: level, AuditField.EVIDENCE_TYPE: evidence_type},
        ip_address,
    )
    confirmations.tell_confirmed(entry, person, assessor, competence, session_title)
    return entry


def level_choices(include_zero: bool = False) -> list[SelectChoice]:
    framework = default_framework()
    levels = framework.levels if framework else []
    choices = [SelectChoice(0, _("0 – not yet"))] if include_zero else []
    return choices + [SelectChoice(level.level, f"{level.level} – {level.t('band')}") for level in levels]
