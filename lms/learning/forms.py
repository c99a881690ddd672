"""Forms of the learner's pages. The rules live in the services (lms.learning.feedback); a form
carries the CSRF token and the values, and shows the service's errors next to the fields."""

from flask_wtf import FlaskForm
from wtforms import RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Optional

from lms.common.forms import strip_text
from lms.common.vocabulary import CourseLength
from lms.i18n import _l
from lms.learning.feedback import MAX_COMMENT_LENGTH, RATINGS

HELPFUL_LABELS = {1: _l("1 – not helpful"), 5: _l("5 – very helpful")}


class CourseFeedbackForm(FlaskForm):
    helpful = RadioField(
        _l("How helpful was the course for your work?"),
        choices=[SelectChoice(str(r), HELPFUL_LABELS.get(r, str(r))) for r in RATINGS],
        validate_choice=False,
        validators=[Optional()],
    )
    length = RadioField(
        _l("Was the course the right length?"),
        validate_choice=False,
        validators=[Optional()],
    )
    comment = TextAreaField(
        _l("Comment"),
        validators=[Optional()],
        render_kw={"rows": 5, "maxlength": MAX_COMMENT_LENGTH},
        description=_l(
            "What helped you, what was missing? At most %(max)d characters. Please do not name people: "
            "the feedback is about the course, not about the people who teach or attend it.",
            max=MAX_COMMENT_LENGTH,
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Labels in the reader's language: built per request, not at import.
        self.length.choices = [SelectChoice(str(c), c.label) for c in CourseLength]


class CertificateCheckForm(FlaskForm):
    """The verification page's one field (lms.learning.certificate_views); the service says what
    is wrong with a code, next to the field."""

    code = StringField(
        _l("Verification code"),
        filters=[strip_text],
        validators=[InputRequired(message=_l("Please enter the code from the certificate."))],
        render_kw={"autocomplete": "off", "spellcheck": "false", "maxlength": 60},
        description=_l("As printed on the certificate, e.g. LP-7K3M-9QXR-2HFD-8WNA."),
    )
