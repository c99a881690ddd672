"""Configuration read from environment variables.

LMS_ENV selects development (default), production or testing. Everything a deployment
needs to change is an environment variable; nothing secret lives in the repository.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask.helpers import get_debug_flag

from lms.common.vocabulary import ManagerVisibility, Module, Role

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INSTANCE_DIR = Path(os.environ.get("LMS_INSTANCE_DIR", PROJECT_ROOT / "instance"))

ENVIRONMENTS = ("development", "production", "testing")


# No group figure is shown for fewer people than this, whatever a town configures (issue 13).
MIN_GROUP_SIZE_FLOOR = 5
# A confirmed level counts this long (issue 13): at least half a year, at most ten years.
CONFIRMATION_VALID_MONTHS_DEFAULT = 36
CONFIRMATION_VALID_MONTHS_BOUNDS = (6, 120)
# The readiness view of an initiative flags a department below this share close to go-live.
READINESS_THRESHOLD_PERCENT_BOUNDS = (1, 100)
READINESS_WARNING_DAYS_BOUNDS = (1, 365)


class ConfigError(RuntimeError):
    """The environment does not describe a runnable configuration."""


# --- production (docs/deployment.md, "Security checklist") -----------------------------------
# What production refuses to start with, and what it starts with but warns about in the log.
MIN_SECRET_KEY_LENGTH = 32  # token_hex(32) gives 64
SECRET_KEY_HINT = "generate one with: python3 -c 'import secrets; print(secrets.token_hex(32))'"


def _check_production(config: dict[str, Any]) -> None:
    if len(config["SECRET_KEY"]) < MIN_SECRET_KEY_LENGTH:
        raise ConfigError(
            f"SECRET_KEY must be at least {MIN_SECRET_KEY_LENGTH} characters in production, not"
            f" {len(config['SECRET_KEY'])}: it signs the session cookies; {SECRET_KEY_HINT}"
        )
    if config.get("DEBUG") or get_debug_flag():
        raise ConfigError(
            "Debug mode must be off in production (unset FLASK_DEBUG, no --debug): its error pages show"
            " code and data, and its debugger runs code"
        )
    for_tests = [
        name
        for name, unsafe in (
            ("TESTING", config.get("TESTING")),
            ("LOGIN_DISABLED", config.get("LOGIN_DISABLED")),
            ("WTF_CSRF_ENABLED", config.get("WTF_CSRF_ENABLED") is False),
        )
        if unsafe
    ]
    if for_tests:
        raise ConfigError(f"{', '.join(for_tests)}: settings for tests only, refused in production")


def production_warnings(config: dict[str, Any]) -> list[str]:
    """What production starts with but should not keep; create_app logs each as a warning."""
    if config["LMS_ENV"] != "production":
        return []
    warnings = []
    if config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        warnings.append(
            "DATABASE_URL is SQLite: production runs on PostgreSQL (one app server only on SQLite;"
            " see docs/deployment.md)"
        )
    if not config["SESSION_COOKIE_SECURE"]:
        warnings.append("SESSION_COOKIE_SECURE is off: the session cookie is also sent over plain HTTP")
    return warnings


# --- end of production -------------------------------------------------------------------------


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def _check_group_sizes(config: dict[str, Any]) -> None:
    """Exact shares and survey results need larger groups than the minimum: defaults follow it."""
    minimum = config["PRIVACY_MIN_GROUP_SIZE"]
    config["PRIVACY_EXACT_SHARE_FROM"] = config["PRIVACY_EXACT_SHARE_FROM"] or max(20, minimum)
    # Surveys follow the minimum unless the town and its staff council agree on more (e.g. 10).
    config["PRIVACY_SURVEY_MIN_GROUP_SIZE"] = config["PRIVACY_SURVEY_MIN_GROUP_SIZE"] or minimum
    if config["PRIVACY_EXACT_SHARE_FROM"] < minimum:
        raise ConfigError("LMS_EXACT_SHARE_FROM must not be below LMS_MIN_GROUP_SIZE")
    if config["PRIVACY_SURVEY_MIN_GROUP_SIZE"] < minimum:
        raise ConfigError(
            "LMS_SURVEY_MIN_GROUP_SIZE must not be below LMS_MIN_GROUP_SIZE:"
            " answers to a survey are opinions, which a small group's figures would tell"
        )


def _check_readiness(config: dict[str, Any]) -> None:
    for key, bounds in (
        ("READINESS_THRESHOLD_PERCENT", READINESS_THRESHOLD_PERCENT_BOUNDS),
        ("READINESS_WARNING_DAYS", READINESS_WARNING_DAYS_BOUNDS),
    ):
        low, high = bounds
        if not low <= config[key] <= high:
            raise ConfigError(f"LMS_{key} must be from {low} to {high}, not {config[key]}")


def _int_list(name: str, default: tuple[int, ...]) -> tuple[int, ...]:
    """A comma-separated list of whole numbers, e.g. LMS_REMINDER_DAYS_BEFORE=14,3."""
    value = os.environ.get(name)
    if value is None or not value.strip():
        return default
    try:
        return tuple(sorted({int(part) for part in value.split(",") if part.strip()}, reverse=True))
    except ValueError as error:
        raise ConfigError(f"{name} must be whole numbers separated by commas, e.g. 14,3") from error


def _host_list(name: str) -> tuple[str, ...]:
    """Host names separated by commas, e.g. LMS_SESSION_VIDEO_HOSTS=meet.musterhausen.de,bbb.example."""
    return tuple(part.strip().lower().rstrip(".") for part in os.environ.get(name, "").split(",") if part.strip())


def _instance_dir() -> Path:
    """instance/, created readable by this account only (it holds the key and the database)."""
    INSTANCE_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
    return INSTANCE_DIR


def _create_private_file(path: Path, content: str = "") -> None:
    """Create `path` readable and writable by this account only, unless it exists already.

    The mode is set at creation (never a moment world-readable); an existing file is left as
    it is, its owner may have chosen its mode.
    """
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(descriptor, "w") as handle:
        handle.write(content)


def _development_secret_key() -> str:
    """A key generated once and kept in instance/, so sessions survive restarts."""
    key_file = _instance_dir() / "secret_key"
    _create_private_file(key_file, secrets.token_hex(32))
    return key_file.read_text().strip()


def _retention_days() -> dict[str, int]:
    """Each retention period in days, as configured, within the bounds the code enforces."""
    from lms.common.retention import PERIODS

    days = {}
    for period in PERIODS:
        value = _int(period.env, period.default_days)
        if not period.min_days <= value <= period.max_days:
            raise ConfigError(f"{period.env} must be from {period.min_days} to {period.max_days} days, not {value}")
        days[period.key] = value
    return days


def _modules_off(names: str | Iterable[str]) -> frozenset[Module]:
    """LMS_MODULES_OFF=gaps,team: the modules showing data about people that a town switches off.
    An unknown name is refused, so a typo cannot leave a module on that was meant to be off."""
    chosen = [name.strip() for name in names.split(",") if name.strip()] if isinstance(names, str) else list(names)
    unknown = sorted(name for name in chosen if name not in set(Module))
    if unknown:
        raise ConfigError(
            f"LMS_MODULES_OFF names unknown modules ({', '.join(unknown)}); known are {', '.join(Module)}"
        )
    return frozenset(Module(name) for name in chosen)


def _roles(name: str, value: str | Iterable[str]) -> frozenset[Role]:
    """A list of roles in a variable (LMS_TWO_FACTOR_REQUIRED_ROLES=admin,hr). An unknown name is
    refused, so a typo cannot leave out a role that was meant to be in."""
    chosen = [part.strip() for part in value.split(",") if part.strip()] if isinstance(value, str) else list(value)
    unknown = sorted(part for part in chosen if part not in set(Role))
    if unknown:
        raise ConfigError(f"{name} names unknown roles ({', '.join(unknown)}); known are {', '.join(Role)}")
    return frozenset(Role(part) for part in chosen)


def _default_database_url() -> str:
    return f"sqlite:///{INSTANCE_DIR / 'lernpfad.db'}"


def _prepare_default_database() -> None:
    """The development database file, created private before SQLite creates it world-readable
    (SQLite gives its journal and WAL files the database file's mode)."""
    _create_private_file(_instance_dir() / "lernpfad.db")


# --- mail (lms.notifications) -----------------------------------------------------------------
# Everything mail delivery reads. Without MAIL_SERVER nothing is sent: queued mails are kept as
# "held" in the outbox, where administrators can read them (/admin/outbox).


def _mail_settings(env: str) -> dict[str, Any]:
    use_ssl = _bool("MAIL_USE_SSL", False)
    use_tls = _bool("MAIL_USE_TLS", False)
    return {
        "MAIL_SERVER": os.environ.get("MAIL_SERVER", "").strip() or None,
        # 465 for SSL from the first byte, 587 for STARTTLS, else 25.
        "MAIL_PORT": _int("MAIL_PORT", 465 if use_ssl else 587 if use_tls else 25),
        "MAIL_USE_TLS": use_tls,
        "MAIL_USE_SSL": use_ssl,
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME") or None,
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD") or None,
        "MAIL_DEFAULT_SENDER": os.environ.get("MAIL_DEFAULT_SENDER", "Lernpfad <lernpfad@localhost>"),
        # A mail that failed this often (server down, 4xx) is given up and marked failed.
        "LMS_MAIL_MAX_ATTEMPTS": _int("LMS_MAIL_MAX_ATTEMPTS", 6),
        # Links in mails are absolute: this address plus the page's path.
        "LMS_BASE_URL": (os.environ.get("LMS_BASE_URL") or ("" if env == "production" else "http://localhost:5000")),
    }


def _check_mail_settings(config: dict[str, Any]) -> None:
    if config["MAIL_USE_TLS"] and config["MAIL_USE_SSL"]:
        raise ConfigError("Set MAIL_USE_TLS (STARTTLS) or MAIL_USE_SSL, not both")
    if config["LMS_MAIL_MAX_ATTEMPTS"] < 1:
        raise ConfigError("LMS_MAIL_MAX_ATTEMPTS must be at least 1")
    base_url = config["LMS_BASE_URL"]
    if base_url and not base_url.startswith(("https://", "http://")):
        raise ConfigError("LMS_BASE_URL must be an http(s) address, e.g. https://lernpfad.musterhausen.de")
    if config["LMS_ENV"] == "production" and config["MAIL_SERVER"]:
        if not base_url:
            raise ConfigError("LMS_BASE_URL must be set when MAIL_SERVER is: mails link to the platform")
        if config["MAIL_USERNAME"] and not (config["MAIL_USE_TLS"] or config["MAIL_USE_SSL"]):
            raise ConfigError("MAIL_USERNAME needs MAIL_USE_TLS or MAIL_USE_SSL: the password would travel unencrypted")


# --- end of mail -------------------------------------------------------------------------------


# --- directory sign-in (lms.auth.directory, docs/directory-sign-in.md) --------------------------
# Without LMS_LDAP_URL people sign in with their Lernpfad password, and nothing here is used.

LDAP_LOGIN_PLACEHOLDER = "{login}"
LDAP_TIMEOUT_BOUNDS = (1, 60)  # whole seconds: ldap3 sets the socket's receive timeout in seconds
_LDAP_URL = re.compile(r"(?P<scheme>ldaps?)://(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::(?P<port>\d{1,5}))?/?")
# An attribute's name or OID; never "*" or "+" (all attributes): only named ones are read.
_LDAP_ATTRIBUTE = re.compile(r"[A-Za-z][A-Za-z0-9-]*|\d+(?:\.\d+)+")
# The member attribute of a group, optionally with a matching rule (Active Directory's nested groups:
# member:1.2.840.113556.1.4.1941:).
_LDAP_MEMBER_ATTRIBUTE = re.compile(r"[A-Za-z][A-Za-z0-9-]*(?::\d+(?:\.\d+)+:)?")


def _directory_settings() -> dict[str, Any]:
    """The raw values; `_check_directory_settings` turns them into their types after the overrides."""
    return {
        "LDAP_URLS": os.environ.get("LMS_LDAP_URL", ""),
        "LDAP_START_TLS": _bool("LMS_LDAP_START_TLS", False),
        "LDAP_CA_FILE": os.environ.get("LMS_LDAP_CA_FILE", "").strip() or None,
        "LDAP_BIND_DN": os.environ.get("LMS_LDAP_BIND_DN", "").strip() or None,
        "LDAP_BIND_PASSWORD": os.environ.get("LMS_LDAP_BIND_PASSWORD") or None,
        "LDAP_USER_SEARCH_BASE": os.environ.get("LMS_LDAP_USER_SEARCH_BASE", "").strip() or None,
        "LDAP_USER_FILTER": os.environ.get("LMS_LDAP_USER_FILTER", "").strip() or "(mail={login})",
        "LDAP_MATCH_BY": os.environ.get("LMS_LDAP_MATCH_BY", "").strip() or "email",
        "LDAP_EMAIL_ATTRIBUTE": os.environ.get("LMS_LDAP_EMAIL_ATTRIBUTE", "").strip() or "mail",
        "LDAP_PERSONNEL_NUMBER_ATTRIBUTE": (
            os.environ.get("LMS_LDAP_PERSONNEL_NUMBER_ATTRIBUTE", "").strip() or "employeeNumber"
        ),
        "LDAP_GROUP_ROLES": os.environ.get("LMS_LDAP_GROUP_ROLES", ""),
        "LDAP_GROUP_MEMBER_ATTRIBUTE": os.environ.get("LMS_LDAP_GROUP_MEMBER_ATTRIBUTE", "").strip() or "member",
        "LDAP_TIMEOUT": _int("LMS_LDAP_TIMEOUT", 5),
        # Set but empty: nobody keeps a local password once the directory is on.
        "LDAP_LOCAL_PASSWORD_ROLES": os.environ.get("LMS_LDAP_LOCAL_PASSWORD_ROLES", "admin"),
    }


def _ldap_urls(value: str | Iterable[str]) -> tuple[str, ...]:
    """LMS_LDAP_URL: one address or several (commas or spaces), tried in that order."""
    urls = tuple(part for part in re.split(r"[\s,]+", value) if part) if isinstance(value, str) else tuple(value)
    for url in urls:
        match = _LDAP_URL.fullmatch(url)
        if not match or not 0 < int(match["port"] or 389) < 65536:
            raise ConfigError(
                f"LMS_LDAP_URL: {url!r} is not an ldap:// or ldaps:// address (ldaps://dc1.rathaus.local:636)"
            )
    return urls


def _ldap_dn(name: str, dn: str) -> str:
    """A DN as configured, with the spaces around its commas taken out; refused if it is none."""
    from ldap3.core.exceptions import LDAPInvalidDnError
    from ldap3.utils.dn import parse_dn

    cleaned = re.sub(r"\s*(?<!\\),\s*", ",", dn.strip())
    try:
        if not parse_dn(cleaned):
            raise LDAPInvalidDnError("empty")
    except LDAPInvalidDnError as error:
        raise ConfigError(f"{name}: {dn!r} is not a distinguished name (cn=…,ou=…,dc=…): {error}") from error
    return cleaned


def _ldap_group_roles(value: str | Iterable[tuple[str, str]]) -> tuple[tuple[str, Any], ...]:
    """LMS_LDAP_GROUP_ROLES: `role: group DN` entries separated by semicolons or new lines, e.g.
    `admin: cn=lernpfad-admins,ou=groups,dc=rathaus,dc=test; hr: cn=personalamt,ou=groups,…`.
    A role may come from several groups. An unknown role is refused; so is `employee` (everyone is)."""
    from lms.common.vocabulary import Role

    if isinstance(value, str):
        entries = [part.strip() for part in re.split(r"(?<!\\)[;\n]", value) if part.strip()]
        pairs = []
        for entry in entries:
            role, colon, dn = entry.partition(":")
            if not colon or not dn.strip():
                raise ConfigError(f"LMS_LDAP_GROUP_ROLES: {entry!r} is not `role: group DN`")
            pairs.append((role.strip(), dn))
    else:
        pairs = list(value)
    mapping = []
    for role, dn in pairs:
        if role not in set(Role) or role == Role.EMPLOYEE:
            known = ", ".join(known for known in Role if known != Role.EMPLOYEE)
            raise ConfigError(f"LMS_LDAP_GROUP_ROLES: unknown role {role!r} (known are {known})")
        mapping.append((_ldap_dn("LMS_LDAP_GROUP_ROLES", dn), Role(role)))
    return tuple(mapping)


def _check_ldap_timeout(seconds: int) -> None:
    low, high = LDAP_TIMEOUT_BOUNDS
    if not low <= seconds <= high:
        raise ConfigError(f"LMS_LDAP_TIMEOUT must be from {low} to {high} seconds, not {seconds}")


def _check_ldap_filter(search_filter: str) -> None:
    from ldap3.core.exceptions import LDAPException
    from ldap3.operation.search import parse_filter

    if LDAP_LOGIN_PLACEHOLDER not in search_filter:
        raise ConfigError(f"LMS_LDAP_USER_FILTER must contain {LDAP_LOGIN_PLACEHOLDER}, e.g. (mail={{login}})")
    try:
        parse_filter(search_filter.replace(LDAP_LOGIN_PLACEHOLDER, "x"), None, True, True, None, False)
    except LDAPException as error:
        raise ConfigError(f"LMS_LDAP_USER_FILTER is not an LDAP filter: {search_filter!r} ({error})") from error


def _check_ldap_account(config: dict[str, Any]) -> None:
    """Either a DN template the person binds with, or a search (as a service account or anonymous)."""
    bind_dn = config["LDAP_BIND_DN"]
    if bind_dn and LDAP_LOGIN_PLACEHOLDER not in bind_dn:
        config["LDAP_BIND_DN"] = _ldap_dn("LMS_LDAP_BIND_DN", bind_dn)
        if not config["LDAP_BIND_PASSWORD"]:
            raise ConfigError("LMS_LDAP_BIND_DN needs LMS_LDAP_BIND_PASSWORD (the service account's password)")
    if not (bind_dn and LDAP_LOGIN_PLACEHOLDER in bind_dn) and not config["LDAP_USER_SEARCH_BASE"]:
        raise ConfigError(
            "LMS_LDAP_USER_SEARCH_BASE must be set, or LMS_LDAP_BIND_DN be a template with {login}"
            " (e.g. uid={login},ou=people,dc=rathaus,dc=test)"
        )
    if config["LDAP_USER_SEARCH_BASE"]:
        config["LDAP_USER_SEARCH_BASE"] = _ldap_dn("LMS_LDAP_USER_SEARCH_BASE", config["LDAP_USER_SEARCH_BASE"])


def _check_ldap_transport(config: dict[str, Any]) -> None:
    encrypted = [url.startswith("ldaps://") for url in config["LDAP_URLS"]]
    if config["LDAP_START_TLS"] and any(encrypted):
        raise ConfigError("LMS_LDAP_START_TLS is for ldap:// addresses; ldaps:// is encrypted from the start")
    if config["LMS_ENV"] == "production" and not config["LDAP_START_TLS"] and not all(encrypted):
        raise ConfigError(
            "LMS_LDAP_URL: an ldap:// address needs LMS_LDAP_START_TLS=true in production, or passwords"
            " would travel unencrypted (or use ldaps://)"
        )
    if config["LDAP_CA_FILE"] and not Path(config["LDAP_CA_FILE"]).is_file():
        raise ConfigError(f"LMS_LDAP_CA_FILE: no such file {config['LDAP_CA_FILE']!r}")


def _check_directory_settings(config: dict[str, Any]) -> None:
    """Parse and check the directory settings: a mistake stops the start, never a sign-in."""
    from lms.common.vocabulary import DirectoryMatch

    config["LDAP_URLS"] = _ldap_urls(config["LDAP_URLS"])
    config["LDAP_GROUP_ROLES"] = _ldap_group_roles(config["LDAP_GROUP_ROLES"])
    config["LDAP_LOCAL_PASSWORD_ROLES"] = _roles("LMS_LDAP_LOCAL_PASSWORD_ROLES", config["LDAP_LOCAL_PASSWORD_ROLES"])
    _check_ldap_timeout(config["LDAP_TIMEOUT"])
    if config["LDAP_MATCH_BY"] not in set(DirectoryMatch):
        raise ConfigError(f"LMS_LDAP_MATCH_BY must be one of {', '.join(DirectoryMatch)}")
    config["LDAP_MATCH_BY"] = DirectoryMatch(config["LDAP_MATCH_BY"])
    for key in ("LDAP_EMAIL_ATTRIBUTE", "LDAP_PERSONNEL_NUMBER_ATTRIBUTE"):
        if not _LDAP_ATTRIBUTE.fullmatch(config[key]):
            raise ConfigError(f"LMS_{key} must name one attribute (e.g. mail), not {config[key]!r}")
    if not _LDAP_MEMBER_ATTRIBUTE.fullmatch(config["LDAP_GROUP_MEMBER_ATTRIBUTE"]):
        raise ConfigError(f"LMS_LDAP_GROUP_MEMBER_ATTRIBUTE: {config['LDAP_GROUP_MEMBER_ATTRIBUTE']!r} is no attribute")
    if not config["LDAP_URLS"]:
        return
    _check_ldap_filter(config["LDAP_USER_FILTER"])
    _check_ldap_account(config)
    _check_ldap_transport(config)


# --- end of directory sign-in ----------------------------------------------------------------------


def load_config(overrides: dict | None = None) -> dict:
    """Build the Flask configuration from the environment, then apply overrides."""
    overrides = dict(overrides or {})
    env = overrides.get("LMS_ENV") or os.environ.get("LMS_ENV", "development")
    if env not in ENVIRONMENTS:
        raise ConfigError(f"LMS_ENV must be one of {', '.join(ENVIRONMENTS)}, not {env!r}")

    secret_key = overrides.get("SECRET_KEY") or os.environ.get("SECRET_KEY")
    if not secret_key:
        if env == "production":
            raise ConfigError("SECRET_KEY must be set in production")
        secret_key = secrets.token_hex(32) if env == "testing" else _development_secret_key()

    database_url = os.environ.get("DATABASE_URL") or _default_database_url()
    production = env == "production"

    config: dict[str, Any] = {
        "LMS_ENV": env,
        "SECRET_KEY": secret_key,
        "TESTING": env == "testing",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        # Sessions: cookie holds only a signed reference to a server-side session row.
        "SESSION_COOKIE_NAME": "lernpfad_session",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE", production),
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=12),
        "SESSION_IDLE_MINUTES": _int("SESSION_IDLE_MINUTES", 30),
        "SESSION_MAX_HOURS": _int("SESSION_MAX_HOURS", 12),
        # Argon2id cost; tests lower it so the suite stays fast.
        "ARGON2_TIME_COST": _int("ARGON2_TIME_COST", 3),
        "ARGON2_MEMORY_COST": _int("ARGON2_MEMORY_COST", 65536),
        "ARGON2_PARALLELISM": _int("ARGON2_PARALLELISM", 4),
        # An admin-issued one-time password signs in only this long after it was issued.
        "ONE_TIME_PASSWORD_HOURS": _int("LMS_ONE_TIME_PASSWORD_HOURS", 72),
        # Roles whose holders must use two-factor sign-in (docs/two-factor.md); none by default.
        "TWO_FACTOR_REQUIRED_ROLES": os.environ.get("LMS_TWO_FACTOR_REQUIRED_ROLES", ""),
        # Sign-in throttling: free attempts, then a delay doubling per failure up to a cap.
        "LOGIN_FREE_ATTEMPTS_ACCOUNT": _int("LOGIN_FREE_ATTEMPTS_ACCOUNT", 3),
        "LOGIN_FREE_ATTEMPTS_ADDRESS": _int("LOGIN_FREE_ATTEMPTS_ADDRESS", 20),
        "LOGIN_MAX_DELAY_SECONDS": _int("LOGIN_MAX_DELAY_SECONDS", 300),
        # A counter restarts once its last failure is older than this (lms.auth.services).
        "LOGIN_FAILURE_WINDOW_MINUTES": _int("LOGIN_FAILURE_WINDOW_MINUTES", 30),
        # Proxies in front of the app whose X-Forwarded-For/-Proto are trusted (0: none).
        "TRUSTED_PROXIES": _int("LMS_TRUSTED_PROXIES", 0),
        # Larger requests are refused unread (413); uploads get their own limit.
        "MAX_CONTENT_LENGTH": _int("LMS_MAX_REQUEST_BYTES", 1024 * 1024),
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session
        "BABEL_DEFAULT_LOCALE": "de",
        "BABEL_DEFAULT_TIMEZONE": os.environ.get("LMS_TIMEZONE", "Europe/Berlin"),
        "LANGUAGES": ("de", "en"),
        "TOWN_NAME": os.environ.get("LMS_TOWN_NAME", "Stadt Musterhausen"),
        "PAGE_SIZE": _int("LMS_PAGE_SIZE", 25),
        # Signs the audit trail's checkpoints (lms/privacy/chain.py); unset: derived from SECRET_KEY.
        "AUDIT_CHECKPOINT_KEY": os.environ.get("LMS_AUDIT_CHECKPOINT_KEY") or None,
        # Aggregates never show a group smaller than this (agreed with the staff council).
        "PRIVACY_MIN_GROUP_SIZE": _int("LMS_MIN_GROUP_SIZE", 5),
        # A share of a smaller group is shown as a band, never exactly (lms.common.disclosure).
        # (Unset: 20 and 10, or the minimum group size if that is larger; see _check_group_sizes.)
        "PRIVACY_EXACT_SHARE_FROM": _int("LMS_EXACT_SHARE_FROM", 0),
        # Pulse surveys (issue 14) answer only from this many people on.
        "PRIVACY_SURVEY_MIN_GROUP_SIZE": _int("LMS_SURVEY_MIN_GROUP_SIZE", 0),
        # Failed quiz attempts after which the full solution is shown (docs/course-format.md).
        "QUIZ_SOLUTION_AFTER_ATTEMPTS": _int("LMS_QUIZ_SOLUTION_AFTER_ATTEMPTS", 3),
        "COURSE_REVIEW_REQUIRED": _bool("LMS_COURSE_REVIEW_REQUIRED", False),
        # What managers see of their people: "levels" or "compliance-only" (docs/competences.md).
        "MANAGER_VISIBILITY": os.environ.get("LMS_MANAGER_VISIBILITY", ManagerVisibility.COMPLIANCE_ONLY),
        # Modules showing data about people that this town switched off (lms.common.vocabulary.Module).
        "MODULES_OFF": os.environ.get("LMS_MODULES_OFF", ""),
        # Who is responsible and whom to ask, as the privacy notice names them (Art. 13 GDPR).
        "CONTROLLER_CONTACT": os.environ.get("LMS_CONTROLLER_CONTACT", "").strip(),
        "DPO_CONTACT": os.environ.get("LMS_DPO_CONTACT", "").strip(),
        # Show the privacy notice after sign-in until its current version was read. Off in the
        # testing environment, whose other tests sign in and expect to land where they asked.
        "PRIVACY_NOTICE_AT_SIGN_IN": _bool("LMS_PRIVACY_NOTICE_AT_SIGN_IN", env != "testing"),
        # Assignments and reminders (docs/reminders.md).
        "ASSIGNMENT_RECERTIFICATION_LEAD_DAYS": _int("LMS_RECERTIFICATION_LEAD_DAYS", 30),
        "REMINDER_DAYS_BEFORE": _int_list("LMS_REMINDER_DAYS_BEFORE", (14, 3)),
        "REMINDER_ESCALATION_DAYS": _int("LMS_REMINDER_ESCALATION_DAYS", 14),
        "REMINDER_HOUR": _int("LMS_REMINDER_HOUR", 7),
        # A level confirmed by a manager counts as evidence this many months (docs/competences.md).
        "CONFIRMATION_VALID_MONTHS": _int("LMS_CONFIRMATION_VALID_MONTHS", CONFIRMATION_VALID_MONTHS_DEFAULT),
        "HOLIDAY_REGION": os.environ.get("LMS_HOLIDAY_REGION", "NW"),
        "HOLIDAYS_EXTRA": os.environ.get("LMS_HOLIDAYS_EXTRA", ""),
        # The readiness view flags a department below this share of people who did all required
        # courses, from this many days before an initiative's go-live (docs/change.md).
        "READINESS_THRESHOLD_PERCENT": _int("LMS_READINESS_THRESHOLD_PERCENT", 80),
        "READINESS_WARNING_DAYS": _int("LMS_READINESS_WARNING_DAYS", 14),
        # The HR import refuses to deactivate more than this share of the active people it manages
        # unless told to (a truncated export would otherwise sign out half the town; docs/hr-import.md).
        "IMPORT_MAX_DEACTIVATE_PERCENT": _int("LMS_IMPORT_MAX_DEACTIVATE_PERCENT", 10),
        # Sessions' video links: https only, and to these hosts (and their subdomains) if any are named.
        "SESSION_VIDEO_HOSTS": _host_list("LMS_SESSION_VIDEO_HOSTS"),
        "PREFERRED_URL_SCHEME": "https" if production else "http",
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "INFO"),
    }
    config.update(_mail_settings(env))  # mail (lms.notifications)
    config.update(_directory_settings())  # directory sign-in (lms.auth.directory)
    if env == "testing":
        config.update(ARGON2_TIME_COST=1, ARGON2_MEMORY_COST=1024, ARGON2_PARALLELISM=1)
    config.update(overrides)
    if config["MANAGER_VISIBILITY"] not in set(ManagerVisibility):
        raise ConfigError(f"LMS_MANAGER_VISIBILITY must be one of {', '.join(ManagerVisibility)}")
    config["MANAGER_VISIBILITY"] = ManagerVisibility(config["MANAGER_VISIBILITY"])
    config["MODULES_OFF"] = _modules_off(config["MODULES_OFF"])
    config["TWO_FACTOR_REQUIRED_ROLES"] = _roles("LMS_TWO_FACTOR_REQUIRED_ROLES", config["TWO_FACTOR_REQUIRED_ROLES"])
    _check_mail_settings(config)  # mail (lms.notifications)
    _check_directory_settings(config)  # directory sign-in (lms.auth.directory)
    if config["LMS_ENV"] == "production":
        _check_production(config)
    if config["PRIVACY_MIN_GROUP_SIZE"] < MIN_GROUP_SIZE_FLOOR:
        raise ConfigError(
            f"LMS_MIN_GROUP_SIZE must be at least {MIN_GROUP_SIZE_FLOOR}: "
            "a smaller group's figures tell about its members"
        )
    _check_group_sizes(config)
    config["RETENTION_DAYS"] = config.get("RETENTION_DAYS") or _retention_days()
    if config["TRUSTED_PROXIES"] < 0:
        raise ConfigError("LMS_TRUSTED_PROXIES must be 0 (no proxy) or the number of proxies in front of the app")
    low, high = CONFIRMATION_VALID_MONTHS_BOUNDS
    if not low <= (months := config["CONFIRMATION_VALID_MONTHS"]) <= high:
        raise ConfigError(f"LMS_CONFIRMATION_VALID_MONTHS must be from {low} to {high} months, not {months}")
    _check_readiness(config)
    if not 0 <= config["IMPORT_MAX_DEACTIVATE_PERCENT"] <= 100:
        raise ConfigError("LMS_IMPORT_MAX_DEACTIVATE_PERCENT must be from 0 to 100")
    if config["ONE_TIME_PASSWORD_HOURS"] < 1:
        raise ConfigError("LMS_ONE_TIME_PASSWORD_HOURS must be at least 1")
    if config["LOGIN_FAILURE_WINDOW_MINUTES"] * 60 < config["LOGIN_MAX_DELAY_SECONDS"]:
        raise ConfigError("LOGIN_FAILURE_WINDOW_MINUTES must be at least as long as LOGIN_MAX_DELAY_SECONDS")
    if config["SQLALCHEMY_DATABASE_URI"] == _default_database_url():
        _prepare_default_database()
    return config
