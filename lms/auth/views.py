from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from lms.auth import directory, services, twofactor
from lms.auth.forms import ChangePasswordForm, LoginForm, TwoFactorCodeForm, TwoFactorConfirmForm, TwoFactorManageForm
from lms.common.access import public, signed_in
from lms.common.errors import ValidationFailed
from lms.common.forms import attach_errors
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
            # Only a path on this site, so the sign-in page cannot send anyone elsewhere.
            target = local_path(request.args.get("next")) or url_for("core.home")
            if twofactor.is_on(result.user):
                # Not signed in yet: the code from the second factor is still to come.
                _await_code(result.user, target)
                return redirect(url_for("auth.two_factor_code"))
            _sign_in(result.user)
            return redirect(_landing(target))
        db.session.commit()  # keep the failure count
        if result.error == "throttled":
            error = _wait_message(result.wait_seconds)
        elif result.error == "inactive":
            error = _("Your account has been deactivated. Please contact your administrator.")
        elif result.error == "expired":
            error = _("Your one-time password has expired. Please ask your administrator for a new one.")
        elif result.error == "unavailable":  # the directory is down or too slow (lms.auth.directory)
            error = _("Signing in through the directory service is not possible right now. Please try again later.")
        elif form.uses_directory:
            error = _("E-mail address, user name or password is not correct.")
        else:
            error = _("E-mail address or password is not correct.")
    return render_template("auth/login.html", form=form, error=error, directory_on=directory.enabled())


def _wait_message(seconds: int) -> str:
    return ngettext(
        "Too many failed attempts. Please wait %(num)d second and try again.",
        "Too many failed attempts. Please wait %(num)d seconds and try again.",
        seconds,
    )


def _landing(target: str) -> str:
    if current_app.config["PRIVACY_NOTICE_AT_SIGN_IN"]:
        # By way of the privacy notice, which shows itself to whoever has not read it yet.
        return url_for("notice.after_sign_in", next=target)
    return target


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


# --- two-factor sign-in (lms/auth/twofactor.py, docs/two-factor.md) ---------------------------

# The session keys of a pending sign-in: its token (the row holds only the token's hash) and where
# to go afterwards (checked again as a local path when used).
_PENDING = "two_factor_pending"
_PENDING_NEXT = "two_factor_next"

# Endpoints a person whose role requires a second factor, and who has none, may still reach.
_ALLOWED_WHILE_TWO_FACTOR_SETUP = {
    "auth.two_factor",
    "auth.two_factor_start",
    "auth.two_factor_setup",
    "auth.change_password",
    "auth.logout",
    "auth.logout_page",
    "static",
    "core.health",
    "core.set_language",
}


@bp.before_app_request
def require_two_factor_setup():
    """Like the password change after a one-time password (lms/auth/session_loader.py, which runs
    first): signed in, but only into the setup until it is done."""
    if (
        current_user.is_authenticated
        and not current_user.must_change_password
        and request.endpoint not in _ALLOWED_WHILE_TWO_FACTOR_SETUP
        and twofactor.needs_setup(current_user)
    ):
        flash(_("Your role requires two-factor sign-in. Please set it up before you continue."), "info")
        return redirect(url_for("auth.two_factor"))
    return None


def _await_code(user, target: str) -> None:
    lang = session.get("lang")
    session.clear()  # as at sign-in: nothing carried over
    if lang:
        session["lang"] = lang
    session[_PENDING] = twofactor.start_pending(user)
    session[_PENDING_NEXT] = target
    db.session.commit()


def _code_error(check: twofactor.CodeCheck) -> str:
    if check.error == "throttled":
        return _wait_message(check.wait_seconds)
    return _("This code is not correct, or it was used already. Please wait for the next code and try again.")


@bp.route("/two-factor/code", methods=["GET", "POST"])
@public
def two_factor_code():
    """The second step of sign-in: the pending sign-in's code completes it."""
    if current_user.is_authenticated:
        return redirect(url_for("core.home"))
    token = session.get(_PENDING)
    user = twofactor.pending_user(token)
    if user is None:
        session.pop(_PENDING, None)
        session.pop(_PENDING_NEXT, None)
        if token:
            flash(_("The sign-in took too long. Please sign in again."), "info")
        return redirect(url_for("auth.login"))
    form = TwoFactorCodeForm()
    if form.validate_on_submit():
        check = twofactor.check_code(user, form.code.data, request.remote_addr)
        if check.ok:
            twofactor.end_pending(token)
            target = local_path(session.get(_PENDING_NEXT)) or url_for("core.home")
            _sign_in(user)  # commits
            if check.recovery:
                flash(_("You signed in with a recovery code. It cannot be used again."), "warning")
            return redirect(_landing(target))
        db.session.commit()  # keep the failure count
        form.code.errors.append(_code_error(check))
    return render_template("auth/two_factor_code.html", form=form)


@bp.route("/two-factor", methods=["GET", "POST"])
@signed_in
def two_factor():
    """The person's second factor: whether it is on, and (with a current code) new recovery
    codes, a new app, or off."""
    form = TwoFactorManageForm()
    action = form.action
    if form.validate_on_submit() and action and twofactor.is_on(current_user):
        if action == "turn_off" and twofactor.required_for(current_user):
            form.code.errors.append(_("Your role requires two-factor sign-in: you cannot turn it off."))
        else:
            check = twofactor.check_code(current_user, form.code.data, request.remote_addr)
            if check.ok:
                return _manage(action)
            db.session.commit()  # keep the failure count
            form.code.errors.append(_code_error(check))
    return render_template("auth/two_factor.html", form=form, status=twofactor.status(current_user))


def _manage(action: str):
    if action == "new_codes":
        codes = twofactor.regenerate_recovery_codes(current_user, request.remote_addr)
        db.session.commit()
        return _show_recovery_codes(codes, first=False)
    if action == "new_device":
        twofactor.start_setup(current_user)
        db.session.commit()
        return redirect(url_for(".two_factor_setup"))
    twofactor.turn_off(current_user, request.remote_addr)
    db.session.commit()
    flash(_("Two-factor sign-in is off."), "success")
    return redirect(url_for(".two_factor"))


def _show_recovery_codes(codes: list[str], first: bool):
    """The answer to the POST itself shows the codes, once (no redirect, no flash message: those
    travel in the session cookie; HTML is sent with Cache-Control: no-store)."""
    done = _landing(url_for("core.home")) if first and twofactor.required_for(current_user) else url_for(".two_factor")
    return render_template("auth/two_factor_recovery_codes.html", codes=codes, first=first, done=done)


@bp.post("/two-factor/start")
@signed_in
def two_factor_start():
    """Begin setting up an authenticator app (a new secret, shown on the setup page)."""
    if twofactor.is_on(current_user):
        # A new app while one is on needs a current code: the overview's "Set up a new app".
        return redirect(url_for(".two_factor"))
    twofactor.start_setup(current_user)
    db.session.commit()
    return redirect(url_for(".two_factor_setup"))


@bp.route("/two-factor/setup", methods=["GET", "POST"])
@signed_in
def two_factor_setup():
    """The QR code and the key of the new secret; the app's first code confirms it."""
    secret = twofactor.setup_secret(current_user)
    if secret is None:
        return redirect(url_for(".two_factor"))
    form = TwoFactorConfirmForm()
    if form.validate_on_submit():
        try:
            codes = twofactor.confirm_setup(current_user, form.code.data, request.remote_addr)
            db.session.commit()
            return _show_recovery_codes(codes, first=True)
        except ValidationFailed as failed:
            db.session.rollback()
            attach_errors(form, failed.errors)
    return render_template(
        "auth/two_factor_setup.html",
        form=form,
        key=twofactor.grouped(secret),
        qr_code=twofactor.qr_code(current_user, secret),
        replacing=twofactor.is_on(current_user),
    )
