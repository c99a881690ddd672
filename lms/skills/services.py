"""Skills: self-assessments and confirmed assessments. Functions flush; the caller commits."""

from __future__ import annotations

from wtforms.fields.choices import SelectChoice

from lms.common.errors import ValidationFailed
from lms.common.forms import optional_int
from lms.extensions import db
from lms.frameworks.models import Competence
from lms.frameworks.services import default_framework, max_level
from lms.i18n import _
from lms.people.models import User
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


def record_self_assessment(user: User, competence_id, level: int) -> SelfAssessment:
    competence = _competence_of_default_framework(competence_id)
    if not 0 <= level <= max_level():
        raise ValidationFailed({"level": _("Choose a level from 0 to %(max)d.", max=max_level())})
    entry = SelfAssessment(user_id=user.id, competence_id=competence.id, level=level)
    db.session.add(entry)
    db.session.flush()
    return entry


def record_assessment(assessor: User, person: User, competence_id, level: int, note: str) -> Assessment:
    competence = _competence_of_default_framework(competence_id)
    if not 1 <= level <= max_level():
        raise ValidationFailed({"level": _("Choose a level from 1 to %(max)d.", max=max_level())})
    entry = Assessment(
        user_id=person.id, competence_id=competence.id, level=level, note=note.strip()[:500], assessed_by_id=assessor.id
    )
    db.session.add(entry)
    db.session.flush()
    return entry


def level_choices(include_zero: bool = False) -> list[SelectChoice]:
    framework = default_framework()
    levels = framework.levels if framework else []
    choices = [SelectChoice(0, _("0 – not yet"))] if include_zero else []
    return choices + [SelectChoice(level.level, f"{level.level} – {level.t('band')}") for level in levels]
