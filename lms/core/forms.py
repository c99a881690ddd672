from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms.validators import DataRequired

from lms.i18n import _l


class LanguageForm(FlaskForm):
    language = SelectField(_l("Language"), choices=[("de", "Deutsch"), ("en", "English")], validators=[DataRequired()])
