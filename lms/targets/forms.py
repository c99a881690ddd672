"""Forms for target profiles. The rules (level range, months, competence) live in lms.targets.services;
these forms carry the CSRF token and the values, and show the service's errors next to the fields."""

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional
from wtforms.widgets import NumberInput

from lms.common.forms import strip_text
from lms.i18n import _, _l
from lms.targets.services import MAX_NOTE_LENGTH, MAX_RECERT_MONTHS, level_field, months_field


def _int_or_raw(value):
    """Whole numbers as int; anything else is kept, so the service can name the mistake."""
    if value in (None, "", "None"):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return value


def level_choices(levels, none_label) -> list[SelectChoice]:
    """ "no target", then each level with its band name (1 – Foundation … 8 – Highly specialised)."""
    return [SelectChoice(0, none_label)] + [
        SelectChoice(level.level, f"{level.level} – {level.t('band')}") for level in levels
    ]


def _months_field(label, description=None) -> StringField:
    return StringField(
        label,
        description=description,
        validators=[Optional()],
        widget=NumberInput(step=1, min=1, max=MAX_RECERT_MONTHS),
        filters=[strip_text],
        render_kw={"inputmode": "numeric", "autocomplete": "off"},
    )


class TargetProfileForm(FlaskForm):
    """A level and a "show again every … months" per competence; fields are added per framework."""

    @classmethod
    def build(cls, areas, levels, targets: dict):
        """A form with one row per (active) competence of `areas`, filled from `targets` on GET."""

        form_class = type("TargetProfileRows", (cls,), {})  # a fresh class: fields differ per framework

        choices = level_choices(levels, _("no target"))
        data = {}
        for area in areas:
            for competence in area.active_competences:
                name = f"{competence.code} {competence.t('title')}"
                setattr(
                    form_class,
                    level_field(competence.id),
                    SelectField(
                        _("Target level for %(competence)s", competence=name),
                        choices=choices,
                        coerce=_int_or_raw,
                        validate_choice=False,
                        validators=[Optional()],
                    ),
                )
                setattr(
                    form_class,
                    months_field(competence.id),
                    _months_field(_("Show again every … months, for %(competence)s", competence=name)),
                )
                target = targets.get(competence.id)
                data[level_field(competence.id)] = target.level if target else 0
                data[months_field(competence.id)] = str(target.recert_months) if target and target.recert_months else ""
        return form_class(data=data)

    def values_for(self, competence_ids) -> dict[int, tuple]:
        """{competence id: (level, recert_months)} as sent."""
        return {cid: (self[level_field(cid)].data, self[months_field(cid)].data) for cid in competence_ids}


class PersonalTargetForm(FlaskForm):
    competence_id = SelectField(_l("Competence"), coerce=_int_or_raw, validate_choice=False, validators=[Optional()])
    level = SelectField(
        _l("Target level"),
        coerce=_int_or_raw,
        validate_choice=False,
        validators=[Optional()],
        description=_l("Choose “no target” to remove the individual target."),
    )
    recert_months = _months_field(
        _l("Show again every … months"), description=_l("Leave empty if the level need not be shown again.")
    )
    note = TextAreaField(
        _l("Note"),
        filters=[strip_text],
        validators=[Optional()],
        render_kw={"rows": 3, "maxlength": MAX_NOTE_LENGTH},
        description=_l("For example: agreed in the annual staff talk on 12 March."),
    )

    def fill_choices(self, areas, levels) -> None:
        self.competence_id.choices = [SelectChoice("", _("– choose a competence –"))] + [
            SelectChoice(
                competence.id, f"{competence.code} {competence.t('title')}", optgroup=f"{area.code} {area.t('title')}"
            )
            for area in areas
            for competence in area.active_competences
        ]
        self.level.choices = level_choices(levels, _("no target (remove)"))
