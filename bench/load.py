"""Load: a town of 500 people and 40 courses on PostgreSQL under gunicorn, driven by many
signed-in people at once (issue 15). The method and the latest figures: bench/README.md.

    python -m bench load                       # also part of `make bench`
    BENCH_LOAD_SECONDS=3 BENCH_LOAD_ROUNDS=1 BENCH_MONDAY_MINUTES=2 python -m bench load   # quick

The database (BENCH_DATABASE_URL, a scratch database: its public schema is dropped!) is built
from scratch with the project's own commands: migrations, DigComp, the shipped courses, the demo
town (`flask demo seed`); then bench/scale.py assigns the mandatory course to everyone, and grows
the town to 500 people and 40 courses. The statement count of each measured page is taken
in-process (the app's test client, SQLAlchemy's cursor events) on the small demo town and on the
grown one: they must be equal.

gunicorn serves the grown town (LMS_ENV=production, plain http on a free loopback port) with
WORKERS sync workers; a small asyncio client (aiohttp) in this process drives it. Every virtual
person signs in through the real form (CSRF token included) and keeps the session cookie.

(a) Steady: STEADY_USERS people, each a connection asking for one page after the other with no
pause (the worst case: everyone clicks at the same moment), for STEADY_SECONDS per page and
round, the pages taking turns for STEADY_ROUNDS rounds: /health (the bare endpoint, with the
session cookie, the reference for the ratios), My learning, a lesson with its quiz, a quiz
submit (a real POST with the CSRF token and answers; the client then follows the redirect to
the lesson with the next attempt's form, as a browser does; that GET is not in the quiz's
figures), and the manager's skill matrix (each virtual person also holds a session of the demo
manager). Requests per second (completed in the window), median and 95th percentile latency,
and the server's CPU time per request (gunicorn workers and their PostgreSQL backends, from
/proc): the steadier figure on a machine shared with other work.

(b) Monday 9:00: MONDAY_PEOPLE people sign in within BENCH_MONDAY_MINUTES minutes (default 5),
MONDAY_PEAK of them within the same minute, and open their mandatory course: the sign-in page,
the sign-in (its redirects followed), My learning (which must link the course), the course, its
first lesson, with 1–4 s of reading between pages. Only the quiet part is compressed by a
shorter BENCH_MONDAY_MINUTES (at least 2): the peak minute stays 60 s, the other people come in
the (minutes - 1) minutes around it, half before, half after.

Errors (an answer other than the one expected, a redirect to the wrong place, a timeout or a
socket error) fail the benchmark. The targets are printed PASS/FAIL and recorded as budgets, but
only errors fail the run: the lesson at no less than 40 % of /health's requests per second, p95
under 250 ms in (a) and under 500 ms in (b), equal statement counts on the small and the grown town.
"""

from __future__ import annotations

import asyncio
import math
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from bench import record, reset_postgres_schema
from bench import server as server_process

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/lernpfad_bench"
PASSWORD = "Lernpfad Last im Rathaus 2026"
SECRET_KEY = "load-" + "0" * 59
USER_AGENT = "lernpfad-load-bench"
# gunicorn on 2 cores: 3 sync workers, as bench/throughput.py: gunicorn's (2 x cores + 1) rule
# less two, since PostgreSQL and this client share the cores. A page spends little time waiting
# for the database on the loopback, so threads would add little but GIL contention.
WORKERS = int(os.environ.get("BENCH_LOAD_WORKERS", "3"))
THREADS = int(os.environ.get("BENCH_LOAD_THREADS", "1"))  # more than 1: gthread workers (keep-alive)
PEOPLE, COURSES = 500, 40
STEADY_USERS = 50
STEADY_SECONDS = float(os.environ.get("BENCH_LOAD_SECONDS", "10"))  # per page and round
STEADY_ROUNDS = int(os.environ.get("BENCH_LOAD_ROUNDS", "3"))
WARMUP_SECONDS = 2.0
MONDAY_PEOPLE, MONDAY_PEAK = 500, 250
MONDAY_MINUTES = float(os.environ.get("BENCH_MONDAY_MINUTES", "5"))
READING_SECONDS = (1.0, 4.0)  # between two pages on Monday, not compressed
STEADY_PAGES = ("health", "my_learning", "lesson", "quiz", "matrix")
# The same 50 people as people use the app: a page, then reading for READING_SECONDS, the next page.
PACED_SECONDS = float(os.environ.get("BENCH_LOAD_PACED_SECONDS", "60"))
PACED_PAGES = ("my_learning", "lesson", "quiz")
PACED_MANAGERS = 5  # of the 50, these also open the manager's matrix in each round of pages
STATEMENT_PAGES = ("health", "my_learning", "course", "lesson", "quiz", "matrix")
BUDGETS = {"lesson_ratio": 0.40, "steady_p95_ms": 250.0, "monday_p95_ms": 500.0}

CSRF = re.compile(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"')
QUIZ_FORM = re.compile(r'<form method="post" action="([^"]+/quiz)"[^>]*>(.*?)</form>', re.S)
QUIZ_ATTEMPT = re.compile(r'name="attempt" value="(\d+)"')
QUIZ_ANSWER = re.compile(r'name="q-(\d+)" value="(\d+)"')
NOTICE_FORM = re.compile(r'<form method="post" action="(/privacy/notice/read)"[^>]*>(.*?)</form>', re.S)
NOTICE_NEXT = re.compile(r'name="next" type="hidden" value="([^"]*)"')


# --- the client --------------------------------------------------------------------------------


class LoadError(Exception):
    """A request that failed; already counted."""


@dataclass
class Answer:
    status: int
    path: str
    text: str
    location: str | None


@dataclass
class Recorder:
    """Latencies (s) of the requests that completed, by name, and the errors."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    finished: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    messages: list[str] = field(default_factory=list)

    def ok(self, name: str, seconds: float) -> None:
        self.latencies[name].append(seconds)
        self.finished[name].append(time.monotonic())

    def error(self, name: str, message: str) -> None:
        self.errors[name] += 1
        if len(self.messages) < 20:
            self.messages.append(f"{name}: {message}")

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


@dataclass
class QuizForm:
    action: str
    csrf_token: str
    attempt: str
    answers: dict[str, list[str]]  # question id → the answer indexes offered


def parse_quiz_form(page: str) -> QuizForm | None:
    match = QUIZ_FORM.search(page)
    if match is None:
        return None
    inner = match.group(2)
    token, attempt = CSRF.search(inner), QUIZ_ATTEMPT.search(inner)
    if token is None or attempt is None:
        return None
    answers: dict[str, list[str]] = defaultdict(list)
    for question, value in QUIZ_ANSWER.findall(inner):
        answers[question].append(value)
    return QuizForm(match.group(1), token.group(1), attempt.group(1), dict(answers))


class VirtualUser:
    """One person in one browser: its own cookie jar, one request at a time, redirects by hand
    (each hop is a request of its own and is timed as such)."""

    def __init__(self, base: str, email: str, recorder: Recorder, rng: random.Random | None = None):
        import aiohttp

        self.base, self.email, self.recorder = base, email, recorder
        self.rng = rng or random.Random(email)
        self.http = aiohttp.ClientSession(
            cookie_jar=aiohttp.CookieJar(unsafe=True),  # unsafe: cookies of an IP address (127.0.0.1)
            headers={"User-Agent": USER_AGENT, "Accept-Language": "de"},
            timeout=aiohttp.ClientTimeout(total=60),
        )
        self.quiz_lessons: list[str] = []  # lesson paths to take quizzes in, in turn
        self.quiz_form: QuizForm | None = None

    async def close(self) -> None:
        await self.http.close()

    def _path(self, location: str) -> str:
        path = location[len(self.base) :] if location.startswith(self.base) else location
        return path.split("#", 1)[0]

    async def fetch(
        self, name: str, method: str, path: str, data: dict | list | None = None, expect: tuple[int, ...] = (200,)
    ) -> Answer:
        import aiohttp

        started = time.perf_counter()
        try:
            async with self.http.request(method, self.base + path, data=data, allow_redirects=False) as response:
                text = await response.text()
                status, location = response.status, response.headers.get("Location")
        except (TimeoutError, aiohttp.ClientError, OSError) as error:
            self.recorder.error(name, f"{method} {path}: {error!r}")
            raise LoadError from error
        if status not in expect:
            self.recorder.error(name, f"{method} {path} answered {status}, expected {expect} ({location or ''})")
            raise LoadError
        self.recorder.ok(name, time.perf_counter() - started)
        return Answer(status, path, text, location)

    async def follow(self, answer: Answer, name: str, hops: int = 6) -> Answer:
        while answer.status in (301, 302, 303) and answer.location:
            if hops == 0:
                self.recorder.error(name, f"too many redirects from {answer.path}")
                raise LoadError
            path = self._path(answer.location)
            hop = "my_learning" if path == "/learning/" else name  # where a learner lands: timed as the page
            answer = await self.fetch(hop, "GET", path, expect=(200, 302, 303))
            hops -= 1
        return answer

    def _token(self, name: str, text: str) -> str:
        token = CSRF.search(text)
        if token is None:
            self.recorder.error(name, "no CSRF token on the page")
            raise LoadError
        return token.group(1)

    async def sign_in(self, password: str) -> Answer:
        """Through the real form; answers the page landed on (the privacy notice passed if shown)."""
        page = await self.fetch("sign_in_page", "GET", "/auth/login")
        form = {"csrf_token": self._token("sign_in_page", page.text), "email": self.email, "password": password}
        answer = await self.fetch("sign_in", "POST", "/auth/login", data=form, expect=(302, 303))
        landed = await self.follow(answer, "after_sign_in")
        notice = NOTICE_FORM.search(landed.text)
        if notice is not None:  # not read yet: read it, as a person would
            inner = notice.group(2)
            next_page = NOTICE_NEXT.search(inner)
            form = {"csrf_token": self._token("notice", inner), "next": next_page.group(1) if next_page else ""}
            answer = await self.fetch("notice", "POST", notice.group(1), data=form, expect=(302, 303))
            landed = await self.follow(answer, "after_sign_in")
        return landed

    async def submit_quiz(self) -> None:
        """One quiz submit (timed as "quiz"); the redirect back to the lesson, which carries the
        next attempt's form, is timed as "quiz_page", like the lesson pages read to find a form."""
        while self.quiz_form is None:
            if not self.quiz_lessons:
                self.recorder.error("quiz", "no lesson with a quiz left to take")
                raise LoadError
            path = self.quiz_lessons.pop(0)
            self.quiz_form = parse_quiz_form((await self.fetch("quiz_page", "GET", path)).text)
        form, self.quiz_form = self.quiz_form, None
        data = [("csrf_token", form.csrf_token), ("attempt", form.attempt)]
        data += [(f"q-{question}", self.rng.choice(values)) for question, values in form.answers.items()]
        answer = await self.fetch("quiz", "POST", form.action, data=data, expect=(302, 303))
        lesson = form.action.removesuffix("/quiz")
        if not (answer.location or "").endswith("#quiz-results") and self._path(answer.location or "") != (
            lesson.rsplit("/", 1)[0] + "/"
        ):
            self.recorder.error("quiz", f"POST {form.action} redirected to {answer.location} (stale attempt?)")
            raise LoadError
        page = await self.follow(answer, "quiz_page")
        self.quiz_form = parse_quiz_form(page.text)  # None once passed: the next lesson then


# --- percentiles --------------------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (share 0.95: the value 95 % of the values do not exceed)."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered), math.ceil(len(ordered) * share)) - 1)] if ordered else float("nan")


@dataclass
class Figures:
    rps: float
    median_ms: float
    p95_ms: float
    requests: int
    cpu_ms: float = float("nan")  # the server's CPU time (workers and their database backends) per request


# --- the server's CPU time ---------------------------------------------------------------------


def _cpu_seconds(pid: int) -> float | None:
    """User and system CPU time of a process so far (None if it has ended)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class ServerCpu:
    """CPU time of the gunicorn workers (the master's children) and of the PostgreSQL backends
    serving the bench database. On a machine shared with other work it varies far less than
    requests per second or latencies do: the steadier figure to compare runs and pages by."""

    def __init__(self, master: int, url: str):
        import sqlalchemy as sa

        self.master = master
        self.engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        self.backends = sa.text(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )

    def _pids(self) -> list[int]:
        workers = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == self.master:
                    workers.append(int(stat.parent.name))
            except (OSError, ValueError, IndexError):
                continue
        with self.engine.connect() as connection:
            return workers + list(connection.execute(self.backends).scalars())

    def snapshot(self) -> dict[int, float]:
        return {pid: seconds for pid in self._pids() if (seconds := _cpu_seconds(pid)) is not None}

    def since(self, before: dict[int, float]) -> float:
        return sum(seconds - before.get(pid, 0.0) for pid, seconds in self.snapshot().items())

    def close(self) -> None:
        self.engine.dispose()


# --- (a) steady load ---------------------------------------------------------------------------


@dataclass
class SteadyUser:
    person: VirtualUser
    manager: VirtualUser


async def _page(name: str, user: SteadyUser, lesson_path: str) -> None:
    if name == "health":
        await user.person.fetch("health", "GET", "/health")
    elif name == "my_learning":
        await user.person.fetch("my_learning", "GET", "/learning/")
    elif name == "lesson":
        await user.person.fetch("lesson", "GET", lesson_path)
    elif name == "quiz":
        await user.person.submit_quiz()
    elif name == "matrix":
        await user.manager.fetch("matrix", "GET", "/matrix/")
    else:
        raise ValueError(name)


async def _run_phase(users: list[SteadyUser], name: str, lesson_path: str, seconds: float) -> tuple[Recorder, float]:
    """Every user asks for the page again and again for `seconds`; answers what completed and the
    window's start (monotonic)."""
    recorder = Recorder()
    for user in users:
        user.person.recorder = user.manager.recorder = recorder
    started = time.monotonic()
    deadline = started + seconds

    async def keep_asking(user: SteadyUser) -> None:
        while time.monotonic() < deadline:
            try:
                await _page(name, user, lesson_path)
            except LoadError:
                await asyncio.sleep(0.2)  # counted; no hot loop on a broken page

    await asyncio.gather(*(keep_asking(user) for user in users))
    return recorder, started


async def _paced(users: list[SteadyUser], lesson_path: str, seconds: float, rng: random.Random) -> Recorder:
    """The steady load as people make it: each of the users opens a page, reads for a while
    (READING_SECONDS, as on Monday), opens the next; PACED_MANAGERS of them also the matrix."""
    recorder = Recorder()
    for user in users:
        user.person.recorder = user.manager.recorder = recorder
    deadline = time.monotonic() + seconds

    async def one(index: int, user: SteadyUser) -> None:
        pages = PACED_PAGES + (("matrix",) if index < PACED_MANAGERS else ())
        await asyncio.sleep(rng.uniform(*READING_SECONDS))  # they do not all start at one instant
        while time.monotonic() < deadline:
            for name in pages:
                if time.monotonic() >= deadline:
                    return
                try:
                    await _page(name, user, lesson_path)
                except LoadError:
                    pass  # counted by the recorder
                await asyncio.sleep(rng.uniform(*READING_SECONDS))

    await asyncio.gather(*(one(index, user) for index, user in enumerate(users)))
    return recorder


async def _sign_in_all(users: list[VirtualUser], parallel: int = 4) -> None:
    gate = asyncio.Semaphore(parallel)

    async def one(user: VirtualUser) -> None:
        async with gate:
            await user.sign_in(PASSWORD)

    await asyncio.gather(*(one(user) for user in users))


async def steady(
    base: str,
    emails: list[str],
    manager: str,
    lesson_path: str,
    quiz_lessons: list[str],
    seconds: float,
    rounds: int,
    cpu: ServerCpu | None = None,
) -> tuple[dict[str, Figures], Recorder]:
    """Scenario (a): the figures per page and everything that went wrong (sign-in, warm-up, runs).
    With `cpu`, also the server's CPU time per request (for the quiz: per submit, with the lesson
    page it leads back to)."""
    problems = Recorder()
    users = [
        SteadyUser(VirtualUser(base, email, problems), VirtualUser(base, manager, problems, random.Random(index)))
        for index, email in enumerate(emails)
    ]
    for index, user in enumerate(users):  # each starts at another lesson, so they spread out
        shift = (index * 7) % max(1, len(quiz_lessons))
        user.person.quiz_lessons = quiz_lessons[shift:] + quiz_lessons[:shift]
    latencies: dict[str, list[float]] = defaultdict(list)
    rates: dict[str, list[float]] = defaultdict(list)
    cpu_seconds: dict[str, float] = defaultdict(float)
    counted: dict[str, int] = defaultdict(int)
    paced_latencies: dict[str, list[float]] = defaultdict(list)
    try:
        await _sign_in_all([user.person for user in users] + [user.manager for user in users])
        for name in STEADY_PAGES:  # every worker renders each page before it is measured
            recorder, _started = await _run_phase(users, name, lesson_path, WARMUP_SECONDS)
            _merge_errors(problems, recorder)
        for _round in range(rounds):
            for name in STEADY_PAGES:
                before = cpu.snapshot() if cpu else {}
                recorder, started = await _run_phase(users, name, lesson_path, seconds)
                if cpu:
                    cpu_seconds[name] += cpu.since(before)
                    counted[name] += len(recorder.latencies[name])
                _merge_errors(problems, recorder)
                window = [
                    latency
                    for latency, done in zip(recorder.latencies[name], recorder.finished[name], strict=True)
                    if done <= started + seconds
                ]
                latencies[name] += window
                rates[name].append(len(window) / seconds)
        paced = await _paced(users, lesson_path, PACED_SECONDS, random.Random(15))
        _merge_errors(problems, paced)
    finally:
        for user in users:
            await user.person.close()
            await user.manager.close()
    for name, values in paced.latencies.items():
        paced_latencies[name] += values
    figures = {
        name: Figures(
            statistics.fmean(rates[name]),
            1000 * statistics.median(latencies[name]) if latencies[name] else float("nan"),
            1000 * percentile(latencies[name], 0.95),
            len(latencies[name]),
            1000 * cpu_seconds[name] / counted[name] if counted[name] else float("nan"),
        )
        for name in STEADY_PAGES
        if rates[name]
    }
    for name, values in paced_latencies.items():
        if values:
            rate = len(values) / PACED_SECONDS
            median, p95 = 1000 * statistics.median(values), 1000 * percentile(values, 0.95)
            figures[f"paced_{name}"] = Figures(rate, median, p95, len(values), float("nan"))
    return figures, problems


def _merge_errors(into: Recorder, recorder: Recorder) -> None:
    for name, count in recorder.errors.items():
        into.errors[name] += count
    into.messages += recorder.messages[: max(0, 20 - len(into.messages))]


# --- (b) Monday 9:00 ---------------------------------------------------------------------------


def monday_schedule(people: int, peak: int, minutes: float, rng: random.Random) -> list[float]:
    """Sign-in times (s from the start): `peak` people within one minute, the others in the
    (minutes - 1) minutes around it, half before and half after. Sorted."""
    if minutes < 2:
        raise ValueError("BENCH_MONDAY_MINUTES must be at least 2: the peak minute stays 60 s")
    quiet = people - peak
    half = (minutes - 1) * 60 / 2
    times = [rng.uniform(0, half) for _ in range(quiet // 2)]
    times += [half + rng.uniform(0, 60) for _ in range(peak)]
    times += [half + 60 + rng.uniform(0, half) for _ in range(quiet - quiet // 2)]
    return sorted(times)


async def _monday_person(
    base: str, email: str, at: float, start: float, course: str, lesson: str, recorder: Recorder, rng: random.Random
) -> None:
    await asyncio.sleep(max(0.0, start + at - time.monotonic()))
    person = VirtualUser(base, email, recorder, rng)
    try:
        landed = await person.sign_in(PASSWORD)
        if landed.path != "/learning/":  # managers, HR, ... land elsewhere; then they go there
            landed = await person.fetch("my_learning", "GET", "/learning/")
        if f'href="{course}"' not in landed.text:
            recorder.error("my_learning", f"{email}: My learning does not link the mandatory course {course}")
            return
        await asyncio.sleep(rng.uniform(*READING_SECONDS))
        await person.fetch("course", "GET", course)
        await asyncio.sleep(rng.uniform(*READING_SECONDS))
        await person.fetch("lesson", "GET", lesson)
    except LoadError:
        pass
    finally:
        await person.close()


async def monday(base: str, emails: list[str], course: str, lesson: str, minutes: float) -> Recorder:
    """Scenario (b): everyone's requests, timed by step."""
    rng = random.Random(915)
    schedule = monday_schedule(len(emails), min(MONDAY_PEAK, len(emails)), minutes, rng)
    order = list(emails)
    rng.shuffle(order)
    recorder = Recorder()
    start = time.monotonic()
    await asyncio.gather(
        *(
            _monday_person(base, email, at, start, course, lesson, recorder, random.Random(email))
            for email, at in zip(order, schedule, strict=True)
        )
    )
    return recorder


# --- the installation --------------------------------------------------------------------------


def _environment(directory: Path, url: str) -> dict[str, str]:
    environment = dict(os.environ)
    environment.update(
        LMS_ENV="production",
        SECRET_KEY=SECRET_KEY,
        SESSION_COOKIE_SECURE="0",  # plain http on the loopback
        SESSION_IDLE_MINUTES="120",  # the run takes many minutes; nobody may be signed out
        SESSION_MAX_HOURS="12",
        DATABASE_URL=url,
        LMS_INSTANCE_DIR=str(directory),
        LOG_LEVEL="WARNING",
    )
    return environment


def _python(environment: dict[str, str], *arguments: str) -> str:
    done = subprocess.run(
        [sys.executable, *arguments], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=1200
    )
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(arguments)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def _flask(environment: dict[str, str], *arguments: str) -> str:
    return _python(environment, "-m", "flask", "--app", "wsgi", *arguments)


def install_demo(environment: dict[str, str]) -> dict[str, str]:
    """Migrations, DigComp, the shipped courses, the demo town; the logins (role → e-mail)."""
    _flask(environment, "db", "upgrade")
    _flask(environment, "skills", "load-framework")
    _flask(environment, "courses", "sync")
    logins = _flask(environment, "demo", "seed", "--password", PASSWORD)
    lines = [line.split(maxsplit=2) for line in logins.splitlines()]  # <role> <e-mail> <password>
    return {words[0]: words[1] for words in lines if len(words) == 3 and words[2] == PASSWORD}


@dataclass
class Paths:
    """What the client asks for, read from the database."""

    mandatory_course: str  # /courses/<slug>/
    mandatory_lesson: str  # its first lesson
    lesson: str  # the steady run's lesson: the mandatory course's first lesson with a quiz
    quiz_lessons: list[str]  # lessons with a quiz in the cloned courses
    people: list[str]  # everyone's e-mail, by id
    steady_people: list[str]  # the steady run's people (new people of bench/scale.py)


def read_paths(url: str, mandatory: str, shipped: set[str]) -> Paths:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    lessons = sa.text(
        "SELECT courses.slug, lessons.key, EXISTS (SELECT 1 FROM quiz_questions q WHERE q.lesson_id = lessons.id) "
        "FROM lessons JOIN courses ON courses.id = lessons.course_id "
        "WHERE lessons.variant = '' AND NOT courses.archived ORDER BY courses.slug, lessons.position"
    )
    people = sa.text("SELECT email FROM users WHERE active AND password_hash IS NOT NULL ORDER BY id")
    with engine.connect() as connection:
        rows = connection.execute(lessons).all()
        emails = list(connection.execute(people).scalars())
    engine.dispose()
    own = [(key, quiz) for slug, key, quiz in rows if slug == mandatory]
    from bench.scale import EMAIL_PREFIX

    return Paths(
        mandatory_course=f"/courses/{mandatory}/",
        mandatory_lesson=f"/courses/{mandatory}/{own[0][0]}",
        lesson=f"/courses/{mandatory}/{next(key for key, quiz in own if quiz)}",
        quiz_lessons=[f"/courses/{slug}/{key}" for slug, key, quiz in rows if quiz and slug not in shipped],
        people=emails,
        steady_people=[email for email in emails if email.startswith(EMAIL_PREFIX)][:STEADY_USERS],
    )


# --- statements per page (in-process) ----------------------------------------------------------


def _first_quiz_lessons(url: str, slug: str, count: int) -> list[str]:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.connect() as connection:
        keys = connection.execute(
            sa.text(
                "SELECT lessons.key FROM lessons JOIN courses ON courses.id = lessons.course_id "
                "WHERE courses.slug = :slug AND lessons.variant = '' "
                "AND EXISTS (SELECT 1 FROM quiz_questions q WHERE q.lesson_id = lessons.id) "
                "ORDER BY lessons.position LIMIT :count"
            ),
            {"slug": slug, "count": count},
        ).scalars()
        paths = [f"/courses/{slug}/{key}" for key in keys]
    engine.dispose()
    return paths


def _signed_in_client(app, email: str):
    client = app.test_client()
    token = CSRF.search(client.get("/auth/login").get_data(as_text=True))
    if token is None:
        raise RuntimeError("in-process: no CSRF token on the sign-in page")
    answer = client.post("/auth/login", data={"csrf_token": token.group(1), "email": email, "password": PASSWORD})
    if answer.status_code != 302:
        raise RuntimeError(f"in-process sign-in of {email} answered {answer.status_code}")
    return client


def _right_answers(app, form: QuizForm) -> list[tuple[str, str]]:
    """The form's questions answered right (from the database): the same outcome every time."""
    from sqlalchemy import select

    from lms.catalog.models import QuizQuestion
    from lms.extensions import db

    with app.app_context():
        questions = db.session.execute(
            select(QuizQuestion).where(QuizQuestion.id.in_([int(q) for q in form.answers]))
        ).scalars()
        right = {str(question.id): sorted(question.correct_indexes) for question in questions}
    data = [("csrf_token", form.csrf_token), ("attempt", form.attempt)]
    return data + [(f"q-{question}", str(index)) for question in form.answers for index in right[question]]


def _quiz_statements(app, client, statements: list, paths: list[str]) -> int:
    """A right answer to the first lesson's quiz (warm), then, counted, to the second's."""
    from werkzeug.datastructures import MultiDict

    count = 0
    for path in paths:
        form = parse_quiz_form(client.get(path).get_data(as_text=True))
        if form is None:
            raise RuntimeError(f"GET {path} in-process shows no quiz form")
        data = _right_answers(app, form)
        statements.clear()
        answer = client.post(form.action, data=MultiDict(data))
        count = len(statements)
        if answer.status_code != 302 or not answer.headers["Location"].endswith("#quiz-results"):
            raise RuntimeError(f"POST {form.action} in-process answered {answer.status_code} {answer.headers}")
    return count


def statement_counts(url: str, logins: dict[str, str], paths: Paths, quiz_course: str) -> dict[str, int]:
    """Statements per request of each page with warm caches, in-process (the test client runs
    each request in its own app context, as gunicorn does). The quiz submit: a right answer
    to the second quiz lesson of `quiz_course`, a course the demo employee has not started."""
    import sqlalchemy as sa

    from lms import create_app
    from lms.config import load_config
    from lms.extensions import db

    cost = load_config({"LMS_ENV": "production", "SECRET_KEY": SECRET_KEY})
    app = create_app(
        {
            "LMS_ENV": "testing",
            "SQLALCHEMY_DATABASE_URI": url,
            "LOG_LEVEL": "WARNING",
            # The server's cost, or signing in here would store a cheaper hash (a rehash).
            **{key: cost[key] for key in ("ARGON2_TIME_COST", "ARGON2_MEMORY_COST", "ARGON2_PARALLELISM")},
        }
    )
    employee, manager = _signed_in_client(app, logins["employee"]), _signed_in_client(app, logins["manager"])
    statements: list[str] = []
    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    pages = {
        "health": (employee, "/health"),
        "my_learning": (employee, "/learning/"),
        "course": (employee, paths.mandatory_course),
        "lesson": (employee, paths.lesson),
        "matrix": (manager, "/matrix/"),
    }
    counts = {}
    try:
        for name, (client, path) in pages.items():
            client.get(path)  # warm
            statements.clear()
            answer = client.get(path)
            if answer.status_code != 200:
                raise RuntimeError(f"GET {path} in-process answered {answer.status_code}")
            counts[name] = len(statements)
        counts["quiz"] = _quiz_statements(app, employee, statements, _first_quiz_lessons(url, quiz_course, 2))
    finally:
        engine.dispose()
    return counts


# --- gunicorn ----------------------------------------------------------------------------------


def _gunicorn_options() -> list[str]:
    options = ["--workers", str(WORKERS), "--backlog", "2048", "--timeout", "120"]
    if THREADS > 1:
        options += ["--worker-class", "gthread", "--threads", str(THREADS)]
    return options


# --- the benchmark -----------------------------------------------------------------------------


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def _report_statements(small: dict[str, int], large: dict[str, int]) -> None:
    for name in STATEMENT_PAGES:
        record(f"load_queries_{name}_small", small[name], "statements")
        record(f"load_queries_{name}_large", large[name], "statements")
        print(
            f"{_verdict(small[name] == large[name])} statements of {name}: {small[name]} on the demo town, "
            f"{large[name]} on {PEOPLE} people and {COURSES} courses (must be equal)"
        )


def _report_paced(figures: dict[str, Figures]) -> None:
    """The budget's p95 under steady load: 50 people reading between pages (not a saturated server)."""
    budget = BUDGETS["steady_p95_ms"]
    paced = {name.removeprefix("paced_"): page for name, page in figures.items() if name.startswith("paced_")}
    for name, page in paced.items():
        record(f"load_paced_{name}_rps", page.rps, "req/s")
        record(f"load_paced_{name}_median_ms", page.median_ms, "ms")
        record(f"load_paced_{name}_p95_ms", page.p95_ms, "ms")
        print(
            f"{_verdict(page.p95_ms < budget)} steady p95 of {name}, people reading between pages: "
            f"{page.p95_ms:.0f} ms (budget {budget:.0f} ms)"
        )
    if paced:
        record("load_paced_p95_ms", max(page.p95_ms for page in paced.values()), "ms")


def _report_steady(figures: dict[str, Figures], problems: Recorder) -> list[str]:
    _report_paced(figures)
    figures = {name: page for name, page in figures.items() if not name.startswith("paced_")}
    health = figures["health"].rps
    for name, page in figures.items():
        record(f"load_steady_{name}_rps", page.rps, "req/s")
        record(f"load_steady_{name}_median_ms", page.median_ms, "ms")
        record(f"load_steady_{name}_p95_ms", page.p95_ms, "ms")
        record(f"load_steady_{name}_cpu_ms", page.cpu_ms, "ms")
        if name != "health":
            record(f"load_steady_{name}_ratio", page.rps / health, "ratio")
            record(f"load_steady_{name}_ratio_by_cpu", figures["health"].cpu_ms / page.cpu_ms, "ratio")
    record("load_steady_users", STEADY_USERS, "people")
    record("load_steady_errors", problems.error_count, "errors")
    ratio = figures["lesson"].rps / health
    print(f"{_verdict(ratio >= BUDGETS['lesson_ratio'])} lesson at {ratio:.0%} of /health's requests/s (budget 40 %)")
    worst = max(page.p95_ms for name, page in figures.items() if name != "health")
    record("load_steady_p95_ms", worst, "ms")
    for name, page in figures.items():
        if name != "health":
            budget = BUDGETS["steady_p95_ms"]
            print(
                f"{_verdict(page.p95_ms < budget)} saturated p95 of {name} (50 people, no pause):"
                f" {page.p95_ms:.0f} ms (budget {budget:.0f} ms)"
            )
    print(f"{_verdict(not problems.error_count)} steady errors: {problems.error_count}")
    return [f"load steady: {count} errors at {name}" for name, count in problems.errors.items() if count] + [
        f"load steady: {message}" for message in problems.messages[:5]
    ]


def _report_monday(recorder: Recorder, minutes: float, cpu_seconds: float, people: int) -> list[str]:
    everything = [latency for latencies in recorder.latencies.values() for latency in latencies]
    p95 = 1000 * percentile(everything, 0.95)
    per_person = cpu_seconds / people
    record("load_monday_cpu_s_per_person", per_person, "s")
    # The server's CPU the peak minute asks for, in cores: below 2 the two cores keep up with it.
    record("load_monday_peak_cores", MONDAY_PEAK * per_person / 60, "cores")
    record("load_monday_minutes", minutes, "min")
    record("load_monday_requests", len(everything), "requests")
    record("load_monday_median_ms", 1000 * statistics.median(everything) if everything else float("nan"), "ms")
    record("load_monday_p95_ms", p95, "ms")
    for name in ("sign_in_page", "sign_in", "after_sign_in", "my_learning", "course", "lesson"):
        if recorder.latencies[name]:
            record(f"load_monday_{name}_p95_ms", 1000 * percentile(recorder.latencies[name], 0.95), "ms")
    record("load_monday_errors", recorder.error_count, "errors")
    budget = BUDGETS["monday_p95_ms"]
    print(f"{_verdict(p95 < budget)} Monday 9:00 p95 of every request: {p95:.0f} ms (budget {budget:.0f} ms)")
    print(f"{_verdict(not recorder.error_count)} Monday 9:00 errors: {recorder.error_count}")
    return [f"load Monday 9:00: {count} errors at {name}" for name, count in recorder.errors.items() if count] + [
        f"load Monday 9:00: {message}" for message in recorder.messages[:5]
    ]


def _unreachable(url: str) -> str | None:
    import sqlalchemy as sa

    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError as error:
        return str(error).splitlines()[0]
    finally:
        engine.dispose()
    return None


def run() -> list[str]:
    from bench.scale import MANDATORY_COURSE, SHIPPED_COURSES

    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    if MONDAY_MINUTES < 2:
        raise ValueError("BENCH_MONDAY_MINUTES must be at least 2: the peak minute stays 60 s")
    if problem := _unreachable(url):
        import sqlalchemy as sa

        shown = sa.make_url(url).render_as_string(hide_password=True)
        return [f"load: the PostgreSQL database BENCH_DATABASE_URL ({shown}) is unreachable: {problem}"]
    for name, value in BUDGETS.items():  # the targets, next to the figures
        record(f"load_budget_{name}", value, "ratio" if name.endswith("ratio") else "ms")
    shipped = {folder.name for folder in SHIPPED_COURSES.iterdir() if folder.is_dir()}
    quiz_course = "datenschutz-im-buero"  # the demo employee's course not started (counts of the quiz)
    with tempfile.TemporaryDirectory(prefix="lernpfad-load-") as scratch:
        directory = Path(scratch)
        environment = _environment(directory, url)
        reset_postgres_schema(url)
        started = time.monotonic()
        logins = install_demo(environment)
        _python(environment, "-m", "bench.scale", "--password", PASSWORD, "--mandatory", MANDATORY_COURSE)
        small = statement_counts(url, logins, read_paths(url, MANDATORY_COURSE, shipped), quiz_course)
        clones = directory / "courses"
        clones.mkdir()
        _python(
            environment, "-m", "bench.scale", "--password", PASSWORD, "--mandatory", MANDATORY_COURSE,
            "--people", str(PEOPLE), "--courses", str(COURSES), "--clones-dir", str(clones),
        )  # fmt: skip
        paths = read_paths(url, MANDATORY_COURSE, shipped)
        large = statement_counts(url, logins, paths, f"{quiz_course}-2")
        record("load_setup_s", time.monotonic() - started, "s")
        port, log = server_process.free_port(), directory / "gunicorn.log"
        server = server_process.start_gunicorn(environment, port, log, *_gunicorn_options())
        base = f"http://127.0.0.1:{port}"
        cpu = ServerCpu(server.pid, url)
        try:
            figures, problems = asyncio.run(
                steady(
                    base,
                    paths.steady_people,
                    logins["manager"],
                    paths.lesson,
                    paths.quiz_lessons,
                    STEADY_SECONDS,
                    STEADY_ROUNDS,
                    cpu,
                )  # fmt: skip
            )
            people = paths.people[:MONDAY_PEOPLE]
            before = cpu.snapshot()
            rush = asyncio.run(monday(base, people, paths.mandatory_course, paths.mandatory_lesson, MONDAY_MINUTES))
            monday_cpu = cpu.since(before)
        finally:
            cpu.close()
            server_process.stop(server)
            server_log = log.read_text()[-3000:]
    _report_statements(small, large)
    errors = _report_steady(figures, problems) + _report_monday(rush, MONDAY_MINUTES, monday_cpu, len(people))
    if errors and server_log.strip():
        print(f"--- gunicorn's log (end) ---\n{server_log}", file=sys.stderr)
    return errors
