"""Mandatory trainings: a manager's overview of their people, HR's compliance report and its
exports, and each person's private calendar feed of their deadlines.

    GET  /compliance/team                the people of a manager's departments (manager)
    GET  /compliance/report              per course and department, aggregates only (HR)
    GET  /compliance/report.<csv|xlsx>   the same as a download (HR)
    GET  /profile/calendar               turn the calendar feed on, renew or turn it off (anyone)
    POST /profile/calendar/address       a new feed address, shown once
    POST /profile/calendar/off           the feed is deleted
    GET  /calendar/<token>.ics           the feed itself (public: the token is the key)
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from lms.assignments import calendar, export, reports
from lms.assignments.reports import ReportFilter, TeamFilter
from lms.assignments.services import town_today
from lms.catalog.models import Course
from lms.common import exports
from lms.common.access import public, roles_required, signed_in
from lms.common.urls import id_argument
from lms.common.vocabulary import AssignmentStatus, AuditAction, AuditField, Role
from lms.extensions import db
from lms.i18n import _
from lms.people.forms import department_choices
from lms.people.models import Department
from lms.people.services import department_tree
from lms.privacy import services as privacy

compliance_bp = Blueprint("compliance", __name__)


# --- a manager's team --------------------------------------------------------------------------


def _team_filter(allowed: set[int]) -> TeamFilter:
    department_id = id_argument(request.args, "department")
    if department_id is not None and department_id not in allowed:
        abort(403)  # recorded, with the filter asked for, as every refusal is
    status = request.args.get("status", "")
    return TeamFilter(
        department_id=department_id,
        status=AssignmentStatus(status) if status in reports.TEAM_STATUSES else None,
    )


@compliance_bp.get("/compliance/team")
@roles_required(Role.MANAGER)
def team():
    allowed = privacy.managed_department_ids(current_user)
    criteria = _team_filter(allowed)
    overview = reports.team_overview(
        allowed,
        criteria,
        town_today(),
        page=request.args.get("page", 1, type=int),
        per_page=current_app.config["PAGE_SIZE"],
    )
    page = render_template(
        "assignments/compliance_team.html",
        overview=overview,
        criteria=criteria,
        departments=department_choices(
            n for n in department_tree(include_inactive=False) if n.department.id in allowed
        ),
        statuses=reports.TEAM_STATUSES,
        show_profiles=privacy.may_see_individual_levels(current_user),
        query_args={"department": criteria.department_id or "", "status": criteria.status or ""},
    )
    # After rendering: the commit expires what the page shows.
    privacy.record(
        current_user,
        overview.people,
        AuditAction.VIEW_COMPLIANCE,
        {AuditField.FILTER: criteria.as_context()},
        request.remote_addr,
    )
    db.session.commit()
    return page


# --- HR's report ---------------------------------------------------------------------------------


def _report_filter() -> ReportFilter:
    args = request.args
    return ReportFilter(course_id=id_argument(args, "course"), department_id=id_argument(args, "department"))


@compliance_bp.get("/compliance/report")
@roles_required(Role.HR)
def report():
    criteria = _report_filter()
    return render_template(
        "assignments/report.html",
        report=reports.course_report(criteria, town_today()),
        criteria=criteria,
        courses=reports.mandatory_courses(),
        departments=department_choices(department_tree(include_inactive=False)),
        query_args={"course": criteria.course_id or "", "department": criteria.department_id or ""},
    )


@compliance_bp.get("/compliance/report.<any(csv, xlsx):output_format>")
@roles_required(Role.HR)
def report_export(output_format: str):
    criteria = _report_filter()
    result = reports.course_report(criteria, town_today())
    course = db.session.get(Course, criteria.course_id) if criteria.course_id else None
    department = db.session.get(Department, criteria.department_id) if criteria.department_id else None
    now = datetime.now(UTC)
    header = export.header_rows(
        now,
        f"{current_user.name} <{current_user.email}>",
        criteria.describe(course.slug if course else None, department.code if department else None),
        result.minimum,
    )
    body = export.csv_bytes(header, result) if output_format == "csv" else export.xlsx_bytes(header, result)
    # Aggregates only: one entry for the export, none per person.
    privacy.record_event(
        current_user,
        AuditAction.EXPORT_COMPLIANCE,
        context={AuditField.FORMAT: output_format, AuditField.FILTER: criteria.as_context()},
        ip_address=request.remote_addr,
    )
    db.session.commit()
    filename = f"compliance-report-{now.strftime('%Y%m%d-%H%M')}.{output_format}"
    return exports.download(body, export.FORMATS[output_format], filename)


# --- the calendar feed ---------------------------------------------------------------------------


def _absolute(path: str) -> str:
    """The platform's address (LMS_BASE_URL, else the one this request came to) plus the path."""
    base = current_app.config.get("LMS_BASE_URL") or request.host_url
    return base.rstrip("/") + path


def _render_calendar(feed_url: str | None = None, renewed: bool = False):
    return render_template(
        "assignments/calendar.html", feed=calendar.feed_of(current_user), feed_url=feed_url, renewed=renewed
    )


@compliance_bp.get("/profile/calendar")
@signed_in
def calendar_page():
    return _render_calendar()


@compliance_bp.post("/profile/calendar/address")
@signed_in
def calendar_address():
    """Turn the feed on or renew its address. The answer to the POST itself shows the address, once:
    no flash message (it would travel in the session cookie) and no redirect (reloading does not
    show it again); HTML is sent with Cache-Control: no-store."""
    renewed = calendar.feed_of(current_user) is not None
    token = calendar.issue_token(current_user)
    db.session.commit()
    return _render_calendar(_absolute(url_for(".calendar_feed", token=token)), renewed)


@compliance_bp.post("/profile/calendar/off")
@signed_in
def calendar_off():
    calendar.turn_off(current_user)
    db.session.commit()
    flash(_("The calendar feed is off: its address no longer works."), "success")
    return redirect(url_for(".calendar_page"), 303)


@compliance_bp.get("/calendar/<token>.ics")
@public
def calendar_feed(token: str):
    person = calendar.person_for_token(token)
    if person is None:
        abort(404)  # unknown, renewed, turned off or deactivated: all alike
    body = calendar.build_feed(
        person,
        calendar.open_assignments(person),
        course_url=lambda course: _absolute(url_for("learning.course", slug=course.slug)),
        uid_domain=urlsplit(_absolute("/")).hostname or "lernpfad",
    )
    response = current_app.response_class(body, content_type="text/calendar; charset=utf-8")
    response.headers["Cache-Control"] = "private, no-store"
    return response
