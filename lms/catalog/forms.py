from flask_wtf import FlaskForm
from wtforms import SearchField, SelectField
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
            ("", _l("Any duration")),
            ("short", _l("up to 15 minutes")),
            ("medium", _l("16 to 30 minutes")),
            ("long", _l("more than 30 minutes")),
        ],
    )
    language = SelectField(_l("Language"), validators=[Optional()], validate_choice=False)
    tag = SelectField(_l("Topic"), validators=[Optional()], validate_choice=False)

    def fill_choices(self, options: dict) -> None:
        self.area.choices = [("", _l("All areas"))] + [
            (a.code, f"{a.code} {a.t('title')}") for a, _c in options["areas"]
        ]
        self.competence.choices = [("", _l("All competences"))] + [
            (c.code, f"{c.code} {c.t('title')}") for _a, competences in options["areas"] for c in competences
        ]
        self.language.choices = [("", _l("All languages"))] + [
            (code, LANGUAGE_NAMES.get(code, code)) for code in options["languages"]
        ]
        self.tag.choices = [("", _l("All topics"))] + [(tag, tag) for tag in options["tags"]]
