from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, IntegerField, SelectField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from lms.common.forms import optional_int
from lms.i18n import _l


class MatrixFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET filter changes nothing

    department = SelectField(_l("Department"), coerce=optional_int, validators=[Optional()], validate_choice=False)
    job_role = SelectField(_l("Job role"), coerce=optional_int, validators=[Optional()], validate_choice=False)
    area = SelectField(_l("Competence area"), validators=[Optional()], validate_choice=False)
    gaps = BooleanField(_l("Only people with gaps"))
    page = IntegerField(validators=[Optional()], default=1)


class SelfAssessmentForm(FlaskForm):
    competence_id = HiddenField(validators=[DataRequired()])
    level = SelectField(_l("My own estimate"), coerce=int, validators=[InputRequired(), NumberRange(0, 8)])


class AssessmentForm(FlaskForm):
    competence_id = SelectField(_l("Competence"), coerce=int, validators=[InputRequired()], validate_choice=False)
    level = SelectField(_l("Confirmed level"), coerce=int, validators=[InputRequired(), NumberRange(1, 8)])
    note = TextAreaField(
        _l("Note"),
        validators=[DataRequired(), Length(max=500)],
        description=_l("What the level is based on, e.g. observed in daily work."),
    )
