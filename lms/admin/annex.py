"""The annex of the staff council's agreement, generated from the code's own rules: the settings in
force, the modules that show data about people, which role opens which page, whose competence
levels each role sees, every report and export with its columns and who receives it, and the
retention schedule.

True by construction: the roles come from the role checks the pages run (`required_roles`), the
columns from the constants the exports write, the levels rule from `lms.privacy.services`, the
periods from `lms.common.retention` and the settings from the configuration. Change one of them
and the annex changes with it. It lives with the admin pages (layer 7, which may read every
domain); `flask privacy annex` prints it as Markdown.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import current_app
from werkzeug.routing import Rule

from lms.assignments import export as compliance_export
from lms.auth import directory
from lms.common.access import ANY_SIGNED_IN
from lms.common.dates import utcnow
from lms.common.retention import PERIODS
from lms.common.vocabulary import Module, Role, module_of
from lms.i18n import _, _l
from lms.people import cli as people_cli
from lms.people import hr_import
from lms.people.models import User, UserRole
from lms.privacy import services as privacy
from lms.privacy import settings as privacy_settings
from lms.privacy import views as privacy_views
from lms.skills import export as matrix_export


@dataclass(frozen=True)
class Table:
    title: str
    columns: tuple[str, ...]
    rows: Sequence[Sequence[str]]
    intro: str = ""


@dataclass(frozen=True)
class Annex:
    town: str
    generated_at: datetime
    tables: list[Table] = field(default_factory=list)


@dataclass(frozen=True)
class Export:
    """A file the software writes with people's data: where it is offered, and its columns."""

    name: Any  # a lazy text
    endpoint: str | None  # the web page offering it: its role check says who receives it
    command: str | None  # the command line offering it (the operator's)
    columns: Callable[[], list[str]]
    group_rule: Any = None  # a lazy text with %(n)d, the minimum group size


def _matrix_columns() -> list[str]:
    code = _("<competence>")
    return [
        *(str(column) for column in matrix_export.PERSON_COLUMNS),
        *(str(column) % {"code": code} for column in matrix_export.COMPETENCE_COLUMNS),
    ]


EXPORTS = (
    Export(_l("Skill matrix (CSV, XLSX)"), "skills.matrix_export", "flask skills matrix", _matrix_columns),
    Export(
        _l("Compliance report (CSV, XLSX)"),
        "compliance.report_export",
        "flask assignments report",
        lambda: [str(column) for column in compliance_export.TABLE_COLUMNS],
        _l("departments with fewer than %(n)d assigned people are exported without figures"),
    ),
    Export(
        _l("Progress report (PDF)"),
        "progress.report_pdf",
        "flask report progress",
        lambda: [_("shares as ranges per strategy target, initiative, course and unit of at least 20 people")],
        _l("no figure for a group of fewer than %(n)d people; only units of at least 20 people"),
    ),
    Export(_l("Audit log (CSV)"), "privacy.audit_export", None, lambda: list(privacy_views.EXPORT_HEADER)),
    Export(_l("People (CSV)"), None, "flask people export", lambda: list(people_cli.EXPORT_COLUMNS)),
    Export(
        _l("My data (zip, each person their own)"),
        "privacy.my_data_download",
        None,
        lambda: [_("every stored row about the person, by table")],
    ),
)

# Pages that show figures about groups, never about one person: the minimum group size applies.
GROUP_FIGURES = (
    ("skills.matrix", _l("Skill matrix: the totals per competence")),
    ("gaps.overview", _l("Gap overview")),
    ("compliance.report", _l("Compliance report")),
    ("learning.trainer_courses", _l("Trainers' course figures")),
    ("learning.question_figures", _l("Trainers' figures per quiz question")),
    ("learning.feedback_figures", _l("Trainers' course feedback")),
    ("strategy.index", _l("Strategy targets")),
    ("progress.index", _l("Progress report for the council and the staff council")),
)


def build(now: datetime | None = None) -> Annex:
    config = current_app.config
    return Annex(
        town=config["TOWN_NAME"],
        generated_at=now or utcnow(),
        tables=[
            _settings_table(config),
            _modules_table(config),
            _pages_table(config),
            _levels_table(config),
            _exports_table(config),
            _interfaces_table(config),
            _group_figures_table(config),
            _retention_table(config),
        ],
    )


def _settings_table(config: Mapping[str, Any]) -> Table:
    values = privacy_settings.settings_in_force(config)
    return Table(
        _("Settings in force"),
        (_("Setting"), _("Value")),
        [
            (privacy_settings.setting_label(key), privacy_settings.setting_value_text(key, value))
            for key, value in values.items()
        ],
    )


def _modules_table(config: Mapping[str, Any]) -> Table:
    return Table(
        _("Modules that show data about people"),
        (_("Module"), _("State"), _("Pages")),
        [(module.label, _state(module, config), ", ".join(_paths_of(module.endpoints))) for module in Module],
        _("Each can be switched off (LMS_MODULES_OFF); a module switched off has no pages and no menu item."),
    )


def _state(module: Module | None, config: Mapping[str, Any]) -> str:
    if module is None:
        return "–"
    return _("switched off") if module in config["MODULES_OFF"] else _("on")


def _paths_of(endpoints: tuple[str, ...]) -> list[str]:
    rules = {rule.endpoint: rule.rule for rule in current_app.url_map.iter_rules()}
    return [rules[endpoint] for endpoint in endpoints if endpoint in rules]


def required_roles(endpoint: str) -> tuple[str, ...]:
    """The roles the page's own check lets in (empty: public)."""
    return tuple(getattr(current_app.view_functions[endpoint], "required_roles", ()))


def roles_text(endpoint: str | None) -> str:
    if endpoint is None:
        return _("the operators, on the command line")
    roles = required_roles(endpoint)
    if not roles:
        return _("everyone, also without signing in")
    if ANY_SIGNED_IN in roles:
        return _("every signed-in person")
    return ", ".join(Role(role).label for role in Role if role in roles)


def _role_pages() -> list[Rule]:
    """Pages (GET) that only some roles may open, in address order."""
    return sorted(
        (
            rule
            for rule in current_app.url_map.iter_rules()
            if rule.endpoint != "static"
            and "GET" in (rule.methods or ())
            and required_roles(rule.endpoint)
            and ANY_SIGNED_IN not in required_roles(rule.endpoint)
        ),
        key=lambda rule: rule.rule,
    )


def _pages_table(config: Mapping[str, Any]) -> Table:
    pages = _role_pages()
    others = sum(
        1 for rule in current_app.url_map.iter_rules() if "GET" in (rule.methods or ()) and rule.endpoint != "static"
    ) - len(pages)
    return Table(
        _("Which role opens which page"),
        (_("Address"), _("Roles"), _("Module")),
        [
            (
                rule.rule,
                roles_text(rule.endpoint),
                f"{module.label} ({_state(module, config)})" if (module := module_of(rule.endpoint)) else "–",
            )
            for rule in pages
        ],
        _(
            "From the role check each page runs. The other %(n)d pages are open to every signed-in person "
            "(or, like the sign-in page, to everyone).",
            n=others,
        ),
    )


def _someone_with(role: Role) -> User:
    """A person holding `role` (and, like everyone, employee), never stored: to ask the rules."""
    return User(role_rows=[UserRole(role=Role.EMPLOYEE), UserRole(role=role)])


def _levels_table(config: Mapping[str, Any]) -> Table:
    skills_on = Module.SKILLS not in config["MODULES_OFF"]
    rows = []
    for role in Role:
        person = _someone_with(role)
        if not skills_on or not privacy.may_see_individual_levels(person):
            sees = _("only their own")
        elif person.has_role(Role.HR):
            sees = _("everyone's")
        else:
            sees = _("those of the people of the departments they head")
        rows.append((role.label, sees))
    return Table(
        _("Whose competence levels each role sees"),
        (_("Role"), _("Individual competence levels and evidence")),
        rows,
        _(
            "From the access rule (lms/privacy/services.py) under the preset in force: „%(preset)s“.",
            preset=config["MANAGER_VISIBILITY"],
        ),
    )


def _exports_table(config: Mapping[str, Any]) -> Table:
    minimum = config["PRIVACY_MIN_GROUP_SIZE"]
    rows = []
    for export in EXPORTS:
        module = module_of(export.endpoint) if export.endpoint else None
        where = _paths_of((export.endpoint,)) if export.endpoint else []
        if export.command:
            where.append(export.command)
        receives = roles_text(export.endpoint)
        if module is not None and module in config["MODULES_OFF"]:
            receives = _("nobody on the web (module switched off)")
        rows.append(
            (
                str(export.name),
                receives,
                ", ".join(where),
                ", ".join(export.columns()),
                str(export.group_rule) % {"n": minimum} if export.group_rule else "–",
            )
        )
    return Table(
        _("Reports and exports"),
        (_("Export"), _("Who receives it"), _("Where"), _("Columns"), _("Small groups")),
        rows,
        _("Every export of others' data on the web is written to the audit trail."),
    )


def _group_figures_table(config: Mapping[str, Any]) -> Table:
    minimum = config["PRIVACY_MIN_GROUP_SIZE"]
    return Table(
        _("Figures about groups"),
        (_("Figures"), _("Who receives them"), _("Module")),
        [
            (
                str(name),
                roles_text(endpoint),
                f"{module.label} ({_state(module, config)})" if (module := module_of(endpoint)) else "–",
            )
            for endpoint, name in GROUP_FIGURES
            if endpoint in current_app.view_functions
        ],
        _(
            "No figure about a group of fewer than %(n)d people is shown; further figures are withheld where a"
            " subtraction of shown figures, in any filter, would give such a group (lms/common/disclosure.py);"
            " a share of a group of fewer than %(exact)d people is shown as a range.",
            n=minimum,
            exact=config["PRIVACY_EXACT_SHARE_FROM"],
        ),
    )


def _retention_table(config: Mapping[str, Any]) -> Table:
    return Table(
        _("Retention schedule"),
        (_("Data"), _("Days"), _("Allowed"), _("Variable")),
        [
            (
                str(period.what),
                str(config["RETENTION_DAYS"][period.key]),
                _("%(low)d to %(high)d days", low=period.min_days, high=period.max_days),
                period.env,
            )
            for period in PERIODS
        ],
        _(
            "Deleted daily by the scheduler and by “flask privacy purge”. Data not listed here is kept as long as "
            "the person's account exists."
        ),
    )


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _interfaces_table(config: Mapping[str, Any]) -> Table:
    """What crosses into and out of Lernpfad from the town's other systems: read from the importer's
    column allowlist and the directory's attribute rule, so the annex cannot promise less than runs."""
    directory_reads = (
        ", ".join([*directory.person_attributes(), _("membership of the groups mapped to roles")])
        if config["LDAP_URLS"]
        else _("switched off (LMS_LDAP_URL is not set)")
    )
    return Table(
        _("Interfaces to other systems"),
        (_("Interface"), _("Reads"), _("Writes back"), _("Operated by")),
        [
            (
                _("HR system export (CSV import)"),
                ", ".join(column.name for column in hr_import.COLUMNS)
                + " — "
                + _("a file with any other column is refused"),
                _("nothing"),
                f"{roles_text('admin.people_import_form')}; {roles_text(None)} (flask people import)",
            ),
            (_("Directory sign-in (LDAP)"), directory_reads, _("nothing"), _("every person signing in")),
            (
                _("Backups"),
                _("the whole database and the instance folder"),
                _("a file for the operators to keep safe"),
                f"{roles_text(None)} (flask backup create)",
            ),
        ],
        _("Every import and every backup is recorded in the audit trail with its operator and counts."),
    )


def as_markdown(annex: Annex) -> str:
    lines = [
        f"# {_('Annex: what Lernpfad processes and who sees it')} ({annex.town})",
        "",
        _(
            "Generated on %(date)s from the code's rules and the settings in force.",
            date=annex.generated_at.strftime("%Y-%m-%d %H:%M UTC"),
        ),
    ]
    for table in annex.tables:
        lines += ["", f"## {table.title}", ""]
        if table.intro:
            lines += [table.intro, ""]
        lines.append("| " + " | ".join(_cell(column) for column in table.columns) + " |")
        lines.append("|" + "---|" * len(table.columns))
        lines += ["| " + " | ".join(_cell(value) for value in row) + " |" for row in table.rows]
    return "\n".join(lines) + "\n"
