"""Named places on a page that a higher domain fills: a lower domain's page shows them without
importing that domain (My learning shows the learner's assignments, though learning stands below
assignments).

`lms/__init__.py` registers each provider explicitly, `register_section(app, "my_learning.top",
provider)`; the page's template calls `page_sections("my_learning.top")`. A provider takes the
signed-in person, and what the slot passes (`page_sections("course.side", course=course)` calls
`provider(person, course=course)`), and answers Markup rendered from its own template (empty
Markup for nothing to show). Providers of a slot are shown in the order they were registered.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, current_app
from flask_login import current_user
from markupsafe import Markup

Provider = Callable[..., Markup]
EXTENSION_KEY = "lms.page_sections"


def register_section(app: Flask, slot: str, provider: Provider) -> None:
    """Let `provider` fill `slot` on this app's pages (once per provider and slot)."""
    providers = app.extensions.setdefault(EXTENSION_KEY, {}).setdefault(slot, [])
    if provider not in providers:
        providers.append(provider)
    app.jinja_env.globals["page_sections"] = page_sections


def page_sections(slot: str, **context: Any) -> Markup:
    """What the providers of `slot` show to the signed-in person, one after the other."""
    if not current_user.is_authenticated:
        return Markup("")
    providers: list[Provider] = current_app.extensions.get(EXTENSION_KEY, {}).get(slot, [])
    return Markup("").join(provider(current_user, **context) for provider in providers)
