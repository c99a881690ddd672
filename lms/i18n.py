"""One place for translation helpers: `_` for text now, `_l` for text defined at import time."""

from flask import current_app, has_request_context, request, session
from flask_babel import gettext as _  # noqa: F401
from flask_babel import lazy_gettext as _l  # noqa: F401
from flask_babel import ngettext  # noqa: F401
from flask_login import current_user


def adopt_chosen_language(user) -> None:
    """At sign-in: a language chosen with the switch before signing in becomes the user's preference.

    The switch saves the choice for a signed-in user anyway; without this, the saved preference
    would override a choice made on the sign-in page the moment the user signs in. The caller commits.
    """
    chosen = session.get("lang")
    if chosen in current_app.config["LANGUAGES"] and chosen != user.locale:
        user.locale = chosen


def select_locale() -> str | None:
    """The user's saved preference, else the session's choice, else the browser's."""
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # CLI and scheduler: the installation's default
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    chosen = session.get("lang")
    if chosen in languages:
        return chosen
    return request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]
