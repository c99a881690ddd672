"""What every page shares: the menu, the language switch, error pages."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from flask import Flask, abort, current_app, g, render_template, request
from flask_babel import get_locale
from flask_login import current_user
from flask_wtf.csrf import CSRFError

from lms.common.access import access_refused
from lms.common.forms import field_attrs
from lms.common.urls import page_arguments_fit
from lms.common.vocabulary import Module, Role, module_of
from lms.i18n import _l


class MenuSection(StrEnum):
    """The menu's groups, in this order: a person with several roles finds each page by its purpose."""

    LEARNING = "learning"
    STAFF = "staff"
    CHANGE = "change"
    COURSES = "courses"
    ADMINISTRATION = "administration"


SECTION_LABELS = {
    MenuSection.LEARNING: _l("Learning"),
    MenuSection.STAFF: _l("Staff and competences"),
    MenuSection.CHANGE: _l("Change and strategy"),
    MenuSection.COURSES: _l("Courses"),
    MenuSection.ADMINISTRATION: _l("Administration and data protection"),
}


@dataclass(frozen=True)
class MenuItem:
    endpoint: str
    label: object
    roles: tuple[str, ...]  # empty: every signed-in user
    section: MenuSection = MenuSection.LEARNING


@dataclass(frozen=True)
class MenuGroup:
    section: MenuSection
    items: list[MenuItem]

    @property
    def label(self) -> object:
        return SECTION_LABELS[self.section]


_STAFF, _CHANGE, _COURSES, _ADMIN = (
    MenuSection.STAFF,
    MenuSection.CHANGE,
    MenuSection.COURSES,
    MenuSection.ADMINISTRATION,
)

# The menu in one place; a role sees the items it may use, in this order, grouped by section.
MENU = (
    MenuItem("learning.my_learning", _l("My learning"), ()),
    MenuItem("catalog.catalogue", _l("Course catalogue"), ()),
    MenuItem("skills.my_profile", _l("My competences"), ()),
    MenuItem("sessions.index", _l("Sessions"), ()),
    MenuItem("team.my_team", _l("My team"), (Role.MANAGER,), _STAFF),
    MenuItem("skills.matrix", _l("Skill matrix"), (Role.HR, Role.MANAGER), _STAFF),
    MenuItem("assignments.index", _l("Course assignments"), (Role.HR, Role.MANAGER), _STAFF),
    MenuItem("compliance.team", _l("Mandatory trainings"), (Role.MANAGER,), _STAFF),
    MenuItem("compliance.report", _l("Compliance report"), (Role.HR,), _STAFF),
    MenuItem("gaps.overview", _l("Gap overview"), (Role.HR,), _STAFF),
    MenuItem("targets.index", _l("Targets"), (Role.HR,), _STAFF),
    MenuItem("people.hr_overview", _l("HR overview"), (Role.HR,), _STAFF),
    MenuItem("certificates.verify", _l("Verify a certificate"), (Role.HR, Role.ADMIN), _STAFF),
    MenuItem("change.index", _l("Initiatives"), (Role.CHANGE, Role.HR), _CHANGE),
    MenuItem("strategy.index", _l("Strategy targets"), (Role.HR, Role.CHANGE), _CHANGE),
    MenuItem("change.approvals", _l("Surveys to approve"), (Role.STAFF_COUNCIL,), _CHANGE),
    MenuItem(
        "progress.index",
        _l("Progress report"),
        (Role.HR, Role.CHANGE, Role.STAFF_COUNCIL, Role.ADMIN),
        _CHANGE,
    ),
    MenuItem("learning.trainer_courses", _l("My courses"), (Role.TRAINER,), _COURSES),
    MenuItem("authoring.index", _l("Course editor"), (Role.TRAINER, Role.ADMIN), _COURSES),
    MenuItem("admin.dashboard", _l("Administration"), (Role.ADMIN,), _ADMIN),
    MenuItem("privacy.audit_log", _l("Audit log"), (Role.DPO,), _ADMIN),
    MenuItem("privacy.settings", _l("Data protection settings"), (Role.DPO, Role.STAFF_COUNCIL), _ADMIN),
)


def menu_groups(menu: list[MenuItem]) -> list[MenuGroup]:
    """The visible items by section, sections in the menu's order; one group for a person whose
    items are all about their own learning (then the menu shows no headings)."""
    groups: dict[MenuSection, list[MenuItem]] = {}
    for item in menu:
        groups.setdefault(item.section, []).append(item)
    return [MenuGroup(section, items) for section, items in groups.items()]


def menu_for(user) -> list[MenuItem]:
    if not user.is_authenticated:
        return []
    return [
        item
        for item in MENU
        if (not item.roles or user.has_role(*item.roles))
        and item.endpoint in current_app.view_functions
        and not switched_off(item.endpoint)
    ]


def switched_off(endpoint: str) -> bool:
    """Is this page part of a module the town switched off (LMS_MODULES_OFF)?"""
    return module_of(endpoint) in current_app.config["MODULES_OFF"]


def refuse_switched_off_modules() -> None:
    """A page of a module switched off answers as if it did not exist. The pages stay registered,
    so every url_for in a template still builds."""
    if request.endpoint and switched_off(request.endpoint):
        abort(404)


def module_on(module: str) -> bool:
    """For templates: link to a module's pages only while it is on."""
    return Module(module) not in current_app.config["MODULES_OFF"]


def active_item(menu: list[MenuItem], endpoint: str) -> MenuItem | None:
    """The menu item for this page: its own endpoint, else the first item of the same blueprint."""
    blueprint = endpoint.split(".")[0]
    return next((item for item in menu if item.endpoint == endpoint), None) or next(
        (item for item in menu if item.endpoint.split(".")[0] == blueprint), None
    )


def group_count(count: int) -> str:
    """An aggregate count, or "fewer than N" for groups too small to show (privacy)."""
    minimum = current_app.config["PRIVACY_MIN_GROUP_SIZE"]
    if 0 < count < minimum:
        return str(_l("fewer than %(n)d", n=minimum))
    return str(count)


def init_app(app: Flask) -> None:
    app.jinja_env.globals["field_attrs"] = field_attrs
    app.jinja_env.filters["group_count"] = group_count
    app.jinja_env.globals["module_on"] = module_on

    @app.context_processor
    def shared_template_values():
        # Once per request: a page's sections render templates of their own, which ask again.
        if (shared := g.get("shared_template_values")) is None:
            shared = g.shared_template_values = _shared_template_values(app)
        return shared

    _init_request_guards(app)


def _shared_template_values(app: Flask) -> dict:
    menu = menu_for(current_user)
    current = request.endpoint or ""
    return {
        "menu": menu,
        "menu_groups": menu_groups(menu),
        "active_menu_item": active_item(menu, current),
        "current_locale": str(get_locale()),
        "town_name": app.config["TOWN_NAME"],
        # The footer says who sees a person's learning data, from the settings in force.
        "manager_visibility": app.config["MANAGER_VISIBILITY"],
        "min_group_size": app.config["PRIVACY_MIN_GROUP_SIZE"],
        "languages": (("de", "Deutsch"), ("en", "English")),
    }


def _init_request_guards(app: Flask) -> None:
    app.before_request(refuse_switched_off_modules)

    @app.before_request
    def refuse_page_numbers_out_of_range():
        # db.paginate reads `page` itself; a number beyond the database's integers is no page.
        if not page_arguments_fit(request.args):
            abort(404)

    @app.before_request
    def refuse_nul_characters():
        # PostgreSQL text cannot hold a NUL, and no address or search here has a use for one: refused
        # once, here, instead of failing (500) wherever such a value first meets a query. Form fields
        # are checked field by field, so that a person sees the message next to the field.
        if _holds_nul():
            abort(400)

    def error_page(status: int, title, message):
        return render_template("errors/error.html", status=status, title=title, message=message), status

    @app.errorhandler(400)
    def bad_request(_error):
        return error_page(
            400,
            _l("Request not understood"),
            _l("The address or the form held something that cannot be processed. Nothing was changed."),
        )

    @app.errorhandler(403)
    def forbidden(_error):
        access_refused.send(current_app._get_current_object())  # type: ignore[attr-defined]
        return error_page(403, _l("Access denied"), _l("You do not have the rights to see this page."))

    @app.errorhandler(404)
    def not_found(_error):
        return error_page(404, _l("Page not found"), _l("This page does not exist or has been moved."))

    @app.errorhandler(405)
    def method_not_allowed(_error):
        return error_page(405, _l("Not allowed"), _l("This action is not possible this way."))

    @app.errorhandler(413)
    def request_too_large(_error):
        limit_kib = (request.max_content_length or 0) // 1024
        return error_page(
            413,
            _l("Request too large"),
            _l(
                "The data sent is too large (at most %(limit)d KiB). Nothing was changed.",
                limit=limit_kib,
            ),
        )

    @app.errorhandler(CSRFError)
    def csrf_error(_error):
        return error_page(
            400,
            _l("Form expired"),
            _l(
                "The form could not be sent because its security token was missing or had expired. "
                "Please go back, reload the page and try again. Nothing was changed."
            ),
        )

    @app.errorhandler(500)
    def server_error(_error):
        from lms.extensions import db

        db.session.rollback()
        return error_page(
            500,
            _l("Something went wrong"),
            _l("An unexpected error occurred. Nothing was saved. Please try again later."),
        )


def _holds_nul() -> bool:
    """Does the path or a query parameter (name or value) hold a NUL character?"""
    return "\x00" in request.path or any(
        "\x00" in key or "\x00" in value for key, value in request.args.items(multi=True)
    )
