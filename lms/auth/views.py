from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from lms.auth import services
from lms.auth.forms import ChangePasswordForm, LoginForm
from lms.common.access import public, signed_in
from lms.common.urls import local_path
from lms.extensions import db
from lms.i18n import _, adopt_chosen_language, ngettext

bp = Blueprint("auth", __name__, url_prefix="/auth")


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    if current_user.is_authenticated:
        return redirect(url_for("core.home"))
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        result = services.authenticate(form.email.data, form.password.data, request.remote_addr)
        if result.user:
            _sign_in(result.user)
            # Only a path on this site, so the sign-in page cannot send anyone elsewhere.
            target = local_path(request.args.get("next")) or url_for("core.home")
            if current_app.config["PRIVACY_NOTICE_AT_SIGN_IN"]:
                # By way of the privacy notice, which shows itself to whoever has not read it yet.
                target = url_for("notice.after_sign_in", next=target)
            return redirect(target)
        db.session.commit()  # keep the failure count
        if result.error == "throttled":
            error = _wait_message(result.wait_seconds)
        elif result.error == "inactive":
            error = _("Your account has been deactivated. Please contact your administrator.")
        elif result.error == "expired":
            error = _("Your one-time password has expired. Please ask your administrator for a new one.")
        else:
            error = _("E-mail address or password is not correct.")
    return render_template("auth/login.html", form=form, error=error)


def _wait_message(seconds: int) -> str:
    return ngettext(
        "Too many failed attempts. Please wait %(num)d second and try again.",
        "Too many failed attempts. Please wait %(num)d seconds and try again.",
        seconds,
    )


def _sign_in(user) -> None:
    adopt_chosen_language(user)  # the language chosen on the sign-in page stays
    lang = session.get("lang")
    session.clear()  # a fresh session at sign-in, nothing else carried over
    if lang:
        session["lang"] = lang
    services.start_session(user)
    db.session.commit()
    login_user(user)


@bp.get("/logout")
@public
def logout_page():
    """Signing out changes state, so it is a POST; a typed or bookmarked address gets the button."""
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    return render_template("auth/logout.html")


@bp.post("/logout")
@signed_in
def logout():
    services.end_session(current_user.get_id())
    db.session.commit()
    logout_user()
    session.clear()
    flash(_("You have signed out."), "success")
    return redirect(url_for("auth.login"))


@bp.route("/password", methods=["GET", "POST"])
@signed_in
def change_password():
    form = ChangePasswordForm()
    form.account = current_user
    if form.validate_on_submit():
        check = services.check_current_password(current_user, form.current_password.data)
        if check.error == "throttled":
            form.current_password.errors.append(_wait_message(check.wait_seconds))
        elif check.error:
            db.session.commit()  # keep the failure count
            form.current_password.errors.append(_("The current password is not correct."))
        else:
            services.set_password(current_user, form.new_password.data)
            services.end_all_sessions(current_user.id, except_token=current_user.get_id())
            db.session.commit()
            flash(_("Your password has been changed."), "success")
            return redirect(url_for("core.home"))
    return render_template("auth/change_password.html", form=form)
