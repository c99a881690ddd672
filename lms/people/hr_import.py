"""People from the HR system: reading its export, checking it, what would change, and writing it.

`read(source, data)` decodes the file (UTF-8 with or without BOM, or Windows-1252), finds the
separator (`;` or `,`), checks the header against the allowlist of columns (`COLUMNS`: nothing else
is read, a file with any other column is refused whole) and every line, and compares the people with
the database: a `Plan` with every problem (`line`, message) and every change. `apply(plan)` writes
the changes and flushes; the caller (lms/admin/hr_import.py) ends sessions, audits and commits.

The rules (docs/hr-import.md): people are matched by personnel number; people with a personnel
number who are missing from the file are deactivated (the file is a full export); an exit date
today or earlier deactivates with it as `left_on`, a later one is stored (`leaves_on`) and the
daily job deactivates on that day; someone whose entry date lies ahead is created by the first
import from that day on; people without a personnel number (local admins) are never touched, and
neither are roles (a new person is an employee).

Reading and checking take a fixed number of queries whatever the file's length: departments, job
roles and people are loaded once; writing adds and updates in bulk.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from flask_babel import force_locale
from sqlalchemy import insert, select
from sqlalchemy.orm import lazyload

from lms.common.dates import utcnow
from lms.common.text import has_control_characters
from lms.common.vocabulary import Role
from lms.extensions import db
from lms.i18n import _l
from lms.people.models import Department, JobRole, User, UserRole
from lms.people.services import normalise_email, town_today

if TYPE_CHECKING:
    from _csv import Reader


# --- the columns: an allowlist agreed with the staff council ----------------------------------


@dataclass(frozen=True)
class Column:
    name: str  # as the documentation and the messages call it
    label: Any  # a lazy text, for the admin area
    aliases: tuple[str, ...]  # other header names (German exports), compared without case, spaces, - _ .
    required: bool = False


COLUMNS = (
    Column("personnel_number", _l("Personnel number"), ("Personalnummer", "Personalnr", "PersNr"), True),
    Column("given_name", _l("Given name"), ("Vorname", "first_name"), True),
    Column("family_name", _l("Family name"), ("Nachname", "Familienname", "last_name", "surname"), True),
    Column("email", _l("E-mail address"), ("E-Mail", "E-Mail-Adresse", "Mail"), True),
    Column("department", _l("Department"), ("department_code", "Organisationseinheit", "OE", "Abteilung")),
    Column("job_role", _l("Job role"), ("job_role_code", "Stelle", "Funktion")),
    Column("entry_date", _l("Entry date"), ("Eintritt", "Eintrittsdatum")),
    Column("exit_date", _l("Exit date"), ("Austritt", "Austrittsdatum")),
)
COLUMN_LABELS = {column.name: column.label for column in COLUMNS}


def _key(header: str) -> str:
    return re.sub(r"[\s_.\-]+", "", header).casefold()


_BY_HEADER = {_key(name): column.name for column in COLUMNS for name in (column.name, *column.aliases)}
_PERSONNEL_NUMBER = re.compile(r"[A-Za-z0-9./-]{1,20}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_GERMAN_DATE = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
MAX_NAME, MAX_EMAIL = 100, 254
_SHOWN_HEADER = 60  # a refused column's name is shown cut to this length


# --- problems ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """A problem of a line of the file. `message` is a lazy text: `str()` gives it in the reader's
    language (the admin area), `english()` as the command line prints it."""

    line: int
    message: Any

    def english(self) -> str:
        with force_locale("en"):  # the message ids are the English texts
            return str(self.message)


# --- what changes -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One checked line of the file. A value of a column the file does not have is None and
    leaves the person's field as it is (`Plan.columns` says which the file has)."""

    line: int
    personnel_number: str
    given_name: str
    family_name: str
    email: str
    department_id: int | None = None
    job_role_id: int | None = None
    entry_date: date | None = None
    exit_date: date | None = None


@dataclass
class Change:
    """What the import does to one person: created, fields changed, deactivated or reactivated."""

    personnel_number: str
    name: str
    line: int | None  # the person's line in the file; None when they are missing from it
    created: bool = False
    fields: tuple[str, ...] = ()  # the changed columns of a person already known
    deactivated: bool = False
    reactivated: bool = False
    left_on: date | None = None  # a deactivated person's last day: the exit date, or today
    row: Row | None = field(default=None, repr=False)
    user: User | None = field(default=None, repr=False, compare=False)

    @property
    def symbol(self) -> str:
        return "+" if self.created else "-" if self.deactivated else "^" if self.reactivated else "~"

    def __str__(self) -> str:
        """One line for the command line: `~ 100123 Erika Muster: email, department`."""
        parts = ["created"] if self.created else list(self.fields)
        if self.deactivated:
            reason = f"exit date {self.left_on.isoformat()}" if self.line is not None and self.left_on else None
            parts.append(f"deactivated ({reason or 'not in the file'})")
        if self.reactivated:
            parts.append("reactivated")
        return f"{self.symbol} {self.personnel_number} {self.name}: {', '.join(parts)}"


@dataclass
class Plan:
    """A file read and compared with the database. Apply it only when it has no problems."""

    source: str
    sha256: str
    today: date
    encoding: str = ""  # "UTF-8" or "Windows-1252"
    delimiter: str = ""
    columns: tuple[str, ...] = ()
    problems: list[Problem] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    people: int = 0  # people in the file
    waiting: int = 0  # entry date ahead: created by the first import from that day on
    left_already: int = 0  # exit date passed and not known here: not created
    active_before: int = 0  # active people with a personnel number before the import

    def error(self, line: int, message: Any) -> None:
        self.problems.append(Problem(max(line, 1), message))

    @property
    def counts(self) -> dict[str, int]:
        """Changes by kind (a person both changed and (de)activated counts in both)."""
        counted = Counter(
            kind
            for change in self.changes
            for kind, happens in (
                ("created", change.created),
                ("updated", bool(change.fields)),
                ("deactivated", change.deactivated),
                ("reactivated", change.reactivated),
            )
            if happens
        )
        return {kind: counted[kind] for kind in ("created", "updated", "deactivated", "reactivated")}

    @property
    def deactivations(self) -> int:
        return self.counts["deactivated"]

    def deactivation_percent(self) -> float:
        return 100 * self.deactivations / self.active_before if self.active_before else 0.0

    def exceeds(self, max_percent: int) -> bool:
        """Would it deactivate more than `max_percent` of the active people with a personnel number?"""
        return self.deactivations > 0 and self.deactivation_percent() > max_percent

    @property
    def digest(self) -> str:
        """A fingerprint of the changes: the admin area applies only what its preview showed."""
        text = "\n".join(str(change) for change in self.changes)
        return hashlib.sha256(f"{self.sha256}\n{text}".encode()).hexdigest()


# --- reading the file -------------------------------------------------------------------------


def _decode(raw: bytes, plan: Plan) -> str | None:
    """The file's text: UTF-8 (a BOM is dropped), else Windows-1252 if every line makes sense in it."""
    if not raw.strip():
        plan.error(1, _l("The file is empty."))
        return None
    if b"\x00" in raw:
        plan.error(
            raw[: raw.index(b"\x00")].count(b"\n") + 1,
            _l(
                "The file holds NUL bytes: it is no CSV text (an Excel workbook, or UTF-16?). "
                "Save it as CSV in UTF-8 or Windows-1252."
            ),
        )
        return None
    try:
        text = raw.decode("utf-8-sig")
        plan.encoding = "UTF-8"
        return text
    except UnicodeDecodeError:
        pass
    ok = True
    for number, line in enumerate(raw.split(b"\n"), start=1):
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            ok = False
            plan.error(
                number,
                _l("This line is UTF-8, other lines are not. Save the whole file in one encoding (UTF-8)."),
            )
            continue
        try:
            line.decode("cp1252")
        except UnicodeDecodeError as error:
            ok = False
            plan.error(
                number,
                _l(
                    "Byte %(byte)s is neither UTF-8 nor Windows-1252: the file's encoding is unknown. "
                    "Save it as CSV in UTF-8.",
                    byte=f"0x{line[error.start]:02X}",
                ),
            )
    if not ok:
        return None
    plan.encoding = "Windows-1252"
    return raw.decode("cp1252")


def _separator(header_line: str) -> str:
    """Semicolon or comma, whichever the header line uses more (German Excel writes semicolons)."""
    return ";" if header_line.count(";") > header_line.count(",") else ","


def _header(fields: list[str], plan: Plan) -> list[str] | None:
    """The columns by their names, or None when the header is refused (then no value is read)."""
    names = [name.strip() for name in fields]
    while names and not names[-1]:  # Excel's empty trailing columns
        names.pop()
    columns: list[str] = []
    for position, name in enumerate(names, start=1):
        column = _BY_HEADER.get(_key(name)) if name else None
        if not name:
            plan.error(1, _l("Column %(position)d has no name.", position=position))
        elif column is None:
            allowed = ", ".join(c.name for c in COLUMNS)
            plan.error(
                1,
                _l(
                    'Column "%(name)s" is not allowed: the import reads only %(allowed)s (agreed with the '
                    "staff council). Remove the column from the export; nothing was read.",
                    name=name[:_SHOWN_HEADER],
                    allowed=allowed,
                ),
            )
        elif column in columns:
            plan.error(1, _l('Column "%(name)s" appears twice in the header.', name=column))
        columns.append(column or "")
    for wanted in COLUMNS:
        if wanted.required and wanted.name not in columns:
            plan.error(
                1,
                _l(
                    'The column "%(name)s" is missing (also accepted: %(aliases)s).',
                    name=wanted.name,
                    aliases=", ".join(wanted.aliases),
                ),
            )
    return None if plan.problems else columns


@dataclass
class _Raw:
    line: int
    values: dict[str, str]


def _records(text: str, plan: Plan) -> list[_Raw] | None:
    first_line = text.splitlines()[0] if text.strip() else ""
    if not first_line.strip():
        plan.error(1, _l("The first line must be the header (the column names)."))
        return None
    plan.delimiter = _separator(first_line)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=plan.delimiter, strict=True)
    try:
        return _rows_after_header(reader, plan)
    except csv.Error as error:
        plan.error(reader.line_num or 1, _l("This line is no valid CSV: %(error)s", error=str(error)))
        return None


def _rows_after_header(reader: Reader, plan: Plan) -> list[_Raw] | None:
    columns = _header(next(reader, []), plan)
    if columns is None:
        return None
    plan.columns = tuple(columns)
    records: list[_Raw] = []
    previous_end = reader.line_num
    for fields in reader:
        start, previous_end = previous_end + 1, reader.line_num
        if not any(value.strip() for value in fields):
            continue
        if len(fields) > len(columns) and not any(value.strip() for value in fields[len(columns) :]):
            fields = fields[: len(columns)]
        if len(fields) != len(columns):
            plan.error(
                start,
                _l(
                    'Expected %(expected)d values, found %(found)d (the separator is "%(separator)s", '
                    "taken from the header).",
                    expected=len(columns),
                    found=len(fields),
                    separator=plan.delimiter,
                ),
            )
            continue
        records.append(_Raw(start, {name: value.strip() for name, value in zip(columns, fields, strict=True)}))
    if not records and not plan.problems:
        plan.error(2, _l("The file has a header but no people."))
    return records


# --- checking the lines -----------------------------------------------------------------------


@dataclass
class _Lookups:
    """What the lines are checked against, read in three queries."""

    departments: dict[str, Department]  # by lowercased code
    job_roles: dict[str, JobRole]
    users: list[User]
    by_number: dict[str, User] = field(default_factory=dict)
    by_email: dict[str, User] = field(default_factory=dict)

    @classmethod
    def load(cls) -> _Lookups:
        users = list(db.session.execute(select(User).options(lazyload(User.role_rows))).scalars())
        return cls(
            departments={d.code.lower(): d for d in db.session.execute(select(Department)).scalars()},
            job_roles={j.code.lower(): j for j in db.session.execute(select(JobRole)).scalars()},
            users=users,
            by_number={str(u.personnel_number): u for u in users if u.personnel_number},
            by_email={u.email: u for u in users},
        )


def parse_date(text: str) -> date | None:
    """`YYYY-MM-DD` or `DD.MM.YYYY`; None when it is neither or no real day. Empty: not given."""
    for pattern, order in ((_ISO_DATE, (0, 1, 2)), (_GERMAN_DATE, (2, 1, 0))):
        match = pattern.fullmatch(text)
        if match:
            year, month, day = (int(match.group(i + 1)) for i in order)
            try:
                return date(year, month, day)
            except ValueError:
                return None
    return None


class _Line:
    """The checks of one line; each problem is reported with the line's number."""

    def __init__(self, raw: _Raw, plan: Plan, lookups: _Lookups) -> None:
        self.raw, self.plan, self.lookups = raw, plan, lookups
        self.errors = 0

    def error(self, message: Any) -> None:
        self.errors += 1
        self.plan.error(self.raw.line, message)

    def value(self, column: str) -> str:
        return self.raw.values.get(column, "")

    def personnel_number(self) -> str:
        number = self.value("personnel_number")
        if not number:
            self.error(_l("The personnel number is empty."))
        elif not _PERSONNEL_NUMBER.fullmatch(number):
            self.error(
                _l(
                    'Personnel number "%(number)s": use at most 20 letters, digits, dots, slashes and hyphens.',
                    number=number[:40],
                )
            )
        return number

    def name(self, column: str) -> str:
        name = self.value(column)
        label = COLUMN_LABELS[column]
        if not name:
            self.error(_l("%(column)s is empty.", column=label))
        elif len(name) > MAX_NAME:
            self.error(_l("%(column)s is longer than %(max)d characters.", column=label, max=MAX_NAME))
        elif has_control_characters(name):
            self.error(_l("%(column)s contains tabs or other control characters.", column=label))
        return name

    def email(self) -> str:
        email = normalise_email(self.value("email"))
        if not email:
            self.error(_l("The e-mail address is empty."))
        elif len(email) > MAX_EMAIL or not _EMAIL.fullmatch(email) or not email[0].isalnum():
            self.error(_l('"%(email)s" is no valid e-mail address.', email=email[:80]))
        return email

    def code(self, column: str, known: dict[str, Any], in_service: bool) -> int | None:
        """The id of the department (or job role) with this code; a deactivated one only for people
        who have left (their old unit may be gone)."""
        code = self.value(column)
        if not code:
            return None
        found = known.get(code.lower())
        if found is None and column == "department":
            self.error(_l('Unknown department code "%(code)s".', code=code[:40]))
        elif found is None:
            self.error(_l('Unknown job role code "%(code)s".', code=code[:40]))
        elif found.active or not in_service:
            pass
        elif column == "department":
            self.error(_l("Department %(code)s is deactivated.", code=found.code))
        else:
            self.error(_l("Job role %(code)s is deactivated.", code=found.code))
        return found.id if found is not None else None

    def day(self, column: str) -> date | None:
        text = self.value(column)
        if not text:
            return None
        day = parse_date(text)
        if day is None:
            self.error(
                _l(
                    '%(column)s "%(value)s" is no date: write YYYY-MM-DD or DD.MM.YYYY.',
                    column=COLUMN_LABELS[column],
                    value=text[:40],
                )
            )
        return day


def _check(raw: _Raw, plan: Plan, lookups: _Lookups, seen: dict[str, dict[str, int]], numbers: set[str]) -> Row | None:
    line = _Line(raw, plan, lookups)
    number = line.personnel_number()
    given_name, family_name = line.name("given_name"), line.name("family_name")
    email = line.email()
    entry_date, exit_date = line.day("entry_date"), line.day("exit_date")
    in_service = exit_date is None or exit_date > plan.today
    department_id = line.code("department", lookups.departments, in_service)
    job_role_id = line.code("job_role", lookups.job_roles, in_service)
    if entry_date and exit_date and exit_date < entry_date:
        line.error(_l("The exit date lies before the entry date."))
    first = seen["number"].setdefault(number, raw.line) if number else raw.line
    if first != raw.line:
        line.error(
            _l('Personnel number "%(number)s" appears twice: first on line %(first)d.', number=number, first=first)
        )
    first = seen["email"].setdefault(email, raw.line) if email else raw.line
    if first != raw.line:
        line.error(_l('E-mail address "%(email)s" appears twice: first on line %(first)d.', email=email, first=first))
    owner = lookups.by_email.get(email)
    if owner is not None and owner.personnel_number != number and owner.personnel_number not in numbers:
        line.error(
            _l(
                'E-mail address "%(email)s" belongs to another person (personnel number %(number)s).',
                email=email,
                number=owner.personnel_number,
            )
            if owner.personnel_number
            else _l(
                'E-mail address "%(email)s" belongs to another person, who has no personnel number.',
                email=email,
            )
        )
    if line.errors:
        return None
    return Row(raw.line, number, given_name, family_name, email, department_id, job_role_id, entry_date, exit_date)


# --- the difference ---------------------------------------------------------------------------


def _changed_fields(user: User, row: Row, columns: tuple[str, ...]) -> tuple[str, ...]:
    compared = [
        ("given_name", user.given_name, row.given_name),
        ("family_name", user.family_name, row.family_name),
        ("email", user.email, row.email),
        ("department", user.department_id, row.department_id),
        ("job_role", user.job_role_id, row.job_role_id),
        ("exit_date", user.leaves_on, row.exit_date),
    ]
    return tuple(name for name, now, then in compared if name in columns and now != then)


def _change_for(row: Row, user: User | None, plan: Plan) -> Change | None:
    """What the row does; counts the people not created yet (or any more) on the plan."""
    in_service = row.exit_date is None or row.exit_date > plan.today
    started = row.entry_date is None or row.entry_date <= plan.today
    name = f"{row.given_name} {row.family_name}"
    if user is None:
        if not in_service:
            plan.left_already += 1
        elif not started:
            plan.waiting += 1
        else:
            return Change(row.personnel_number, name, row.line, created=True, row=row)
        return None
    change = Change(
        row.personnel_number,
        name,
        row.line,
        fields=_changed_fields(user, row, plan.columns),
        deactivated=user.active and not in_service,
        reactivated=not user.active and in_service and started,
        left_on=row.exit_date if user.active and not in_service else None,
        row=row,
        user=user,
    )
    return change if change.fields or change.deactivated or change.reactivated else None


def _plan_changes(rows: list[Row], lookups: _Lookups, plan: Plan) -> None:
    for row in rows:
        change = _change_for(row, lookups.by_number.get(row.personnel_number), plan)
        if change is not None:
            plan.changes.append(change)
    in_file = {row.personnel_number for row in rows}
    for number, user in sorted(lookups.by_number.items()):
        if user.active and number not in in_file:
            plan.changes.append(Change(number, user.name, None, deactivated=True, left_on=plan.today, user=user))


def read(source: str, data: bytes, today: date | None = None) -> Plan:
    """Read and check the export `data` (`source` names it in messages) and compare it with the
    database. Writes nothing; three queries whatever the file's length."""
    plan = Plan(source=source, sha256=hashlib.sha256(data).hexdigest(), today=today or town_today())
    text = _decode(data, plan)
    records = _records(text, plan) if text is not None else None
    if records is None:
        return plan
    lookups = _Lookups.load()
    plan.people = len(records)
    plan.active_before = sum(1 for user in lookups.by_number.values() if user.active)
    seen: dict[str, dict[str, int]] = {"number": {}, "email": {}}
    numbers = {record.values.get("personnel_number", "") for record in records}
    checked = [_check(record, plan, lookups, seen, numbers) for record in records]
    if not plan.problems:
        _plan_changes([row for row in checked if row is not None], lookups, plan)
    return plan


# --- writing it -------------------------------------------------------------------------------


def _free_emails_taken_in_turn(changes: list[Change]) -> None:
    """People who swap or pass on addresses: the unique index would refuse the first update, so
    those who move get a placeholder first (one more flush)."""
    moving = [c for c in changes if c.user is not None and "email" in c.fields]
    held = {c.user.email for c in moving if c.user is not None}
    wanted = {c.row.email for c in changes if c.row is not None and (c.created or "email" in c.fields)}
    if not held & wanted:
        return
    for change in moving:
        if change.user is not None:
            change.user.email = f"hr-import-{change.user.id}@moving.invalid"
    db.session.flush()


def _new_person(row: Row, now: datetime) -> dict[str, Any]:
    return {
        "personnel_number": row.personnel_number,
        "given_name": row.given_name,
        "family_name": row.family_name,
        "email": row.email,
        "department_id": row.department_id,
        "job_role_id": row.job_role_id,
        "leaves_on": row.exit_date,
        "active": True,
        "must_change_password": False,
        "created_at": now,
    }


_ATTRIBUTES = {"department": "department_id", "job_role": "job_role_id", "exit_date": "leaves_on"}


def _update(change: Change) -> None:
    """A known person's changed fields and status, on the loaded object (written by the flush)."""
    row, user = change.row, change.user
    if user is None:
        return
    if row is not None:
        values = {
            "given_name": row.given_name,
            "family_name": row.family_name,
            "email": row.email,
            "department": row.department_id,
            "job_role": row.job_role_id,
            "exit_date": row.exit_date,
        }
        for name in change.fields:
            setattr(user, _ATTRIBUTES.get(name, name), values[name])
    if change.deactivated:
        user.active, user.left_on = False, change.left_on
    elif change.reactivated:
        user.active, user.left_on = True, None


def _insert_people(rows: list[Row]) -> None:
    """New people in bulk (one INSERT per thousand, whatever the backend), then their employee role."""
    if not rows:
        return
    now = utcnow()
    # render_nulls: an empty department or exit date does not split the rows into several statements
    db.session.execute(insert(User).execution_options(render_nulls=True), [_new_person(row, now) for row in rows])
    wanted = {row.personnel_number for row in rows}
    ids = db.session.execute(select(User.id, User.personnel_number).where(User.personnel_number.is_not(None)))
    db.session.execute(
        insert(UserRole), [{"user_id": user_id, "role": Role.EMPLOYEE} for user_id, number in ids if number in wanted]
    )


def apply(plan: Plan, progress: Callable[[int], object] | None = None) -> list[User]:
    """Write a plan without problems; flushes, the caller commits. Answers the people deactivated
    (whose sessions the caller ends). `progress` is told of each person written.

    A fixed number of statements whatever the number of people: the changes of known people go
    out in the flush (an UPDATE per set of changed columns), new people in bulk after it (their
    addresses may be ones that known people gave up)."""
    if plan.problems:
        raise ValueError("a plan with problems is not applied")
    _free_emails_taken_in_turn(plan.changes)
    new: list[Row] = []
    for change in plan.changes:
        if change.created and change.row is not None:
            new.append(change.row)
        else:
            _update(change)
        if progress is not None:
            progress(1)
    db.session.flush()
    _insert_people(new)
    return [change.user for change in plan.changes if change.deactivated and change.user is not None]


# --- the daily job: exit dates that have come -------------------------------------------------


def deactivate_leavers(today: date | None = None) -> list[User]:
    """Deactivate the active people whose stored exit date is today or earlier (as the import
    would); flushes. Answers them (the caller ends their sessions)."""
    today = today or town_today()
    leavers = list(
        db.session.execute(
            select(User).options(lazyload(User.role_rows)).where(User.active.is_(True), User.leaves_on <= today)
        ).scalars()
    )
    for user in leavers:
        user.active, user.left_on = False, user.leaves_on
    db.session.flush()
    return leavers


def summary(plan: Plan, applied: bool) -> str:
    """`3 created, 2 updated, 1 deactivated, 0 reactivated; 494 unchanged` (command line)."""
    counts = plan.counts
    text = ", ".join(f"{counts[kind]} {kind}" for kind in counts)
    if not applied:
        text = text.replace(" created", " to create").replace(" updated", " to update")
        text = text.replace(" deactivated", " to deactivate").replace(" reactivated", " to reactivate")
    in_file_changed = sum(1 for change in plan.changes if change.line is not None)
    unchanged = plan.people - in_file_changed - plan.waiting - plan.left_already
    text += f"; {unchanged} unchanged"
    notes = list(_notes(plan))
    return text + (f" ({'; '.join(notes)})" if notes else "")


def _notes(plan: Plan) -> Iterable[str]:
    if plan.waiting:
        yield f"{plan.waiting} with an entry date ahead, created from that day on"
    if plan.left_already:
        yield f"{plan.left_already} who already left, not created"
