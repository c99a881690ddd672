"""A notification as a mail: subject, plain text and HTML, in the recipient's language.

Written once, at the mail's first delivery attempt (`write`), and stored in the outbox as sent, so
a retry sends the same mail; until then an administrator sees it written on the fly (`preview`,
`subject_of`). The templates
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
from lms.notifications.models import NotificationKind, OutboxMessage
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


def render_mail(
    name: str, locale: str, kind: NotificationKind | str, params: dict[str, Any], link: str, optional: bool
) -> RenderedMail:
    """The mail to `name` in `locale`. Raises KeyError/TypeError/ValueError on parameters that do not fit."""
    with force_locale(locale):
        content = _content(name, NotificationKind(kind), params, link, optional, locale)
        environment = current_app.jinja_env
        text_body = environment.get_template("mail/notification.txt").render(mail=content)
        html_body = environment.get_template("mail/notification.html").render(mail=content)
    return RenderedMail(locale=locale, subject=content.subject, text_body=text_body, html_body=html_body)


def write(message: OutboxMessage, recipient: User) -> None:
    """Write the queued mail out into its outbox row (once: a written mail stays as it is).
    Raises KeyError/TypeError/ValueError when its stored parameters no longer fit."""
    if message.text_body is not None:
        return
    rendered = _render_queued(message, recipient.name)
    message.subject = rendered.subject[:300]
    message.text_body, message.html_body = rendered.text_body, rendered.html_body


def preview(message: OutboxMessage, recipient: User | None) -> RenderedMail | None:
    """The mail as sent, or, before its first attempt, as it would be written now (None if its
    parameters no longer fit). For administrators reading the outbox."""
    if message.text_body is not None:
        return RenderedMail(message.locale, message.subject or "", message.text_body, message.html_body or "")
    try:
        return _render_queued(message, recipient.name if recipient is not None else message.to_address)
    except (KeyError, TypeError, ValueError):
        return None


def subject_of(message: OutboxMessage) -> str:
    """The subject, as sent or as it will be written (for lists: no templates rendered)."""
    if message.subject is not None:
        return message.subject
    with force_locale(message.locale):
        return f"Lernpfad: {texts.render_safely(message.kind or '', message.params or {}).title}"


def _render_queued(message: OutboxMessage, name: str) -> RenderedMail:
    if message.kind is None or message.params is None or message.link is None:
        raise ValueError("the outbox row holds neither a written mail nor what it says")
    params = texts.checked_params(NotificationKind(message.kind), message.params)  # stored JSON: checked again
    return render_mail(name, message.locale, message.kind, params, message.link, message.optional)


def _content(
    name: str, kind: NotificationKind, params: dict[str, Any], link: str, optional: bool, locale: str
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
        greeting=_("Hello %(name)s,", name=name),
        body=text.body,
        lines=text.lines,
        action=text.action,
        url=absolute_url(link),
        signature=_("Lernpfad, the learning platform of %(town)s", town=town),
        footer=footer,
        settings_url=absolute_url(SETTINGS_PATH) if optional else None,
    )
