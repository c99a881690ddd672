"""Forms for assigning courses and exempting people. The rules (a published course, whom a manager
may assign to, due dates, reasons) live in lms.assignments.services; the forms carry the CSRF token
and the values, and show the service's errors next to the fields."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional
from wtforms.widgets import NumberInput

from lms.assignments.services import MAX_DUE_DAYS, MAX_REASON_LENGTH, RuleData
from lms.common.forms import optional_int, strip_text
from lms.common.vocabulary import AssignmentScope, DueKind
from lms.i18n import _, _l
from lms.people.forms import department_choices


def _choice_or_none(value):
    """A radio button's value; None when nothing was chosen (the service names the field then)."""
    return value or None


class RuleForm(FlaskForm):
    """ "Everyone in <scope> must complete <course> by <due>." Choices are filled per viewer."""

    course_id = SelectField(_l("Course"), coerce=optional_int, validate_choice=False, validators=[Optional()])
    scope = RadioField(
        _l("Assign to"),
        coerce=_choice_or_none,
        validators=[Optional()],  # nothing chosen: the service says what to do; a choice not offered: refused
        description=_l("People who join the department or job role later are assigned the course too."),
    )
    user_id = SelectField(
        _l("Person"),
        coerce=optional_int,
        validate_choice=False,
        validators=[Optional()],
        description=_l("When you assign the course to a person."),
    )
    department_id = SelectField(
        _l("Department"),
        coerce=optional_int,
        validate_choice=False,
        validators=[Optional()],
        description=_l("When you assign the course to a department; its sub-departments are included."),
    )
    job_role_id = SelectField(
        _l("Job role"),
        coerce=optional_int,
        validate_choice=False,
        validators=[Optional()],
        description=_l("When you assign the course to a job role: everyone with it, in every department."),
    )
    due_kind = RadioField(
        _l("Due"),
        coerce=_choice_or_none,
        validate_choice=False,
        validators=[Optional()],
        choices=[SelectChoice(kind.value, kind.label) for kind in DueKind],
        default=DueKind.FIXED.value,
    )
    due_date = DateField(
        _l("Due date"),
        validators=[Optional()],
        description=_l("When the course is due by a fixed date."),
    )
    due_days = IntegerField(
        _l("Number of days"),
        validators=[Optional()],
        widget=NumberInput(step=1, min=1, max=MAX_DUE_DAYS),
        description=_l("When the course is due within a number of days, e.g. 30."),
        render_kw={"inputmode": "numeric", "autocomplete": "off"},
    )
    mandatory = BooleanField(
        _l("Mandatory"),
        description=_l("A mandatory course counts in the compliance report; reminders say it is mandatory."),
    )
    reason = TextAreaField(
        _l("Reason"),
        filters=[strip_text],
        validators=[Optional()],
        render_kw={"rows": 3, "maxlength": MAX_REASON_LENGTH},
        description=_l("Shown to the people assigned, e.g. “Required by the data protection rules of the town”."),
    )

    def fill_choices(self, courses, people, department_nodes, job_roles, assign_to_job_roles: bool) -> None:
        """The courses and whom this viewer may assign to; without job roles (managers) that field goes."""
        self.course_id.choices = [SelectChoice("", _("– choose a course –"))] + [
            SelectChoice(course.id, course.title) for course in courses
        ]
        scopes = [AssignmentScope.PERSON, AssignmentScope.DEPARTMENT]
        if assign_to_job_roles:
            scopes.append(AssignmentScope.JOB_ROLE)
            self.job_role_id.choices = [SelectChoice("", _("– choose a job role –"))] + [
                SelectChoice(job_role.id, f"{job_role.title} ({job_role.code})") for job_role in job_roles
            ]
        else:
            del self.job_role_id  # managers assign to people and departments only
        self.scope.choices = [SelectChoice(scope.value, scope.label) for scope in scopes]
        self.user_id.choices = [SelectChoice("", _("– choose a person –"))] + [
            SelectChoice(person.id, _person_label(person)) for person in people
        ]
        self.department_id.choices = [SelectChoice("", _("– choose a department –"))] + department_choices(
            department_nodes
        )

    def rule_data(self) -> RuleData:
        job_role = self._fields.get("job_role_id")
        return RuleData(
            course_id=self.course_id.data,
            scope=self.scope.data or "",
            user_id=self.user_id.data,
            department_id=self.department_id.data,
            job_role_id=job_role.data if job_role is not None else None,
            due_kind=self.due_kind.data or "",
            due_date=self.due_date.data,
            due_days=self.due_days.data,
            mandatory=bool(self.mandatory.data),
            reason=self.reason.data or "",
        )


def _person_label(person) -> str:
    details = [part for part in (person.personnel_number, person.department.code if person.department else "") if part]
    return f"{person.sort_name} ({', '.join(details)})" if details else person.sort_name


class ExemptionForm(FlaskForm):
    """Why HR releases one person from one assignment; one per open row, told apart by its prefix."""

    reason = StringField(
        _l("Reason for the exemption"),
        filters=[strip_text],
        validators=[Optional()],
        render_kw={"maxlength": MAX_REASON_LENGTH, "autocomplete": "off"},
    )
