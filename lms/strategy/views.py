"""HR's strategy page: the targets in the terms of the strategy, today's share, the trend and the pace."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import format_date

from lms.common.access import roles_required
from lms.common.errors import ValidationFailed
from lms.common.forms import attach_errors
from lms.common.vocabulary import Role
from lms.extensions import db
from lms.frameworks.services import default_framework, framework_outline
from lms.i18n import _
from lms.people.services import department_tree
from lms.strategy import services as strategy
from lms.strategy.forms import StrategyTargetForm
from lms.strategy.models import StrategyTarget

bp = Blueprint("strategy", __name__, url_prefix="/strategy")

# HR, and change management, who steers the administration towards the strategy.
strategy_roles = roles_required(Role.HR, Role.CHANGE)


@bp.route("/", methods=["GET", "POST"])
@strategy_roles
def index():
    form = _form()
    if request.method == "POST" and form.validate_on_submit():
        try:
            strategy.save_target(None, _input(form))
        except ValidationFailed as failed:
            db.session.rollback()
            attach_errors(form, failed.errors)
            return _render_index(form, status=422)
        db.session.commit()
        flash(_("The target was added."), "success")
        return redirect(url_for(".index"))
    return _render_index(form)


def _render_index(form: StrategyTargetForm, status: int = 200):
    views = strategy.overview()
    months = {month: month_label(month) for view in views for month in view.trend.months}
    return render_template("strategy/index.html", views=views, form=form, months=months), status


@bp.route("/<int:target_id>", methods=["GET", "POST"])
@strategy_roles
def edit(target_id: int):
    target = db.get_or_404(StrategyTarget, target_id)
    form = _form()
    if request.method == "GET":
        form.competence_id.data, form.level.data = str(target.competence_id), str(target.level)
        form.share_percent.data, form.deadline.data = str(target.share_percent), target.deadline.isoformat()
        form.department_id.data = str(target.department_id or "")
    elif form.validate_on_submit():
        try:
            _target, cleared = strategy.save_target(target, _input(form))
        except ValidationFailed as failed:
            db.session.rollback()
            attach_errors(form, failed.errors)
            return render_template("strategy/edit.html", target=target, form=form), 422
        db.session.commit()
        flash(_("The target was saved."), "success")
        if cleared:
            flash(_("What the target counts has changed, so its earlier monthly figures were removed."), "info")
        return redirect(url_for(".index"))
    return render_template("strategy/edit.html", target=target, form=form)


@bp.post("/<int:target_id>/delete")
@strategy_roles
def delete(target_id: int):
    target = db.get_or_404(StrategyTarget, target_id)
    strategy.delete_target(target)
    db.session.commit()
    flash(_("The target was deleted, with its monthly figures."), "success")
    return redirect(url_for(".index"))


def _form() -> StrategyTargetForm:
    form = StrategyTargetForm()
    framework = default_framework()
    form.fill_choices(
        framework_outline(framework) if framework else [],
        framework.levels if framework else [],
        department_tree(include_inactive=False),
    )
    return form


def _input(form: StrategyTargetForm) -> strategy.TargetInput:
    return strategy.TargetInput(
        form.competence_id.data, form.level.data, form.share_percent.data, form.deadline.data, form.department_id.data
    )


def month_label(month: str) -> str:
    return format_date(strategy.month_start(month), "LLL yyyy")
