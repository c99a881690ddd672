"""Two app servers on one PostgreSQL behave as one (issue 15).

Two gunicorn processes (one worker each, LMS_ENV=production, the same SECRET_KEY and DATABASE_URL:
this worker's test database) serve on two loopback ports, as two machines behind a load balancer
would. A person's browser is modelled by its session cookie, sent to whichever server it asks.
Checked: a session started on one server holds on the other, and ends on both when it ends on
one; a change through one is visible through the other at once; two people taking the last seat
of a session at the same instant through different servers end with one seat and one waitlist
place (the session's row lock); of two scheduler processes only one runs the jobs (the database
lease); after the database dropped the servers' connections, the next requests succeed.

PostgreSQL only: SQLite is one file on one machine, no database for two servers. The servers
start once for the module and are stopped (their process groups killed if need be) at its end.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import timedelta
from http.cookies import SimpleCookie
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from lms.auth import services as auth_services
from lms.common.dates import as_utc, utcnow
from lms.common.lease import Lease
from lms.config import PROJECT_ROOT
from lms.extensions import db
from lms.people.models import User, UserRole
from lms.scheduler import LEASE_NAME, scheduled_jobs
from lms.sessions.models import SessionRegistration, TrainingSession
from tests.conftest import CSRF_PATTERN, clean_tables

COOKIE = "lernpfad_session"
PASSWORD = "Zwei Server im Rathaus 2026"
SECRET_KEY = "two-servers-" + "5" * 52
RACES = 4  # rounds of two people taking the last seat at once
START_SECONDS = 60
SKIPPED = re.compile(r"(\S+) skipped: another scheduler process holds the lease")


# --- processes ---------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _start(command: list[str], environment: dict[str, str], log: Path) -> subprocess.Popen:
    """In a process group of its own, so that stopping it takes its workers along."""
    with log.open("w") as output:
        return subprocess.Popen(
            command, cwd=PROJECT_ROOT, env=environment, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )


def _stop(processes: list[subprocess.Popen]) -> None:
    """SIGTERM to all at once (each stops cleanly), then whatever is left of their groups is killed."""
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 15
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(process.pid, signal.SIGKILL)  # a worker left behind, or a process that hung
        except ProcessLookupError:
            pass
        process.wait()


def _gunicorn(port: int) -> list[str]:
    """One worker; no control socket (gunicorn's default one in $HOME would be shared by both)."""
    options = ["--workers", "1", "--bind", f"127.0.0.1:{port}", "--no-control-socket", "--chdir", str(PROJECT_ROOT)]
    return [sys.executable, "-m", "gunicorn", *options, "wsgi:app"]


def _wait_for_health(base: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn stopped at start:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{base}/health", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"gunicorn did not answer /health within {START_SECONDS} s:\n{log.read_text()}")


# --- a browser: its session cookie and the pages it asks for -----------------------------------


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


OPENER = urllib.request.build_opener(_NoRedirect())


@dataclass
class Answer:
    status: int
    text: str
    location: str


class Browser:
    """One person's browser. It keeps the session cookie the servers set and sends it to either
    of them, as it would to one host name behind a load balancer."""

    def __init__(self, cookie: str | None = None):
        self.cookie = cookie

    def open(self, url: str, form: dict[str, str] | None = None) -> Answer:
        headers = {"Cookie": f"{COOKIE}={self.cookie}"} if self.cookie else {}
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        try:
            with OPENER.open(urllib.request.Request(url, data=data, headers=headers), timeout=30) as response:
                answer = Answer(response.status, response.read().decode(), response.headers.get("Location", ""))
                set_cookies = response.headers.get_all("Set-Cookie") or []
        except urllib.error.HTTPError as error:
            answer = Answer(error.code, error.read().decode(), error.headers.get("Location", ""))
            set_cookies = error.headers.get_all("Set-Cookie") or []
        for header in set_cookies:
            parsed = SimpleCookie()
            parsed.load(header)
            if COOKIE in parsed:
                morsel = parsed[COOKIE]
                self.cookie = None if not morsel.value or morsel["max-age"] == "0" else morsel.value
        return answer

    def csrf_token(self, url: str) -> str:
        page = self.open(url)
        assert page.status == 200, f"GET {url}: {page.status} {page.location}"
        match = CSRF_PATTERN.search(page.text)
        assert match, f"{url} holds no CSRF token"
        return match.group(1)

    def sign_in(self, base: str, email: str) -> None:
        token = self.csrf_token(f"{base}/auth/login")
        answer = self.open(f"{base}/auth/login", {"csrf_token": token, "email": email, "password": PASSWORD})
        assert answer.status == 302, f"sign-in on {base} answered {answer.status}"
        assert self.cookie, "no session cookie after signing in"


def signed_in(answer: Answer) -> bool:
    """A page for signed-in people answered as such (a signed-out request is sent to sign in)."""
    if answer.status == 302 and "/auth/login" in answer.location:
        return False
    assert answer.status == 200, f"unexpected answer {answer.status} {answer.location}"
    return True


# --- the installation: data, two servers -------------------------------------------------------


@dataclass
class Installation:
    app: Flask
    environment: dict[str, str]
    directory: Path


@dataclass
class Servers:
    a: str
    b: str
    people: dict[str, str]  # name -> e-mail
    roomy_session: int
    races: list[int]  # sessions with one seat left


def _person(name: str) -> User:
    user = User(
        email=f"{name}@musterhausen.example",
        given_name=name.title(),
        family_name="Zweiserver",
        personnel_number=f"TS-{name}",
        locale="en",
        role_rows=[UserRole(role="employee")],
    )
    auth_services.set_password(user, PASSWORD)
    db.session.add(user)
    return user


def _training_session(trainer: User, capacity: int, title: str) -> TrainingSession:
    starts = (utcnow() + timedelta(days=10)).replace(microsecond=0)
    session = TrainingSession(
        title=title,
        description="",
        starts_at=starts,
        ends_at=starts + timedelta(hours=2),
        registration_closes_at=starts - timedelta(days=1),
        capacity=capacity,
        place="Rathaus, Raum 101",
        trainer_id=trainer.id,
        sequence=0,
    )
    db.session.add(session)
    return session


@pytest.fixture(scope="module")
def installation(app, tmp_path_factory):
    """The PostgreSQL test database as production sees it; emptied again at the module's end."""
    if app.config["DB_BACKEND"] != "postgresql":
        pytest.skip("two app servers share one database server: PostgreSQL only (SQLite is one file on one machine)")
    directory = tmp_path_factory.mktemp("two-servers")
    environment = {name: value for name, value in os.environ.items() if name != "FLASK_DEBUG"}
    environment.update(
        LMS_ENV="production",
        SECRET_KEY=SECRET_KEY,
        DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
        LMS_INSTANCE_DIR=str(directory),
        SESSION_COOKIE_SECURE="0",  # plain http on the loopback
        # The cost the test users' passwords were hashed with: no rehash at every sign-in.
        ARGON2_TIME_COST=str(app.config["ARGON2_TIME_COST"]),
        ARGON2_MEMORY_COST=str(app.config["ARGON2_MEMORY_COST"]),
        ARGON2_PARALLELISM=str(app.config["ARGON2_PARALLELISM"]),
        LOG_LEVEL="INFO",
        PYTHONUNBUFFERED="1",
    )
    environment.pop("MAIL_SERVER", None)
    try:
        yield Installation(app, environment, directory)
    finally:
        with app.app_context():
            clean_tables()
            db.session.remove()


@pytest.fixture(scope="module")
def servers(installation):
    app = installation.app
    with app.app_context():
        names = ["anna", "ben", "racer1", "racer2", "filler", "trainer"]
        people = {name: _person(name) for name in names}
        db.session.flush()
        roomy = _training_session(people["trainer"], 10, "Sicher im Netz")
        races = [_training_session(people["trainer"], 2, f"Letzter Platz {number}") for number in range(RACES)]
        db.session.flush()
        for race in races:  # one of the two seats is taken: the racers want the last one
            db.session.add(SessionRegistration(session_id=race.id, user_id=people["filler"].id, waitlisted=False))
        db.session.commit()
        emails = {name: person.email for name, person in people.items()}
        ids = roomy.id, [race.id for race in races]
        db.session.remove()
    started: list[subprocess.Popen] = []
    try:
        bases = []
        for name in ("a", "b"):
            port, log = _free_port(), installation.directory / f"gunicorn-{name}.log"
            started.append(_start(_gunicorn(port), installation.environment, log))
            bases.append((f"http://127.0.0.1:{port}", log))
        for (base, log), process in zip(bases, started, strict=True):
            _wait_for_health(base, process, log)
        yield Servers(bases[0][0], bases[1][0], emails, ids[0], ids[1])
    finally:
        _stop(started)


# --- the tests ---------------------------------------------------------------------------------


def test_a_session_and_its_changes_are_the_same_on_both_servers(servers):
    anna = Browser()
    anna.sign_in(servers.a, servers.people["anna"])
    assert signed_in(anna.open(f"{servers.b}/learning/")), "server B did not accept server A's session"

    page = f"/sessions/{servers.roomy_session}"
    token = anna.csrf_token(f"{servers.b}{page}")  # a form from B, sent to A
    assert anna.open(f"{servers.a}{page}/register", {"csrf_token": token}).status == 302
    on_b = anna.open(f"{servers.b}{page}")
    assert '<p class="kern-body" id="registration-state">You are registered.</p>' in on_b.text
    assert "1 of 10 taken" in on_b.text

    kept = anna.cookie  # a second tab on server A keeps the same cookie
    signed_out = anna.open(f"{servers.b}/auth/logout", {"csrf_token": anna.csrf_token(f"{servers.b}/auth/logout")})
    assert signed_out.status == 302 and signed_out.location.endswith("/auth/login")
    assert anna.cookie != kept  # a new cookie: only the flash message "You have signed out"
    assert not signed_in(anna.open(f"{servers.a}/learning/"))
    assert not signed_in(Browser(kept).open(f"{servers.a}/learning/")), "the session ended on B still works on A"
    assert not signed_in(Browser(kept).open(f"{servers.b}/learning/"))


def _at_once(posts: dict[str, tuple[Browser, str, dict[str, str]]]) -> dict[str, int]:
    """Send the POSTs from threads released together; the status of each."""
    start = threading.Barrier(len(posts))
    statuses: dict[str, int] = {}

    def post(name: str) -> None:
        browser, url, form = posts[name]
        start.wait(timeout=30)
        statuses[name] = browser.open(url, form).status

    threads = [threading.Thread(target=post, args=(name,)) for name in posts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return statuses


def test_two_people_taking_the_last_seat_at_once_through_two_servers(servers, installation):
    one, other = Browser(), Browser()
    one.sign_in(servers.a, servers.people["racer1"])
    other.sign_in(servers.b, servers.people["racer2"])
    one_token = one.csrf_token(f"{servers.a}/sessions/{servers.races[0]}")
    other_token = other.csrf_token(f"{servers.b}/sessions/{servers.races[0]}")
    for race in servers.races:
        statuses = _at_once(
            {
                "through A": (one, f"{servers.a}/sessions/{race}/register", {"csrf_token": one_token}),
                "through B": (other, f"{servers.b}/sessions/{race}/register", {"csrf_token": other_token}),
            }
        )
        assert statuses == {"through A": 302, "through B": 302}
        with installation.app.app_context():
            rows = db.session.execute(
                sa.select(User.email, SessionRegistration.waitlisted)
                .join(User, User.id == SessionRegistration.user_id)
                .where(SessionRegistration.session_id == race)
            ).all()
            db.session.remove()
        racers = sorted(waitlisted for email, waitlisted in rows if email != servers.people["filler"])
        assert len(rows) == 3 and racers == [False, True], f"race {race}: {rows}"


def test_after_the_database_dropped_the_connections_the_next_requests_succeed(servers, installation):
    ben = Browser()
    ben.sign_in(servers.a, servers.people["ben"])
    for base in (servers.a, servers.b):  # each worker holds a pooled connection now
        assert signed_in(ben.open(f"{base}/learning/"))
    with installation.app.app_context():
        dropped = db.session.execute(
            sa.text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).scalar_one()
        db.session.commit()
        db.session.remove()
    assert dropped >= 2  # at least the two servers' connections
    for base in (servers.a, servers.b):
        assert signed_in(ben.open(f"{base}/learning/")), f"{base} failed after its connection was dropped"
        health = ben.open(f"{base}/health")
        assert health.status == 200 and '"database":"ok"' in health.text.replace(" ", "")


def test_of_two_schedulers_only_one_runs_the_jobs(installation):
    """Both start at once, and each asks for the jobs due at start. The process that holds the
    lease runs them; the other skips every one of them."""
    at_start = set(job.id for job in scheduled_jobs() if job.run_at_start)
    assert at_start, "no job runs at start: nothing to watch"
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "scheduler", "run"]
    logs = [installation.directory / f"scheduler-{n}.log" for n in (1, 2)]
    processes = [_start(command, installation.environment, log) for log in logs]
    try:
        skipped: list[set[str]] = [set(), set()]
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline and at_start not in skipped:
            assert all(process.poll() is None for process in processes), "\n".join(log.read_text() for log in logs)
            time.sleep(0.2)
            skipped = [set(SKIPPED.findall(log.read_text())) for log in logs]
        with installation.app.app_context():
            lease = db.session.get(Lease, LEASE_NAME)
            holder = lease.holder if lease else "nobody"
            db.session.remove()
    finally:
        _stop(processes)
    texts = [log.read_text() for log in logs]
    pids = [str(process.pid) for process in processes]
    assert holder.split(":")[1:2] in ([pids[0]], [pids[1]]), f"the lease is held by {holder}, not by either process"
    leader = pids.index(holder.split(":")[1])
    assert skipped[1 - leader] == at_start, f"the other process ran jobs too:\n{texts[1 - leader]}"
    assert not skipped[leader], f"the lease holder skipped jobs of its own:\n{texts[leader]}"
    assert all("scheduler stopped" in text for text in texts), texts
    with installation.app.app_context():
        lease = db.session.get(Lease, LEASE_NAME)
        assert as_utc(lease.expires_at) <= utcnow(), "the leader kept its lease: a successor would wait for it"
        db.session.remove()
