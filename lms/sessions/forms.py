"""Forms of sessions. The rules (times in order, a place or an https video link, seats) live in
lms.sessions.services; the forms carry the CSRF token and the values, and show the service's
errors next to the fields."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional
from wtforms.widgets import NumberInput

from lms.common.forms import optional_int, strip_text
from lms.i18n import _l
from lms.sessions.services import MAX_CAPACITY, MAX_DESCRIPTION, SessionData

WALL_CLOCK = "%Y-%m-%dT%H:%M"  # what <input type="datetime-local"> sends


class _Needed:
    """Marks a field required (label and `required` attribute) and leaves the check to the
    service, which names every problem at once, next to its field."""

    field_flags = {"required": True}

    def __call__(self, form, field) -> None:
        return None


class SessionForm(FlaskForm):
    title = StringField(_l("Title"), filters=[strip_text], validators=[_Needed()])
    course_id = SelectField(
        _l("Course"),
        coerce=optional_int,
        validate_choice=False,
        validators=[Optional()],
        description=_l("The course the session belongs to, if any; its page lists the session."),
    )
    starts_at = DateTimeLocalField(_l("Starts"), format=WALL_CLOCK, validators=[_Needed(), Optional()])
    ends_at = DateTimeLocalField(_l("Ends"), format=WALL_CLOCK, validators=[_Needed(), Optional()])
    registration_closes_at = DateTimeLocalField(
        _l("Registration closes"),
        format=WALL_CLOCK,
        validators=[_Needed(), Optional()],
        description=_l("At the latest when the session starts."),
    )
    place = StringField(
        _l("Place"),
        filters=[strip_text],
        description=_l("For a session on site: building and room. Leave empty for an online session."),
    )
    video_link = StringField(
        _l("Video link"),
        filters=[strip_text],
        description=_l("For an online session: the address of the video meeting, starting with https://."),
        render_kw={"inputmode": "url", "autocomplete": "off", "spellcheck": "false"},
    )
    capacity = IntegerField(
        _l("Seats"),
        validators=[_Needed(), Optional()],
        widget=NumberInput(step=1, min=1, max=MAX_CAPACITY),
        render_kw={"inputmode": "numeric", "autocomplete": "off"},
    )
    description = TextAreaField(
        _l("Description"),
        filters=[strip_text],
        validators=[Optional(), Length(max=MAX_DESCRIPTION)],
        description=_l("Plain text: what the session is about, what to bring."),
    )

    def session_data(self, zone: ZoneInfo) -> SessionData:
        return SessionData(
            title=self.title.data or "",
            starts_at=_in_zone(self.starts_at.data, zone),
            ends_at=_in_zone(self.ends_at.data, zone),
            registration_closes_at=_in_zone(self.registration_closes_at.data, zone),
            capacity=self.capacity.data,
            place=self.place.data or "",
            video_link=self.video_link.data or "",
            description=self.description.data or "",
            course_id=self.course_id.data,
        )


def _in_zone(value: datetime | None, zone: ZoneInfo) -> datetime | None:
    """A wall-clock time typed in the town, as an aware moment."""
    return value.replace(tzinfo=zone) if value is not None else None


class ConfirmationForm(FlaskForm):
    """A level the trainer confirms for a person who attended; the evidence type is fixed."""

    registration_id = SelectField(
        _l("Person"), coerce=optional_int, validate_choice=False, validators=[InputRequired()]
    )
    competence_id = SelectField(_l("Competence"), coerce=int, validators=[InputRequired()], validate_choice=False)
    level = SelectField(
        _l("Confirmed level"),
        coerce=int,
        validators=[InputRequired()],
        description=_l("A confirmation can only raise the verified level."),
    )
    note = TextAreaField(
        _l("Note"),
        filters=[strip_text],
        validators=[Optional(), Length(max=500)],
        description=_l("Short, at most 500 characters. The person reads it."),
    )
