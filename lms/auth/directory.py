"""Sign-in against the town's directory (Active Directory or OpenLDAP): docs/directory-sign-in.md.

With LMS_LDAP_URL set, people sign in with their directory password. Lernpfad binds with the
person's credentials (after finding their entry as a service account, or straight from a DN
template), finds the Lernpfad person by e-mail address or personnel number, and, with
LMS_LDAP_GROUP_ROLES, grants and removes the roles named there to match the person's groups.

The interface rule agreed with the staff council:

- Lernpfad reads exactly one attribute of the person, the one it matches by (`person_attributes`),
  and of each group named in LMS_LDAP_GROUP_ROLES only whether the person is a member (a search on
  the group with no attribute requested). It never asks for all attributes ("*").
- It writes nothing to the directory: it binds and searches, on read-only connections.

Filter values and DN parts typed at the sign-in form are escaped (RFC 4515, RFC 4514), so a
login cannot change what is searched for. A directory that is down, too slow or misconfigured
raises `DirectoryUnavailable`: the sign-in page says so, and nobody is penalised for it.

Role changes are announced with `role_changed` (auth may not import the audit trail, which is
on its own layer); lms/__init__.py connects it to `lms.privacy.services.record_event`.
"""

from __future__ import annotations

import logging
import re
import ssl
from dataclasses import dataclass
from typing import Any

from blinker import Namespace
from flask import current_app
from ldap3 import ANONYMOUS, BASE, NO_ATTRIBUTES, SIMPLE, SUBTREE, SYNC, Connection, Server, Tls
from ldap3 import NONE as NO_SERVER_INFO
from ldap3.core.exceptions import LDAPException
from ldap3.utils.conv import escape_filter_chars
from ldap3.utils.dn import escape_rdn
from sqlalchemy import select

from lms.common.text import has_control_characters
from lms.common.vocabulary import AuditAction, AuditField, DirectoryMatch, Role
from lms.config import LDAP_LOGIN_PLACEHOLDER
from lms.extensions import db
from lms.people.models import User, UserRole
from lms.people.services import normalise_email

log = logging.getLogger(__name__)

VIA_DIRECTORY = "directory"  # the audit entries' AuditField.VIA for changes the directory made

# Sent once per role a directory sign-in granted or removed, with no sender (no person made the
# change: the directory's groups did) and the keywords of lms.privacy.services.record_event:
# action (GRANT_ROLE or REVOKE_ROLE), subject (the person), context (role, via) and ip_address.
# Inside the sign-in's transaction: the listener writes the audit entry, the view commits both.
role_changed = Namespace().signal("directory-role-changed")

# LDAP result codes (RFC 4511)
SUCCESS = 0
SIZE_LIMIT_EXCEEDED = 4
NO_SUCH_OBJECT = 32
BUSY, UNAVAILABLE, OTHER = 51, 52, 80


class DirectoryUnavailable(Exception):
    """The directory could not be asked: down, too slow, or refusing Lernpfad's own account."""


class _DirectoryError(Exception):
    """One server could not answer (the next one is tried)."""


@dataclass(frozen=True)
class DirectoryPerson:
    """What the directory told about a person whose password it accepted."""

    dn: str
    values: tuple[str, ...]  # the attribute Lernpfad matches by (e-mail or personnel number)
    groups: dict[str, bool | None]  # each group of LMS_LDAP_GROUP_ROLES: member? (None: not known)


def enabled() -> bool:
    return bool(current_app.config["LDAP_URLS"])


def local_password_allowed(user: User) -> bool:
    """May this person sign in with their Lernpfad password? Everyone without the directory; with
    it, only holders of LMS_LDAP_LOCAL_PASSWORD_ROLES (admins by default: when the directory is
    down, someone must still be able to sign in)."""
    return not enabled() or user.has_role(*current_app.config["LDAP_LOCAL_PASSWORD_ROLES"])


def accepts_user_name() -> bool:
    """Does the configuration find people by something besides their e-mail address (a DN
    template, or a filter comparing the login with another attribute, such as uid)? Then the
    sign-in form asks for "e-mail address or user name"."""
    config = current_app.config
    if LDAP_LOGIN_PLACEHOLDER in (config["LDAP_BIND_DN"] or ""):
        return True
    compared = _COMPARED_WITH_LOGIN.findall(config["LDAP_USER_FILTER"])
    return any(attribute.lower() != config["LDAP_EMAIL_ATTRIBUTE"].lower() for attribute in compared)


# `(uid={login})`, `(mail=*{login})`: the attribute a filter compares with the login.
_COMPARED_WITH_LOGIN = re.compile(r"\(\s*([A-Za-z0-9.;-]+)[^=()]*=[^()]*\{login\}")


def person_attributes() -> list[str]:
    """The attributes read of a person: only the one Lernpfad matches by."""
    config = current_app.config
    if config["LDAP_MATCH_BY"] == DirectoryMatch.PERSONNEL_NUMBER:
        return [config["LDAP_PERSONNEL_NUMBER_ATTRIBUTE"]]
    return [config["LDAP_EMAIL_ATTRIBUTE"]]


def sign_in(login: str, password: str, ip_address: str | None) -> User | None:
    """The active Lernpfad person behind a directory sign-in, their roles brought in line with
    their groups. None for a wrong password, a login the directory does not know, or a person
    the directory knows but Lernpfad does not (logged). Raises DirectoryUnavailable."""
    person = check_credentials(login, password)
    if person is None:
        return None
    user = matching_user(person)
    if user is None:
        return None
    sync_roles(user, person, ip_address)
    if not local_password_allowed(user):
        # Their Lernpfad password signs nobody in now: it need not be changed either.
        user.must_change_password = False
    db.session.flush()
    return user


# --- asking the directory -------------------------------------------------------------------


def check_credentials(login: str, password: str) -> DirectoryPerson | None:
    """Bind as the person; None if the directory does not know the login or refuses the password.

    The servers of LMS_LDAP_URL are tried in order; one that cannot answer is skipped. When none
    can, DirectoryUnavailable is raised.
    """
    login = login.strip()
    if not login or not password or not _sendable(login) or not _sendable(password):
        return None  # an empty password would be an unauthenticated bind, which "succeeds"
    problems = []
    for url in current_app.config["LDAP_URLS"]:
        try:
            return _check_on(_server(url), login, password)
        except (LDAPException, OSError, _DirectoryError) as error:
            log.warning("directory sign-in: %s could not be asked: %s", url, error)
            problems.append(f"{url}: {error}")
        except Exception as error:  # ldap3 raises more than its own; sign-in must answer
            log.exception("directory sign-in: %s failed unexpectedly", url)
            problems.append(f"{url}: {error!r}")
    raise DirectoryUnavailable("; ".join(problems))


def _sendable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: no directory could compare it
        return False
    return not has_control_characters(text)


def _server(url: str) -> Server:
    config = current_app.config
    tls = None
    if url.startswith("ldaps://") or config["LDAP_START_TLS"]:
        # The server's certificate is checked against the town's CA (or the system's) and its name.
        tls = Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=config["LDAP_CA_FILE"])
    # No server information: reading it would ask for all attributes of the root entry and schema.
    return Server(url, tls=tls, get_info=NO_SERVER_INFO, connect_timeout=config["LDAP_TIMEOUT"])


def _connection(server: Server, dn: str | None, password: str | None) -> Connection:
    """An open (and, with LMS_LDAP_START_TLS, encrypted) read-only connection, not yet bound."""
    connection = Connection(
        server,
        user=dn,
        password=password,
        authentication=SIMPLE if dn else ANONYMOUS,
        client_strategy=SYNC,
        read_only=True,  # ldap3 refuses every write on it
        auto_referrals=False,
        raise_exceptions=False,
        receive_timeout=current_app.config["LDAP_TIMEOUT"],
    )
    connection.open()
    if current_app.config["LDAP_START_TLS"] and not connection.start_tls():
        _close(connection)
        raise _DirectoryError(f"StartTLS refused: {connection.result}")
    return connection


def _close(connection: Connection) -> None:
    """Unbind; a connection that broke down meanwhile is closed all the same."""
    try:
        connection.unbind()
    except (LDAPException, OSError):
        pass


def _bind(connection: Connection) -> bool:
    """Bind with the connection's credentials: False when the directory refuses them."""
    if connection.bind():
        return True
    if connection.result.get("result") in (BUSY, UNAVAILABLE, OTHER):
        raise _DirectoryError(f"bind: {connection.result.get('description')}")
    return False


def _check_on(server: Server, login: str, password: str) -> DirectoryPerson | None:
    config = current_app.config
    template = config["LDAP_BIND_DN"] if LDAP_LOGIN_PLACEHOLDER in (config["LDAP_BIND_DN"] or "") else None
    if template:
        # The person binds straight away; then reads their own entry.
        user = _connection(server, template.replace(LDAP_LOGIN_PLACEHOLDER, escape_rdn(login)), password)
        try:
            if not _bind(user):
                return None
            if config["LDAP_USER_SEARCH_BASE"]:
                entry = _find_person(user, login)
            else:
                entry = _single(_search(user, user.user, "(objectClass=*)", BASE, person_attributes()))
            if entry is None:
                log.warning("directory sign-in: %s signed in, but its entry was not found: refused", user.user)
                return None
            return _person(user, entry)
        finally:
            _close(user)
    # Found by Lernpfad's service account (or anonymously), then the person's own bind.
    service = _connection(server, config["LDAP_BIND_DN"], config["LDAP_BIND_PASSWORD"])
    try:
        if config["LDAP_BIND_DN"] and not _bind(service):
            raise _DirectoryError("the directory refused LMS_LDAP_BIND_DN's password")
        entry = _find_person(service, login)
        if entry is None:
            return None
        user = _connection(server, entry["dn"], password)
        try:
            if not _bind(user):
                return None
        finally:
            _close(user)
        return _person(service, entry)
    finally:
        _close(service)


def _search(connection: Connection, base: str, search_filter: str, scope: str, attributes: list[str]) -> list[dict]:
    """The entries found (referrals left out). A base that does not exist is a configuration error,
    not an unknown login: it must not look like wrong passwords."""
    timeout = current_app.config["LDAP_TIMEOUT"]
    connection.search(
        base,
        search_filter,
        search_scope=scope,
        attributes=attributes,
        size_limit=2,  # a second entry already makes a login ambiguous
        time_limit=timeout,
    )
    code = connection.result.get("result")
    if code == NO_SUCH_OBJECT:
        raise _DirectoryError(f"{base} does not exist (LMS_LDAP_USER_SEARCH_BASE, LMS_LDAP_BIND_DN?)")
    if code not in (SUCCESS, SIZE_LIMIT_EXCEEDED):
        raise _DirectoryError(f"search under {base}: {connection.result.get('description')}")
    return [entry for entry in connection.response or [] if entry.get("type") == "searchResEntry"]


def _single(entries: list[dict]) -> dict | None:
    if len(entries) > 1:
        log.warning("directory sign-in: the login matches several entries (%s, …): refused", entries[0]["dn"])
    return entries[0] if len(entries) == 1 else None


def _find_person(connection: Connection, login: str) -> dict | None:
    config = current_app.config
    search_filter = config["LDAP_USER_FILTER"].replace(LDAP_LOGIN_PLACEHOLDER, escape_filter_chars(login))
    return _single(_search(connection, config["LDAP_USER_SEARCH_BASE"], search_filter, SUBTREE, person_attributes()))


def _values(entry: dict, attribute: str) -> tuple[str, ...]:
    """An attribute's values as text, whatever case the server spells its name in."""
    raw: dict[str, Any] = entry.get("raw_attributes") or {}
    for name, values in raw.items():
        if name.lower() == attribute.lower():
            return tuple(
                value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value) for value in values
            )
    return ()


def _person(connection: Connection, entry: dict) -> DirectoryPerson:
    """The person's match values, and whether they are in each group named in LMS_LDAP_GROUP_ROLES."""
    config = current_app.config
    member = config["LDAP_GROUP_MEMBER_ATTRIBUTE"]
    groups: dict[str, bool | None] = {}
    for group_dn, _role in config["LDAP_GROUP_ROLES"]:
        if group_dn in groups:
            continue
        # Only this group, only whether the person is in it: no attribute is read.
        member_filter = f"({member}={escape_filter_chars(entry['dn'])})"
        connection.search(group_dn, member_filter, search_scope=BASE, attributes=[NO_ATTRIBUTES])
        code = connection.result.get("result")
        if code == NO_SUCH_OBJECT:
            log.error("LMS_LDAP_GROUP_ROLES names %s, which the directory does not have: its roles stay", group_dn)
            groups[group_dn] = None
        elif code != SUCCESS:
            raise _DirectoryError(f"group {group_dn}: {connection.result.get('description')}")
        else:
            groups[group_dn] = any(found.get("type") == "searchResEntry" for found in connection.response or [])
    return DirectoryPerson(dn=entry["dn"], values=_values(entry, person_attributes()[0]), groups=groups)


# --- the person in Lernpfad -----------------------------------------------------------------


def matching_user(person: DirectoryPerson) -> User | None:
    """The one active Lernpfad person with the directory entry's e-mail or personnel number."""
    by_email = current_app.config["LDAP_MATCH_BY"] == DirectoryMatch.EMAIL
    cleaned = {value.strip() for value in person.values if value.strip() and not has_control_characters(value)}
    wanted = {normalise_email(value) for value in cleaned} if by_email else cleaned
    column = User.email if by_email else User.personnel_number
    found = db.session.execute(select(User).where(column.in_(wanted), User.active.is_(True))).scalars().all()
    if len(found) != 1:
        log.warning(
            "directory sign-in refused: %s has no %s that matches one active person in Lernpfad (%d match)",
            person.dn,
            current_app.config["LDAP_MATCH_BY"],
            len(found),
        )
        return None
    return found[0]


def sync_roles(user: User, person: DirectoryPerson, ip_address: str | None) -> list[tuple[AuditAction, Role]]:
    """Grant and remove the roles of LMS_LDAP_GROUP_ROLES to match the person's groups; other roles
    stay as they are. A role is held if any of its groups has the person; it is left alone if a
    group could not be checked. Each change is announced (`role_changed`) for the audit trail."""
    mapping = current_app.config["LDAP_GROUP_ROLES"]
    changes: list[tuple[AuditAction, Role]] = []
    for role in sorted({role for _dn, role in mapping}):
        states = [person.groups.get(dn) for dn, mapped in mapping if mapped == role]
        if any(state is True for state in states):
            wanted = True
        elif any(state is None for state in states):
            continue  # not known: neither granted nor removed
        else:
            wanted = False
        if wanted and not user.has_role(role):
            user.role_rows.append(UserRole(role=role))
            changes.append((AuditAction.GRANT_ROLE, role))
        elif user.has_role(role) and not wanted:
            user.role_rows[:] = [row for row in user.role_rows if row.role != role]
            changes.append((AuditAction.REVOKE_ROLE, role))
    db.session.flush()
    for action, role in changes:
        role_changed.send(
            None,
            action=action,
            subject=user,
            context={AuditField.ROLE: role, AuditField.VIA: VIA_DIRECTORY},
            ip_address=ip_address,
        )
    return changes
