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
    level = SelectField(
        _l("Confirmed level"),
        coerce=int,
        validators=[InputRequired(), NumberRange(1, 8)],
        description=_l("A confirmation can only raise the verified level."),
    )
    evidence_type = SelectField(
        _l("Based on"),
        validators=[DataRequired(message=_l("Choose what the level is based on from the list."))],
    )
    note = TextAreaField(
        _l("Note"),
        validators=[Optional(), Length(max=500)],
        description=_l("Short, at most 500 characters. The person reads it."),
    )


class ConfirmationCommentForm(FlaskForm):
    """The person's comment on a level confirmed for them; its prefix is the confirmation's id."""

    comment = TextAreaField(
        _l("My comment"),
        validators=[Optional(), Length(max=500)],
        description=_l("Your manager and HR read it. Leave it empty to remove your comment."),
    )


class ObjectionForm(FlaskForm):
    reason = TextAreaField(
        _l("Why I object"),
        validators=[DataRequired(message=_l("Say why you object to this confirmation.")), Length(max=500)],
        description=_l("HR and the data protection officer are told. The level counts until HR withdraws it."),
    )
