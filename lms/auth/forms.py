from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, EqualTo, Length, Optional, ValidationError

from lms.auth import directory
from lms.auth.passwords import MAX_LENGTH, password_problem
from lms.common.forms import strip_text
from lms.i18n import _l


class LoginForm(FlaskForm):
    email = EmailField(
        _l("E-mail address"), validators=[DataRequired(), Length(max=254)], render_kw={"autocomplete": "username"}
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(), Length(max=MAX_LENGTH)],
        render_kw={"autocomplete": "current-password"},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # With the town's directory on, the login may be a user name too, if its filter asks for one.
        self.uses_directory = directory.enabled()
        if self.uses_directory and directory.accepts_user_name():
            self.email.label.text = _l("E-mail address or user name")
            self.email.render_kw = {**(self.email.render_kw or {}), "type": "text"}


class NewPasswordMixin:
    """Checks `new_password` against the policy, knowing the person (`account`, set by the view)."""

    account = None  # the User whose password this is

    def validate_new_password(self, field):
        account = self.account
        problem = password_problem(
            field.data or "",
            email=account.email if account else None,
            given_name=account.given_name if account else None,
            family_name=account.family_name if account else None,
        )
        if problem:
            raise ValidationError(problem)
        current = getattr(self, "current_password", None)
        if current is not None and current.data and field.data == current.data:
            # Above all a one-time password: an admin has seen it, so it must not stay.
            raise ValidationError(_l("The new password must differ from the current one."))


class ChangePasswordForm(NewPasswordMixin, FlaskForm):
    current_password = PasswordField(
        _l("Current password"), validators=[DataRequired()], render_kw={"autocomplete": "current-password"}
    )
    new_password = PasswordField(
        _l("New password"),
        validators=[DataRequired()],
        description=_l(
            "At least 8 characters, not easy to guess: not your name, no known patterns. "
            "A long sentence you can remember is the safest."
        ),
        render_kw={"autocomplete": "new-password"},
    )
    confirm_password = PasswordField(
        _l("Repeat new password"),
        validators=[DataRequired(), EqualTo("new_password", message=_l("The two passwords do not match."))],
        render_kw={"autocomplete": "new-password"},
    )


# --- two-factor sign-in (lms/auth/twofactor.py) ------------------------------------------------


def _code_field(label, description):
    return StringField(
        label,
        validators=[DataRequired(), Length(max=40)],
        filters=[strip_text],
        description=description,
        render_kw={"autocomplete": "one-time-code", "spellcheck": "false", "autocapitalize": "off"},
    )


class TwoFactorCodeForm(FlaskForm):
    """The code after the password at sign-in: from the app or token, or a recovery code."""

    code = _code_field(
        _l("Code"),
        _l("The 6-digit code your authenticator app or hardware token shows now, or one of your recovery codes."),
    )


class TwoFactorConfirmForm(FlaskForm):
    """The first code from the app, which confirms its setup."""

    code = _code_field(_l("Code from the app"), _l("The 6-digit code your app shows now for Lernpfad."))


class TwoFactorManageForm(FlaskForm):
    """What a person with a second factor does with it: each step needs a current code."""

    code = _code_field(
        _l("Current code"),
        _l("The 6-digit code your app or token shows now, or one of your recovery codes."),
    )
    new_codes = SubmitField(_l("Show new recovery codes"))
    new_device = SubmitField(_l("Set up a new app"))
    turn_off = SubmitField(_l("Turn off two-factor sign-in"))

    @property
    def action(self) -> str | None:
        """The button pressed (None: none of them)."""
        return next((name for name in ("new_codes", "new_device", "turn_off") if self[name].data), None)


class HardwareTokenForm(FlaskForm):
    """An admin enrols a hardware token for a person (lms.admin)."""

    secret = TextAreaField(
        _l("Seed (secret) of the token"),
        validators=[DataRequired(), Length(max=300)],
        description=_l(
            "From the vendor's seed file, in base32 (letters A to Z and digits 2 to 7; spaces do not matter). "
            "Only tokens with 6-digit codes every 30 seconds (TOTP, SHA-1) are supported."
        ),
        render_kw={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "off", "rows": "3"},
    )
    serial = StringField(
        _l("Serial number"),
        validators=[Optional(), Length(max=64)],
        filters=[strip_text],
        description=_l("As printed on the token, so that it can be told apart later."),
        render_kw={"autocomplete": "off"},
    )
    code = _code_field(_l("Code the token shows now"), _l("Press the token's button and enter its 6-digit code."))
