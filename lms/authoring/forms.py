"""Forms of the course editor. The rules live in the services; the forms carry the values, the
CSRF token and the base (the state of the file the form was opened on), and show the services'
errors next to their fields."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    FieldList,
    FormField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms import Form as PlainForm
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from lms.common.forms import optional_int, strip_text
from lms.i18n import _l

LANGUAGE_CHOICES = [SelectChoice("de", _l("German")), SelectChoice("en", _l("English"))]
ANSWER_ROWS = 6


class NewCourseForm(FlaskForm):
    title = StringField(_l("Title"), filters=[strip_text], validators=[DataRequired(), Length(max=300)])
    slug = StringField(
        _l("Short name"),
        filters=[strip_text],
        validators=[DataRequired(), Length(max=80)],
        description=_l("Part of the course's address, e.g. e-akte-grundlagen. It cannot be changed later."),
    )
    summary = TextAreaField(
        _l("Summary"), filters=[strip_text], validators=[DataRequired(), Length(max=1000)], render_kw={"rows": 3}
    )
    language = SelectField(_l("Language"), choices=LANGUAGE_CHOICES)


class SettingsForm(FlaskForm):
    """course.md's front matter and introduction; competence levels are added per framework."""

    base = HiddenField()
    title = StringField(_l("Title"), filters=[strip_text], validators=[DataRequired(), Length(max=300)])
    summary = TextAreaField(
        _l("Summary"), filters=[strip_text], validators=[DataRequired(), Length(max=1000)], render_kw={"rows": 3}
    )
    language = SelectField(_l("Language"), choices=LANGUAGE_CHOICES)
    duration_minutes = IntegerField(
        _l("Duration in minutes"),
        validators=[Optional(), NumberRange(min=1, max=600)],
        description=_l("Leave it empty to have it worked out from the text and the questions."),
    )
    tags = StringField(
        _l("Tags"), filters=[strip_text], description=_l("Separated by commas, e.g. sicherheit, e-mail.")
    )
    pass_score = IntegerField(_l("Pass score in percent"), validators=[Optional(), NumberRange(min=0, max=100)])
    valid_months = IntegerField(
        _l("Valid for months"),
        validators=[Optional(), NumberRange(min=1, max=120)],
        description=_l("A completion expires after this many months (for trainings to be repeated)."),
    )
    intro = TextAreaField(_l("Introduction (Markdown)"), render_kw={"rows": 8})


class LessonForm(FlaskForm):
    base = HiddenField()
    title = StringField(_l("Title"), filters=[strip_text], validators=[DataRequired(), Length(max=300)])
    body = TextAreaField(
        _l("Text (Markdown)"),
        render_kw={"rows": 18, "data-preview": "lesson-preview"},
        description=_l("Headings start with ##. Quiz questions are edited below the text."),
    )
    draw = IntegerField(
        _l("Questions asked per attempt"),
        validators=[Optional(), NumberRange(min=1, max=50)],
        description=_l("Leave it empty to ask all of the lesson's questions."),
    )


class NewLessonForm(FlaskForm):
    title = StringField(
        _l("Title of the new lesson"), filters=[strip_text], validators=[DataRequired(), Length(max=300)]
    )


class AnswerForm(PlainForm):
    text = StringField(_l("Answer"), filters=[strip_text], validators=[Length(max=500)])
    correct = BooleanField(_l("Correct"))


class QuestionForm(FlaskForm):
    base = HiddenField()
    question = TextAreaField(
        _l("Question"), filters=[strip_text], validators=[DataRequired(), Length(max=2000)], render_kw={"rows": 3}
    )
    kind = RadioField(
        _l("Answers"),
        choices=[
            SelectChoice("single", _l("Exactly one answer is right")),
            SelectChoice("multiple", _l("One or more answers are right")),
        ],
        default="single",
    )
    answers = FieldList(FormField(AnswerForm), min_entries=ANSWER_ROWS, max_entries=ANSWER_ROWS)
    shuffle = BooleanField(_l("Show the answers in a new order each time"), default=True)
    explanation = TextAreaField(
        _l("Explanation"),
        filters=[strip_text],
        validators=[Length(max=2000)],
        render_kw={"rows": 3},
        description=_l("Shown after answering: why the right answers are right."),
    )


class ImageForm(FlaskForm):
    image = FileField(
        _l("Image (PNG, JPEG or WebP, at most 2 MB)"), validators=[FileRequired(message=_l("Choose an image file."))]
    )
    alt = StringField(
        _l("Alt text"),
        filters=[strip_text],
        validators=[
            InputRequired(message=_l("Describe the image for people who cannot see it (alt text).")),
            Length(max=300),
        ],
        description=_l("What the image shows, for people who cannot see it."),
    )
    lesson = SelectField(_l("Insert into lesson"), validate_choice=False)


class PublishForm(FlaskForm):
    note = TextAreaField(
        _l("Change note"),
        filters=[strip_text],
        validators=[Length(max=1000)],
        render_kw={"rows": 2},
        description=_l("What changed, in a few words. Shown in the version history."),
    )


class ImportForm(FlaskForm):
    archive = FileField(_l("Zip file of a course folder"), validators=[FileRequired(message=_l("Choose a zip file."))])
    replace = BooleanField(_l("Replace the unpublished changes of the course's draft"))


class OwnerForm(FlaskForm):
    user_id = SelectField(_l("Person"), coerce=optional_int, validate_choice=False)
    kind = SelectField(_l("As"), validate_choice=False)
