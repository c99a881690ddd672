"""Throughput of the learner's pages under gunicorn, side by side with /health in the same run.

Issue: with 3 gunicorn workers and 16 connections, every request carrying a signed-in session
cookie, the lesson page reaches at least 40 % of the requests per second of /health, the
catalogue and My learning at least 30 %. Those ratios are the budgets here; absolute figures
depend on the machine, ratios much less. The catalogue with filters chosen is measured too,
without a budget: its filter form is rendered for each request, the plain one's is kept.

A scratch SQLite database is built with the project's own commands (migrations, DigComp, the
shipped courses, the demo town), gunicorn serves it on a free loopback port (LMS_ENV=production,
plain http, a fixed SECRET_KEY, log level WARNING), the demo employee signs in through the real
form, and `wrk` (Debian package `wrk`) drives each page for SECONDS, ROUNDS times, the pages
taking turns. wrk is an event-driven C client: one thread keeps 16 connections busy for a few
per cent of one core, so the 2 cores stay with gunicorn (a Python load client needs about a core
of its own at these rates and would flatten the differences being measured). A small Lua script
counts every answer that is not 200 (a redirect to the sign-in page included); any such answer,
or any socket error, fails the benchmark.

Besides requests/s, the workers' CPU time per request is recorded (from /proc): on a machine
shared with other work it varies far less than requests/s do, so its ratio is the steadier
figure to compare runs by. The statement count of each page (warm caches) is measured
in-process. SQLite only: BENCH_DATABASE_URL is not used here.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from bench import record
from bench import server as server_process

ROOT = Path(__file__).resolve().parent.parent
WORKERS, CONNECTIONS = 3, 16
SECONDS = int(os.environ.get("BENCH_THROUGHPUT_SECONDS", "4"))  # per page and round
ROUNDS = 5
WARMUP_SECONDS = 2
BUDGETS = {"lesson": 0.40, "catalogue": 0.30, "my_learning": 0.30}  # share of /health's requests/s
FILTERED_CATALOGUE = "/courses/?q=sicher&tag=sicherheit"  # measured too, without a budget
PASSWORD = "Lernpfad Bench im Rathaus 2026"
USER_AGENT = "lernpfad-bench"
COOKIE = "lernpfad_session"
LESSON_COURSE = "passwoerter-und-2fa"  # the demo employee's course in progress

WRK_SCRIPT = """
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) not_ok = 0 end
function response(status, headers, body) if status ~= 200 then not_ok = not_ok + 1 end end
function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do total = total + thread:get("not_ok") end
  io.write(string.format("NOT_OK %d\\n", total))
end
"""


@dataclass
class Measurement:
    requests: int
    requests_per_second: float
    not_ok: int
    socket_errors: str


@dataclass
class PageFigures:
    requests_per_second: float  # mean over the rounds
    cpu_ms: float  # CPU time of the gunicorn workers per request


# --- the scratch installation ------------------------------------------------------------------


def _environment(directory: Path, url: str) -> dict[str, str]:
    environment = dict(os.environ)
    environment.update(
        LMS_ENV="production",
        SECRET_KEY="bench-" + "0" * 58,
        SESSION_COOKIE_SECURE="0",  # plain http on the loopback
        SESSION_IDLE_MINUTES="120",  # the run takes a few minutes; nothing may sign us out
        SESSION_MAX_HOURS="12",
        DATABASE_URL=url,
        LMS_INSTANCE_DIR=str(directory),
        LOG_LEVEL="WARNING",
    )
    return environment


def _flask(environment: dict[str, str], *arguments: str) -> str:
    command = [sys.executable, "-m", "flask", "--app", "wsgi", *arguments]
    done = subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"flask {' '.join(arguments)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def _install(environment: dict[str, str]) -> str:
    """Migrate, load DigComp, import the shipped courses, seed the town; the employee's e-mail."""
    _flask(environment, "db", "upgrade")
    _flask(environment, "skills", "load-framework")
    _flask(environment, "courses", "sync")
    logins = _flask(environment, "demo", "seed", "--password", PASSWORD)
    return next(line.split()[1] for line in logins.splitlines() if line.startswith("employee "))


def _first_quiz_lesson(url: str) -> str:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.connect() as connection:
        key = connection.execute(
            sa.text(
                "SELECT lessons.key FROM lessons JOIN courses ON courses.id = lessons.course_id "
                "WHERE courses.slug = :slug AND EXISTS (SELECT 1 FROM quiz_questions q WHERE q.lesson_id = lessons.id) "
                "ORDER BY lessons.position LIMIT 1"
            ),
            {"slug": LESSON_COURSE},
        ).scalar_one()
    engine.dispose()
    return f"/courses/{LESSON_COURSE}/{key}"


# --- gunicorn ----------------------------------------------------------------------------------


# --- signing in and checking pages -------------------------------------------------------------


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _sign_in(base: str, email: str) -> str:
    """The session cookie of a real sign-in through the form (CSRF token included), as a browser
    holds it after its first page: that page adds the CSRF token to the session, and a cookie
    without it would make every page of the run create and send a new one."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _NoRedirect())
    opener.addheaders = [("User-Agent", USER_AGENT)]
    page = opener.open(f"{base}/auth/login", timeout=10).read().decode()
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode({"csrf_token": token, "email": email, "password": PASSWORD}).encode()
    try:
        opener.open(f"{base}/auth/login", data=form, timeout=30)
        raise RuntimeError("sign-in did not redirect: wrong password or throttled?")
    except urllib.error.HTTPError as answer:
        if answer.code != 302:
            raise
        jar.extract_cookies(answer, urllib.request.Request(f"{base}/auth/login"))
    opener.open(f"{base}/learning/", timeout=10).read()  # the first page after signing in
    return next(cookie.value for cookie in jar if cookie.name == COOKIE)


def _check_page(base: str, path: str, cookie: str) -> None:
    request = urllib.request.Request(base + path, headers={"Cookie": f"{COOKIE}={cookie}", "User-Agent": USER_AGENT})
    opener = urllib.request.build_opener(_NoRedirect())
    try:
        with opener.open(request, timeout=10) as answer:
            status = answer.status
    except urllib.error.HTTPError as answer:
        status = answer.code
    if status != 200:
        raise RuntimeError(f"GET {path} with the session cookie answered {status}, not 200")


# --- wrk ---------------------------------------------------------------------------------------


def _wrk(url: str, cookie: str, seconds: int, script: Path) -> Measurement:
    command = ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s", "--timeout", "10s", "-s", str(script)]
    command += ["-H", f"Cookie: {COOKIE}={cookie}", "-H", f"User-Agent: {USER_AGENT}", url]
    output = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=True).stdout
    count = re.search(r"(\d+) requests in", output)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    not_ok = re.search(r"NOT_OK (\d+)", output)
    if not count or not rate or not not_ok:
        raise RuntimeError(f"unexpected wrk output:\n{output}")
    errors = re.search(r"Socket errors: (.*)", output)
    return Measurement(
        int(count.group(1)), float(rate.group(1)), int(not_ok.group(1)), errors.group(1) if errors else ""
    )


def _workers_cpu_seconds(master: int) -> float:
    """User and system CPU time the gunicorn workers (the master's children) have used so far."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # a process that has just ended
            continue
        if int(fields[1]) == master:  # ppid
            total += int(fields[11]) + int(fields[12])  # utime, stime in clock ticks
    return total / os.sysconf("SC_CLK_TCK")


# --- statements per page -----------------------------------------------------------------------


def statement_counts(url: str, email: str, pages: dict[str, str]) -> dict[str, int]:
    """Statements per request of each page once its caches are warm (the steady state)."""
    import sqlalchemy as sa

    from lms import create_app
    from lms.extensions import db

    app = create_app({"LMS_ENV": "testing", "SQLALCHEMY_DATABASE_URI": url})
    client = app.test_client()  # no app context of ours: every request gets its own, as in gunicorn
    page = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)
    client.post("/auth/login", data={"csrf_token": token, "email": email, "password": PASSWORD})
    statements: list[str] = []
    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    counts = {}
    for name, path in pages.items():
        client.get(path)  # warm
        statements.clear()
        if client.get(path).status_code != 200:
            raise RuntimeError(f"GET {path} in-process did not answer 200")
        counts[name] = len(statements)
    engine.dispose()
    return counts


# --- the benchmark -----------------------------------------------------------------------------


def _measure_pages(base: str, email: str, pages: dict[str, str], script: Path, master: int) -> dict[str, PageFigures]:
    """Requests/s per page (the mean over ROUNDS rounds that take the pages in turn) and the
    workers' CPU time per request.

    Taking the pages in turn, round after round, spreads the noise of a shared machine over all
    of them alike; CPU time per request varies much less with that noise than requests/s do.

    Each run signs in afresh, so every run measures a session in the same state: a request
    refreshes last_seen (one write and commit) at most once per LAST_SEEN_RESOLUTION (60 s),
    and a run shorter than that measures pages, not that write.
    """
    cookie = _sign_in(base, email)
    for path in pages.values():
        _check_page(base, path, cookie)
        _wrk(base + path, cookie, WARMUP_SECONDS, script)  # every worker has rendered the page once
    rates, cpu, requests = dict.fromkeys(pages, 0.0), dict.fromkeys(pages, 0.0), dict.fromkeys(pages, 0)
    for _round in range(ROUNDS):
        for name, path in pages.items():
            cookie = _sign_in(base, email)
            started = _workers_cpu_seconds(master)
            measured = _wrk(base + path, cookie, SECONDS, script)
            cpu[name] += _workers_cpu_seconds(master) - started
            _check_run(path, measured)
            _check_page(base, path, cookie)  # still signed in at the end of the run
            rates[name] += measured.requests_per_second
            requests[name] += measured.requests
    return {name: PageFigures(rates[name] / ROUNDS, 1000 * cpu[name] / requests[name]) for name in pages}


def _check_run(path: str, measured: Measurement) -> None:
    if measured.not_ok:
        raise RuntimeError(f"GET {path}: {measured.not_ok} answers were not 200 (session lost?)")
    if measured.socket_errors:  # wrk prints the line only when there were any
        raise RuntimeError(f"GET {path}: socket errors {measured.socket_errors}")


def _report(figures: dict[str, PageFigures], counts: dict[str, int]) -> list[str]:
    over = []
    health = figures["health"]
    record("throughput_health_rps", health.requests_per_second, "req/s")
    record("throughput_health_cpu_per_request", health.cpu_ms, "ms")
    for name, page in figures.items():
        if name == "health":
            continue
        ratio = page.requests_per_second / health.requests_per_second
        record(f"throughput_{name}_rps", page.requests_per_second, "req/s")
        record(f"throughput_{name}_vs_health", ratio, "ratio")
        record(f"throughput_{name}_cpu_per_request", page.cpu_ms, "ms")
        record(f"throughput_{name}_vs_health_by_cpu", health.cpu_ms / page.cpu_ms, "ratio")
        if ratio < BUDGETS.get(name, 0):
            over.append(f"throughput {name} {ratio:.2f} of /health < {BUDGETS[name]:.2f}")
    for name, count in counts.items():
        record(f"statements_per_request_{name}", count, "statements")
    return over


def run() -> list[str]:
    if shutil.which("wrk") is None:
        message = "throughput: wrk is not installed (apt-get install wrk); the throughput figures were not measured"
        print(message, file=sys.stderr)
        return [message]
    with tempfile.TemporaryDirectory(prefix="lernpfad-throughput-") as temporary:
        directory = Path(temporary)
        url = f"sqlite:///{directory}/bench.db"
        environment = _environment(directory, url)
        email = _install(environment)
        lesson = _first_quiz_lesson(url)
        pages = {"health": "/health", "lesson": lesson, "catalogue": "/courses/", "my_learning": "/learning/"}
        pages["catalogue_filtered"] = FILTERED_CATALOGUE
        script = directory / "count-not-ok.lua"
        script.write_text(WRK_SCRIPT, encoding="utf-8")
        port, log = server_process.free_port(), directory / "gunicorn.log"
        server = server_process.start_gunicorn(environment, port, log, "--workers", str(WORKERS))
        try:
            figures = _measure_pages(f"http://127.0.0.1:{port}", email, pages, script, server.pid)
        except RuntimeError as error:
            raise RuntimeError(f"{error}\n--- gunicorn's log ---\n{log.read_text()[-5000:]}") from error
        finally:
            server_process.stop(server)
        extra = {"course": f"/courses/{LESSON_COURSE}/", "certificate": "/courses/phishing-erkennen/certificate"}
        counts = statement_counts(url, email, {**pages, **extra})
    return _report(figures, counts)
