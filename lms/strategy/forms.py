"""The form of a strategy target. The rules live in lms.strategy.services; the form carries the
CSRF token and the values, and shows the service's errors next to the fields."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional
from wtforms.widgets import DateInput, NumberInput

from lms.common.forms import strip_text
from lms.i18n import _, _l


def _raw(value):
    """Keep what was sent: the service names any mistake next to the field."""
    return None if value in (None, "None") else value


class StrategyTargetForm(FlaskForm):
    competence_id = SelectField(_l("Competence"), coerce=_raw, validate_choice=False, validators=[Optional()])
    level = SelectField(
        _l("Minimum level"),
        coerce=_raw,
        validate_choice=False,
        validators=[Optional()],
        description=_l("People at this level or above count towards the target."),
    )
    share_percent = StringField(
        _l("Share of the people, in percent"),
        validators=[Optional()],
        filters=[strip_text],
        widget=NumberInput(step=1, min=1, max=100),
        render_kw={"inputmode": "numeric", "autocomplete": "off"},
        description=_l("A whole number from 1 to 100, e.g. 80."),
    )
    deadline = StringField(
        _l("Deadline"),
        validators=[Optional()],
        filters=[strip_text],
        widget=DateInput(),
        description=_l("The day by which the share is to be reached, e.g. 31.12.2027."),
    )
    department_id = SelectField(
        _l("Department"),
        coerce=_raw,
        validate_choice=False,
        validators=[Optional()],
        description=_l("Its sub-departments count too. Without one, the whole administration counts."),
    )

    def fill_choices(self, areas, levels, departments) -> None:
        """Competences of the default framework by area, its levels, and the departments in tree order."""
        self.competence_id.choices = [SelectChoice("", _("– choose a competence –"))] + [
            SelectChoice(
                str(competence.id),
                f"{competence.code} {competence.t('title')}",
                optgroup=f"{area.code} {area.t('title')}",
            )
            for area in areas
            for competence in area.active_competences
        ]
        self.level.choices = [SelectChoice("", _("– choose a level –"))] + [
            SelectChoice(str(level.level), f"{level.level} – {level.t('band')}") for level in levels
        ]
        self.department_id.choices = [SelectChoice("", _("The whole administration"))] + [
            SelectChoice(str(node.department.id), f"{'– ' * node.depth}{node.department.code} {node.department.name}")
            for node in departments
        ]
