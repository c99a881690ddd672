"""Sign-in against the town's directory (issue 15), with a real OpenLDAP server (tests/ldap_server.py).

Through the real sign-in form: by e-mail and by personnel number, wrong passwords and unknown
people answered alike, roles from groups (audited), escaped filters, a directory that is down or
silent, admins' local passwords, and the staff council's rule: only the listed attributes are
read, and nothing is ever written.
"""

from __future__ import annotations

import logging
import re
import socket
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from lms.auth import directory
from lms.auth.models import AuthSession, LoginThrottle
from lms.common.vocabulary import AuditAction, Role
from lms.config import ConfigError, load_config
from lms.extensions import db
from lms.people.models import User
from lms.privacy.models import AuditEntry
from tests import ldap_server as slapd
from tests.conftest import csrf_token
from tests.factories import DEFAULT_PASSWORD
from tests.ldap_server import (
    ADMINS_GROUP,
    ANNA,
    BERND,
    CARLA,
    DORA,
    GROUPS,
    HR_GROUP,
    PEOPLE,
    SERVICE_DN,
    SERVICE_PASSWORD,
    TRAINERS_GROUP,
    free_port,
)

ldap_server = slapd.ldap_server  # the fixture: slapd, one per worker (session scope)

WRONG = "E-mail address, user name or password is not correct."
UNAVAILABLE = "Signing in through the directory service is not possible right now."
LDAP_VARIABLES = (
    "LMS_LDAP_URL",
    "LMS_LDAP_START_TLS",
    "LMS_LDAP_CA_FILE",
    "LMS_LDAP_BIND_DN",
    "LMS_LDAP_BIND_PASSWORD",
    "LMS_LDAP_USER_SEARCH_BASE",
    "LMS_LDAP_USER_FILTER",
    "LMS_LDAP_MATCH_BY",
    "LMS_LDAP_EMAIL_ATTRIBUTE",
    "LMS_LDAP_PERSONNEL_NUMBER_ATTRIBUTE",
    "LMS_LDAP_GROUP_ROLES",
    "LMS_LDAP_GROUP_MEMBER_ATTRIBUTE",
    "LMS_LDAP_TIMEOUT",
    "LMS_LDAP_LOCAL_PASSWORD_ROLES",
)
WRITES = re.compile(r" (ADD|MOD|MODRDN|DEL|PASSMOD|EXT oid=1\.3\.6\.1\.4\.1\.4203\.1\.11\.1) ")


def directory_config(monkeypatch, **variables: str) -> dict:
    """load_config with exactly these LMS_LDAP_* variables in the environment."""
    env = variables.pop("LMS_ENV", "testing")
    for name in LDAP_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    return load_config({"LMS_ENV": env})


@pytest.fixture
def use_directory(app, database, ldap_server, monkeypatch):
    """Points the app at the test's slapd (service account, e-mail or uid) for one test;
    call it again with other variables to change them. Restored after the test."""

    def configure(**variables: str) -> None:
        settings = {
            "LMS_LDAP_URL": ldap_server.url,
            "LMS_LDAP_BIND_DN": SERVICE_DN,
            "LMS_LDAP_BIND_PASSWORD": SERVICE_PASSWORD,
            "LMS_LDAP_USER_SEARCH_BASE": PEOPLE,
            "LMS_LDAP_USER_FILTER": "(|(mail={login})(uid={login}))",
            "LMS_LDAP_TIMEOUT": "1",
            **variables,
        }
        loaded = directory_config(monkeypatch, **settings)
        for key, value in loaded.items():
            if key.startswith("LDAP_"):
                monkeypatch.setitem(app.config, key, value)

    configure()
    return configure


@pytest.fixture
def post_login(client):
    """Posts the sign-in form as a person would, the page in English."""

    def post(login: str, password: str):
        english = {"Accept-Language": "en"}
        token = csrf_token(client.get("/auth/login", headers=english))
        return client.post(
            "/auth/login", data={"csrf_token": token, "email": login, "password": password}, headers=english
        )

    return post


def signed_in_as(client) -> User | None:
    """Who the client's session belongs to: None unless a signed-in page answers."""
    if client.get("/learning/").status_code != 200:
        return None
    newest = select(AuthSession).where(AuthSession.ended_at.is_(None)).order_by(AuthSession.id.desc()).limit(1)
    return db.session.execute(newest).scalar_one().user


def sign_out(client) -> None:
    client.post("/auth/logout", data={"csrf_token": csrf_token(client.get("/learning/"))})


def page_text(response) -> str:
    return response.get_data(as_text=True)


def sign_in_failures() -> int:
    return sum(db.session.execute(select(LoginThrottle.failures)).scalars())


@pytest.fixture
def directory_log():
    """Records what lms.auth.directory logs (the lms logger does not propagate to the root)."""
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger("lms.auth.directory")
    logger.addHandler(handler)
    yield records
    logger.removeHandler(handler)


# --- signing in -------------------------------------------------------------------------------


def test_a_person_signs_in_with_the_directory_password_by_e_mail(client, make_user, use_directory, post_login):
    anna = make_user(email=ANNA.mail, password=DEFAULT_PASSWORD)
    anna.must_change_password = True  # an old one-time password: no longer hers to change
    db.session.commit()
    assert WRONG in page_text(post_login(ANNA.mail.upper(), DEFAULT_PASSWORD))  # her local password: not any more
    response = post_login(ANNA.mail.upper(), ANNA.password)
    assert response.status_code == 302
    assert signed_in_as(client).id == anna.id  # a page of hers, not the password change


def test_a_person_is_found_by_personnel_number_and_signs_in_with_the_user_name(
    client, make_user, use_directory, post_login
):
    use_directory(LMS_LDAP_MATCH_BY="personnel_number")
    # Another e-mail address in Lernpfad than in the directory: the personnel number decides.
    bernd = make_user(email="b.schmidt@rathaus.example", personnel_number=BERND.employee_number)
    make_user(email=BERND.mail, personnel_number="999999")
    assert post_login(BERND.uid, BERND.password).status_code == 302
    assert signed_in_as(client).id == bernd.id


def test_a_dn_template_binds_without_a_service_account(client, make_user, ldap_server, use_directory, post_login):
    use_directory(LMS_LDAP_BIND_DN=f"uid={{login}},{PEOPLE}", LMS_LDAP_BIND_PASSWORD="", LMS_LDAP_USER_SEARCH_BASE="")
    carla = make_user(email=CARLA.mail)
    mark = ldap_server.mark()
    assert post_login(CARLA.uid, CARLA.password).status_code == 302
    assert signed_in_as(client).id == carla.id
    assert f'BIND dn="{CARLA.dn}"' in "\n".join(ldap_server.operations_since(mark))


def test_the_form_asks_for_a_user_name_only_when_the_filter_takes_one(client, use_directory):
    english = {"Accept-Language": "en"}
    page = page_text(client.get("/auth/login", headers=english))
    assert "E-mail address or user name" in page and 'type="text"' in page
    use_directory(LMS_LDAP_USER_FILTER="(mail={login})")
    page = page_text(client.get("/auth/login", headers=english))
    assert "E-mail address or user name" not in page and 'type="email"' in page
    assert "IT service desk" in page and "one-time password" not in page  # the directory's password


def test_without_the_directory_the_administrator_issues_passwords(client):
    page = page_text(client.get("/auth/login", headers={"Accept-Language": "en"}))
    assert "one-time password" in page and "IT service desk" not in page


# --- refusals, alike --------------------------------------------------------------------------


def test_wrong_password_unknown_login_and_unknown_person_get_one_answer(
    client, make_user, use_directory, post_login, directory_log
):
    make_user(email=ANNA.mail)
    wrong = post_login(ANNA.mail, "falsches-Passwort-1")
    unknown = post_login("niemand@musterhausen.example", "falsches-Passwort-1")
    # Dora is in the directory, with the right password, but nobody in Lernpfad has her address.
    not_in_lernpfad = post_login(DORA.mail, DORA.password)
    for response in (wrong, unknown, not_in_lernpfad):
        assert response.status_code == 200 and WRONG in page_text(response)
        assert UNAVAILABLE not in page_text(response)
    assert signed_in_as(client) is None
    # Each counts for the throttle (account and address: two counters per failure).
    assert sign_in_failures() == 6
    assert any(DORA.dn in record.getMessage() for record in directory_log)


def test_a_deactivated_person_cannot_sign_in_through_the_directory(client, make_user, use_directory, post_login):
    make_user(email=ANNA.mail, active=False)
    assert WRONG in page_text(post_login(ANNA.mail, ANNA.password))
    assert signed_in_as(client) is None


def test_wrong_directory_passwords_are_throttled(app, client, make_user, use_directory, post_login):
    make_user(email=ANNA.mail)
    for _ in range(app.config["LOGIN_FREE_ATTEMPTS_ACCOUNT"] + 1):
        post_login(ANNA.mail, "falsches-Passwort-1")
    response = post_login(ANNA.mail, ANNA.password)
    assert "Too many failed attempts" in page_text(response)
    assert signed_in_as(client) is None


def test_a_login_cannot_change_the_filter(client, make_user, ldap_server, use_directory, post_login):
    make_user(email=ANNA.mail)
    # Unescaped, "amuell*" would find Anna (uid=amuell*) and her password would sign in.
    assert WRONG in page_text(post_login("amuell*", ANNA.password))
    mark = ldap_server.mark()
    assert WRONG in page_text(post_login("*)(uid=*", ANNA.password))
    assert signed_in_as(client) is None
    searches = [line for line in ldap_server.operations_since(mark) if " SRCH base=" in line]
    assert len(searches) == 1
    assert r'filter="(|(mail=\2A\29\28uid=\2A)(uid=\2A\29\28uid=\2A))"' in searches[0]


# --- roles from groups ------------------------------------------------------------------------


def test_group_roles_are_granted_and_removed_and_audited(client, make_user, use_directory, post_login):
    use_directory(
        LMS_LDAP_GROUP_ROLES=(
            f"hr: {HR_GROUP}; trainer: {TRAINERS_GROUP};\nadmin: {ADMINS_GROUP}; dpo: cn=gibt-es-nicht,{GROUPS}"
        )
    )
    anna = make_user(email=ANNA.mail, roles=[Role.ADMIN, Role.MANAGER, Role.DPO])
    assert post_login(ANNA.mail, ANNA.password).status_code == 302
    db.session.expire_all()
    # HR and trainer from her groups; admin removed (not in that group); manager is no group's
    # role; the DPO's group does not exist, so that role is left as it was.
    assert db.session.get(User, anna.id).roles == {Role.EMPLOYEE, Role.HR, Role.TRAINER, Role.MANAGER, Role.DPO}
    entries = db.session.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars().all()
    changes = {(entry.action, entry.context["role"]) for entry in entries}
    assert changes == {
        (AuditAction.GRANT_ROLE, Role.HR),
        (AuditAction.GRANT_ROLE, Role.TRAINER),
        (AuditAction.REVOKE_ROLE, Role.ADMIN),
    }
    assert all(entry.subject_id == anna.id and entry.actor_id is None for entry in entries)
    assert all(entry.context["via"] == directory.VIA_DIRECTORY for entry in entries)
    # Signing in again changes nothing, and records nothing.
    sign_out(client)
    assert post_login(ANNA.mail, ANNA.password).status_code == 302
    assert db.session.scalar(select(db.func.count(AuditEntry.id))) == 3


# --- the directory down -----------------------------------------------------------------------


@pytest.fixture
def silent_server() -> Iterator[str]:
    """An address that accepts connections and never answers (a hanging directory)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield f"ldap://127.0.0.1:{listener.getsockname()[1]}"


@pytest.mark.parametrize("down", ["closed port", "silent server"])
def test_a_directory_that_is_down_gets_its_own_message_and_no_delay(
    client, make_user, use_directory, post_login, silent_server, down
):
    use_directory(LMS_LDAP_URL=f"ldap://127.0.0.1:{free_port()}" if down == "closed port" else silent_server)
    make_user(email=ANNA.mail)
    started = time.monotonic()
    response = post_login(ANNA.mail, ANNA.password)
    assert time.monotonic() - started < 3  # the timeout is 1 s
    assert UNAVAILABLE in page_text(response) and WRONG not in page_text(response)
    assert sign_in_failures() == 0
    assert signed_in_as(client) is None


@pytest.mark.parametrize(
    "mistake",
    [{"LMS_LDAP_USER_SEARCH_BASE": "ou=gibt-es-nicht,dc=rathaus,dc=test"}, {"LMS_LDAP_BIND_PASSWORD": "veraltet"}],
)
def test_a_misconfigured_directory_is_not_the_persons_fault(make_user, use_directory, post_login, mistake):
    use_directory(**mistake)
    make_user(email=ANNA.mail)
    assert UNAVAILABLE in page_text(post_login(ANNA.mail, ANNA.password))
    assert sign_in_failures() == 0


def test_the_next_server_answers_when_the_first_is_down(client, make_user, ldap_server, use_directory, post_login):
    use_directory(LMS_LDAP_URL=f"ldap://127.0.0.1:{free_port()}, {ldap_server.url}")
    anna = make_user(email=ANNA.mail)
    assert post_login(ANNA.mail, ANNA.password).status_code == 302
    assert signed_in_as(client).id == anna.id


def test_an_admin_signs_in_with_the_local_password_while_the_directory_is_down(
    client, make_user, use_directory, post_login, silent_server
):
    use_directory(LMS_LDAP_URL=silent_server)
    admin = make_user(roles=[Role.ADMIN], email="it-notfall@musterhausen.example")
    # A wrong local password still counts, the directory down or not.
    assert UNAVAILABLE in page_text(post_login(admin.email, "falsches-Passwort-1"))
    assert sign_in_failures() == 2
    assert post_login(admin.email, DEFAULT_PASSWORD).status_code == 302
    assert signed_in_as(client).id == admin.id


def test_local_passwords_only_for_the_configured_roles(client, make_user, use_directory, post_login):
    employee = make_user(email="lokal@musterhausen.example")
    trainer = make_user(roles=[Role.TRAINER], email="trainerin@musterhausen.example")
    assert WRONG in page_text(post_login(employee.email, DEFAULT_PASSWORD))
    assert WRONG in page_text(post_login(trainer.email, DEFAULT_PASSWORD))
    use_directory(LMS_LDAP_LOCAL_PASSWORD_ROLES="admin,trainer")
    assert WRONG in page_text(post_login(employee.email, DEFAULT_PASSWORD))
    assert post_login(trainer.email, DEFAULT_PASSWORD).status_code == 302
    assert signed_in_as(client).id == trainer.id


# --- TLS --------------------------------------------------------------------------------------


@pytest.fixture
def tls_server(ldap_server):
    if ldap_server.tls_url is None:
        slapd.unavailable("openssl is not installed: the test directory has no certificate")
    return ldap_server


@pytest.mark.parametrize("transport", ["ldaps", "starttls"])
def test_the_directory_is_reached_over_tls_with_its_certificate_checked(
    client, make_user, tls_server, use_directory, post_login, transport
):
    url = tls_server.tls_url if transport == "ldaps" else tls_server.url
    starttls = "true" if transport == "starttls" else "false"
    anna = make_user(email=ANNA.mail)
    # Without the town's CA the self-signed certificate is not trusted: no password is sent.
    use_directory(LMS_LDAP_URL=url, LMS_LDAP_START_TLS=starttls)
    mark = tls_server.mark()
    assert UNAVAILABLE in page_text(post_login(ANNA.mail, ANNA.password))
    assert not [line for line in tls_server.operations_since(mark) if " BIND " in line]
    use_directory(LMS_LDAP_URL=url, LMS_LDAP_START_TLS=starttls, LMS_LDAP_CA_FILE=str(tls_server.ca_file))
    mark = tls_server.mark()
    assert post_login(ANNA.mail, ANNA.password).status_code == 302
    assert signed_in_as(client).id == anna.id
    # Both binds (Lernpfad's account, then Anna's) over an encrypted connection (ssf: its strength).
    binds = [line for line in tls_server.operations_since(mark) if " BIND dn=" in line and "mech=SIMPLE" in line]
    assert [re.search(r'dn="([^"]+)"', line)[1] for line in binds] == [SERVICE_DN, ANNA.dn]
    assert all(int(re.search(r" ssf=(\d+)", line)[1]) >= 128 for line in binds)


# --- the staff council's rule: only listed attributes, nothing written ------------------------


@pytest.mark.parametrize(("match_by", "attribute"), [("email", "mail"), ("personnel_number", "employeeNumber")])
def test_only_the_listed_attribute_is_read_and_nothing_is_written(
    client,
    make_user,
    ldap_server,
    use_directory,
    post_login,
    match_by,
    attribute,
):
    use_directory(
        LMS_LDAP_MATCH_BY=match_by,
        LMS_LDAP_GROUP_ROLES=f"hr: {HR_GROUP}; trainer: {TRAINERS_GROUP}; admin: {ADMINS_GROUP}",
    )
    make_user(email=ANNA.mail, personnel_number=ANNA.employee_number)
    mark = ldap_server.mark()
    assert post_login(ANNA.mail, ANNA.password).status_code == 302
    sign_out(client)
    assert WRONG in page_text(post_login(ANNA.mail, "falsches-Passwort-1"))
    operations = ldap_server.operations_since(mark)
    searches = {re.search(r"conn=\d+ op=\d+", line)[0] for line in operations if " SRCH base=" in line}
    requested = {
        re.search(r"conn=\d+ op=\d+", line)[0]: line.split("attr=")[1] for line in operations if "attr=" in line
    }
    assert len(searches) == 2 + 3  # the person twice; the three groups once
    # slapd logs no attr= line for a search that asks for every attribute: each search has one.
    assert set(requested) == searches
    assert set(requested.values()) == {attribute, "1.1"}  # 1.1: no attribute at all (the groups)
    assert not [line for line in operations if WRITES.search(line)]


# --- configuration --------------------------------------------------------------------------------


BASE_SETTINGS = {
    "LMS_LDAP_URL": "ldaps://dc1.rathaus.test",
    "LMS_LDAP_BIND_DN": SERVICE_DN,
    "LMS_LDAP_BIND_PASSWORD": SERVICE_PASSWORD,
    "LMS_LDAP_USER_SEARCH_BASE": PEOPLE,
}


def test_the_settings_are_read_and_typed(monkeypatch):
    variables = {
        **BASE_SETTINGS,
        "LMS_LDAP_URL": "ldaps://dc1.rathaus.test, ldaps://dc2.rathaus.test:3269",
        "LMS_LDAP_GROUP_ROLES": f"admin: CN=Lernpfad Admins, OU=Gruppen,DC=rathaus,DC=test\nhr:{HR_GROUP}",
        "LMS_LDAP_TIMEOUT": "7",
        "LMS_LDAP_LOCAL_PASSWORD_ROLES": "admin, dpo",
    }
    config = directory_config(monkeypatch, **variables)
    assert config["LDAP_URLS"] == ("ldaps://dc1.rathaus.test", "ldaps://dc2.rathaus.test:3269")
    assert config["LDAP_GROUP_ROLES"] == (
        ("CN=Lernpfad Admins,OU=Gruppen,DC=rathaus,DC=test", Role.ADMIN),
        (HR_GROUP, Role.HR),
    )
    assert config["LDAP_TIMEOUT"] == 7
    assert config["LDAP_LOCAL_PASSWORD_ROLES"] == {Role.ADMIN, Role.DPO}
    assert directory_config(monkeypatch)["LDAP_URLS"] == ()  # off without LMS_LDAP_URL


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"LMS_LDAP_GROUP_ROLES": f"chef: {ADMINS_GROUP}"}, "unknown role 'chef'"),
        ({"LMS_LDAP_GROUP_ROLES": f"employee: {ADMINS_GROUP}"}, "unknown role 'employee'"),
        ({"LMS_LDAP_GROUP_ROLES": ADMINS_GROUP}, "not `role: group DN`"),
        ({"LMS_LDAP_GROUP_ROLES": "admin: keine DN"}, "not a distinguished name"),
        ({"LMS_LDAP_LOCAL_PASSWORD_ROLES": "admins"}, "unknown roles (admins)"),
        ({"LMS_LDAP_URL": "https://dc1.rathaus.test"}, "not an ldap:// or ldaps://"),
        ({"LMS_LDAP_URL": "ldap://dc1.rathaus.test", "LMS_ENV": "production"}, "LMS_LDAP_START_TLS"),
        ({"LMS_LDAP_START_TLS": "true"}, "ldaps:// is encrypted"),
        ({"LMS_LDAP_USER_FILTER": "(mail=anna)"}, "must contain {login}"),
        ({"LMS_LDAP_USER_FILTER": "(mail={login}"}, "not an LDAP filter"),
        ({"LMS_LDAP_EMAIL_ATTRIBUTE": "*"}, "must name one attribute"),
        ({"LMS_LDAP_MATCH_BY": "name"}, "LMS_LDAP_MATCH_BY"),
        ({"LMS_LDAP_TIMEOUT": "0"}, "LMS_LDAP_TIMEOUT"),
        ({"LMS_LDAP_BIND_PASSWORD": ""}, "needs LMS_LDAP_BIND_PASSWORD"),
        ({"LMS_LDAP_USER_SEARCH_BASE": ""}, "LMS_LDAP_USER_SEARCH_BASE must be set"),
        ({"LMS_LDAP_CA_FILE": "/nirgends/ca.pem"}, "LMS_LDAP_CA_FILE"),
    ],
)
def test_a_configuration_mistake_stops_the_start(monkeypatch, variables, message):
    if variables.get("LMS_ENV") == "production":
        monkeypatch.setenv("SECRET_KEY", "x" * 64)
    with pytest.raises(ConfigError, match=re.escape(message)):
        directory_config(monkeypatch, **{**BASE_SETTINGS, **variables})
