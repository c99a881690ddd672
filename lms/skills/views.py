"""Competence profiles and the skill matrix."""

from collections.abc import Callable
from datetime import UTC, datetime

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from lms.common import exports
from lms.common.access import roles_required, signed_in
from lms.common.errors import ValidationFailed
from lms.common.forms import attach_errors
from lms.common.vocabulary import AuditAction, AuditField, AuditReason, EvidenceType, Role
from lms.extensions import db
from lms.frameworks.models import Competence
from lms.frameworks.services import default_framework, framework_outline
from lms.i18n import _
from lms.people import services as people
from lms.people.forms import department_choices
from lms.people.models import Department, JobRole, User
from lms.privacy import services as privacy
from lms.privacy.views import asked_for
from lms.skills import confirmations, export, services
from lms.skills.forms import (
    AssessmentForm,
    ConfirmationCommentForm,
    MatrixFilterForm,
    ObjectionForm,
    SelfAssessmentForm,
)
from lms.skills.matrix import MatrixFilter, build_matrix
from lms.skills.profiles import cells_for, profile_of
from lms.skills.totals import protected_totals, row_totals

bp = Blueprint("skills", __name__)


# --- my profile -----------------------------------------------------------------------------


@bp.get("/profile/")
@signed_in
def my_profile():
    return _render_profile(current_user, own=True)


def _render_profile(person: User, own: bool, assessment_form=None, status=200, answer_forms=None):
    form = SelfAssessmentForm()
    form.level.choices = services.level_choices(include_zero=True)
    framework = default_framework()
    confirmed = confirmations.confirmations_of(person)
    return render_template(
        "skills/profile.html",
        profile=profile_of(person, viewer_id=current_user.id),
        person=person,
        own=own,
        self_form=form,
        levels=framework.levels if framework else [],
        assessment_form=assessment_form,
        may_assess=not own and privacy.may_assess(current_user, person),
        shared=services.shared_estimates(person) if own else set(),
        confirmations=confirmed,
        answer_forms=_answer_forms(confirmed, answer_forms or {}) if own else {},
        may_withdraw=not own and current_user.has_role(Role.HR),
    ), status


def _answer_forms(confirmed: list[confirmations.Confirmation], given: dict) -> dict:
    """Per confirmation id: the person's comment and objection forms (the one just sent, with its
    errors, where given). Prefixed with the id, so every field on the page has its own id."""
    forms = {}
    for item in confirmed:
        key = item.assessment.id
        comment = ConfirmationCommentForm(prefix=f"c{key}", formdata=None, comment=item.assessment.comment)
        objection = ObjectionForm(prefix=f"o{key}", formdata=None)
        forms[key] = {"comment": comment, "objection": objection, **given.get(key, {})}
    return forms


@bp.post("/profile/self-assessment")
@signed_in
def self_assessment():
    form = SelfAssessmentForm()
    form.level.choices = services.level_choices(include_zero=True)
    if not form.validate_on_submit():
        flash(_("Please choose a level from the list."), "error")
        return redirect(url_for(".my_profile"))
    try:
        services.record_self_assessment(current_user, form.competence_id.data, form.level.data)
    except ValidationFailed as failed:
        db.session.rollback()
        for message in failed.errors.values():
            flash(message, "error")
        return redirect(url_for(".my_profile")), 303
    db.session.commit()
    flash(_("Your own estimate was saved. It is shown beside your verified level."), "success")
    return redirect(url_for(".my_profile", _anchor=f"competence-{form.competence_id.data}"))


def _change_own_estimate(action: Callable[[str], object], done: str):
    """Share, stop sharing or delete one's own estimate of the competence in the form."""
    competence_id = request.form.get("competence_id", "")
    try:
        action(competence_id)
    except ValidationFailed as failed:
        db.session.rollback()
        for message in failed.errors.values():
            flash(message, "error")
        return redirect(url_for(".my_profile")), 303
    db.session.commit()
    flash(done, "success")
    return redirect(url_for(".my_profile", _anchor=f"competence-{competence_id}"))


@bp.post("/profile/self-assessment/share")
@signed_in
def share_self_assessment():
    shared = request.form.get("shared") == "1"
    return _change_own_estimate(
        lambda competence_id: services.share_self_assessment(current_user, competence_id, shared),
        _("Your manager and HR now see this estimate.") if shared else _("Only you see this estimate now."),
    )


@bp.post("/profile/self-assessment/delete")
@signed_in
def delete_self_assessment():
    return _change_own_estimate(
        lambda competence_id: services.delete_self_assessment(current_user, competence_id),
        _("Your estimate was deleted."),
    )


def _own_confirmation(assessment_id: int):
    """A level confirmed for the signed-in person; anyone else's answers like a missing one."""
    return confirmations.confirmation_of(current_user, assessment_id) or abort(404)


def _answered(message: str, assessment_id: int):
    db.session.commit()
    flash(message, "success")
    return redirect(url_for(".my_profile", _anchor=f"confirmation-{assessment_id}"))


def _answer_refused(assessment_id: int, name: str, form, failed: ValidationFailed | None = None):
    """The own profile again, with the errors next to the field of this confirmation's form."""
    db.session.rollback()
    if failed is not None:
        attach_errors(form, failed.errors)
    return _render_profile(current_user, own=True, status=422, answer_forms={assessment_id: {name: form}})


@bp.post("/profile/confirmations/<int:assessment_id>/comment")
@signed_in
def comment_on_confirmation(assessment_id: int):
    assessment = _own_confirmation(assessment_id)
    form = ConfirmationCommentForm(prefix=f"c{assessment_id}")
    if not form.validate_on_submit():
        return _answer_refused(assessment_id, "comment", form)
    try:
        confirmations.comment_on(assessment, form.comment.data)
    except ValidationFailed as failed:
        return _answer_refused(assessment_id, "comment", form, failed)
    return _answered(_("Your comment was saved."), assessment_id)


@bp.post("/profile/confirmations/<int:assessment_id>/objection")
@signed_in
def object_to_confirmation(assessment_id: int):
    assessment = _own_confirmation(assessment_id)
    form = ObjectionForm(prefix=f"o{assessment_id}")
    if not form.validate_on_submit():
        return _answer_refused(assessment_id, "objection", form)
    try:
        confirmations.object_to(current_user, assessment, form.reason.data, request.remote_addr)
    except ValidationFailed as failed:
        return _answer_refused(assessment_id, "objection", form, failed)
    return _answered(_("Your objection was sent to HR and the data protection officer."), assessment_id)


@bp.post("/profile/confirmations/<int:assessment_id>/objection/withdraw")
@signed_in
def withdraw_objection(assessment_id: int):
    assessment = _own_confirmation(assessment_id)
    confirmations.withdraw_objection(current_user, assessment, request.remote_addr)
    return _answered(_("Your objection was withdrawn."), assessment_id)


@bp.get("/profile/access-log")
@signed_in
def access_log():
    return render_template("skills/access_log.html", entries=privacy.accesses_to(current_user))


# --- other people's profiles ----------------------------------------------------------------


def _visible_person(user_id: int) -> User:
    """The person, if the viewer may see their levels. Otherwise the answer is the one for an id
    nobody has (404), so a manager cannot tell which ids exist; a viewer who may see nobody's levels
    (a manager under `compliance-only`) gets 403 whatever the id. The refused look is logged."""
    person = privacy.visible_person(current_user, user_id, asked_for(), request.remote_addr)
    if person is None:
        db.session.commit()  # the denied entry
        abort(404 if privacy.may_see_individual_levels(current_user) else 403)
    return person


def _refused(person: User, message: str):
    """A refused confirmation: logged as denied, answered 403 with the reason."""
    db.session.rollback()
    reason = AuditReason.OWN_EVIDENCE if person.id == current_user.id else AuditReason.NOT_ASSESSOR
    privacy.record_denied(current_user, reason, asked_for(), request.remote_addr, subject=person)
    db.session.commit()
    return render_template("errors/error.html", status=403, title=_("Access denied"), message=message), 403


@bp.get("/people/<int:user_id>/profile")
@roles_required(Role.HR, Role.MANAGER)
def person_profile(user_id: int):
    person = _visible_person(user_id)
    form = AssessmentForm()
    _fill_assessment_choices(form)
    page = _render_profile(person, own=False, assessment_form=form)
    privacy.record(current_user, [person], AuditAction.VIEW_PROFILE, ip_address=request.remote_addr)
    db.session.commit()
    return page


def _fill_assessment_choices(form: AssessmentForm) -> None:
    form.competence_id.choices = [
        SelectChoice(c.id, f"{c.code} {c.t('title')}") for area in framework_outline() for c in area.active_competences
    ]
    form.level.choices = services.level_choices()
    form.evidence_type.choices = [SelectChoice("", _("Please choose"))] + [
        SelectChoice(kind.value, kind.label) for kind in EvidenceType
    ]


@bp.post("/people/<int:user_id>/assessments")
@roles_required(Role.MANAGER)
def add_assessment(user_id: int):
    person = _visible_person(user_id)
    refusal = services.assessment_refusal(current_user, person)
    if refusal:
        return _refused(person, refusal)
    form = AssessmentForm()
    _fill_assessment_choices(form)
    if form.validate_on_submit():
        try:
            services.record_assessment(
                current_user,
                person,
                form.competence_id.data,
                form.level.data,
                form.evidence_type.data,
                form.note.data,
                request.remote_addr,
            )
            db.session.commit()
            flash(_("The assessment was saved."), "success")
            return redirect(url_for(".person_profile", user_id=person.id))
        except services.AssessmentRefused as refused:
            return _refused(person, refused.message)
        except ValidationFailed as failed:
            db.session.rollback()
            attach_errors(form, failed.errors)
    return _render_profile(person, own=False, assessment_form=form, status=422)


@bp.post("/people/<int:user_id>/confirmations/<int:assessment_id>/withdraw")
@roles_required(Role.HR)
def withdraw_confirmation(user_id: int, assessment_id: int):
    person = _visible_person(user_id)
    assessment = confirmations.confirmation_of(person, assessment_id) or abort(404)
    confirmations.withdraw_confirmation(current_user, person, assessment, request.remote_addr)
    db.session.commit()
    flash(_("The confirmation was withdrawn. It no longer counts as evidence."), "success")
    return redirect(url_for(".person_profile", user_id=person.id, _anchor=f"confirmation-{assessment_id}"))


# --- the matrix -----------------------------------------------------------------------------


def _matrix_filter() -> tuple[MatrixFilterForm, MatrixFilter]:
    form = MatrixFilterForm(request.args)
    nodes = people.department_tree(include_inactive=False)
    allowed = None if current_user.has_role(Role.HR) else privacy.managed_department_ids(current_user)
    all_label = _("All my departments") if allowed is not None else _("All departments")
    form.department.choices = [SelectChoice(None, all_label)] + department_choices(
        n for n in nodes if allowed is None or n.department.id in allowed
    )
    active_roles = select(JobRole).where(JobRole.active.is_(True)).order_by(JobRole.title)
    form.job_role.choices = [SelectChoice(None, _("All job roles"))] + [
        SelectChoice(j.id, j.title) for j in db.session.execute(active_roles).scalars()
    ]
    form.area.choices = [SelectChoice("", _("All areas"))] + [
        SelectChoice(a.code, f"{a.code} {a.t('title')}") for a in framework_outline()
    ]
    form.validate()
    department_id = form.department.data if isinstance(form.department.data, int) else None
    if department_id and allowed is not None and department_id not in allowed:
        abort(403)  # recorded, with the filter asked for, as every refusal is
    criteria = MatrixFilter(
        department_id=department_id,
        job_role_id=form.job_role.data if isinstance(form.job_role.data, int) else None,
        area_code=form.area.data or None,
        gaps_only=bool(form.gaps.data),
    )
    return form, criteria


@bp.get("/matrix/")
@roles_required(Role.HR, Role.MANAGER)
def matrix():
    form, criteria = _matrix_filter()
    individual = privacy.may_see_individual_levels(current_user)
    result = build_matrix(current_user, criteria, page=form.page.data or 1, page_size=current_app.config["PAGE_SIZE"])
    if individual:
        totals = row_totals(result)
    else:  # totals only: protected over every filter this manager can choose
        totals = protected_totals(
            current_user,
            criteria,
            result.competences,
            [choice.value for choice in form.department.choices if choice.value],
            current_app.config["PRIVACY_MIN_GROUP_SIZE"],
            current_app.config["PRIVACY_EXACT_SHARE_FROM"],
        )
    page = render_template(
        "skills/matrix.html",
        form=form,
        matrix=result,
        individual=individual,
        totals=totals,
        query_args=_query_args(form),
    )
    if individual:  # after rendering: the commit would expire what the page shows
        privacy.record(
            current_user,
            result.people,
            AuditAction.VIEW_MATRIX,
            {AuditField.FILTER: criteria.as_context()},
            request.remote_addr,
        )
        db.session.commit()
    return page


def _query_args(form: MatrixFilterForm) -> dict:
    args = {
        "department": form.department.data or "",
        "job_role": form.job_role.data or "",
        "area": form.area.data or "",
    }
    if form.gaps.data:
        args["gaps"] = "y"
    return args


@bp.get("/matrix/export")
@roles_required(Role.HR, Role.MANAGER)
def matrix_export():
    if not privacy.may_see_individual_levels(current_user):
        abort(403)
    output_format = request.args.get("format", "csv")
    if output_format not in export.FORMATS:
        abort(400)
    form, criteria = _matrix_filter()
    result = build_matrix(current_user, criteria, page=None)
    filter_text = criteria.describe(
        {d.id: d.code for d in db.session.execute(select(Department)).scalars()},
        {j.id: j.code for j in db.session.execute(select(JobRole)).scalars()},
    )
    header = export.header_rows(datetime.now(UTC), f"{current_user.name} <{current_user.email}>", filter_text)
    body = export.csv_bytes(header, result) if output_format == "csv" else export.xlsx_bytes(header, result)
    privacy.record(
        current_user,
        result.people,
        AuditAction.EXPORT_MATRIX,
        {AuditField.FORMAT: output_format, AuditField.FILTER: criteria.as_context()},
        request.remote_addr,
    )
    db.session.commit()
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M")
    return exports.download(body, export.FORMATS[output_format], f"skill-matrix-{stamp}.{output_format}")


@bp.get("/matrix/evidence/<int:user_id>/<int:competence_id>")
@roles_required(Role.HR, Role.MANAGER)
def cell_evidence(user_id: int, competence_id: int):
    person = _visible_person(user_id)
    competence = db.session.get(Competence, competence_id) or abort(404)
    cell = cells_for([person], [competence], viewer_id=current_user.id)[person.id][competence.id]
    page = render_template("skills/cell_evidence.html", person=person, competence=competence, cell=cell)
    privacy.record(
        current_user, [person], AuditAction.VIEW_EVIDENCE, {AuditField.COMPETENCE: competence.code}, request.remote_addr
    )
    db.session.commit()
    return page
