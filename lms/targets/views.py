"""HR edits target profiles: per job role, and individual targets per person."""

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from lms.common.access import roles_required
from lms.common.errors import ValidationFailed
from lms.common.forms import attach_errors
from lms.common.vocabulary import AuditAction, Role
from lms.extensions import db
from lms.frameworks.services import default_framework, framework_outline
from lms.i18n import _
from lms.people import services as people
from lms.people.forms import UserSearchForm
from lms.people.models import JobRole, User
from lms.privacy import services as privacy
from lms.privacy.views import asked_for
from lms.targets import services as targets
from lms.targets.forms import PersonalTargetForm, TargetProfileForm
from lms.targets.services import targets_for

bp = Blueprint("targets", __name__, url_prefix="/targets")
hr_only = roles_required(Role.HR)


def _saved_meanwhile() -> None:
    db.session.rollback()
    flash(_("Someone else changed these targets at the same moment. Please check them and save again."), "error")


def _changes_message(changes: targets.ProfileChanges) -> str:
    if not changes.any:
        return _("Nothing was changed.")
    return _(
        "The target profile was saved: %(added)d added, %(changed)d changed, %(removed)d removed.",
        added=changes.added,
        changed=changes.changed,
        removed=changes.removed,
    )


@bp.get("/")
@hr_only
def index():
    form = UserSearchForm(request.args)
    form.validate()
    page = None
    if form.q.data:
        page = db.paginate(
            people.users_query(form.q.data, status="all"), per_page=current_app.config["PAGE_SIZE"], error_out=False
        )
    return render_template("targets/index.html", job_roles=targets.job_roles_with_target_counts(), form=form, page=page)


@bp.route("/job-roles/<int:job_role_id>", methods=["GET", "POST"])
@hr_only
def job_role(job_role_id: int):
    job_role = db.get_or_404(JobRole, job_role_id)
    framework = default_framework()
    areas = framework_outline(framework) if framework else []
    levels = framework.levels if framework else []
    current = targets.job_role_targets(job_role)
    form = TargetProfileForm.build(areas, levels, current)
    if framework is not None and form.validate_on_submit():
        competence_ids = [c.id for area in areas for c in area.active_competences]
        try:
            changes = targets.save_job_role_profile(job_role, form.values_for(competence_ids))
            db.session.commit()
            flash(_changes_message(changes), "success" if changes.any else "info")
            return redirect(url_for(".job_role", job_role_id=job_role.id))
        except ValidationFailed as failed:
            db.session.rollback()
            attach_errors(form, failed.errors)
        except IntegrityError:
            _saved_meanwhile()
            return redirect(url_for(".job_role", job_role_id=job_role_id))
    active_ids = {c.id for area in areas for c in area.active_competences}
    retired = [target for cid, target in current.items() if cid not in active_ids]
    return render_template(
        "targets/job_role.html",
        job_role=job_role,
        framework=framework,
        areas=areas,
        levels=levels,
        form=form,
        retired=retired,
        headcount=targets.people_with_job_role(job_role),
    )


@bp.route("/people/<int:user_id>", methods=["GET", "POST"])
@hr_only
def person(user_id: int):
    # HR sees everyone today; should that change, a person out of sight answers like a missing id.
    person = privacy.visible_person(current_user, user_id, asked_for(), request.remote_addr)
    if person is None:
        db.session.commit()  # the denied entry, if any
        abort(404)
    framework = default_framework()
    areas = framework_outline(framework) if framework else []
    levels = framework.levels if framework else []
    own = targets.personal_targets(person)
    form = PersonalTargetForm()
    form.fill_choices(areas, levels)
    if request.method == "GET":
        chosen = next((t for t in own if str(t.competence_id) == request.args.get("competence")), None)
        if chosen is not None:
            form.competence_id.data, form.level.data = chosen.competence_id, chosen.level
            form.recert_months.data = str(chosen.recert_months or "")
            form.note.data = chosen.note
    elif form.validate_on_submit():
        try:
            action = targets.set_personal_target(
                person,
                form.competence_id.data,
                form.level.data,
                form.recert_months.data,
                form.note.data,
                set_by=current_user,
            )
            db.session.commit()
            flash(
                {
                    "added": _("The individual target was added."),
                    "changed": _("The individual target was changed."),
                    "removed": _("The individual target was removed."),
                    "unchanged": _("Nothing was changed."),
                }[action],
                "info" if action == "unchanged" else "success",
            )
            return redirect(url_for(".person", user_id=person.id))
        except ValidationFailed as failed:
            db.session.rollback()
            person = db.get_or_404(User, user_id)
            own = targets.personal_targets(person)
            attach_errors(form, failed.errors)
        except IntegrityError:
            _saved_meanwhile()
            return redirect(url_for(".person", user_id=user_id))
    page = render_template(
        "targets/person.html",
        person=person,
        framework=framework,
        form=form,
        own=own,
        bands={level.level: level.t("band") for level in levels},
        inherited=targets.inherited_targets(person),
        effective=targets_for([person])[person.id],
        set_by=targets.user_names(t.set_by_id for t in own),
    )
    # A person's individual targets are their personal data: the look is logged, after rendering.
    privacy.record(current_user, [person], AuditAction.VIEW_TARGETS, ip_address=request.remote_addr)
    db.session.commit()
    return page
