from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from lms.auth.passwords import MAX_LENGTH, password_problem
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
