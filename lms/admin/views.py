"""Administration of people, departments and job roles (role: admin)."""

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from lms.admin import annex as agreement_annex
from lms.admin import services as admin
from lms.auth import twofactor
from lms.auth.forms import HardwareTokenForm
from lms.auth.services import OneTimePassword
from lms.common.access import roles_required
from lms.common.errors import ValidationFailed
from lms.common.forms import attach_errors
from lms.common.vocabulary import Role
from lms.extensions import db
from lms.i18n import _
from lms.people import services
from lms.people.forms import DepartmentForm, JobRoleForm, UserForm, UserSearchForm, department_choices
from lms.people.models import Department, JobRole, User

bp = Blueprint("admin", __name__, url_prefix="/admin")
admin_only = roles_required(Role.ADMIN)


@bp.get("/")
@admin_only
def dashboard():
    return render_template("admin/dashboard.html", counts=services.counts())


@bp.get("/annex")
@roles_required(Role.ADMIN, Role.DPO, Role.STAFF_COUNCIL)
def annex():
    """The annex of the staff council's agreement, generated from the code (read-only)."""
    return render_template("admin/annex.html", annex=agreement_annex.build())


# --- users ----------------------------------------------------------------------------------


@bp.get("/users")
@admin_only
def users():
    form = UserSearchForm(request.args)
    form.validate()
    status = form.status.data if form.status.data in {"active", "inactive", "all"} else "active"
    page = db.paginate(
        services.users_query(form.q.data, status), per_page=current_app.config["PAGE_SIZE"], error_out=False
    )
    return render_template("admin/users.html", form=form, page=page)


def _user_form(user: User | None, saved: bool = False) -> UserForm:
    """The person's form; `saved`: filled from the saved person, not from the request."""
    if saved:
        form = UserForm(formdata=None, obj=user)
    else:
        form = UserForm(obj=user) if user else UserForm()
    form.fill_choices(
        services.department_tree(include_inactive=False),
        db.session.execute(select(JobRole).where(JobRole.active.is_(True)).order_by(JobRole.title)).scalars(),
    )
    if user and (saved or request.method == "GET"):
        form.roles.data = sorted(user.roles)
        form.headed_departments.data = [d.id for d in user.headed_departments]
        form.locale.data = user.locale or ""
    return form


def _user_data(form: UserForm) -> services.UserData:
    return services.UserData(
        given_name=form.given_name.data,
        family_name=form.family_name.data,
        email=form.email.data,
        personnel_number=form.personnel_number.data,
        department_id=form.department_id.data,
        job_role_id=form.job_role_id.data,
        locale=form.locale.data,
        roles=form.roles.data or [],
        headed_department_ids=form.headed_departments.data or [],
    )


@bp.route("/users/new", methods=["GET", "POST"])
@admin_only
def user_new():
    form = _user_form(None)
    if form.validate_on_submit():
        try:
            user, temporary = admin.create_person(current_user, _user_data(form), request.remote_addr)
            db.session.commit()
            return _show_one_time_password(user, temporary, created=True)
        except ValidationFailed as failed:
            db.session.rollback()
            attach_errors(form, failed.errors)
    return render_template("admin/user_form.html", form=form, user=None)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@admin_only
def user_edit(user_id: int):
    user = db.get_or_404(User, user_id)
    form = _user_form(user)
    if form.validate_on_submit():
        try:
            granted_to_self = admin.update_person(current_user, user, _user_data(form), request.remote_addr)
            db.session.commit()
            flash(_("The changes were saved."), "success")
            if granted_to_self:
                roles = ", ".join(role.label for role in granted_to_self)
                flash(
                    _(
                        "You granted yourself: %(roles)s. This is recorded and shown to the data protection officer.",
                        roles=roles,
                    ),
                    "warning",
                )
            return redirect(url_for(".user_edit", user_id=user.id))
        except ValidationFailed as failed:
            db.session.rollback()
            user = db.get_or_404(User, user_id)
            attach_errors(form, failed.errors)
    return render_template("admin/user_form.html", form=form, user=user, two_factor=twofactor.status(user))


@bp.post("/users/<int:user_id>/active")
@admin_only
def user_set_active(user_id: int):
    user = db.get_or_404(User, user_id)
    activate = request.form.get("active") == "1"
    if not activate and user.id == current_user.id:
        flash(_("You cannot deactivate your own account."), "error")
        return redirect(url_for(".user_edit", user_id=user.id))
    admin.set_person_active(current_user, user, activate, request.remote_addr)
    db.session.commit()
    flash(
        _("%(name)s was activated.", name=user.name)
        if activate
        else _("%(name)s was deactivated and signed out everywhere.", name=user.name),
        "success",
    )
    return redirect(url_for(".user_edit", user_id=user.id))


@bp.post("/users/<int:user_id>/password-reset")
@admin_only
def user_reset_password(user_id: int):
    user = db.get_or_404(User, user_id)
    temporary = admin.reset_password(current_user, user, request.remote_addr)
    db.session.commit()
    return _show_one_time_password(user, temporary, created=False)


def _show_one_time_password(user: User, temporary: OneTimePassword, created: bool):
    """The answer to the POST itself shows the one-time password, once.

    Never a flash message: those travel in the session cookie, which is signed but readable.
    No redirect either, so reloading the page does not show it again (the browser asks to
    resend the form instead, which issues a new one); HTML is sent with Cache-Control: no-store.
    """
    return render_template(
        "admin/user_form.html",
        form=_user_form(user, saved=True),
        user=user,
        one_time_password=temporary,
        created=created,
        two_factor=twofactor.status(user),
    )


# --- a person's sign-in: second factor and sessions (docs/two-factor.md) ------------------------


@bp.route("/users/<int:user_id>/hardware-token", methods=["GET", "POST"])
@admin_only
def user_hardware_token(user_id: int):
    """Enrol a hardware token for the person: nobody needs a private phone for two-factor sign-in."""
    user = db.get_or_404(User, user_id)
    form = HardwareTokenForm()
    if form.validate_on_submit():
        try:
            admin.enrol_hardware_token(
                current_user, user, form.secret.data, form.serial.data, form.code.data, request.remote_addr
            )
            db.session.commit()
            flash(
                _("The hardware token of %(name)s is enrolled: they sign in with its codes now.", name=user.name),
                "success",
            )
            return redirect(url_for(".user_edit", user_id=user.id))
        except ValidationFailed as failed:
            db.session.rollback()
            user = db.get_or_404(User, user_id)
            attach_errors(form, failed.errors)
    return render_template("admin/hardware_token.html", form=form, user=user, two_factor=twofactor.status(user))


@bp.post("/users/<int:user_id>/two-factor-reset")
@admin_only
def user_reset_two_factor(user_id: int):
    user = db.get_or_404(User, user_id)
    admin.reset_two_factor(current_user, user, request.remote_addr)
    db.session.commit()
    flash(_("The two-factor sign-in of %(name)s was reset.", name=user.name), "success")
    return redirect(url_for(".user_edit", user_id=user.id))


@bp.post("/users/<int:user_id>/end-sessions")
@admin_only
def user_end_sessions(user_id: int):
    user = db.get_or_404(User, user_id)
    admin.end_sessions(current_user, user, request.remote_addr)
    db.session.commit()
    flash(_("%(name)s was signed out everywhere.", name=user.name), "success")
    return redirect(url_for(".user_edit", user_id=user.id))


# --- departments ----------------------------------------------------------------------------


@bp.get("/departments")
@admin_only
def departments():
    search = (request.args.get("q") or "").strip()[:100]
    return render_template(
        "admin/departments.html",
        search=search,
        tree=services.matching_departments(services.department_tree(with_headcount=True), search),
    )


@bp.route("/departments/new", methods=["GET", "POST"], defaults={"department_id": None})
@bp.route("/departments/<int:department_id>", methods=["GET", "POST"])
@admin_only
def department_edit(department_id: int | None):
    department = db.get_or_404(Department, department_id) if department_id else None
    form = DepartmentForm(obj=department)
    form.parent_id.choices = [SelectChoice(None, _("– top level –"))] + department_choices(
        services.department_tree(include_inactive=False)
    )
    if form.validate_on_submit():
        try:
            saved = admin.save_department(
                current_user, department, form.code.data, form.name.data, form.parent_id.data, request.remote_addr
            )
            db.session.commit()
            flash(_("Department %(code)s was saved.", code=saved.code), "success")
            return redirect(url_for(".departments"))
        except ValidationFailed as failed:
            db.session.rollback()
            attach_errors(form, failed.errors)
    return render_template("admin/department_form.html", form=form, department=department)


@bp.post("/departments/<int:department_id>/active")
@admin_only
def department_set_active(department_id: int):
    department = db.get_or_404(Department, department_id)
    try:
        admin.set_department_active(current_user, department, request.form.get("active") == "1", request.remote_addr)
        db.session.commit()
        flash(_("Department %(code)s was saved.", code=department.code), "success")
    except ValidationFailed as failed:
        db.session.rollback()
        for message in failed.errors.values():
            flash(message, "error")
    return redirect(url_for(".department_edit", department_id=department_id))


# --- job roles ------------------------------------------------------------------------------


@bp.get("/job-roles")
@admin_only
def job_roles():
    search = (request.args.get("q") or "").strip()[:100]
    return render_template("admin/job_roles.html", search=search, job_roles=services.job_roles_with_headcount(search))


@bp.route("/job-roles/new", methods=["GET", "POST"], defaults={"job_role_id": None})
@bp.route("/job-roles/<int:job_role_id>", methods=["GET", "POST"])
@admin_only
def job_role_edit(job_role_id: int | None):
    job_role = db.get_or_404(JobRole, job_role_id) if job_role_id else None
    form = JobRoleForm(obj=job_role)
    if form.validate_on_submit():
        try:
            saved = admin.save_job_role(current_user, job_role, form.code.data, form.title.data, request.remote_addr)
            db.session.commit()
            flash(_("Job role %(code)s was saved.", code=saved.code), "success")
            return redirect(url_for(".job_roles"))
        except ValidationFailed as failed:
            db.session.rollback()
            attach_errors(form, failed.errors)
    return render_template("admin/job_role_form.html", form=form, job_role=job_role)


@bp.post("/job-roles/<int:job_role_id>/active")
@admin_only
def job_role_set_active(job_role_id: int):
    job_role = db.get_or_404(JobRole, job_role_id)
    admin.set_job_role_active(current_user, job_role, request.form.get("active") == "1", request.remote_addr)
    db.session.commit()
    flash(_("Job role %(code)s was saved.", code=job_role.code), "success")
    return redirect(url_for(".job_role_edit", job_role_id=job_role_id))


from lms.admin import import_views as _import_views  # noqa: E402, F401  (the HR import's routes on this blueprint)
