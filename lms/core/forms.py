from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired

from lms.i18n import _l


class LanguageForm(FlaskForm):
    language = SelectField(
        _l("Language"),
        choices=[SelectChoice("de", "Deutsch"), SelectChoice("en", "English")],
        validators=[DataRequired()],
    )
