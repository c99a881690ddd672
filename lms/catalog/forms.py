from flask_wtf import FlaskForm
from wtforms import SearchField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from lms.i18n import _l

LANGUAGE_NAMES = {"de": "Deutsch", "en": "English"}


class CatalogueFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search changes nothing

    q = SearchField(
        _l("Search"), validators=[Optional(), Length(max=100)], description=_l("Words from the title or summary")
    )
    area = SelectField(_l("Competence area"), validators=[Optional()], validate_choice=False)
    competence = SelectField(_l("Competence"), validators=[Optional()], validate_choice=False)
    duration = SelectField(
        _l("Duration"),
        validators=[Optional()],
        choices=[
            SelectChoice("", _l("Any duration")),
            SelectChoice("short", _l("up to 15 minutes")),
            SelectChoice("medium", _l("16 to 30 minutes")),
            SelectChoice("long", _l("more than 30 minutes")),
        ],
    )
    language = SelectField(_l("Language"), validators=[Optional()], validate_choice=False)
    tag = SelectField(_l("Topic"), validators=[Optional()], validate_choice=False)

    def fill_choices(self, options: dict) -> None:
        self.area.choices = [SelectChoice("", _l("All areas"))] + [
            SelectChoice(a.code, f"{a.code} {a.t('title')}") for a, _c in options["areas"]
        ]
        self.competence.choices = [SelectChoice("", _l("All competences"))] + [
            SelectChoice(c.code, f"{c.code} {c.t('title')}")
            for _a, competences in options["areas"]
            for c in competences
        ]
        self.language.choices = [SelectChoice("", _l("All languages"))] + [
            SelectChoice(code, LANGUAGE_NAMES.get(code, code)) for code in options["languages"]
        ]
        self.tag.choices = [SelectChoice("", _l("All topics"))] + [SelectChoice(tag) for tag in options["tags"]]
