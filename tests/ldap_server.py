"""A real OpenLDAP server for the directory sign-in tests: Debian's slapd on 127.0.0.1, a free port.

`ldap_server` (session scope: one per xdist worker) writes a slapd.conf into a temporary folder
(mdb backend, suffix dc=rathaus,dc=test, the schemas core, cosine, inetorgperson and nis), loads
the people and groups below with slapadd before the server starts (no round trips), and stops it
at the end. slapd runs in the foreground with the `stats` log level, so a test can read every
operation the server saw (`operations()`): which filters and attributes Lernpfad asked for, and
that it never wrote.

Without slapd the tests are skipped on a developer's machine, and fail in CI (`CI` set), where
.ci/run installs it.
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SLAPD = Path("/usr/sbin/slapd")
SLAPADD = Path("/usr/sbin/slapadd")
SCHEMA_DIR = Path("/etc/ldap/schema")
MODULE_DIR = Path("/usr/lib/ldap")
SCHEMAS = ("core", "cosine", "inetorgperson", "nis")

SUFFIX = "dc=rathaus,dc=test"
ROOT_DN = f"cn=admin,{SUFFIX}"
ROOT_PASSWORD = "admin-im-rathaus"
PEOPLE = f"ou=people,{SUFFIX}"
GROUPS = f"ou=groups,{SUFFIX}"
SERVICE_DN = f"cn=lernpfad,ou=services,{SUFFIX}"
SERVICE_PASSWORD = "dienstkonto-lernpfad-7"

ADMINS_GROUP = f"cn=lernpfad-admins,{GROUPS}"
HR_GROUP = f"cn=personalamt,{GROUPS}"
TRAINERS_GROUP = f"cn=trainer,{GROUPS}"


@dataclass(frozen=True)
class Person:
    uid: str
    mail: str
    employee_number: str
    password: str
    given_name: str
    family_name: str

    @property
    def dn(self) -> str:
        return f"uid={self.uid},{PEOPLE}"


ANNA = Person("amueller", "anna.mueller@musterhausen.example", "100234", "Verzeichnis-Anna-1", "Anna", "Müller")
BERND = Person("bschmidt", "bernd.schmidt@musterhausen.example", "100235", "Verzeichnis-Bernd-2", "Bernd", "Schmidt")
CARLA = Person("cweber", "carla.weber@musterhausen.example", "100236", "Verzeichnis-Carla-3", "Carla", "Weber")
# In the directory, but nobody in Lernpfad has her address or number.
DORA = Person("dneu", "dora.neu@musterhausen.example", "100299", "Verzeichnis-Dora-4", "Dora", "Neu")
EVERYONE = (ANNA, BERND, CARLA, DORA)

GROUP_MEMBERS = {
    ADMINS_GROUP: (CARLA,),
    HR_GROUP: (ANNA,),
    TRAINERS_GROUP: (ANNA, BERND),
}


def _ssha(password: str) -> str:
    """A salted SHA-1 userPassword ({SSHA}, which slapd checks without extra modules)."""
    salt = os.urandom(8)
    digest = hashlib.sha1(password.encode() + salt).digest()  # noqa: S324 (the directory's scheme)
    return "{SSHA}" + base64.b64encode(digest + salt).decode()


def _ldif() -> str:
    def b64(text: str) -> str:
        return base64.b64encode(text.encode()).decode()

    entries = [
        f"dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\ndc: rathaus\no: Rathaus Test",
        f"dn: {PEOPLE}\nobjectClass: organizationalUnit\nou: people",
        f"dn: {GROUPS}\nobjectClass: organizationalUnit\nou: groups",
        f"dn: ou=services,{SUFFIX}\nobjectClass: organizationalUnit\nou: services",
        f"dn: {SERVICE_DN}\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\ncn: lernpfad\n"
        f"userPassword: {_ssha(SERVICE_PASSWORD)}",
    ]
    for number, person in enumerate(EVERYONE):
        # One plain and the others hashed: slapd accepts both.
        password = person.password if number == 0 else _ssha(person.password)
        entries.append(
            f"dn: {person.dn}\nobjectClass: inetOrgPerson\nobjectClass: posixAccount\nuid: {person.uid}\n"
            f"cn:: {b64(person.given_name + ' ' + person.family_name)}\nsn:: {b64(person.family_name)}\n"
            f"givenName: {person.given_name}\nmail: {person.mail}\nemployeeNumber: {person.employee_number}\n"
            f"telephoneNumber: +49 2151 {person.employee_number}\nuidNumber: {2000 + number}\n"
            f"gidNumber: 2000\nhomeDirectory: /home/{person.uid}\nuserPassword: {password}"
        )
    for group, members in GROUP_MEMBERS.items():
        cn = group.split(",", 1)[0].removeprefix("cn=")
        member_lines = "\n".join(f"member: {person.dn}" for person in members)
        entries.append(f"dn: {group}\nobjectClass: groupOfNames\ncn: {cn}\n{member_lines}")
    return "\n\n".join(entries) + "\n"


def _slapd_conf(folder: Path, tls: bool) -> str:
    includes = "\n".join(f"include {SCHEMA_DIR / name}.schema" for name in SCHEMAS)
    certificate = f"TLSCertificateFile {folder / 'cert.pem'}\nTLSCertificateKeyFile {folder / 'key.pem'}\n"
    return f"""{includes}
{certificate if tls else ""}pidfile {folder / "slapd.pid"}
argsfile {folder / "slapd.args"}
modulepath {MODULE_DIR}
moduleload back_mdb
database mdb
maxsize 10485760
suffix "{SUFFIX}"
rootdn "{ROOT_DN}"
rootpw {ROOT_PASSWORD}
directory {folder / "data"}
access to attrs=userPassword
    by anonymous auth
    by * none
access to *
    by users read
    by * none
"""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _make_certificate(folder: Path) -> bool:
    """A self-signed certificate for localhost and 127.0.0.1 (cert.pem is also the tests' CA file)."""
    if shutil.which("openssl") is None:
        return False
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        + ["-keyout", folder / "key.pem", "-out", folder / "cert.pem", "-days", "2", "-subj", "/CN=localhost"]
        + ["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        capture_output=True,
        check=True,
        timeout=30,
    )
    return True


@dataclass
class LdapServer:
    url: str  # ldap:// (StartTLS offered when tls_url is set)
    log_file: Path
    tls_url: str | None = None  # ldaps://, when openssl could make a certificate
    ca_file: Path | None = None  # the certificate the server presents

    def operations(self) -> list[str]:
        """The server's log lines of operations (`conn=… op=… SRCH …`, `BIND`, `MOD`, …)."""
        lines = self.log_file.read_text(encoding="utf-8", errors="replace").splitlines()
        return [line for line in lines if " op=" in line]

    def mark(self) -> int:
        """How many operation lines there are now: `operations_since(mark)` reads the newer ones."""
        return len(self.operations())

    def operations_since(self, mark: int) -> list[str]:
        return self.operations()[mark:]


def _wait_until_listening(port: int, process: subprocess.Popen, log_file: Path, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"slapd stopped at start:\n{log_file.read_text(errors='replace')[-3000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"slapd did not listen on port {port} within {seconds} s")


def unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI must have it (.ci/run installs Debian's slapd and ldap-utils)")
    pytest.skip(reason)


def running_server(folder: Path) -> Iterator[LdapServer]:
    """Start slapd with its data in `folder`; stop it (and wait for it) when the generator ends."""
    (folder / "data").mkdir()
    tls = _make_certificate(folder)
    conf = folder / "slapd.conf"
    conf.write_text(_slapd_conf(folder, tls), encoding="utf-8")
    ldif = folder / "rathaus.ldif"
    ldif.write_text(_ldif(), encoding="utf-8")
    loaded = subprocess.run(
        [SLAPADD, "-q", "-f", conf, "-l", ldif], capture_output=True, text=True, check=False, timeout=30
    )
    if loaded.returncode != 0:
        raise RuntimeError(f"slapadd failed:\n{loaded.stderr}")
    port, tls_port = free_port(), free_port()
    url = f"ldap://127.0.0.1:{port}"
    tls_url = f"ldaps://127.0.0.1:{tls_port}" if tls else None
    log_file = folder / "slapd.log"
    with log_file.open("w") as log:
        # -d stats: stay in the foreground and log every connection and operation to stderr.
        process = subprocess.Popen(
            [SLAPD, "-d", "stats", "-f", conf, "-h", f"{url}/ {tls_url}/" if tls_url else f"{url}/"],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_until_listening(port, process, log_file)
        if tls_url:
            _wait_until_listening(tls_port, process, log_file)
        yield LdapServer(url=url, log_file=log_file, tls_url=tls_url, ca_file=folder / "cert.pem" if tls else None)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def ldap_server(tmp_path_factory) -> Iterator[LdapServer]:
    """slapd for this worker's session, loaded with the people and groups above."""
    if not (os.access(SLAPD, os.X_OK) and os.access(SLAPADD, os.X_OK)):
        unavailable("Debian's slapd is not installed (/usr/sbin/slapd)")
    yield from running_server(tmp_path_factory.mktemp("slapd"))
