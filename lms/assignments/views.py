"""Assigning courses (HR, and managers for their departments): the rules, a new rule, one rule with
its people, ending a rule and exempting a person. Also the learner's assignments, which My learning
shows through a page section (registered in lms/__init__.py)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup

from lms.assignments import notices, queries, services
from lms.assignments.forms import ExemptionForm, RuleForm
from lms.assignments.models import Assignment, AssignmentRule
from lms.common.access import roles_required
from lms.common.errors import ValidationFailed
from lms.common.forms import attach_errors
from lms.common.vocabulary import AssignmentScope, AuditAction, AuditField, AuditReason, Role
from lms.extensions import db
from lms.i18n import _, ngettext
from lms.people import services as people
from lms.people.models import User
from lms.privacy import services as privacy

bp = Blueprint("assignments", __name__, url_prefix="/assignments")
assigners = roles_required(Role.HR, Role.MANAGER)


@bp.get("/")
@assigners
def index():
    reach = queries.reach_of(current_user)
    page = db.paginate(queries.visible_rules(reach), per_page=current_app.config["PAGE_SIZE"], error_out=False)
    figures = queries.figures([rule.id for rule in page.items], reach, services.town_today())
    return render_template("assignments/index.html", page=page, figures=figures)


@bp.route("/new", methods=["GET", "POST"])
@assigners
def new():
    reach = queries.reach_of(current_user)
    form = _rule_form(reach)
    if form.validate_on_submit():
        try:
            rule, opened = services.create_rule(current_user, form.rule_data(), services.town_today())
            notices.tell_assigned(opened)
            privacy.record_event(
                current_user,
                AuditAction.ASSIGN_COURSE,
                _subject_of(rule),
                queries.audit_context(rule, people=len(opened)),
                request.remote_addr,
            )
            db.session.commit()
        except ValidationFailed as failed:
            db.session.rollback()
            attach_errors(form, failed.errors)
        else:
            flash(_assigned_message(len(opened)), "success")
            return redirect(url_for(".rule", rule_id=rule.id))
    return render_template("assignments/new.html", form=form)


@bp.get("/rules/<int:rule_id>")
@assigners
def rule(rule_id: int):
    reach = queries.reach_of(current_user)
    return _rule_page(_rule_or_404(rule_id, reach), reach)


@bp.post("/rules/<int:rule_id>/end")
@assigners
def end(rule_id: int):
    reach = queries.reach_of(current_user)
    rule = _rule_or_404(rule_id, reach)
    if not queries.may_end(reach, rule):
        abort(403)
    if not rule.active:
        flash(_("This assignment had already been ended."), "info")
        return redirect(url_for(".rule", rule_id=rule.id))
    withdrawn = services.end_rule(rule, services.town_today())
    privacy.record_event(
        current_user,
        AuditAction.END_ASSIGNMENT_RULE,
        _subject_of(rule),
        queries.audit_context(rule, people=withdrawn),
        request.remote_addr,
    )
    db.session.commit()
    flash(
        ngettext(
            "The assignment was ended: %(num)d open assignment was withdrawn.",
            "The assignment was ended: %(num)d open assignments were withdrawn.",
            withdrawn,
        ),
        "success",
    )
    return redirect(url_for(".rule", rule_id=rule.id))


@bp.post("/rules/<int:rule_id>/assignments/<int:assignment_id>/exempt")
@roles_required(Role.HR)
def exempt(rule_id: int, assignment_id: int):
    reach = queries.reach_of(current_user)
    rule = _rule_or_404(rule_id, reach)
    assignment = queries.assignment_on_rule(rule, assignment_id)
    if assignment is None:
        abort(404)
    form = _exemption_form(assignment, bound=True)
    if form.validate_on_submit():
        try:
            services.exempt(current_user, assignment, form.reason.data)
            privacy.record_event(
                current_user,
                AuditAction.EXEMPT,
                assignment.user,
                {AuditField.COURSE: rule.course.slug, AuditField.ASSIGNMENT_RULE: rule.id},
                request.remote_addr,
            )
            db.session.commit()
        except ValidationFailed as failed:
            db.session.rollback()
            attach_errors(form, failed.errors)
        else:
            flash(_("%(name)s is exempted from this assignment.", name=assignment.user.name), "success")
            return redirect(url_for(".rule", rule_id=rule.id, page=request.args.get("page", type=int)))
    return _rule_page(rule, reach, failed=(assignment.id, form))


# --- helpers --------------------------------------------------------------------------------


def _rule_form(reach: queries.Reach) -> RuleForm:
    form = RuleForm()
    nodes = people.department_tree(include_inactive=False)
    if not reach.everything:
        nodes = [node for node in nodes if node.department.id in reach.department_ids]
    form.fill_choices(
        queries.assignable_courses(),
        queries.assignable_people(reach),
        nodes,
        queries.active_job_roles() if reach.everything else [],
        assign_to_job_roles=reach.everything,
    )
    return form


def _assigned_message(count: int) -> str:
    if not count:
        return _("The course was assigned. Everyone it covers has already completed it, so nobody has anything to do.")
    return ngettext("Assigned to %(num)d person.", "Assigned to %(num)d people.", count)


def _subject_of(rule: AssignmentRule) -> User | None:
    """A rule for one person is about that person; the audit entry names them."""
    return rule.user if rule.scope == AssignmentScope.PERSON else None


def _rule_or_404(rule_id: int, reach: queries.Reach) -> AssignmentRule:
    """The rule, if this viewer may open it; a rule outside a manager's departments answers like a
    missing id (404), and the attempt is recorded."""
    rule = queries.rule_with_targets(rule_id)
    if rule is None:
        abort(404)
    if not queries.may_open(reach, rule):
        privacy.record_denied(
            current_user, AuditReason.OUT_OF_SIGHT, {AuditField.ASSIGNMENT_RULE: rule_id}, request.remote_addr
        )
        db.session.commit()
        abort(404)
    return rule


def _exemption_form(assignment: Assignment, bound: bool = False) -> ExemptionForm:
    """The exemption form of one row: its own prefix, so that every row's fields have their own ids."""
    prefix = f"exempt-{assignment.id}"
    form = ExemptionForm(prefix=prefix) if bound else ExemptionForm(formdata=None, prefix=prefix)
    form.reason.label.text = _("Reason for exempting %(name)s", name=assignment.user.name)
    return form


def _rule_page(rule: AssignmentRule, reach: queries.Reach, failed: tuple[int, ExemptionForm] | None = None) -> str:
    """A rule with its people (a page of them) and where each one stands. The look at their
    statuses is recorded after rendering."""
    today = services.town_today()
    page = db.paginate(queries.people_on_rule(rule, reach), per_page=current_app.config["PAGE_SIZE"], error_out=False)
    rows = services.views_of(page.items, today)
    forms: dict[int, ExemptionForm] = {}
    if current_user.has_role(Role.HR):
        forms = {row.assignment.id: _exemption_form(row.assignment) for row in rows if not row.assignment.closed}
    if failed is not None:
        forms[failed[0]] = failed[1]
    html = render_template(
        "assignments/rule.html",
        rule=rule,
        page=page,
        rows=rows,
        figures=queries.figures([rule.id], reach, today)[rule.id],
        exemption_forms=forms,
        failed_form=failed[1] if failed else None,
        may_end=queries.may_end(reach, rule),
        managed_only=not reach.everything,
    )
    privacy.record(
        current_user,
        [row.assignment.user for row in rows],
        AuditAction.VIEW_COMPLIANCE,
        {AuditField.ASSIGNMENT_RULE: rule.id},
        request.remote_addr,
    )
    db.session.commit()
    return html


# --- the learner's own assignments, shown on My learning ------------------------------------


def my_assignments_section(user: User) -> Markup:
    """The signed-in person's assignments for the top of My learning (nothing when there are none)."""
    rows = queries.my_assignments(user, services.town_today())
    if not rows:
        return Markup("")
    return Markup(render_template("assignments/_my_assignments.html", rows=rows))
