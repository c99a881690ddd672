"""Loading competency frameworks from YAML files (see docs/competences.md for the format).

Loading is idempotent (same file, same content hash: nothing changes) and versioned (the file's
`version`). A competence that the file no longer lists is retired (kept, hidden from new use);
if courses, targets or evidence still use it, the load is refused instead, so nothing disappears
silently.
"""

from __future__ import annotations

import copy
import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from lms.common.sourcefile import LineList, LineMap, Problem, Problems, load_yaml
from lms.common.sourcetext import control_character_message, key_path, refused_character, refused_lines
from lms.extensions import db
from lms.frameworks.models import Competence, CompetenceArea, Framework, ProficiencyLevel

DEFAULT_FRAMEWORK_FILE = Path(__file__).parent / "data" / "digcomp-2.2.yaml"
FILE_KEYS = {"framework", "levels", "areas"}
HEADER_KEYS = {"id", "version", "title", "publisher", "licence", "source", "attribution"}
AREA_KEYS = {"id", "title", "competences"}
COMPETENCE_KEYS = {"id", "title", "description"}


class FrameworkFileError(Exception):
    def __init__(self, problems: Problems):
        super().__init__("\n".join(str(p) for p in problems.errors))
        self.problems = problems


@dataclass
class LoadResult:
    framework: Framework
    status: str  # created, updated, unchanged
    retired: list[str]
    warnings: list[Problem] | None = None


def _texts(
    node: Any, key: str, path: Path, problems: Problems, required: bool = True, one_line: bool = True
) -> tuple[str, str] | None:
    """A {de: ..., en: ...} pair; a title or band is `one_line`, a description may have line breaks."""
    value = node.get(key) if isinstance(node, dict) else None
    if value is None:
        if required:
            problems.error(path, getattr(node, "line", 1), f"'{key}' is missing")
        return None
    if not isinstance(value, dict) or not all(
        isinstance(value.get(lang), str) and value[lang].strip() for lang in ("de", "en")
    ):
        problems.error(path, node.line_of(key), f"'{key}' needs a German and an English text: {{de: ..., en: ...}}")
        return None
    german, english = value["de"].strip(), value["en"].strip()
    line_of = value.line_of if isinstance(value, LineMap) else node.line_of
    clean = [
        _check_text(text, f"'{key}.{lang}'", path, line_of(lang), problems, one_line)
        for lang, text in (("de", german), ("en", english))
    ]
    return (german, english) if all(clean) else None


def _check_text(value: Any, what: str, path: Path, line: int, problems: Problems, one_line: bool = True) -> bool:
    """A text holds no control or text-direction character (a one-line text no tab or line break either)."""
    character = refused_character(value, one_line=one_line) if isinstance(value, str) else None
    if character:
        problems.error(path, line, control_character_message(what, character, one_line=one_line))
    return character is None


def _check_keys(node: LineMap, allowed: set[str], path: Path, problems: Problems, where: str) -> None:
    for key in node:
        if not _check_text(key, "a key", path, node.line_of(key), problems):
            continue  # an escaped control character ("\e") shown in a warning could change the terminal
        if key not in allowed:
            problems.warn(path, node.line_of(key), f"unknown key '{key}' in {where} (ignored)")


def _has_id(node: Any) -> bool:
    """A mapping with a non-blank 'id'."""
    return isinstance(node, LineMap) and bool(str(node.get("id", "")).strip())


def _is_whole_number(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass
class _Parsed:
    header: dict
    levels: list[dict]
    areas: list[dict]


def parse_framework_file(path: Path) -> tuple[_Parsed | None, Problems]:
    """The checked contents of a framework file, or None with the problems that make it invalid.

    Reading the YAML with its line numbers is most of a load's work; the result is kept per file
    content (its hash), and each caller gets its own copy.
    """
    path = Path(path)
    try:
        content_hash = hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return _parse_framework_file(path)  # reports the file as unreadable
    parsed, problems = _parse_once(str(path), content_hash)
    return copy.deepcopy(parsed), copy.deepcopy(problems)


@functools.lru_cache(maxsize=8)
def _parse_once(path: str, _content_hash: str) -> tuple[_Parsed | None, Problems]:
    return _parse_framework_file(Path(path))


def _parse_framework_file(path: Path) -> tuple[_Parsed | None, Problems]:
    problems = Problems()
    data = _read_mapping(path, problems)
    if data is None:
        return None, problems
    _check_keys(data, FILE_KEYS, path, problems, "the file")
    header = _parse_header(data, path, problems)
    levels = _parse_levels(data, path, problems)
    areas = _parse_areas(data, path, problems)
    if problems:
        return None, problems
    return _Parsed(header, levels, areas), problems


def _read_mapping(path: Path, problems: Problems) -> LineMap | None:
    """The file's YAML, when it can be read and is a mapping."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        problems.error(path, 1, f"cannot read the file: {error}")
        return None
    if not _check_characters(text, path, problems):
        return None
    data = load_yaml(text, path, problems)
    if problems:
        return None
    if not isinstance(data, LineMap):
        problems.error(path, 1, "a framework file is a YAML mapping with 'framework', 'levels' and 'areas'")
        return None
    return data


def _check_characters(text: str, path: Path, problems: Problems) -> bool:
    """No control or text-direction character anywhere in the file, before YAML reads it (tabs and
    line breaks aside; the values are checked once more when read)."""
    lines = text.split("\n")
    found = list(refused_lines(lines))
    for index, column in found:
        key = key_path(lines, index, column)
        what = f"'{key}'" if key else "the line"
        problems.error(path, index + 1, control_character_message(what, lines[index][column]))
    return not found


# --- framework: the header ---


def _parse_header(data: LineMap, path: Path, problems: Problems) -> dict:
    meta = data.get("framework")
    if not isinstance(meta, LineMap):
        problems.error(path, data.line_of("framework"), "'framework' must be a mapping with id, version and title")
        return {}
    _check_keys(meta, HEADER_KEYS, path, problems, "'framework'")
    _check_id_and_version(meta, path, problems)
    return {
        "key": str(meta.get("id", "")).strip(),
        "version": str(meta.get("version", "")).strip(),
        "title": _texts(meta, "title", path, problems),
        "attribution": _texts(meta, "attribution", path, problems, required=False, one_line=False),
        "publisher": meta.get("publisher"),
        "licence": meta.get("licence"),
        "source": meta.get("source"),
    }


def _check_id_and_version(meta: LineMap, path: Path, problems: Problems) -> None:
    """Both are given, as a non-blank text or number; they and the other header texts on one line."""
    for key in ("id", "version"):
        if not isinstance(meta.get(key), (str, int, float)) or not str(meta.get(key)).strip():
            problems.error(path, meta.line_of(key), f"'framework.{key}' is missing")
    for key in ("id", "version", "publisher", "licence", "source"):
        _check_text(meta.get(key), f"'framework.{key}'", path, meta.line_of(key), problems)


# --- levels ---


def _parse_levels(data: LineMap, path: Path, problems: Problems) -> list[dict]:
    raw = data.get("levels")
    if not isinstance(raw, LineList) or not raw:
        problems.error(path, data.line_of("levels"), "'levels' must be a non-empty list")
        return []
    levels = [_parse_level(item, raw.line_of(index), path, problems) for index, item in enumerate(raw)]
    numbered = [level for level in levels if level is not None]
    _check_level_numbers([level["level"] for level in numbered], raw.line, path, problems)
    return numbered


def _parse_level(item: Any, line: int, path: Path, problems: Problems) -> dict | None:
    if not isinstance(item, LineMap) or not _is_whole_number(item.get("level")):
        problems.error(path, line, "each level needs a whole number 'level'")
        return None
    return {
        "level": item["level"],
        "band": _texts(item, "band", path, problems),
        "description": _texts(item, "description", path, problems, one_line=False),
        "line": line,
    }


def _check_level_numbers(numbers: list[int], line: int, path: Path, problems: Problems) -> None:
    """Unique, and 1, 2, 3, … without gaps."""
    if len(set(numbers)) != len(numbers):
        problems.error(path, line, "level numbers must be unique")
    if numbers and sorted(numbers) != list(range(1, max(numbers) + 1)):
        problems.error(path, line, "levels must be numbered 1, 2, 3, … without gaps")


# --- areas and their competences ---


def _parse_areas(data: LineMap, path: Path, problems: Problems) -> list[dict]:
    raw = data.get("areas")
    if not isinstance(raw, LineList) or not raw:
        problems.error(path, data.line_of("areas"), "'areas' must be a non-empty list")
        return []
    seen_codes: dict[str, int] = {}  # competence code → line, across all areas
    areas = [_parse_area(area, raw.line_of(index), seen_codes, path, problems) for index, area in enumerate(raw)]
    return [area for area in areas if area is not None]


def _parse_area(area: Any, line: int, seen_codes: dict[str, int], path: Path, problems: Problems) -> dict | None:
    if not _has_id(area):
        problems.error(path, line, "each area needs an 'id'")
        return None
    if not _check_text(str(area["id"]).strip(), "area 'id'", path, area.line_of("id"), problems):
        return None  # every other message would show the id
    _check_keys(area, AREA_KEYS, path, problems, "an area")
    competences = _parse_competences(area, seen_codes, path, problems)
    return {
        "code": str(area["id"]).strip(),
        "title": _texts(area, "title", path, problems),
        "competences": competences,
        "line": line,
    }


def _parse_competences(area: LineMap, seen_codes: dict[str, int], path: Path, problems: Problems) -> list[dict]:
    raw = area.get("competences")
    if not isinstance(raw, LineList) or not raw:
        problems.error(path, area.line_of("competences"), f"area {area['id']} needs a list of competences")
        return []
    competences = [
        _parse_competence(item, raw.line_of(index), seen_codes, path, problems) for index, item in enumerate(raw)
    ]
    return [competence for competence in competences if competence is not None]


def _parse_competence(
    competence: Any, line: int, seen_codes: dict[str, int], path: Path, problems: Problems
) -> dict | None:
    if not _has_id(competence):
        problems.error(path, line, "each competence needs an 'id'")
        return None
    code = str(competence["id"]).strip()
    if not _check_text(code, "competence 'id'", path, competence.line_of("id"), problems):
        return None
    _check_keys(competence, COMPETENCE_KEYS, path, problems, "a competence")
    _check_code_unique(code, line, seen_codes, path, problems)
    return {
        "code": code,
        "title": _texts(competence, "title", path, problems),
        "description": _texts(competence, "description", path, problems, required=False, one_line=False),
        "line": line,
    }


def _check_code_unique(code: str, line: int, seen_codes: dict[str, int], path: Path, problems: Problems) -> None:
    """A competence code once in the file; `seen_codes` keeps the line where each was seen last."""
    if code in seen_codes:
        problems.error(path, line, f"competence id '{code}' is used twice (first on line {seen_codes[code]})")
    seen_codes[code] = line


# --- loading ---


def load_framework_file(path: Path) -> LoadResult:
    """Validate and load (or update) a framework. Raises FrameworkFileError; writes nothing then."""
    path = Path(path)
    parsed, problems = parse_framework_file(path)
    if parsed is None:
        raise FrameworkFileError(problems)
    content_hash = hashlib.sha256(path.read_bytes()).hexdigest()
    query = select(Framework).where(Framework.key == parsed.header["key"])
    framework = db.session.execute(query).scalar_one_or_none()
    if framework is not None and framework.content_hash == content_hash:
        return LoadResult(framework, "unchanged", [], problems.warnings)
    status = "updated" if framework else "created"
    existing = _competences_by_code(framework)
    dropped = _dropped_codes(existing, parsed)
    _check_dropped_not_in_use(dropped, existing, path, problems)
    framework = _write_header(framework, parsed.header, content_hash)
    _write_levels(framework, parsed.levels)
    _write_areas(framework, parsed.areas, existing)
    for code in dropped:
        existing[code].retired = True
    db.session.flush()
    return LoadResult(framework, status, sorted(dropped), problems.warnings)


def _competences_by_code(framework: Framework | None) -> dict[str, Competence]:
    if framework is None:
        return {}
    query = select(Competence).where(Competence.framework_id == framework.id)
    return {c.code: c for c in db.session.execute(query).scalars()}


def _dropped_codes(existing: dict[str, Competence], parsed: _Parsed) -> list[str]:
    """Competences that the file no longer lists and that are not retired yet."""
    wanted_codes = {c["code"] for area in parsed.areas for c in area["competences"]}
    return [code for code in existing if code not in wanted_codes and not existing[code].retired]


def _check_dropped_not_in_use(
    dropped: list[str], existing: dict[str, Competence], path: Path, problems: Problems
) -> None:
    """Raises FrameworkFileError, naming each, when a dropped competence is still used."""
    in_use = _competences_in_use([existing[code].id for code in dropped])
    if not in_use:
        return
    for code in sorted(code for code in dropped if existing[code].id in in_use):
        problems.error(
            path,
            1,
            f"competence {code} is no longer in the file but courses, targets or evidence "
            f"still use it; keep it in the file, or move them to another competence first",
        )
    raise FrameworkFileError(problems)


def _write_header(framework: Framework | None, header: dict, content_hash: str) -> Framework:
    """The framework row (a new one when None) with the file's header; flushed."""
    if framework is None:
        framework = Framework(key=header["key"])
        db.session.add(framework)
    framework.version = header["version"]
    framework.title_de, framework.title_en = header["title"]
    framework.attribution_de, framework.attribution_en = header["attribution"] or (None, None)
    framework.publisher, framework.licence = header["publisher"], header["licence"]
    framework.source, framework.content_hash = header["source"], content_hash
    db.session.flush()
    return framework


def _write_levels(framework: Framework, items: list[dict]) -> None:
    """Updates, adds and removes proficiency levels to match the file."""
    levels = {level.level: level for level in framework.levels}
    for item in items:
        level = levels.get(item["level"]) or ProficiencyLevel(level=item["level"])
        level.band_de, level.band_en = item["band"]
        level.description_de, level.description_en = item["description"]
        if level not in framework.levels:
            framework.levels.append(level)
    for number, level in levels.items():
        if number not in {item["level"] for item in items}:
            framework.levels.remove(level)


def _write_areas(framework: Framework, items: list[dict], existing: dict[str, Competence]) -> None:
    """Areas in the file's order, each with its competences (existing ones by code, un-retired)."""
    areas = {area.code: area for area in framework.areas}
    for position, item in enumerate(items):
        area = areas.get(item["code"]) or CompetenceArea(code=item["code"], framework=framework)
        area.title_de, area.title_en = item["title"]
        area.position = position
        db.session.add(area)
        _write_competences(framework, area, item["competences"], existing)


def _write_competences(
    framework: Framework, area: CompetenceArea, items: list[dict], existing: dict[str, Competence]
) -> None:
    for position, item in enumerate(items):
        competence = existing.get(item["code"]) or Competence(code=item["code"], framework=framework)
        competence.area = area
        competence.title_de, competence.title_en = item["title"]
        competence.description_de, competence.description_en = item["description"] or (None, None)
        competence.position, competence.retired = position, False
        db.session.add(competence)


def _competences_in_use(competence_ids: list[int]) -> set[int]:
    """Competences that any other table refers to (courses, targets, evidence, snapshots, ...).

    Found through the foreign keys in the metadata, so this module need not know the domains above it.
    """
    if not competence_ids:
        return set()
    used: set[int] = set()
    competences = Competence.__table__
    for table in db.metadata.sorted_tables:
        for key in table.foreign_keys:
            if key.column.table is competences and key.parent.table is not competences:
                query = select(key.parent).where(key.parent.in_(competence_ids)).distinct()
                used.update(db.session.execute(query).scalars())
    return used
