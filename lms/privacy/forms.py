from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, HiddenField, SelectField, StringField
from wtforms.validators import Length, Optional, ValidationError

from lms.common.vocabulary import AuditAction
from lms.i18n import _, _l


class AuditFilterForm(FlaskForm):
    """The DPO's filter of the audit log (a GET: it changes nothing)."""

    class Meta:
        csrf = False

    actor = StringField(_l("Who"), validators=[Optional(), Length(max=200)])
    subject = StringField(_l("Whose data"), validators=[Optional(), Length(max=200)])
    action = SelectField(_l("Action"), validators=[Optional()])
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("Until"), validators=[Optional()])
    self_granted = BooleanField(_l("Only roles people granted themselves"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.action.choices = [("", _("All actions"))] + [(action.value, action.label) for action in AuditAction]

    def validate_date_to(self, field):
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_("The end date must not be before the start date."))


class NoticeReadForm(FlaskForm):
    """“I have read it”: the person confirms the privacy notice's current version."""

    next = HiddenField(validators=[Optional(), Length(max=500)])  # where sign-in was going
