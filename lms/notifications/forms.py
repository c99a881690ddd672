"""Forms of the notification pages."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField
from wtforms.validators import Optional

from lms.i18n import _, _l
from lms.notifications.models import OutboxStatus


class MailPreferenceForm(FlaskForm):
    optional_mails = BooleanField(
        _l("Send me optional e-mails, such as the overview of my open trainings"),
        description=_l("E-mails about mandatory trainings (assignments, deadlines, reminders) are always sent."),
    )


class OutboxFilterForm(FlaskForm):
    """The administrators' filter of the outbox (a GET: it changes nothing)."""

    class Meta:
        csrf = False

    status = SelectField(_l("Status"), validators=[Optional()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.status.choices = [("", _("All"))] + [(status.value, status.label) for status in OutboxStatus]

    @property
    def chosen(self) -> OutboxStatus | None:
        return OutboxStatus(self.status.data) if self.status.data in set(OutboxStatus) else None
