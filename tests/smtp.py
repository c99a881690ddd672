"""A real SMTP server for the mail tests: aiosmtpd on 127.0.0.1 and a free port.

`smtp_server` starts one per test and collects what it accepts. It can refuse a recipient for good
(550) or for now (451), answer slowly, and be stopped and started again on the same port to play a
mail server that is down. `mail_server` points the app at it for one test; `no_mail_server` runs a
test without any mail server configured. Both restore the configuration afterwards.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

MAIL_KEYS = (
    "MAIL_SERVER",
    "MAIL_PORT",
    "MAIL_USE_TLS",
    "MAIL_USE_SSL",
    "MAIL_USERNAME",
    "MAIL_PASSWORD",
    "MAIL_DEFAULT_SENDER",
    "LMS_MAIL_MAX_ATTEMPTS",
    "LMS_BASE_URL",
)
BASE_URL = "https://lernpfad.musterhausen.example"
SENDER = "Lernpfad <lernpfad@musterhausen.example>"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Recorder:
    """The aiosmtpd handler: accepts mail, except for the recipients it is told to refuse."""

    def __init__(self):
        self.lock = threading.Lock()
        self.messages: list[EmailMessage] = []
        self.replies: dict[str, str] = {}  # recipient → the reply to its RCPT TO
        self.delay = 0.0  # seconds before answering DATA

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 (aiosmtpd's name)
        reply = self.replies.get(address.lower())
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        if self.delay:
            await asyncio.sleep(self.delay)
        message = message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        with self.lock:
            self.messages.append(message)
        return "250 Message accepted for delivery"


class SMTPServer:
    def __init__(self):
        self.port = free_port()
        self.handler = Recorder()
        self.controller: Controller | None = None

    def start(self) -> None:
        """Listen (again) on this server's port."""
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        """Stop listening: connections are refused, as with a server that is down."""
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def refuse(self, address: str, reply: str = "550 5.1.1 Mailbox unavailable") -> None:
        self.handler.replies[address.lower()] = reply

    def defer(self, address: str, reply: str = "451 4.3.0 Try again later") -> None:
        self.handler.replies[address.lower()] = reply

    def accept(self, address: str) -> None:
        self.handler.replies.pop(address.lower(), None)

    def slow_down(self, seconds: float) -> None:
        self.handler.delay = seconds

    @property
    def messages(self) -> list[EmailMessage]:
        with self.handler.lock:
            return list(self.handler.messages)

    def to(self, address: str) -> list[EmailMessage]:
        return [message for message in self.messages if message["To"] == address]


@pytest.fixture
def smtp_server():
    server = SMTPServer()
    server.start()
    yield server
    server.stop()


def _configured(app, **values):
    saved = {key: app.config.get(key) for key in MAIL_KEYS}
    app.config.update(values)
    return saved


@pytest.fixture
def mail_server(app, smtp_server):
    """The app sends its mail to `smtp_server` (plain SMTP, no login) for this test."""
    saved = _configured(
        app,
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=smtp_server.port,
        MAIL_USE_TLS=False,
        MAIL_USE_SSL=False,
        MAIL_USERNAME=None,
        MAIL_PASSWORD=None,
        MAIL_DEFAULT_SENDER=SENDER,
        LMS_MAIL_MAX_ATTEMPTS=6,
        LMS_BASE_URL=BASE_URL,
    )
    yield smtp_server
    app.config.update(saved)


@pytest.fixture
def no_mail_server(app):
    """No MAIL_SERVER for this test: mails are held, not sent."""
    saved = _configured(app, MAIL_SERVER=None, LMS_BASE_URL=BASE_URL, MAIL_DEFAULT_SENDER=SENDER)
    yield
    app.config.update(saved)
