"""LMS_ENV=production refuses to start with what would be unsafe there (issue 15), says why, and
starts with a correct configuration; what it allows but should not keep is logged as a warning."""

from __future__ import annotations

import logging
import os
import subprocess
import sys

import pytest

from lms import create_app
from lms.config import PROJECT_ROOT, ConfigError, load_config, production_warnings

GOOD_KEY = "0123456789abcdef" * 4  # 64 characters, as token_hex(32) gives


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for name in ("SECRET_KEY", "FLASK_DEBUG", "SESSION_COOKIE_SECURE", "DATABASE_URL", "MAIL_SERVER"):
        monkeypatch.delenv(name, raising=False)


def production(**overrides):
    return load_config({"LMS_ENV": "production", "SECRET_KEY": GOOD_KEY, **overrides})


def test_a_missing_secret_key_is_refused():
    with pytest.raises(ConfigError, match="SECRET_KEY must be set in production"):
        load_config({"LMS_ENV": "production"})


@pytest.mark.parametrize("length", [1, 16, 31])
def test_a_short_secret_key_is_refused_with_how_to_make_one(length):
    with pytest.raises(ConfigError) as refused:
        production(SECRET_KEY="k" * length)
    message = str(refused.value)
    assert f"SECRET_KEY must be at least 32 characters in production, not {length}" in message
    assert "secrets.token_hex(32)" in message


def test_a_secret_key_from_the_environment_is_checked_too(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "change-me")
    with pytest.raises(ConfigError, match="at least 32 characters"):
        load_config({"LMS_ENV": "production"})
    monkeypatch.setenv("SECRET_KEY", GOOD_KEY)
    assert load_config({"LMS_ENV": "production"})["SECRET_KEY"] == GOOD_KEY


def test_short_keys_stay_allowed_outside_production():
    assert load_config({"LMS_ENV": "testing", "SECRET_KEY": "short"})["SECRET_KEY"] == "short"


@pytest.mark.parametrize("value", ["1", "true"])
def test_flask_debug_is_refused(monkeypatch, value):
    monkeypatch.setenv("FLASK_DEBUG", value)
    with pytest.raises(ConfigError, match=r"Debug mode must be off in production \(unset FLASK_DEBUG"):
        production()


def test_debug_set_in_code_is_refused():
    with pytest.raises(ConfigError, match="Debug mode must be off in production"):
        create_app({"LMS_ENV": "production", "SECRET_KEY": GOOD_KEY, "DEBUG": True})


def test_flask_debug_off_is_fine(monkeypatch):
    monkeypatch.setenv("FLASK_DEBUG", "0")
    assert production()["LMS_ENV"] == "production"


@pytest.mark.parametrize(
    "overrides, named",
    [
        ({"TESTING": True}, "TESTING"),
        ({"LOGIN_DISABLED": True}, "LOGIN_DISABLED"),
        ({"WTF_CSRF_ENABLED": False}, "WTF_CSRF_ENABLED"),
    ],
)
def test_settings_for_tests_are_refused(overrides, named):
    with pytest.raises(ConfigError, match=f"{named}: settings for tests only, refused in production"):
        production(**overrides)


def test_the_command_line_stops_with_the_reason():
    """`flask --debug` with LMS_ENV=production: no app, exit 1, the reason on the last line."""
    environment = {**os.environ, "LMS_ENV": "production", "SECRET_KEY": GOOD_KEY, "DATABASE_URL": "sqlite://"}
    environment.pop("FLASK_DEBUG", None)
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "--debug", "routes"],
        cwd=PROJECT_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert done.stderr.strip().splitlines()[-1].startswith("lms.config.ConfigError: Debug mode must be off")
    assert "auth.login" not in done.stdout  # no routes listed: the app was never built


class Collected(logging.Handler):
    def __init__(self):
        super().__init__()
        self.messages: list[str] = []

    def emit(self, record):
        self.messages.append(f"{record.levelname} {record.getMessage()}")


@pytest.fixture
def app_log():
    handler = Collected()
    logger = logging.getLogger("lms")  # the app's logger; it does not propagate to pytest's
    logger.addHandler(handler)
    yield handler.messages
    logger.removeHandler(handler)


def test_a_correct_production_configuration_starts(app, app_log):
    """On the test database of each backend: it serves, over HTTPS-only cookies with HSTS; only
    SQLite is warned about."""
    production_app = create_app(
        {
            "LMS_ENV": "production",
            "SECRET_KEY": GOOD_KEY,
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        }
    )
    try:
        assert not production_app.debug and not production_app.testing
        assert production_app.config["SESSION_COOKIE_SECURE"]
        response = production_app.test_client().get("/health", base_url="https://lernpfad.example")
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.get_json() == {"status": "ok", "database": "ok"}
        assert response.headers["Strict-Transport-Security"].startswith("max-age=")
        sqlite_warnings = [message for message in app_log if "DATABASE_URL is SQLite" in message]
        if app.config["DB_BACKEND"] == "sqlite":
            assert sqlite_warnings == [
                "WARNING DATABASE_URL is SQLite: production runs on PostgreSQL (one app server only on SQLite;"
                " see docs/deployment.md)"
            ]
        else:
            assert sqlite_warnings == []
        assert not any("SESSION_COOKIE_SECURE" in message for message in app_log)
    finally:
        with production_app.app_context():
            from lms.extensions import db

            db.engine.dispose()


def test_an_insecure_cookie_starts_but_is_warned_about(monkeypatch, app_log):
    monkeypatch.setenv("SESSION_COOKIE_SECURE", "0")
    create_app({"LMS_ENV": "production", "SECRET_KEY": GOOD_KEY, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert "WARNING SESSION_COOKIE_SECURE is off: the session cookie is also sent over plain HTTP" in app_log


def test_nothing_is_warned_about_outside_production(app_log):
    create_app({"LMS_ENV": "testing", "SQLALCHEMY_DATABASE_URI": "sqlite://"})  # SQLite, cookie not secure
    assert not any("SQLite" in message or "SESSION_COOKIE_SECURE" in message for message in app_log)


# --- the shipped deployment files (deploy/, docs/deployment.md) --------------------------------

DEPLOY = PROJECT_ROOT / "deploy"


def environment_file(path) -> dict[str, str]:
    """KEY=value lines as systemd's EnvironmentFile= reads them (comments, blanks, double quotes)."""
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, _, value = line.partition("=")
        values[name.strip()] = value.strip().removeprefix('"').removesuffix('"')
    return values


def test_the_settings_example_is_a_production_configuration_once_the_key_is_filled_in(monkeypatch):
    example = environment_file(DEPLOY / "lernpfad.env.example")
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    assert sorted(name for name in example if f"`{name}`" not in readme) == []  # only documented variables
    assert {"LMS_ENV", "SECRET_KEY", "DATABASE_URL", "LMS_TRUSTED_PROXIES", "LMS_BASE_URL"} <= set(example)
    for name, value in example.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match="SECRET_KEY must be set in production"):
        load_config()  # as shipped: the key is left to fill in
    monkeypatch.setenv("SECRET_KEY", GOOD_KEY)
    config = load_config()
    assert config["LMS_ENV"] == "production" and config["TRUSTED_PROXIES"] == 1
    assert config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql+psycopg://")
    assert config["SESSION_COOKIE_SECURE"] and config["MAIL_USE_TLS"]
    assert production_warnings(config) == []


@pytest.mark.parametrize("unit", ["lernpfad-web.service", "lernpfad-scheduler.service"])
def test_the_units_run_hardened_with_the_settings_file(unit):
    lines = set((DEPLOY / unit).read_text(encoding="utf-8").splitlines())
    expected = {
        "User=lernpfad",
        "EnvironmentFile=/etc/lernpfad/lernpfad.env",
        "NoNewPrivileges=yes",
        "PrivateTmp=yes",
        "ProtectSystem=strict",
        "StateDirectory=lernpfad",
    }
    assert expected <= lines


def test_gunicorn_listens_on_the_loopback_without_an_access_log():
    """The app's own request line holds no ids or query strings; gunicorn's access log would."""
    exec_start = next(
        line for line in (DEPLOY / "lernpfad-web.service").read_text().splitlines() if line.startswith("ExecStart=")
    )
    assert "--bind 127.0.0.1:" in exec_start and "wsgi:app" in exec_start
    assert "access-log" not in exec_start
