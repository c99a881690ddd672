"""Importing targets from CSV (`flask skills targets import`): `parse_targets_csv` reads and checks
a file, reporting every problem as `path:line: message`; `plan_targets` says what would change;
`apply_targets` writes it. See docs/competences.md, "Importing targets"."""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from lms.common.dates import utcnow
from lms.common.sourcefile import Problems
from lms.extensions import db
from lms.frameworks.models import Competence
from lms.frameworks.services import default_framework, max_level
from lms.people.models import JobRole, User
from lms.targets.models import JobRoleTarget, PersonalTarget
from lms.targets.services import MAX_NOTE_LENGTH, MAX_RECERT_MONTHS, BadValue, parse_level, parse_months

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
    before: tuple | None = None  # (level, recert_months, note) of the existing target
    existing: object = field(default=None, compare=False, repr=False)

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


def _read_records(path: Path, text: str, problems: Problems) -> list[_Raw] | None:
    first_line = text.splitlines()[0] if text.strip() else ""
    if not first_line.strip():
        problems.error(path, 1, f"the first line must be the header: {','.join(CSV_COLUMNS)}")
        return None
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_separator(first_line), strict=True)
    records: list[_Raw] = []
    header: list[str] | None = None
    previous_end = 0
    try:
        for fields in reader:
            start, previous_end = previous_end + 1, reader.line_num
            if header is None:
                header = [name.strip().lower() for name in fields]
                while header and not header[-1]:
                    header.pop()  # Excel adds separators for empty columns
                if sorted(header) != sorted(CSV_COLUMNS):
                    problems.error(
                        path,
                        start,
                        f"wrong header: expected {','.join(CSV_COLUMNS)} (in any order), found {','.join(fields)}",
                    )
                    return None
                continue
            if not any(value.strip() for value in fields):
                continue  # blank line
            if len(fields) > len(header) and not any(value.strip() for value in fields[len(header) :]):
                fields = fields[: len(header)]
            if len(fields) != len(header):
                problems.error(
                    path,
                    start,
                    f"expected {len(header)} fields, found {len(fields)} (the separator is "
                    f"'{reader.dialect.delimiter}', taken from the header)",
                )
                continue
            records.append(_Raw(start, {name: value.strip() for name, value in zip(header, fields, strict=True)}))
    except csv.Error as error:
        problems.error(path, reader.line_num or 1, f"cannot read this CSV line: {error}")
        return None
    return records


def _chunks(values: list, size: int = _QUERY_CHUNK):
    for start in range(0, len(values), size):
        yield values[start : start + size]


def parse_targets_csv(path) -> tuple[list[TargetRow], Problems]:
    """Read and check a targets file; the rows are only to be applied when `problems` has no errors.

    Looks everything up in a few statements whatever the file's length; writes nothing.
    """
    path = Path(path)
    problems = Problems()
    text = _read_text(path, problems)
    if text is None:
        return [], problems
    records = _read_records(path, text, problems)
    if records is None:
        return [], problems
    framework = default_framework()
    if framework is None:
        problems.error(path, 1, "no competency framework is loaded; run 'flask skills load-framework' first")
        return [], problems
    top = max_level(framework)

    job_roles = {role.code.lower(): role for role in db.session.execute(select(JobRole)).scalars()}
    numbers = sorted({r.values["code"] for r in records if r.values["type"].lower() == PERSON and r.values["code"]})
    people: dict[str, User] = {}
    for chunk in _chunks(numbers):
        people.update(
            {
                u.personnel_number: u
                for u in db.session.execute(select(User).where(User.personnel_number.in_(chunk))).scalars()
            }
        )
    competences = {
        c.code: c
        for c in db.session.execute(select(Competence).where(Competence.framework_id == framework.id)).scalars()
    }

    rows: list[TargetRow] = []
    seen: dict[tuple[str, int, int], int] = {}
    for record in records:
        values, line = record.values, record.line
        errors_before = len(problems.errors)
        kind = values["type"].lower()
        owner = None
        if kind not in (JOB_ROLE, PERSON):
            problems.error(path, line, f"type must be '{JOB_ROLE}' or '{PERSON}', not '{values['type']}'")
        elif not values["code"]:
            problems.error(path, line, "code is empty: give the job role code or the personnel number")
        elif kind == JOB_ROLE:
            owner = job_roles.get(values["code"].lower())
            if owner is None:
                problems.error(path, line, f"unknown job role code '{values['code']}'")
            elif not owner.active:
                problems.warn(path, line, f"job role '{owner.code}' is deactivated")
        else:
            owner = people.get(values["code"])
            if owner is None:
                problems.error(path, line, f"unknown personnel number '{values['code']}'")
            elif not owner.active:
                problems.warn(path, line, f"person with personnel number '{owner.personnel_number}' is deactivated")
        competence = competences.get(values["competence"])
        if competence is None:
            problems.error(path, line, f"unknown competence '{values['competence']}' (not in {framework.key})")
        level = None
        try:
            level = parse_level(values["level"], top) if values["level"] else None
        except BadValue:
            pass
        if level is None:
            problems.error(
                path,
                line,
                f"level must be a whole number from 0 to {top} (0 removes the target), "
                + (f"not '{values['level']}'" if values["level"] else "but it is empty"),
            )
        elif level and competence is not None and competence.retired:
            problems.error(
                path,
                line,
                f"competence {competence.code} is retired (no longer in the framework); it "
                f"cannot get a new target, only level 0 to remove one",
            )
        months = None
        try:
            months = parse_months(values["recert_months"])
        except BadValue:
            problems.error(
                path,
                line,
                f"recert_months must be empty or a whole number of months from 1 to "
                f"{MAX_RECERT_MONTHS}, not '{values['recert_months']}'",
            )
        note = values["note"]
        if len(note) > MAX_NOTE_LENGTH:
            problems.error(path, line, f"note is longer than {MAX_NOTE_LENGTH} characters")
        elif note and kind == JOB_ROLE:
            problems.warn(path, line, "a note is kept only for person rows; ignored")
            note = ""
        if owner is not None and competence is not None:
            key = (kind, owner.id, competence.id)
            if key in seen:
                problems.error(
                    path,
                    line,
                    f"duplicate row: line {seen[key]} already sets {kind} {values['code']} {competence.code}",
                )
            else:
                seen[key] = line
        if len(problems.errors) == errors_before:
            rows.append(
                TargetRow(
                    line=line,
                    kind=kind,
                    code=values["code"],
                    competence_code=competence.code,
                    owner_id=owner.id,
                    competence_id=competence.id,
                    level=level,
                    recert_months=months if level else None,
                    note=note if level else "",
                )
            )
    return rows, problems


def _existing_targets(rows: list[TargetRow]) -> dict[tuple[str, int, int], JobRoleTarget | PersonalTarget]:
    found: dict[tuple[str, int, int], JobRoleTarget | PersonalTarget] = {}
    role_ids = sorted({r.owner_id for r in rows if r.kind == JOB_ROLE})
    for chunk in _chunks(role_ids):
        for target in db.session.execute(select(JobRoleTarget).where(JobRoleTarget.job_role_id.in_(chunk))).scalars():
            found[(JOB_ROLE, target.job_role_id, target.competence_id)] = target
    user_ids = sorted({r.owner_id for r in rows if r.kind == PERSON})
    for chunk in _chunks(user_ids):
        for target in db.session.execute(select(PersonalTarget).where(PersonalTarget.user_id.in_(chunk))).scalars():
            found[(PERSON, target.user_id, target.competence_id)] = target
    return found


def plan_targets(rows: list[TargetRow]) -> list[Change]:
    """What applying `rows` would change, in file order. Writes nothing."""
    existing = _existing_targets(rows)
    changes = []
    for row in rows:
        target = existing.get(row.key)
        before = None if target is None else (target.level, target.recert_months, getattr(target, "note", "") or "")
        if row.level == 0:
            action = "unchanged" if target is None else "remove"
        elif target is None:
            action = "add"
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
        if change.action == "remove":
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
        elif change.action == "change":
            target.level, target.recert_months = row.level, row.recert_months
            if row.kind == PERSON:
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
