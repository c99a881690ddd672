"""Forms of the admin area that belong to no lower domain: the HR import's upload and confirmation."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, HiddenField
from wtforms.validators import DataRequired, Regexp

from lms.i18n import _l


class PeopleImportForm(FlaskForm):
    file = FileField(
        _l("Export of the HR system (CSV)"),
        validators=[FileRequired(message=_l("Choose a CSV file."))],
        description=_l("UTF-8 or Windows-1252, separated by semicolons or commas; the columns are described below."),
    )


class PeopleImportConfirmForm(FlaskForm):
    """Confirms the preview: the upload kept under `token`, its SHA-256, and the changes shown."""

    token = HiddenField(validators=[DataRequired(), Regexp(r"^[A-Za-z0-9_-]{43}$")])
    sha256 = HiddenField(validators=[DataRequired(), Regexp(r"^[0-9a-f]{64}$")])
    digest = HiddenField(validators=[DataRequired(), Regexp(r"^[0-9a-f]{64}$")])
    allow_mass_deactivation = BooleanField(_l("Yes, deactivate this many people: the export is complete."))


class PeopleImportCancelForm(FlaskForm):
    token = HiddenField(validators=[DataRequired(), Regexp(r"^[A-Za-z0-9_-]{43}$")])
