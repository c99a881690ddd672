from flask_wtf import FlaskForm
from wtforms import EmailField, SearchField, SelectField, SelectMultipleField, StringField, widgets
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, Optional, Regexp

from lms.common.forms import optional_int
from lms.common.vocabulary import Role
from lms.i18n import _l


def department_choices(department_nodes) -> list[SelectChoice]:
    """Departments as select options, indented by depth so the tree shows in a plain select."""
    indent = "\u2003"
    return [
        SelectChoice(n.department.id, f"{indent * n.depth}{n.department.code} – {n.department.name}")
        for n in department_nodes
    ]


class CheckboxListField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class UserForm(FlaskForm):
    given_name = StringField(
        _l("Given name"), validators=[DataRequired(), Length(max=100)], render_kw={"autocomplete": "off"}
    )
    family_name = StringField(
        _l("Family name"), validators=[DataRequired(), Length(max=100)], render_kw={"autocomplete": "off"}
    )
    email = EmailField(
        _l("E-mail address"), validators=[DataRequired(), Email(), Length(max=254)], render_kw={"autocomplete": "off"}
    )
    personnel_number = StringField(
        _l("Personnel number"),
        validators=[
            Optional(),
            Length(max=20),
            Regexp(r"^[A-Za-z0-9./-]+$", message=_l("Use only letters, digits, dots, slashes and hyphens.")),
        ],
    )
    department_id = SelectField(_l("Department"), coerce=optional_int, validators=[Optional()])
    job_role_id = SelectField(_l("Job role"), coerce=optional_int, validators=[Optional()])
    locale = SelectField(
        _l("Preferred language"),
        choices=[
            SelectChoice("", _l("As set in the browser")),
            SelectChoice("de", "Deutsch"),
            SelectChoice("en", "English"),
        ],
        validators=[Optional()],
    )
    roles = CheckboxListField(
        _l("Roles"),
        choices=[SelectChoice(role.value, role.label) for role in Role],
        description=_l("Every person is an employee; other roles add rights."),
    )
    headed_departments = CheckboxListField(
        _l("Heads these departments"),
        coerce=int,
        validators=[Optional()],
        description=_l("Managers see the people of these departments and their sub-departments."),
    )

    def fill_choices(self, department_nodes, job_roles):
        departments = department_choices(department_nodes)
        self.department_id.choices = [SelectChoice(None, _l("– none –"))] + departments
        self.job_role_id.choices = [SelectChoice(None, _l("– none –"))] + [
            SelectChoice(j.id, f"{j.title} ({j.code})") for j in job_roles
        ]
        self.headed_departments.choices = departments


class DepartmentForm(FlaskForm):
    code = StringField(
        _l("Code"),
        validators=[
            DataRequired(),
            Length(max=20),
            Regexp(r"^[A-Za-z0-9.\-]+$", message=_l("Use only letters, digits, dots and hyphens, e.g. FB3 or 32.1.")),
        ],
        description=_l("A short unique code, e.g. FB3 or 32.1."),
    )
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    parent_id = SelectField(_l("Part of"), coerce=optional_int, validators=[Optional()])


class JobRoleForm(FlaskForm):
    code = StringField(
        _l("Code"),
        validators=[
            DataRequired(),
            Length(max=40),
            Regexp(r"^[A-Za-z0-9._\-]+$", message=_l("Use only letters, digits, dots, underscores and hyphens.")),
        ],
    )
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])


class UserSearchForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search changes nothing

    q = SearchField(
        _l("Search"), validators=[Optional(), Length(max=100)], description=_l("Name, e-mail or personnel number")
    )
    status = SelectField(
        _l("Status"),
        choices=[
            SelectChoice("active", _l("Active")),
            SelectChoice("inactive", _l("Deactivated")),
            SelectChoice("all", _l("All")),
        ],
        default="active",
    )
