"""Confirmed levels as the person sees and answers them (issue 13): who confirmed what and when,
what it is based on and until when it counts; the person's comment and objection; HR's withdrawal.

An objection goes to every active holder of the HR and DPO roles. The level keeps counting while
objected: HR decides, and withdraws it if the objection is right (a withdrawn level never counts
again, and stays visible as withdrawn). Functions flush; the caller commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.orm import aliased, contains_eager

from lms.assignments.services import town_today
from lms.common.dates import utcnow
from lms.common.errors import ValidationFailed
from lms.common.text import note_problem
from lms.common.vocabulary import AuditAction, AuditField, EvidenceType, Role
from lms.extensions import db
from lms.frameworks.models import Competence
from lms.i18n import _
from lms.notifications import services as notifications
from lms.notifications.models import NotificationKind
from lms.notifications.texts import MAX_TEXT_PARAM
from lms.people.models import User, UserRole
from lms.privacy import services as privacy
from lms.skills.evidence import confirmation_expires_on
from lms.skills.models import Assessment

MAX_TEXT_LENGTH = 500  # Assessment.note, .comment, .objection
PROFILE_ANCHOR = "confirmations"


@dataclass(frozen=True)
class Confirmation:
    """A confirmed level as its profile shows it."""

    assessment: Assessment
    assessed_by: str | None  # the name; None once that person is deleted
    withdrawn_by: str | None
    expires_on: date
    today: date

    @property
    def competence(self) -> Competence:
        return self.assessment.competence

    @property
    def evidence_type_label(self) -> str:
        value = self.assessment.evidence_type
        return EvidenceType(value).label if value in set(EvidenceType) else value

    @property
    def expired(self) -> bool:
        return self.today >= self.expires_on

    @property
    def counts(self) -> bool:
        return not self.expired and not self.assessment.withdrawn


def confirmations_of(person: User) -> list[Confirmation]:
    """Every level confirmed for `person`, newest first, in one statement."""
    assessor, withdrawer = aliased(User), aliased(User)
    rows = db.session.execute(
        select(
            Assessment,
            assessor.given_name,
            assessor.family_name,
            withdrawer.given_name,
            withdrawer.family_name,
        )
        .join(Assessment.competence)
        .outerjoin(assessor, assessor.id == Assessment.assessed_by_id)
        .outerjoin(withdrawer, withdrawer.id == Assessment.withdrawn_by_id)
        .options(contains_eager(Assessment.competence))
        .where(Assessment.user_id == person.id)
        .order_by(Assessment.assessed_on.desc(), Assessment.id.desc())
    ).all()
    today = town_today()
    return [
        Confirmation(
            assessment,
            _name(assessor_given, assessor_family),
            _name(withdrawer_given, withdrawer_family),
            confirmation_expires_on(assessment.assessed_on),
            today,
        )
        for assessment, assessor_given, assessor_family, withdrawer_given, withdrawer_family in rows
    ]


def _name(given: str | None, family: str | None) -> str | None:
    return f"{given} {family}" if family is not None else None


def confirmation_of(person: User, assessment_id: int) -> Assessment | None:
    """A level confirmed for `person` with this id; None for anyone else's (or none)."""
    return db.session.execute(
        select(Assessment).where(Assessment.id == assessment_id, Assessment.user_id == person.id)
    ).scalar_one_or_none()


def _checked_text(field: str, text: str | None, required: str | None = None) -> str:
    text = (text or "").strip()
    if required and not text:
        raise ValidationFailed({field: required})
    if problem := note_problem(text, MAX_TEXT_LENGTH):
        raise ValidationFailed({field: problem})
    return text


def comment_on(assessment: Assessment, comment: str | None) -> None:
    """The person's comment on a level confirmed for them (empty: no comment); their manager and
    HR read it on the profile."""
    assessment.comment = _checked_text("comment", comment)
    db.session.flush()


def _audit_context(assessment: Assessment) -> dict:
    return {
        AuditField.CONFIRMATION: assessment.id,
        AuditField.COMPETENCE: assessment.competence.code,
        AuditField.LEVEL: assessment.level,
    }


def object_to(person: User, assessment: Assessment, reason: str | None, ip_address: str | None = None) -> bool:
    """The person objects to a level confirmed for them, with a reason. A new objection is
    audited and goes to HR and the DPO; a second one while the first stands only changes the
    reason. Answers whether it was new."""
    reason = _checked_text("reason", reason, _("Say why you object to this confirmation."))
    if assessment.withdrawn:
        raise ValidationFailed({"reason": _("HR has withdrawn this confirmation already: it no longer counts.")})
    new = not assessment.objected
    assessment.objection = reason
    if new:
        assessment.objected_on = town_today()
        privacy.record_event(person, AuditAction.OBJECT_CONFIRMATION, person, _audit_context(assessment), ip_address)
        _tell_objection(person, assessment)
    db.session.flush()
    return new


def withdraw_objection(person: User, assessment: Assessment, ip_address: str | None = None) -> None:
    if not assessment.objected:
        return
    assessment.objection, assessment.objected_on = "", None
    privacy.record_event(person, AuditAction.WITHDRAW_OBJECTION, person, _audit_context(assessment), ip_address)
    db.session.flush()


def withdraw_confirmation(actor: User, person: User, assessment: Assessment, ip_address: str | None = None) -> None:
    """HR withdraws a confirmed level (say, after an objection): it no longer counts, and stays on
    the profile as withdrawn. Audited. The caller checks that `actor` is HR."""
    if assessment.withdrawn:
        return
    assessment.withdrawn_on, assessment.withdrawn_by_id = town_today(), actor.id
    privacy.record(actor, [person], AuditAction.WITHDRAW_CONFIRMATION, _audit_context(assessment), ip_address)
    db.session.flush()


# --- telling people -------------------------------------------------------------------------


def _competence_text(competence: Competence, reader: User) -> str:
    """Code and title in the reader's language (a notification keeps the text it was given)."""
    title = competence.title_en if reader.locale == "en" and competence.title_en else competence.title_de
    return f"{competence.code} {title}"[:MAX_TEXT_PARAM]


def tell_confirmed(
    assessment: Assessment, person: User, assessor: User, competence: Competence, session: str | None = None
) -> bool:
    """Tell the person, in the app and by mail, who confirmed which level (`session`: the title of
    the session whose trainer did); the link leads to the confirmation on their profile, where
    they can comment or object."""
    params = {"person": assessor.name, "competence": _competence_text(competence, person), "level": assessment.level}
    if session:
        params["session"] = session[:MAX_TEXT_PARAM]
    return notifications.notify(
        person,
        NotificationKind.CONFIRMED,
        params,
        f"/profile/#{PROFILE_ANCHOR}",
        dedupe_key=f"assessment:{assessment.id}:confirmed",
    )


def _hr_and_dpo() -> list[User]:
    return list(
        db.session.execute(
            select(User)
            .where(
                User.active.is_(True),
                User.id.in_(select(UserRole.user_id).where(UserRole.role.in_([Role.HR, Role.DPO]))),
            )
            .order_by(User.id)
        ).scalars()
    )


def _tell_objection(person: User, assessment: Assessment) -> None:
    """In the app only, to every HR and DPO holder (not the person themself): HR is led to the
    profile, the DPO (who reads no profiles) to the audit trail of the objection."""
    occasion = utcnow().strftime("%Y%m%dT%H%M%S%f")  # an objection withdrawn and raised again is new
    for holder in _hr_and_dpo():
        if holder.id == person.id:
            continue
        if holder.has_role(Role.HR):
            link = f"/people/{person.id}/profile#{PROFILE_ANCHOR}"
        else:
            query = urlencode({"subject": person.email, "action": AuditAction.OBJECT_CONFIRMATION.value})
            link = f"/privacy/audit?{query}"
        notifications.notify(
            holder,
            NotificationKind.OBJECTION,
            {"person": person.name, "competence": _competence_text(assessment.competence, holder)},
            link,
            dedupe_key=f"assessment:{assessment.id}:objection:{occasion}:{holder.id}",
            mail=False,
        )
