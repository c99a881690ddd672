"""The attacker's walk: every route, as every kind of visitor, with hostile ids, strings, queries and forms.

Per backend and per actor (anonymous; employee; trainer; a manager under each visibility preset; HR;
admin; data-protection officer; one test case each) a small town is built through the factories and
services: two departments (one headed by the manager, with a sub-department), people inside and
outside it, the DigComp framework, a synced course with a medium, assessments, targets, completions
and a look at the actor's data in the audit log. Then every rule of the URL map (but `static`) is
requested:

- each converter argument with real values (the actor's own id, a person inside the manager's
  departments, one outside; real departments, job roles, competences, the course, its lessons and
  medium) and hostile ones (0, an id nobody has, 40 digits, -1, 2**31, 2**63; for strings and paths
  '..%2f..', '%00', 300 characters, markup, 'ä/ß', U+202E, undecodable bytes, ...);
- GET with hostile query strings. Which parameters a view reads is recorded while it runs (its reads
  of `request.args`, directly or through a form), beside the names found in lms/; each of those gets
  huge, negative and non-numbers, whitespace, NUL, CR/LF, 300 characters, markup, Unicode, ids of
  things outside the actor's reach (for id-like names) and other sites (for next-like names); all
  parameters at once, repeated, and as undecodable bytes;
- POST (CSRF checking off) with a valid form, an empty one, every known field hostile at once, and
  the valid form with one field the view reads (recorded likewise) hostile at a time, plus odd field
  names; and once per rule with CSRF checking on and no token, which must answer 400.

Pages a role check refuses get the real and a few hostile addresses and a hostile query only: the
view behind them never sees the values. On PostgreSQL the walk sends only what reaches the database
(integers out of range, NUL, non-ASCII text, overlong text) to the views that let the actor in;
refusals, CSRF, escaping, redirects and parsing do not depend on the database and are walked on
SQLite. A page several actors may use is varied in full by the first of them in ACTORS (public
pages by the anonymous visitor, everyone's by the employee, a manager's by the first manager) and
with the sharpest value, and the ids outside their reach, by the others.

Asserted for every response: no 5xx and no exception escaping a view (the test app propagates
them); anonymous visitors get 2xx only from public pages and otherwise a redirect to the sign-in
page (or 404/405/413); a signed-in actor gets only 403/404/405/413 from a page of roles they lack;
a manager gets no 2xx/3xx for a person whose levels they may not see; no response contains the
e-mail address or name of a person the actor may not see; every `Location` stays on this site; no
injected markup comes back unescaped.

Every finding is collected and reported at the end, grouped by route and problem, with the request
that showed it. State-changing POSTs may change the actor's own account (roles, password, session);
it is put back after each POST, so the walk keeps the actor it started with.
"""

from __future__ import annotations

import itertools
import logging
import re
import sys
import traceback
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
import sqlalchemy as sa
from flask import request_started
from flask_wtf import FlaskForm
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.utils import cached_property
from wtforms.fields.core import UnboundField

from lms.auth import services as auth_services
from lms.catalog.importer import sync_courses
from lms.catalog.models import Course, CourseMedia, Lesson, QuizQuestion
from lms.common.urls import PAGE_ARGUMENTS
from lms.common.vocabulary import AuditAction, ManagerVisibility
from lms.extensions import db
from lms.learning.models import Completion
from lms.people.models import User, UserRole, department_heads
from lms.privacy import services as privacy
from lms.skills.models import Assessment, SelfAssessment
from lms.targets.models import JobRoleTarget, PersonalTarget
from tests.factories import DEFAULT_PASSWORD, competence

PROJECT_ROOT = Path(__file__).resolve().parent.parent
COURSE_FOLDER = PROJECT_ROOT / "courses" / "phishing-erkennen"
DOMAIN = "musterhausen.example"

# --- the actors -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Actor:
    name: str
    roles: tuple[str, ...] = ()
    visibility: ManagerVisibility = ManagerVisibility.LEVELS

    @property
    def anonymous(self) -> bool:
        return self.name == "anonymous"

    @property
    def all_roles(self) -> set[str]:
        return set() if self.anonymous else {"employee", *self.roles}

    @property
    def manager_only(self) -> bool:
        """A manager without HR: sees people only as the visibility preset allows."""
        return "manager" in self.roles and "hr" not in self.roles


ACTORS = [
    Actor("anonymous"),
    Actor("employee"),
    Actor("trainer", ("trainer",)),
    Actor("manager-levels", ("manager",), ManagerVisibility.LEVELS),
    Actor("manager-compliance-only", ("manager",), ManagerVisibility.COMPLIANCE_ONLY),
    Actor("hr", ("hr",)),
    Actor("admin", ("admin",)),
    Actor("dpo", ("dpo",)),
    Actor("staff_council", ("staff_council",)),
]
SEES_EVERYONE = {"hr", "admin", "dpo"}

# --- hostile values ---------------------------------------------------------------------------

# Markup that breaks out of an attribute and opens a script: it must only ever come back escaped.
SCRIPT = "\"'><script>alert('walk')</script>"
REFLECTION_MARKERS = ("<script>alert(",)  # raw "<" before the script: not escaped
LONG = "x" * 300
NOBODY_ID = "987654"  # fits an INTEGER, belongs to nobody
# Beyond the database's integers: one value (2**31 and 2**63 are refused by the same bound).
HOSTILE_INTS = ["0", NOBODY_ID, "9" * 40, "-1"]
# Path segments as they appear in the address (already percent-encoded where needed).
HOSTILE_SEGMENTS = [
    "..%2f..",
    "%00",
    "%2e%2e",
    LONG,
    quote(SCRIPT, safe=""),
    quote("ä/ß", safe=""),
    quote("\u202e", safe=""),
    "%ff%fe",
]
HOSTILE_PATHS = HOSTILE_SEGMENTS + ["../course.md", "..%2f..%2fcourse.md", "media/../../../etc/passwd", "a/%00/b"]
# Every value a query parameter or form field gets (all parameters at once, then one at a time).
# Whitespace alone is its own case: WTForms' Optional() takes it for "no value" and stops checking.
HOSTILE_TEXT = [
    "\t",
    "9" * 40,  # beyond every database integer (2**31 and 2**63 fail the same way)
    "-1",
    "abc",
    "\x00",
    "a\r\nSet-Cookie: walk=1",
    SCRIPT,
    "ä/ß\u202e",
]
# For names that look like a place to go (next, url, ...): targets a browser reads as another site.
REDIRECT_LIKE = re.compile(r"next|url|redirect|return|back|target|goto|referr?er", re.IGNORECASE)
REDIRECT_TEXT = [
    "//evil.example",
    "/\\evil.example",
    "/\t/evil.example",
    "javascript:alert(1)",
    "https://evil.example/",
]
# The sharpest few, for pages every signed-in person shares, walked in full by the employee only;
# and for sending every parameter or field at once.
LIGHT_TEXT = ["\t", "9" * 40, "\x00", SCRIPT]
ALL_AT_ONCE = ["\x00", SCRIPT, "x" * 3000]
# On PostgreSQL the walk sends what the database itself may refuse (a NUL, integers out of range,
# text it must compare or fold); how a page escapes or redirects does not depend on the database,
# and is walked on SQLite.
DATABASE_TEXT = ["9" * 40, "\x00", "ä/ß\u202e"]
DATABASE_LIGHT = ["9" * 40, "\x00"]
# A NUL in the address or query is refused (400) before any view runs: on PostgreSQL, queries
# get the other values only.
DATABASE_QUERY_TEXT = ["9" * 40, "ä/ß\u202e"]
DATABASE_ALL_AT_ONCE = ["\x00", "x" * 3000]  # longer than any column: PostgreSQL refuses, SQLite stores
DATABASE_INTS = ["9" * 40, "-1"]
DATABASE_SEGMENTS = ["%00", quote("ä/ß\u202e", safe=""), "%ff%fe"]
# Percent-encodings a dict cannot produce: invalid UTF-8, a lone or broken escape.
RAW_QUERY_VALUE = "%ff%fe%zz%"
RAW_QUERY = "%ff%fe=%ff&&&==&;;&a[]=1&a[]=2&q"
PAGE_VALUES = ["9" * 40, str(2**31), "-1", "abc", "\x00"]
REPEATED = ["1", "9" * 40, SCRIPT]
HOSTILE_FIELD_NAMES = [
    "q-abc",
    "q-" + "9" * 40,
    f"q-{2**31}",
    f"q-{2**63}",
    "q--1",
    "q-",
    "level_" + "9" * 40,
    "level_abc",
    "recert_months_" + "9" * 40,
]
HOSTILE_REFERRERS = [
    "http://localhost//evil.example",
    "http://localhost/\\evil.example",
    "http://[::1",
    "javascript:alert(1)",
    "http://evil.example/",
]

# --- what the app reads -------------------------------------------------------------------------


def _flask_forms() -> dict[str, type]:
    found: dict[str, type] = {}
    pending = list(FlaskForm.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.__module__.startswith("lms."):
            found.setdefault(cls.__name__, cls)
    return found


def _form_fields(cls: type) -> set[str]:
    return {name for name in dir(cls) if isinstance(getattr(cls, name, None), UnboundField)}


def _source() -> str:
    return "\n".join(path.read_text(encoding="utf-8") for path in sorted((PROJECT_ROOT / "lms").rglob("*.py")))


def known_query_parameters() -> set[str]:
    """Names read from `request.args` anywhere in lms/, directly or through a form built from it."""
    source = _source()
    names = set(re.findall(r"request\.args(?:\.get|\.getlist|\.get_all)?[\(\[]\s*[\"'](\w+)[\"']", source))
    forms = _flask_forms()
    for form_name in re.findall(r"(\w+)\(\s*request\.args", source):
        if form_name in forms:
            names |= _form_fields(forms[form_name])
    return (names | set(PAGE_ARGUMENTS) | {"next", "format"}) - {"csrf_token"}


def known_form_fields() -> set[str]:
    source = _source()
    names = set(re.findall(r"request\.form(?:\.get|\.getlist)?[\(\[]\s*[\"'](\w+)[\"']", source))
    for cls in _flask_forms().values():
        names |= {name for name in _form_fields(cls) if not re.search(r"_\d+$", name)}
    return names - {"csrf_token"}


# --- recording which names a view reads ---------------------------------------------------------

READS: dict[str, set[str]] = {"args": set(), "form": set()}
SEEN: dict[str, object] = {}
ITERATED = "<iterated>"
_GLOBAL_GUARDS = ("lms/common/urls.py",)  # the page-number guard reads page/per_page for every route


class _Recording(ImmutableMultiDict):
    kind = "args"

    def _note(self, key) -> None:
        caller = sys._getframe(2).f_code.co_filename.replace("\\", "/")
        if not caller.endswith(_GLOBAL_GUARDS):
            READS[self.kind].add(str(key))

    def get(self, key, default=None, type=None):  # noqa: A002
        self._note(key)
        return super().get(key, default, type)

    def getlist(self, key, type=None):  # noqa: A002
        self._note(key)
        return super().getlist(key, type)

    def __getitem__(self, key):
        self._note(key)
        return super().__getitem__(key)

    def __contains__(self, key):
        self._note(key)
        return super().__contains__(key)

    def __iter__(self):
        READS[self.kind].add(ITERATED)
        return super().__iter__()


class _RecordingForm(_Recording):
    kind = "form"


def recording_request_class(base: type) -> type:
    class RecordingRequest(base):
        @cached_property
        def args(self):
            return _Recording(base.args.fget(self))

        def _load_form_data(self):
            # The one place the form is parsed, whichever of form, files or values is read first.
            super()._load_form_data()
            if not isinstance(self.__dict__.get("form"), _RecordingForm):
                self.__dict__["form"] = _RecordingForm(self.__dict__["form"])

    return RecordingRequest


def _note_endpoint(sender, **_extra) -> None:
    from flask import request

    SEEN["endpoint"] = request.endpoint
    SEEN["view_args"] = dict(request.view_args or {})


# --- the town -----------------------------------------------------------------------------------


@dataclass
class Person:
    id: int
    email: str
    name: str  # a family name found nowhere else


@dataclass
class World:
    actor: Person | None
    people: dict[str, Person]
    values: dict[str, list[str]]  # converter argument name -> real values, the most telling first
    base_form: dict[str, object]
    foreign_ids: list[str]
    may_see: set[str]  # labels of the people whose e-mail addresses the actor may see
    may_name: set[str]  # ... and whose names
    visible_level_ids: set[int] | None  # for a manager: whose levels they may see (None: not a manager)
    dynamic_fields: set[str] = field(default_factory=set)


def _person(user: User) -> Person:
    return Person(user.id, user.email, user.family_name)


def _course_parts() -> tuple[Course, list[Lesson], CourseMedia]:
    result = sync_courses([COURSE_FOLDER])
    assert not result.failed, result.problems
    db.session.commit()
    course = db.session.execute(db.select(Course).where(Course.slug == COURSE_FOLDER.name)).scalar_one()
    lessons = list(db.session.execute(db.select(Lesson).where(Lesson.course_id == course.id)).scalars())
    medium = db.session.execute(db.select(CourseMedia).where(CourseMedia.course_id == course.id)).scalars().first()
    return course, sorted(lessons, key=lambda lesson: lesson.position), medium


def build_world(actor: Actor, make_department, make_job_role, make_user) -> World:
    fb3 = make_department(code="FB3", name="Bürgerdienste")
    office = make_department(code="33.1", name="Bürgerbüro", parent=fb3)
    fb2 = make_department(code="FB2", name="Finanzen")
    clerk = make_job_role(code="SB-BB", title="Sachbearbeitung Bürgerbüro")
    cashier = make_job_role(code="KA", title="Kasse")
    c41, c42 = competence("4.1"), competence("4.2")
    db.session.add_all(
        [
            JobRoleTarget(job_role_id=clerk.id, competence_id=c41.id, level=3, recert_months=12),
            JobRoleTarget(job_role_id=clerk.id, competence_id=c42.id, level=2),
        ]
    )

    def person(label, **fields):
        return make_user(email=f"{label.lower()}@{DOMAIN}", given_name="Walk", family_name=label, **fields)

    users = {
        "inside": person("Drinnen-Eins", department=office, job_role=clerk),
        "inside2": person("Drinnen-Zwei", department=fb3, job_role=cashier),
        "outside": person("Draussen-Eins", department=fb2, job_role=clerk),
        "outside2": person("Draussen-Zwei", department=fb2, job_role=cashier),
        "boss": person("Chefin-Oben", roles=["manager"], heads=[fb3]),
        "hr_person": person("Personal-Amt", roles=["hr"]),
    }
    me = None
    if not actor.anonymous:
        placed = {"department": fb3} if actor.name in {"employee", "trainer"} or actor.manager_only else {}
        heads = [fb3] if "manager" in actor.roles else []
        me = users["me"] = person(f"Akteur-{actor.name}", roles=list(actor.roles), heads=heads, **placed)
    for label, level in (("inside", 3), ("inside2", 1), ("outside", 4), ("outside2", 2)):
        db.session.add(Assessment(user_id=users[label].id, competence_id=c41.id, level=level, note="beobachtet"))
    db.session.add(PersonalTarget(user_id=users["inside"].id, competence_id=c42.id, level=4, note="Jahresgespräch"))
    course, lessons, medium = _course_parts()
    for label in ("inside", "outside", *(["me"] if me else [])):
        db.session.add(Completion(user_id=users[label].id, course_id=course.id, course_version=1, score_percent=90))
    if me is not None:
        db.session.add(SelfAssessment(user_id=me.id, competence_id=c41.id, level=2))
        privacy.record(users["hr_person"], [me], AuditAction.VIEW_PROFILE)
    privacy.record(users["boss"], [users["inside"]], AuditAction.VIEW_PROFILE)
    privacy.record(users["hr_person"], [users["outside"]], AuditAction.VIEW_PROFILE)
    db.session.commit()

    people = {label: _person(user) for label, user in users.items()}
    questions = list(
        db.session.execute(db.select(QuizQuestion).where(QuizQuestion.lesson_id == lessons[0].id)).scalars()
    )
    own = [str(me.id)] if me else []
    values = {
        "user_id": [str(users["inside"].id), *own, str(users["outside"].id)],
        "department_id": [str(fb3.id), str(office.id), str(fb2.id)],
        "job_role_id": [str(clerk.id), str(cashier.id)],
        "competence_id": [str(c41.id), str(c42.id)],
        "slug": [course.slug],
        "key": [lessons[0].key, lessons[-1].key],
        "path": [medium.path] if medium else ["bild.svg"],
    }
    base_form: dict[str, object] = {
        # sign-in: a person nobody is, so the anonymous walk stays anonymous
        "email": f"niemand@{DOMAIN}",
        "password": "falsch-falsch-falsch",
        "current_password": DEFAULT_PASSWORD,
        "new_password": "Ein ganz neues Passwort im Rathaus 7",
        "confirm_password": "Ein ganz neues Passwort im Rathaus 7",
        "language": "de",
        "given_name": "Walk",
        "family_name": "Probe",
        "personnel_number": "W-1",
        "department_id": str(fb2.id),
        "job_role_id": str(clerk.id),
        "locale": "de",
        "roles": ["employee"],
        "headed_departments": [],
        "code": "W1",
        "name": "Walk-Abteilung",
        "parent_id": "",
        "title": "Walk-Tätigkeit",
        "competence_id": str(c42.id),
        "level": "2",
        "note": "beobachtet im Alltag",
        "recert_months": "12",
        "active": "1",
        f"level_{c41.id}": "3",
        f"recert_months_{c41.id}": "12",
        f"level_{c42.id}": "2",
        f"recert_months_{c42.id}": "",
    }
    base_form |= {f"q-{question.id}": "0" for question in questions}
    # Ids of things outside the manager's part of the town, for id-like parameters and fields.
    foreign_ids = sorted({str(users["outside"].id), str(fb2.id), str(cashier.id), str(c42.id)})

    inside_labels = {"inside", "inside2"}
    if actor.anonymous:
        may_see: set[str] = set()
    elif actor.name in SEES_EVERYONE:
        may_see = set(people)
    elif actor.manager_only:
        may_see = {"me"} | inside_labels
    else:
        may_see = {"me"}
    may_name = may_see | ({"hr_person"} if me else set())  # the actor's access log names who looked
    if actor.name == "staff_council":  # the settings page names who holds which role (the agreement's point)
        may_name |= {"boss", "hr_person"}
    visible = None
    if actor.manager_only:
        visible = {me.id} | ({people[label].id for label in inside_labels} if actor.visibility == "levels" else set())
    return World(
        actor=people.get("me"),
        people=people,
        values=values,
        base_form=base_form,
        foreign_ids=foreign_ids,
        may_see=may_see,
        may_name=may_name,
        visible_level_ids=visible,
        dynamic_fields={name for name in base_form if re.search(r"\d", name)},
    )


# --- the walk -----------------------------------------------------------------------------------

# Answers that tell nothing about the page behind them: a request refused as malformed (400: a NUL
# anywhere), no such page number, wrong method, too large.
REFUSED_UNSEEN = {400, 404, 405, 413}
ID_LIKE = re.compile(r"(^|_)(id|user|person|department|job_role|role|competence|parent|headed)", re.IGNORECASE)
_ARGUMENT = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")


def _short(value) -> str:
    text = repr(value)
    text = text.replace(repr(LONG)[1:-1], "x*300").replace("9" * 40, "9*40")
    return text if len(text) <= 160 else text[:157] + "..."


@dataclass
class Finding:
    actor: str
    method: str
    url: str
    params: str
    status: str
    problem: str
    endpoint: str | None

    def __str__(self) -> str:
        params = f" {self.params}" if self.params else ""
        return f"[{self.actor}] {self.method} {self.url}{params} -> {self.status}: {self.problem}"


def _where(frame) -> str:
    path = Path(frame.filename)
    shown = path.relative_to(PROJECT_ROOT) if path.is_relative_to(PROJECT_ROOT / "lms") else path.name
    return f"{shown}:{frame.lineno} in {frame.name}"


def exception_summary(error: BaseException) -> str:
    """The exception, the last line of the app's own code it passed, and where it was raised."""
    frames = traceback.extract_tb(error.__traceback__)
    own = [f for f in frames if Path(f.filename).is_relative_to(PROJECT_ROOT / "lms")]
    where = own[-1] if own else (frames[-1] if frames else None)
    place = f" at {_where(where)}" if where else ""
    last = frames[-1] if frames else None
    raised = f" (raised in {_where(last)})" if last and last is not where else ""
    message = str(error).strip().splitlines()[0][:200] if str(error).strip() else ""
    return f"{type(error).__name__}: {message}{place}{raised}"


class Walk:
    def __init__(self, app, client, actor: Actor, world: World, sign_in):
        self.app = app
        self.client = client
        self.actor = actor
        self.world = world
        self.sign_in = sign_in
        self.findings: list[Finding] = []
        self.notes: list[str] = []
        self.requests = 0
        self.last_reads: dict[str, set[str]] = {"args": set(), "form": set()}
        self.statuses: Counter = Counter()
        self.query_parameters = sorted(known_query_parameters())
        self.form_fields = sorted(known_form_fields() | world.dynamic_fields)
        self.referrers = itertools.cycle(HOSTILE_REFERRERS)
        on_postgresql = db.engine.dialect.name == "postgresql"
        self.hostile_text = DATABASE_TEXT if on_postgresql else HOSTILE_TEXT
        self.light_text = DATABASE_LIGHT if on_postgresql else LIGHT_TEXT
        # On PostgreSQL only what reaches the database is varied: refusals, CSRF, escaping,
        # redirects and how parameters are parsed do not depend on it and are walked on SQLite.
        self.everything = not on_postgresql
        self.snapshot = self._account_state() if world.actor else None
        self.rules = [r for r in app.url_map.iter_rules() if r.endpoint != "static"]
        forbidden = [p for label, p in world.people.items() if label not in world.may_see]
        unnamed = [p for label, p in world.people.items() if label not in world.may_name]
        self.secrets = [(p.email.encode(), f"e-mail of {p.name}") for p in forbidden] + [
            (p.name.encode(), f"name {p.name}") for p in unnamed
        ]

    # --- requests and checks ---------------------------------------------------------------

    def call(self, method: str, path: str, *, query=None, raw_query: str | None = None, data=None, csrf=False, what=""):
        url = f"{path}?{raw_query}" if raw_query is not None else path
        headers = {"Referer": next(self.referrers)} if method == "POST" else {}
        params = what or (f"query={_short(query)}" if query else "")
        if method == "POST":
            params = f"{params} (Referer {headers['Referer']!r})"
        SEEN.clear()
        self.requests += 1
        self.app.config["WTF_CSRF_ENABLED"] = csrf
        try:
            response = self.client.open(url, method=method, query_string=query, data=data, headers=headers)
        except Exception as error:  # noqa: BLE001  (the test app propagates what would be a 500)
            self.fail(method, url, params, "exception", exception_summary(error))
            self.statuses["exception"] += 1
            return None
        finally:
            self.app.config["WTF_CSRF_ENABLED"] = False
        self.statuses[response.status_code] += 1
        self.last_reads = {kind: set(names) for kind, names in READS.items()}
        self.check(method, url, params, response, csrf, query=query, raw_query=raw_query)
        return response

    def fail(self, method, url, params, status, problem) -> None:
        self.findings.append(
            Finding(self.actor.name, method, _short(url)[1:-1], params, str(status), problem, SEEN.get("endpoint"))
        )

    def check(self, method, url, params, response, csrf, query=None, raw_query=None) -> None:
        status = response.status_code
        if status >= 500:
            self.fail(method, url, params, status, "server error")
        location = response.headers.get("Location")
        if location is not None:
            problem = self.location_problem(location)
            if problem:
                self.fail(method, url, params, status, f"Location {location!r}: {problem}")
            elif not location.startswith("/"):
                self.notes.append(f"[{self.actor.name}] {method} {_short(url)[1:-1]}: absolute Location {location!r}")
        problem = self.access_problem(method, status, location, csrf)
        if problem:
            self.fail(method, url, params, status, problem)
        body = response.get_data()
        disposition = response.headers.get("Content-Disposition", "")
        if response.mimetype == "text/html" or (
            response.mimetype.startswith("text/") and "attachment" not in disposition
        ):
            text = body.decode("utf-8", "replace")
            for marker in REFLECTION_MARKERS:
                if marker in text:
                    self.fail(method, url, params, status, f"unescaped markup in the page: {marker!r}")
                    break
        for secret, label in self.secrets:
            if secret in body:
                self.fail(method, url, params, status, f"shows the {label}, which {self.actor.name} may not see")
        self.note_surprise(method, url, status, query, raw_query, csrf)

    @staticmethod
    def location_problem(location: str) -> str | None:
        if re.search(r"[\x00-\x1f\x7f\\]", location):
            return "control character or backslash"
        if location.startswith("/"):
            return "leaves the site" if location.startswith(("//", "/\\")) else None
        parts = urlsplit(location)
        if parts.scheme == "http" and parts.netloc == "localhost":
            return None  # same origin, written absolutely (a routing redirect); noted below
        return "not a path on this site"

    def access_problem(self, method, status, location, csrf) -> str | None:
        endpoint = SEEN.get("endpoint")
        if endpoint is None:
            return None  # no rule matched: any 4xx is right
        if csrf and method == "POST":
            return None if status == 400 else "a POST without CSRF token was not refused with 400"
        view = self.app.view_functions[endpoint]
        required = set(getattr(view, "required_roles", ()) or ())
        public = getattr(view, "is_public", False)
        reached = status < 400
        if self.actor.anonymous:
            if public or (300 <= status < 400 and urlsplit(location or "").path == "/auth/login"):
                return None
            # Refused before the role check (no such page number, wrong method, too large) is fine too.
            return None if status in REFUSED_UNSEEN else "anonymous visitor was not sent to the sign-in page"
        if "__any__" not in required and not required & self.actor.all_roles and not public:
            if status in REFUSED_UNSEEN or status == 403:
                return None
            return f"a page for {sorted(required)} answered {status} (not 403/404) to {sorted(self.actor.all_roles)}"
        user_id = SEEN.get("view_args", {}).get("user_id")
        visible = self.world.visible_level_ids
        if reached and visible is not None and isinstance(user_id, int) and "__any__" not in required:
            if "manager" in required and user_id not in visible:
                return f"a manager ({self.actor.visibility}) reached the data of person {user_id}"
        return None

    def note_surprise(self, method, url, status, query, raw_query, csrf) -> None:
        if csrf or query or raw_query is not None or self.actor.anonymous:
            return
        endpoint = SEEN.get("endpoint")
        if endpoint is None:
            return
        required = set(getattr(self.app.view_functions[endpoint], "required_roles", ()) or ())
        allowed = "__any__" in required or bool(required & self.actor.all_roles)
        if allowed and status in (400, 403) and method == "GET":
            self.notes.append(f"[{self.actor.name}] GET {_short(url)[1:-1]} -> {status} (a page of its roles)")

    # --- the actor's account, put back after a POST ----------------------------------------

    ACCOUNT_COLUMNS = (
        "email",
        "given_name",
        "family_name",
        "active",
        "must_change_password",
        "password_hash",
        "department_id",
        "locale",
    )

    def _account_state(self) -> tuple:
        """The actor's account as plain values, read with three small statements."""
        user_id = self.world.actor.id
        columns = [getattr(User, name) for name in self.ACCOUNT_COLUMNS]
        row = tuple(db.session.execute(sa.select(*columns).where(User.id == user_id)).one())
        roles = frozenset(db.session.scalars(sa.select(UserRole.role).where(UserRole.user_id == user_id)))
        heads = frozenset(
            db.session.scalars(sa.select(department_heads.c.department_id).where(department_heads.c.user_id == user_id))
        )
        return row, roles, heads

    def _session_token(self) -> str | None:
        cookie = self.client.get_cookie(self.app.config["SESSION_COOKIE_NAME"])
        if cookie is None:
            return None
        serializer = self.app.session_interface.get_signing_serializer(self.app)
        try:
            return serializer.loads(cookie.value).get("_user_id")
        except Exception:  # noqa: BLE001  (an unreadable cookie is no session)
            return None

    def restore(self) -> None:
        """Put the actor's account and session back as they were before the POST."""
        token = self._session_token()
        if self.actor.anonymous:
            if token:
                self.fail("POST", "(the POST before)", "", "-", "the anonymous walk became signed in")
                self.client.delete_cookie(self.app.config["SESSION_COOKIE_NAME"])
            return
        if self._account_state() != self.snapshot:
            self._put_account_back()
        lookup = auth_services.load_session(token) if token else None
        db.session.commit()
        if lookup is None or lookup.user is None:
            self.app.config["WTF_CSRF_ENABLED"] = True
            try:
                if self.sign_in(self.world.actor.email).status_code != 302:
                    self.fail("POST", "(the POST before)", "", "-", "the actor could not sign in again")
            finally:
                self.app.config["WTF_CSRF_ENABLED"] = False

    def _put_account_back(self) -> None:
        row, roles, heads = self.snapshot
        user_id = self.world.actor.id
        db.session.execute(
            sa.update(User).where(User.id == user_id).values(dict(zip(self.ACCOUNT_COLUMNS, row, strict=True)))
        )
        db.session.execute(sa.delete(UserRole).where(UserRole.user_id == user_id))
        db.session.execute(sa.insert(UserRole), [{"user_id": user_id, "role": role} for role in sorted(roles)])
        db.session.execute(sa.delete(department_heads).where(department_heads.c.user_id == user_id))
        if heads:
            db.session.execute(
                sa.insert(department_heads), [{"user_id": user_id, "department_id": d} for d in sorted(heads)]
            )
        db.session.commit()
        db.session.expire_all()

    # --- building addresses ------------------------------------------------------------------

    def argument_values(self, converter: str | None, name: str, few: bool) -> tuple[list[str], list[str]]:
        real = [quote(v, safe="/" if converter == "path" else "") for v in self.world.values.get(name, [])]
        if not self.everything:
            return real or (["1"] if converter in {"int", "float"} else ["a"]), (
                DATABASE_INTS if converter in {"int", "float"} else DATABASE_SEGMENTS
            )
        if converter in {"int", "float"}:
            return real or ["1"], HOSTILE_INTS[:3] if few else HOSTILE_INTS
        if converter == "path":
            return real or ["a"], HOSTILE_PATHS[:3] if few else HOSTILE_PATHS
        return real or ["a"], HOSTILE_SEGMENTS[:3] if few else HOSTILE_SEGMENTS

    def addresses(self, rule, few: bool = False) -> list[tuple[str, bool]]:
        """(path, all values real) for the rule: every mix of real values, then one hostile value
        at a time among the first real ones. The first is the most telling real address.

        `few`: only the first hostile values, for a page the role check refuses before the view
        looks at them (other values fail in routing alike for every actor)."""
        arguments = [(m.group(2), m.group(1)) for m in _ARGUMENT.finditer(rule.rule)]
        if not arguments:
            return [(rule.rule, True)]
        options = {name: self.argument_values(converter, name, few) for name, converter in arguments}
        names = [name for name, _ in arguments]

        def build(chosen: dict[str, str]) -> str:
            return _ARGUMENT.sub(lambda m: chosen[m.group(2)], rule.rule)

        result = [
            (build(dict(zip(names, combo, strict=True))), True)
            for combo in itertools.product(*(options[n][0] for n in names))
        ]
        first = {name: options[name][0][0] for name in names}
        for name in names:
            result += [(build({**first, name: value}), False) for value in options[name][1]]
        return list(dict.fromkeys(result))

    # --- GET -----------------------------------------------------------------------------------

    def discover(self, method: str, path: str, **kwargs) -> tuple[set[str], set[str]]:
        """Request, and answer which query parameters and form fields the view read."""
        READS["args"].clear()
        READS["form"].clear()
        self.last_reads = {"args": set(), "form": set()}
        if method == "POST":
            self.post(path, **kwargs)
        else:
            self.call(method, path, **kwargs)
        return self.last_reads["args"], self.last_reads["form"]

    def may_use(self, rule, actor: Actor | None = None) -> bool:
        """Does the view's role check let this actor in? (Hostile input matters most behind it.)"""
        actor = actor or self.actor
        view = self.app.view_functions[rule.endpoint]
        if getattr(view, "is_public", False):
            return True
        required = set(getattr(view, "required_roles", ()) or ())
        return not actor.anonymous and ("__any__" in required or bool(required & actor.all_roles))

    def walks_fully(self, rule) -> bool:
        """Is this actor the first (in ACTORS) the view lets in? That one gets every hostile value;
        the others get the sharpest few, and the ids outside their reach, which differ per actor."""
        return next(actor for actor in ACTORS if self.may_use(rule, actor)).name == self.actor.name

    def extra_values(self, name: str) -> list[str]:
        """Ids of things outside the actor's part of the town, for names that look like they take
        one; other sites, for names that look like a place to go."""
        if not self.everything:
            return []
        return (self.world.foreign_ids if ID_LIKE.search(name) else []) + (
            REDIRECT_TEXT if REDIRECT_LIKE.search(name) else []
        )

    def query_values_for(self, rule) -> list[str]:
        """`values_for`, for query parameters."""
        values = self.values_for(rule)
        return values if self.everything else [v for v in values if v in DATABASE_QUERY_TEXT]

    def values_for(self, rule) -> list[str]:
        """All hostile values for the pages this actor walks fully (`walks_fully`: public pages
        by the anonymous visitor, everyone's by the employee, a manager's by the first manager,
        ...); for the others the one value that reaches the most code (beyond every integer):
        what they add is their own reach, varied by the ids outside it (`extra_values`)."""
        return self.hostile_text if self.walks_fully(rule) else self.light_text[1:2]

    def walk_get(self, rule) -> None:
        addresses = self.addresses(rule, few=not self.actor.anonymous and not self.walks_fully(rule))
        path = addresses[0][0]
        if not self.may_use(rule):
            if not self.everything:  # refused before the view reads anything
                self.call("GET", path)
                return
            # Refused before the view runs: every address, and hostile queries only to see the refusal.
            for address, _real in addresses:
                self.call("GET", address)
            self.call(
                "GET", path, query=dict.fromkeys(self.query_parameters, SCRIPT), what=f"every parameter={SCRIPT!r}"
            )
            self.call("GET", path, query={"page": "9" * 40, "next": "//evil.example"}, what="page=9*40&next=//evil")
            return
        values = self.query_values_for(rule)
        # How parameters are parsed does not depend on who asks: varied by one actor per page.
        parsing = self.everything and self.walks_fully(rule)
        read, _ = self.discover("GET", path)
        read |= self.discover("GET", path, query=dict.fromkeys(self.query_parameters, "1"))[0]
        read -= {ITERATED, "csrf_token"}
        plain = [p for p in self.query_parameters if p not in PAGE_ARGUMENTS]
        every = self.light_text if self.everything and self.walks_fully(rule) else self.light_text[1:2]
        for value in every:  # each parameter the view reads is varied on its own below
            self.call("GET", path, query=dict.fromkeys(plain, value), what=f"every parameter={_short(value)}")
        if parsing:
            self.call("GET", path, query={p: REPEATED for p in self.query_parameters}, what="every parameter repeated")
            self.call("GET", path, raw_query=RAW_QUERY)
        for name in sorted(read - set(PAGE_ARGUMENTS)):
            for value in [*values, *self.extra_values(name)]:
                self.call("GET", path, query={name: value})
            if parsing:
                self.call("GET", path, raw_query=f"{quote(name)}={RAW_QUERY_VALUE}")
        page_values = PAGE_VALUES if parsing else PAGE_VALUES[:3]
        for name in PAGE_ARGUMENTS:
            for value in page_values if name in read else page_values[:2]:
                self.call("GET", path, query={name: value})
        for other, _real in addresses[1:]:
            self.call("GET", other)

    # --- POST ----------------------------------------------------------------------------------

    def post(self, path: str, data=None, csrf: bool = False, what: str = ""):
        response = self.call("POST", path, data=data, csrf=csrf, what=what)
        if response is None or response.status_code < 400:  # a refused request changed nothing
            self.restore()
        return response

    def walk_post(self, rule) -> None:
        addresses = self.addresses(rule, few=not self.actor.anonymous and not self.walks_fully(rule))
        path = addresses[0][0]
        base = dict(self.world.base_form)
        if not self.everything:
            self._walk_post_database_values(rule, path, base)
            return
        self.post(path, data=base, csrf=True, what="valid form, CSRF on, no token")  # 400, whoever asks
        if not self.may_use(rule):
            for address, _real in addresses:
                self.post(address, data=base, what="valid form")
            self.post(path, data={}, what="empty form")
            self.post(path, data=dict.fromkeys(self.form_fields, SCRIPT), what=f"every field={SCRIPT!r}")
            return
        read = self.discover("POST", path, data=base, what="valid form")[1] - {"csrf_token"}
        iterated = ITERATED in read
        read.discard(ITERATED)
        self.post(path, data={}, what="empty form")
        values = self.values_for(rule)
        full = self.walks_fully(rule)  # how fields are parsed does not depend on who asks
        for value in ALL_AT_ONCE if full else ALL_AT_ONCE[:1]:  # each read field is varied below
            self.post(path, data=dict.fromkeys(self.form_fields, value), what=f"every field={_short(value)}")
        if full:
            self.post(path, data={name: REPEATED for name in self.form_fields}, what="every field repeated")
        for name in self._one_per_pattern(read):
            for value in [*values, *([REPEATED] if full else []), *self.extra_values(name)]:
                self.post(path, data={**base, name: value}, what=f"valid form but {name}={_short(value)}")
        if full:
            self.post(
                path, data={**base, **dict.fromkeys(HOSTILE_FIELD_NAMES, "1")}, what="valid form + odd field names"
            )
        if iterated and full:
            for name in HOSTILE_FIELD_NAMES:
                self.post(path, data={**base, name: "0"}, what=f"valid form + field {name!r}")
        for other, _real in addresses[1:]:
            self.post(other, data=base, what="valid form")

    def _walk_post_database_values(self, rule, path: str, base: dict) -> None:
        """On PostgreSQL: what the view hands to the database, hostile (see `everything`)."""
        if not self.may_use(rule):
            self.post(path, data=base, what="valid form")
            return
        read = self.discover("POST", path, data=base, what="valid form")[1] - {"csrf_token"}
        iterated = ITERATED in read
        read.discard(ITERATED)
        for value in DATABASE_ALL_AT_ONCE:
            self.post(path, data=dict.fromkeys(self.form_fields, value), what=f"every field={_short(value)}")
        values = self.values_for(rule)
        for name in self._one_per_pattern(read):
            for value in values:
                self.post(path, data={**base, name: value}, what=f"valid form but {name}={_short(value)}")
        if iterated:
            for name in HOSTILE_FIELD_NAMES:
                self.post(path, data={**base, name: "0"}, what=f"valid form + field {name!r}")
        for other, _real in self.addresses(rule)[1:]:
            self.post(other, data=base, what="valid form")

    @staticmethod
    def _one_per_pattern(names: set[str]) -> list[str]:
        """level_12, level_13, ... are one kind of field: each kind is varied once."""
        chosen: dict[str, str] = {}
        for name in sorted(names):
            chosen.setdefault(re.sub(r"\d+", "#", name), name)
        return sorted(chosen.values())

    # --- all of it -------------------------------------------------------------------------------

    def run(self) -> None:
        for rule in self.rules:
            if "GET" in rule.methods:
                self.walk_get(rule)
        # POSTs change things: after every GET, so the pages were seen in the town as built.
        for rule in self.rules:
            if "POST" in rule.methods:
                self.walk_post(rule)

    def report(self) -> str:
        groups: dict[tuple, list[Finding]] = defaultdict(list)
        for finding in self.findings:
            groups[(finding.method, finding.endpoint, finding.status, finding.problem)].append(finding)
        lines = [
            f"{self.actor.name}: {len(self.findings)} finding(s) in {self.requests} requests, "
            f"{len(groups)} distinct (method, endpoint, status, problem):"
        ]
        for (method, endpoint, status, problem), items in sorted(groups.items(), key=lambda kv: str(kv[0])):
            lines.append(f"- {method} {endpoint} -> {status}: {problem} ({len(items)}x), e.g.")
            lines += [f"    {item.url} {item.params}" for item in items[:6]]
        return "\n".join(lines)


@pytest.fixture
def quiet_request_log(monkeypatch):
    """Thousands of request lines are no help in a failure report."""
    monkeypatch.setattr(logging.getLogger("lms.request"), "disabled", True)


# On PostgreSQL, the actors whose pages differ walk; a manager under `compliance-only` reaches a
# subset of the `levels` manager's pages, and the trainer's one page of its own reads no parameter.
POSTGRESQL_ACTORS = {"anonymous", "employee", "manager-levels", "hr", "admin", "dpo", "staff_council"}


@pytest.mark.parametrize("actor", ACTORS, ids=[a.name for a in ACTORS])
def test_attacker_walk(
    app, client, make_department, make_job_role, make_user, sign_in, digcomp, quiet_request_log, monkeypatch, actor
):
    if db.engine.dialect.name == "postgresql" and actor.name not in POSTGRESQL_ACTORS:
        pytest.skip("walked on SQLite: on PostgreSQL its pages are walked by another actor")
    world = build_world(actor, make_department, make_job_role, make_user)
    monkeypatch.setitem(app.config, "MANAGER_VISIBILITY", actor.visibility)
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", app.config.get("WTF_CSRF_ENABLED", True))
    monkeypatch.setattr(app, "request_class", recording_request_class(app.request_class))
    if world.actor is not None:
        assert sign_in(world.actor.email).status_code == 302
    request_started.connect(_note_endpoint, app)
    walk = Walk(app, client, actor, world, sign_in)
    try:
        walk.run()
    finally:
        request_started.disconnect(_note_endpoint, app)
    print(f"\n{actor.name}: {walk.requests} requests over {len(walk.rules)} rules; statuses {dict(walk.statuses)}")
    for note in dict.fromkeys(walk.notes):
        print("note:", note)
    assert not walk.findings, walk.report()
