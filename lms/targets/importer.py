"""Importing targets from CSV (`flask skills targets import`): `parse_targets_csv` reads and checks
a file, reporting every problem as `path:line: message`; `plan_targets` says what would change;
`apply_targets` writes it. See docs/competences.md, "Importing targets"."""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select

from lms.common.dates import utcnow
from lms.common.sourcefile import Problems
from lms.common.text import has_control_characters
from lms.extensions import db
from lms.frameworks.models import Competence, Framework
from lms.frameworks.services import default_framework, max_level
from lms.people.models import JobRole, User
from lms.targets.models import JobRoleTarget, PersonalTarget
from lms.targets.services import MAX_NOTE_LENGTH, MAX_RECERT_MONTHS, BadValue, parse_level, parse_months

if TYPE_CHECKING:
    from _csv import Reader

CSV_COLUMNS = ("type", "code", "competence", "level", "recert_months", "note")
JOB_ROLE, PERSON = "job_role", "person"
_QUERY_CHUNK = 500


@dataclass(frozen=True)
class TargetRow:
    """One checked line of a targets file. `level` 0 removes the target."""

    line: int
    kind: str  # job_role or person
    code: str  # job role code or personnel number, as in the file
    competence_code: str
    owner_id: int  # job role id or user id
    competence_id: int
    level: int
    recert_months: int | None = None
    note: str = ""

    @property
    def key(self) -> tuple[str, int, int]:
        return self.kind, self.owner_id, self.competence_id


@dataclass(frozen=True)
class Change:
    """What importing one row does: add, change, remove or nothing."""

    action: str  # add, change, remove, unchanged
    row: TargetRow
    before: tuple[int, int | None, str] = (0, None, "")  # (level, recert_months, note) of the existing target
    existing: JobRoleTarget | PersonalTarget | None = field(default=None, compare=False, repr=False)

    SYMBOLS = {"add": "+", "change": "~", "remove": "-", "unchanged": "="}

    def __str__(self) -> str:
        row = self.row
        head = f"{self.SYMBOLS[self.action]} {row.kind} {row.code} {row.competence_code}"
        if self.action == "remove":
            return f"{head}: was {_describe(self.before[0], self.before[1])}"
        now = _describe(row.level, row.recert_months)
        if self.action == "change":
            was = _describe(self.before[0], self.before[1])
            parts = [f"{was} -> {now}"] if was != now else []
            if row.kind == PERSON and (self.before[2] or "") != row.note:
                parts.append("note changed")
            return f"{head}: {', '.join(parts)}"
        return f"{head}: {now}"


def _describe(level: int, months: int | None) -> str:
    return f"level {level}" + (f", every {months} months" if months else "")


def _read_text(path: Path, problems: Problems) -> str | None:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        problems.error(path, 1, "file not found")
        return None
    except OSError as error:
        problems.error(path, 1, f"cannot read the file: {error.strerror or error}")
        return None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        problems.error(path, line, 'not UTF-8 text; save the file as "CSV UTF-8"')
        return None


def _separator(header_line: str) -> str:
    """Comma or semicolon, whichever the header line uses (German Excel writes semicolons)."""
    return ";" if header_line.count(";") > header_line.count(",") else ","


@dataclass
class _Raw:
    line: int
    values: dict[str, str]


def _header_names(fields: list[str]) -> list[str]:
    """The column names of the header line, trimmed and lowercased, without Excel's empty trailing columns."""
    header = [name.strip().lower() for name in fields]
    while header and not header[-1]:
        header.pop()
    return header


def _without_empty_extras(fields: list[str], width: int) -> list[str]:
    """A line cut to the header's width when all it has beyond it is empty (Excel adds separators)."""
    if len(fields) > width and not any(value.strip() for value in fields[width:]):
        return fields[:width]
    return fields


def _is_blank(fields: list[str]) -> bool:
    return not any(value.strip() for value in fields)


def _read_records(path: Path, text: str, problems: Problems) -> list[_Raw] | None:
    first_line = text.splitlines()[0] if text.strip() else ""
    if not first_line.strip():
        problems.error(path, 1, f"the first line must be the header: {','.join(CSV_COLUMNS)}")
        return None
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_separator(first_line), strict=True)
    try:
        return _records_after_header(path, reader, problems)
    except csv.Error as error:
        problems.error(path, reader.line_num or 1, f"cannot read this CSV line: {error}")
        return None


def _records_after_header(path: Path, reader: Reader, problems: Problems) -> list[_Raw] | None:
    """The checked header, then every non-blank line of the right width as a record (by column name)."""
    header_fields = next(reader, None)
    if header_fields is None:
        return []
    header = _header_names(header_fields)
    if sorted(header) != sorted(CSV_COLUMNS):
        found = ",".join(header_fields)
        problems.error(path, 1, f"wrong header: expected {','.join(CSV_COLUMNS)} (in any order), found {found}")
        return None
    records: list[_Raw] = []
    previous_end = reader.line_num
    for fields in reader:
        start, previous_end = previous_end + 1, reader.line_num
        if _is_blank(fields):
            continue
        fields = _without_empty_extras(fields, len(header))
        if len(fields) != len(header):
            problems.error(
                path,
                start,
                f"expected {len(header)} fields, found {len(fields)} (the separator is "
                f"'{reader.dialect.delimiter}', taken from the header)",
            )
            continue
        records.append(_Raw(start, {name: value.strip() for name, value in zip(header, fields, strict=True)}))
    return records


def _chunks(values: list, size: int = _QUERY_CHUNK) -> Iterator[list]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


# --- checking the rows ------------------------------------------------------------------------


@dataclass
class _Lookups:
    """What the rows are checked against; read in a few statements whatever the file's length."""

    framework: Framework
    top: int  # the highest level
    job_roles: dict[str, JobRole]  # by lowercased code
    people: dict[str, User]  # by personnel number
    competences: dict[str, Competence]  # by code, of the default framework


def _people_by_number(records: list[_Raw]) -> dict[str, User]:
    """The people the person rows name, looked up in chunks."""
    numbers = sorted({r.values["code"] for r in records if r.values["type"].lower() == PERSON and r.values["code"]})
    people: dict[str, User] = {}
    for chunk in _chunks(numbers):
        query = select(User).where(User.personnel_number.in_(chunk))
        people.update({str(user.personnel_number): user for user in db.session.execute(query).scalars()})
    return people


def _load_lookups(records: list[_Raw]) -> _Lookups | None:
    """None when no framework is loaded."""
    framework = default_framework()
    if framework is None:
        return None
    query = select(Competence).where(Competence.framework_id == framework.id)
    return _Lookups(
        framework=framework,
        top=max_level(framework),
        job_roles={role.code.lower(): role for role in db.session.execute(select(JobRole)).scalars()},
        people=_people_by_number(records),
        competences={c.code: c for c in db.session.execute(query).scalars()},
    )


@dataclass
class _LineProblems:
    """Reports problems of one line of the file and counts its errors."""

    path: Path
    line: int
    problems: Problems
    errors: int = 0

    def error(self, message: str) -> None:
        self.errors += 1
        self.problems.error(self.path, self.line, message)

    def warn(self, message: str) -> None:
        self.problems.warn(self.path, self.line, message)


def _check_job_role(code: str, lookups: _Lookups, report: _LineProblems) -> JobRole | None:
    role = lookups.job_roles.get(code.lower())
    if role is None:
        report.error(f"unknown job role code '{code}'")
    elif not role.active:
        report.warn(f"job role '{role.code}' is deactivated")
    return role


def _check_person(number: str, lookups: _Lookups, report: _LineProblems) -> User | None:
    person = lookups.people.get(number)
    if person is None:
        report.error(f"unknown personnel number '{number}'")
    elif not person.active:
        report.warn(f"person with personnel number '{person.personnel_number}' is deactivated")
    return person


def _check_owner(values: dict[str, str], lookups: _Lookups, report: _LineProblems) -> JobRole | User | None:
    """The job role or person the row is for: type, then code."""
    kind = values["type"].lower()
    if kind not in (JOB_ROLE, PERSON):
        report.error(f"type must be '{JOB_ROLE}' or '{PERSON}', not '{values['type']}'")
        return None
    if not values["code"]:
        report.error("code is empty: give the job role code or the personnel number")
        return None
    if kind == JOB_ROLE:
        return _check_job_role(values["code"], lookups, report)
    return _check_person(values["code"], lookups, report)


def _check_competence(code: str, lookups: _Lookups, report: _LineProblems) -> Competence | None:
    competence = lookups.competences.get(code)
    if competence is None:
        report.error(f"unknown competence '{code}' (not in {lookups.framework.key})")
    return competence


def _valid_level(text: str, top: int) -> int | None:
    """The level 0..top, or None when it is empty or not one."""
    if not text:
        return None
    try:
        return parse_level(text, top)
    except BadValue:
        return None


def _check_level(text: str, competence: Competence | None, top: int, report: _LineProblems) -> int | None:
    """A level from 0 to `top`; above 0 only for a competence that is not retired."""
    level = _valid_level(text, top)
    if level is None:
        report.error(
            f"level must be a whole number from 0 to {top} (0 removes the target), "
            + (f"not '{text}'" if text else "but it is empty")
        )
    elif level and competence is not None and competence.retired:
        report.error(
            f"competence {competence.code} is retired (no longer in the framework); it "
            f"cannot get a new target, only level 0 to remove one"
        )
    return level


def _check_months(text: str, report: _LineProblems) -> int | None:
    try:
        return parse_months(text)
    except BadValue:
        report.error(
            f"recert_months must be empty or a whole number of months from 1 to {MAX_RECERT_MONTHS}, not '{text}'"
        )
        return None


def _check_note(note: str, kind: str, report: _LineProblems) -> str:
    """The note to keep: at most MAX_NOTE_LENGTH characters, and only on person rows."""
    if len(note) > MAX_NOTE_LENGTH:
        report.error(f"note is longer than {MAX_NOTE_LENGTH} characters")
    elif has_control_characters(note, multiline=True):
        report.error("note contains control characters (such as tabs or text-direction overrides)")
    elif note and kind == JOB_ROLE:
        report.warn("a note is kept only for person rows; ignored")
        return ""
    return note


def _check_not_duplicate(
    key: tuple[str, int, int], shown: str, seen: dict[tuple[str, int, int], int], report: _LineProblems
) -> None:
    """Each (owner, competence) once per file; `seen` remembers the first line of each."""
    if key in seen:
        report.error(f"duplicate row: line {seen[key]} already sets {shown}")
    else:
        seen[key] = report.line


def _check_row(
    record: _Raw, lookups: _Lookups, seen: dict[tuple[str, int, int], int], path: Path, problems: Problems
) -> TargetRow | None:
    """Every check of one line, in the order its problems are reported; the row when it has no error."""
    values, report = record.values, _LineProblems(path, record.line, problems)
    kind = values["type"].lower()
    owner = _check_owner(values, lookups, report)
    competence = _check_competence(values["competence"], lookups, report)
    level = _check_level(values["level"], competence, lookups.top, report)
    months = _check_months(values["recert_months"], report)
    note = _check_note(values["note"], kind, report)
    if owner is None or competence is None:
        return None
    shown = f"{kind} {values['code']} {competence.code}"
    _check_not_duplicate((kind, owner.id, competence.id), shown, seen, report)
    if report.errors or level is None:
        return None
    return TargetRow(
        line=record.line,
        kind=kind,
        code=values["code"],
        competence_code=competence.code,
        owner_id=owner.id,
        competence_id=competence.id,
        level=level,
        recert_months=months if level else None,
        note=note if level else "",
    )


def parse_targets_csv(path: str | Path) -> tuple[list[TargetRow], Problems]:
    """Read and check a targets file; the rows are only to be applied when `problems` has no errors.

    Looks everything up in a few statements whatever the file's length; writes nothing.
    """
    path = Path(path)
    problems = Problems()
    text = _read_text(path, problems)
    records = _read_records(path, text, problems) if text is not None else None
    if records is None:
        return [], problems
    lookups = _load_lookups(records)
    if lookups is None:
        problems.error(path, 1, "no competency framework is loaded; run 'flask skills load-framework' first")
        return [], problems
    seen: dict[tuple[str, int, int], int] = {}
    rows = [_check_row(record, lookups, seen, path, problems) for record in records]
    return [row for row in rows if row is not None], problems


def _existing_targets(rows: list[TargetRow]) -> dict[tuple[str, int, int], JobRoleTarget | PersonalTarget]:
    found: dict[tuple[str, int, int], JobRoleTarget | PersonalTarget] = {}
    role_ids = sorted({r.owner_id for r in rows if r.kind == JOB_ROLE})
    for chunk in _chunks(role_ids):
        for role_target in db.session.execute(
            select(JobRoleTarget).where(JobRoleTarget.job_role_id.in_(chunk))
        ).scalars():
            found[(JOB_ROLE, role_target.job_role_id, role_target.competence_id)] = role_target
    user_ids = sorted({r.owner_id for r in rows if r.kind == PERSON})
    for chunk in _chunks(user_ids):
        for own in db.session.execute(select(PersonalTarget).where(PersonalTarget.user_id.in_(chunk))).scalars():
            found[(PERSON, own.user_id, own.competence_id)] = own
    return found


def plan_targets(rows: list[TargetRow]) -> list[Change]:
    """What applying `rows` would change, in file order. Writes nothing."""
    existing = _existing_targets(rows)
    changes = []
    for row in rows:
        target = existing.get(row.key)
        if target is None:
            changes.append(Change("unchanged" if row.level == 0 else "add", row))
            continue
        before = (target.level, target.recert_months, getattr(target, "note", "") or "")
        if row.level == 0:
            action = "remove"
        elif before[:2] != (row.level, row.recert_months) or (row.kind == PERSON and before[2] != row.note):
            action = "change"
        else:
            action = "unchanged"
        changes.append(Change(action, row, before, target))
    return changes


def apply_targets(rows: list[TargetRow]) -> list[Change]:
    """Write checked rows (from `parse_targets_csv` without errors); flushes, the caller commits."""
    changes = plan_targets(rows)
    now = utcnow()
    for change in changes:
        row, target = change.row, change.existing
        if change.action == "remove" and target is not None:
            db.session.delete(target)
        elif change.action == "add" and row.kind == JOB_ROLE:
            db.session.add(
                JobRoleTarget(
                    job_role_id=row.owner_id,
                    competence_id=row.competence_id,
                    level=row.level,
                    recert_months=row.recert_months,
                )
            )
        elif change.action == "add":
            db.session.add(
                PersonalTarget(
                    user_id=row.owner_id,
                    competence_id=row.competence_id,
                    level=row.level,
                    recert_months=row.recert_months,
                    note=row.note,
                    set_by_id=None,
                    set_at=now,
                )
            )
        elif change.action == "change" and target is not None:
            target.level, target.recert_months = row.level, row.recert_months
            if isinstance(target, PersonalTarget):
                target.note, target.set_by_id, target.set_at = row.note, None, now
    db.session.flush()
    return changes


def summary(changes: Iterable[Change], applied: bool) -> str:
    """`N to add, M to change, K to remove, U unchanged` (or added/changed/removed once applied)."""
    counts = Counter(change.action for change in changes)
    verbs = ("added", "changed", "removed") if applied else ("to add", "to change", "to remove")
    return (
        f"{counts['add']} {verbs[0]}, {counts['change']} {verbs[1]}, {counts['remove']} {verbs[2]}, "
        f"{counts['unchanged']} unchanged"
    )
