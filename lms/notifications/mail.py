"""A notification as a mail: subject, plain text and HTML, in the recipient's language.

Written once, when the mail is queued, and stored in the outbox as it will be sent. The templates
(`templates/mail/`) are rendered straight from the Jinja environment, without the page context
processors: a mail knows nothing of the request (if any) that caused it. Every text comes from here,
in the recipient's language; the HTML template escapes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app
from flask_babel import force_locale

from lms.i18n import _
from lms.notifications import texts
from lms.notifications.models import NotificationKind
from lms.people.models import User

# The page where people switch optional mails on and off (the view's route is this path).
SETTINGS_PATH = "/profile/notifications"


@dataclass(frozen=True)
class MailContent:
    """The parts of a mail, each already in the recipient's language."""

    locale: str
    subject: str
    greeting: str
    body: str
    lines: tuple[str, ...]  # a list below the body (a digest's trainings)
    action: str
    url: str
    signature: str
    footer: str
    settings_url: str | None  # for optional mails: where to switch them off


@dataclass(frozen=True)
class RenderedMail:
    locale: str
    subject: str
    text_body: str
    html_body: str


def recipient_locale(user: User) -> str:
    """The recipient's language, else the installation's default (German)."""
    if user.locale in current_app.config["LANGUAGES"]:
        return str(user.locale)
    return str(current_app.config["BABEL_DEFAULT_LOCALE"])


def absolute_url(path: str) -> str:
    """LMS_BASE_URL plus the path (just the path if no base address is configured)."""
    return (current_app.config.get("LMS_BASE_URL") or "").rstrip("/") + path


def render_mail(user: User, kind: NotificationKind, params: dict[str, Any], link: str, optional: bool) -> RenderedMail:
    locale = recipient_locale(user)
    with force_locale(locale):
        content = _content(user, kind, params, link, optional, locale)
        environment = current_app.jinja_env
        text_body = environment.get_template("mail/notification.txt").render(mail=content)
        html_body = environment.get_template("mail/notification.html").render(mail=content)
    return RenderedMail(locale=locale, subject=content.subject, text_body=text_body, html_body=html_body)


def _content(
    user: User, kind: NotificationKind, params: dict[str, Any], link: str, optional: bool, locale: str
) -> MailContent:
    text = texts.render(kind, params)
    town = current_app.config["TOWN_NAME"]
    if optional:
        footer = _("You can switch off optional e-mails like this one in your notification settings:")
    else:
        footer = _("You receive this e-mail because it concerns your work at %(town)s.", town=town)
    return MailContent(
        locale=locale,
        subject=f"Lernpfad: {text.title}",
        greeting=_("Hello %(name)s,", name=user.name),
        body=text.body,
        lines=text.lines,
        action=text.action,
        url=absolute_url(link),
        signature=_("Lernpfad, the learning platform of %(town)s", town=town),
        footer=footer,
        settings_url=absolute_url(SETTINGS_PATH) if optional else None,
    )
