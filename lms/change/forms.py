"""Forms of the initiatives. The rules (a target group, phases that end after they start, a
published course, ...) live in lms.change.services; the forms carry the CSRF token and the values
and show the service's errors next to their fields."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    Form,
    FormField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional
from wtforms.widgets import NumberInput

from lms.change.models import SurveyMoment
from lms.change.services import (
    MAX_ANSWER,
    MAX_DAYS,
    MAX_MARKDOWN,
    MAX_QUESTION,
    MAX_TITLE,
    AnnouncementData,
    InitiativeData,
    PhaseData,
)
from lms.change.surveys import MAX_COMMENT, MAX_QUESTION_TEXT, MAX_REASON, SCALE, SurveyData
from lms.common.forms import optional_int, strip_text
from lms.i18n import _, _l
from lms.people.forms import CheckboxListField, department_choices

EMPTY_PHASE_ROWS = 3  # blank rows below the phases, for new ones (no script adds rows)


class PhaseForm(Form):
    """One row of the phases (a plain Form: the page's form carries the CSRF token)."""

    name = StringField(_l("Phase"), filters=[strip_text], render_kw={"maxlength": MAX_TITLE, "autocomplete": "off"})
    starts_on = DateField(_l("From"), validators=[Optional()])
    ends_on = DateField(_l("Until"), validators=[Optional()])


class InitiativeForm(FlaskForm):
    title = StringField(
        _l("Title"),
        filters=[strip_text],
        render_kw={"maxlength": MAX_TITLE, "autocomplete": "off"},
        description=_l("E.g. “Introducing the e-file in the building authority”."),
    )
    description = TextAreaField(
        _l("Description"),
        validators=[Optional()],
        render_kw={"rows": 8, "maxlength": MAX_MARKDOWN},
        description=_l("What changes, for whom and why. Markdown: **bold**, lists with “- ”, links."),
    )
    lead_id = SelectField(_l("Lead"), coerce=optional_int, validate_choice=False, validators=[Optional()])
    go_live = DateField(_l("Go-live"), validators=[Optional()])
    department_ids = CheckboxListField(
        _l("Departments"),
        coerce=int,
        validators=[Optional()],
        description=_l("Everyone in these departments and their sub-departments."),
    )
    job_role_ids = CheckboxListField(
        _l("Job roles"),
        coerce=int,
        validators=[Optional()],
        description=_l("Everyone with one of these job roles, in every department."),
    )
    phases = FieldList(FormField(PhaseForm), min_entries=EMPTY_PHASE_ROWS)

    def fill_choices(self, leads, department_nodes, job_roles) -> None:
        self.lead_id.choices = [SelectChoice("", _("– choose the lead –"))] + [
            SelectChoice(person.id, person.sort_name) for person in leads
        ]
        self.department_ids.choices = department_choices(department_nodes)
        self.job_role_ids.choices = [SelectChoice(j.id, f"{j.title} ({j.code})") for j in job_roles]

    def load(self, initiative) -> None:
        """The initiative's values, with blank phase rows below its phases (GET)."""
        self.process(
            data={
                "title": initiative.title,
                "description": initiative.description,
                "lead_id": initiative.lead_id,
                "go_live": initiative.go_live,
                "department_ids": [d.id for d in initiative.departments],
                "job_role_ids": [j.id for j in initiative.job_roles],
                "phases": [{"name": p.name, "starts_on": p.starts_on, "ends_on": p.ends_on} for p in initiative.phases],
            }
        )
        for _row in range(EMPTY_PHASE_ROWS):
            self.phases.append_entry()

    def initiative_data(self) -> InitiativeData:
        return InitiativeData(
            title=self.title.data or "",
            description=self.description.data or "",
            lead_id=self.lead_id.data,
            go_live=self.go_live.data,
            department_ids=list(self.department_ids.data or []),
            job_role_ids=list(self.job_role_ids.data or []),
            phases=[
                PhaseData(row.form.name.data or "", row.form.starts_on.data, row.form.ends_on.data)
                for row in self.phases
            ],
        )


class LinkSessionForm(FlaskForm):
    session_id = SelectField(
        _l("Session"),
        coerce=optional_int,
        validate_choice=False,
        validators=[Optional()],
        description=_l(
            "A session of a course links its course too: the target group is asked to complete it by the"
            " session's day, and reminded. A session without a course is shown and counted only."
        ),
    )

    def fill_choices(self, sessions, describe) -> None:
        self.session_id.choices = [SelectChoice("", _("– choose a session –"))] + [
            SelectChoice(session.id, describe(session)) for session in sessions
        ]


class LinkCourseForm(FlaskForm):
    course_id = SelectField(_l("Course"), coerce=optional_int, validate_choice=False, validators=[Optional()])
    days = IntegerField(
        _l("Days"),
        validators=[Optional()],
        widget=NumberInput(step=1, min=0, max=MAX_DAYS),
        render_kw={"inputmode": "numeric", "autocomplete": "off"},
        description=_l("How many days before or after go-live the course is due, e.g. 14."),
    )
    direction = RadioField(
        _l("Due"),
        choices=[SelectChoice("before", _l("before go-live")), SelectChoice("after", _l("after go-live"))],
        default="before",
        validate_choice=False,
        validators=[Optional()],
    )

    def fill_choices(self, courses) -> None:
        self.course_id.choices = [SelectChoice("", _("– choose a course –"))] + [
            SelectChoice(course.id, course.title) for course in courses
        ]

    def signed_days(self) -> int | None:
        """Days relative to go-live: before is negative."""
        if self.days.data is None or self.days.data < 0:
            return None  # the service names the field
        return -self.days.data if self.direction.data != "after" else self.days.data


class AnnouncementForm(FlaskForm):
    title = StringField(
        _l("Title of the announcement"), filters=[strip_text], render_kw={"maxlength": MAX_TITLE, "autocomplete": "off"}
    )
    body = TextAreaField(
        _l("Text"),
        validators=[Optional()],
        render_kw={"rows": 5, "maxlength": MAX_MARKDOWN},
        description=_l("Markdown: **bold**, lists with “- ”, links."),
    )
    shown_from = DateField(_l("Shown from"), validators=[Optional()])
    shown_until = DateField(_l("Shown until"), validators=[Optional()])

    def announcement_data(self) -> AnnouncementData:
        return AnnouncementData(
            self.title.data or "", self.body.data or "", self.shown_from.data, self.shown_until.data
        )


class GuideForm(FlaskForm):
    user_id = SelectField(_l("Person"), coerce=optional_int, validate_choice=False, validators=[Optional()])
    department_id = SelectField(
        _l("Guide for the department"), coerce=optional_int, validate_choice=False, validators=[Optional()]
    )

    def fill_choices(self, people, department_nodes) -> None:
        self.user_id.choices = [SelectChoice("", _("– choose a person –"))] + [
            SelectChoice(p.id, f"{p.sort_name} ({p.department.code})" if p.department else p.sort_name) for p in people
        ]
        self.department_id.choices = [SelectChoice("", _("– choose a department –"))] + department_choices(
            department_nodes
        )


class QuestionForm(FlaskForm):
    text = TextAreaField(
        _l("Your question"),
        filters=[strip_text],
        render_kw={"rows": 4, "maxlength": MAX_QUESTION},
        validators=[Optional()],
    )
    without_name = BooleanField(
        _l("Do not show my name"),
        description=_l(
            "Nobody else sees your name with the question, the change team neither. It is stored with your"
            " account only so that you see it under your questions."
        ),
    )


class AnswerForm(FlaskForm):
    answer = TextAreaField(
        _l("Answer"), filters=[strip_text], render_kw={"rows": 3, "maxlength": MAX_ANSWER}, validators=[Optional()]
    )


class SurveyForm(FlaskForm):
    moment = RadioField(
        _l("When"),
        choices=[SelectChoice(m.value, m.label) for m in SurveyMoment],
        validate_choice=False,
        validators=[Optional()],
    )
    question_1 = StringField(
        _l("Question 1"),
        filters=[strip_text],
        render_kw={"maxlength": MAX_QUESTION_TEXT, "autocomplete": "off"},
        description=_l(
            "Answered on a scale from 1 (not at all) to 5 (fully). The share who answer 4 or 5 to this"
            " first question is shown as “feel prepared”, e.g. “I feel prepared for the e-file.”"
        ),
    )
    question_2 = StringField(
        _l("Question 2"), filters=[strip_text], render_kw={"maxlength": MAX_QUESTION_TEXT, "autocomplete": "off"}
    )
    question_3 = StringField(
        _l("Question 3"), filters=[strip_text], render_kw={"maxlength": MAX_QUESTION_TEXT, "autocomplete": "off"}
    )
    with_comment = BooleanField(
        _l("Offer a comment field"),
        description=_l("Comments are shown only for the whole target group, never per department."),
    )
    opens_on = DateField(_l("Open from"), validators=[Optional()])
    closes_on = DateField(_l("Open until"), validators=[Optional()])

    def load(self, survey) -> None:
        questions = list(survey.questions) + ["", "", ""]
        self.process(
            data={
                "moment": survey.moment,
                "question_1": questions[0],
                "question_2": questions[1],
                "question_3": questions[2],
                "with_comment": survey.with_comment,
                "opens_on": survey.opens_on,
                "closes_on": survey.closes_on,
            }
        )

    def survey_data(self) -> SurveyData:
        return SurveyData(
            moment=self.moment.data,
            questions=[self.question_1.data or "", self.question_2.data or "", self.question_3.data or ""],
            with_comment=bool(self.with_comment.data),
            opens_on=self.opens_on.data,
            closes_on=self.closes_on.data,
        )


class RefusalForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason for refusing"),
        filters=[strip_text],
        render_kw={"rows": 3, "maxlength": MAX_REASON},
        validators=[Optional()],
        description=_l("The change team reads it and can change the survey."),
    )


SCALE_LABELS = {1: _l("1 – not at all"), 5: _l("5 – fully")}


def pulse_form(survey, bound: bool = True) -> FlaskForm:
    """A form with one 1-to-5 scale per question of the survey, and a comment if it offers one."""

    class PulseForm(FlaskForm):
        def values(self) -> list[int | None]:
            return [self[f"value_{index}"].data for index in range(len(survey.questions))]

    for index, text in enumerate(survey.questions):
        choices = [SelectChoice(value, SCALE_LABELS.get(value, str(value))) for value in SCALE]
        field = RadioField(text, choices=choices, coerce=optional_int, validate_choice=False, validators=[Optional()])
        setattr(PulseForm, f"value_{index}", field)
    if survey.with_comment:
        PulseForm.comment = TextAreaField(
            _l("Comment"),
            filters=[strip_text],
            render_kw={"rows": 3, "maxlength": MAX_COMMENT},
            validators=[Optional()],
            description=_l("Shown to the change team only among all comments of the target group, in random order."),
        )
    return PulseForm() if bound else PulseForm(formdata=None)
