"""Data that exists in German and English (framework titles, descriptions) picks the user's language."""

from flask import has_request_context
from flask_babel import get_locale


def current_language() -> str:
    if not has_request_context():
        return "de"
    locale = get_locale()
    return locale.language if locale else "de"


class Localized:
    """Mixin for models with `<field>_de` and `<field>_en` columns: `obj.t("title")`."""

    def t(self, field: str) -> str:
        preferred = getattr(self, f"{field}_{current_language()}", None)
        return preferred or getattr(self, f"{field}_de") or getattr(self, f"{field}_en") or ""
