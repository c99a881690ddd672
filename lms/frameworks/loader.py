"""Loading competency frameworks from YAML files (see docs/competences.md for the format).

Loading is idempotent (same file, same content hash: nothing changes) and versioned (the file's
`version`). A competence that the file no longer lists is retired (kept, hidden from new use);
if courses, targets or evidence still use it, the load is refused instead, so nothing disappears
silently.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from lms.common.sourcefile import LineList, LineMap, Problems, load_yaml
from lms.extensions import db
from lms.frameworks.models import Competence, CompetenceArea, Framework, ProficiencyLevel

DEFAULT_FRAMEWORK_FILE = Path(__file__).parent / "data" / "digcomp-2.2.yaml"


class FrameworkFileError(Exception):
    def __init__(self, problems: Problems):
        super().__init__("\n".join(str(p) for p in problems.errors))
        self.problems = problems


@dataclass
class LoadResult:
    framework: Framework
    status: str  # created, updated, unchanged
    retired: list[str]
    warnings: list = None


def _texts(node, key: str, path, problems: Problems, required: bool = True) -> tuple[str, str] | None:
    """A {de: ..., en: ...} pair."""
    value = node.get(key) if isinstance(node, dict) else None
    if value is None:
        if required:
            problems.error(path, getattr(node, "line", 1), f"'{key}' is missing")
        return None
    if not isinstance(value, dict) or not all(
        isinstance(value.get(lang), str) and value.get(lang).strip() for lang in ("de", "en")
    ):
        problems.error(path, node.line_of(key), f"'{key}' needs a German and an English text: {{de: ..., en: ...}}")
        return None
    return value["de"].strip(), value["en"].strip()


def _check_keys(node: LineMap, allowed: set[str], path, problems: Problems, where: str) -> None:
    for key in node:
        if key not in allowed:
            problems.warn(path, node.line_of(key), f"unknown key '{key}' in {where} (ignored)")


@dataclass
class _Parsed:
    header: dict
    levels: list[dict]
    areas: list[dict]


def parse_framework_file(path: Path) -> tuple[_Parsed | None, Problems]:
    problems = Problems()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        problems.error(path, 1, f"cannot read the file: {error}")
        return None, problems
    data = load_yaml(text, path, problems)
    if problems:
        return None, problems
    if not isinstance(data, LineMap):
        problems.error(path, 1, "a framework file is a YAML mapping with 'framework', 'levels' and 'areas'")
        return None, problems
    _check_keys(data, {"framework", "levels", "areas"}, path, problems, "the file")
    meta = data.get("framework")
    header: dict = {}
    if not isinstance(meta, LineMap):
        problems.error(path, data.line_of("framework"), "'framework' must be a mapping with id, version and title")
    else:
        _check_keys(
            meta,
            {"id", "version", "title", "publisher", "licence", "source", "attribution"},
            path,
            problems,
            "'framework'",
        )
        for key in ("id", "version"):
            if not isinstance(meta.get(key), (str, int, float)) or not str(meta.get(key)).strip():
                problems.error(path, meta.line_of(key), f"'framework.{key}' is missing")
        header = {
            "key": str(meta.get("id", "")).strip(),
            "version": str(meta.get("version", "")).strip(),
            "title": _texts(meta, "title", path, problems),
            "attribution": _texts(meta, "attribution", path, problems, required=False),
            "publisher": meta.get("publisher"),
            "licence": meta.get("licence"),
            "source": meta.get("source"),
        }

    levels = []
    raw_levels = data.get("levels")
    if not isinstance(raw_levels, LineList) or not raw_levels:
        problems.error(path, data.line_of("levels"), "'levels' must be a non-empty list")
    else:
        for index, item in enumerate(raw_levels):
            line = raw_levels.line_of(index)
            if (
                not isinstance(item, LineMap)
                or not isinstance(item.get("level"), int)
                or isinstance(item.get("level"), bool)
            ):
                problems.error(path, line, "each level needs a whole number 'level'")
                continue
            levels.append(
                {
                    "level": item["level"],
                    "band": _texts(item, "band", path, problems),
                    "description": _texts(item, "description", path, problems),
                    "line": line,
                }
            )
        numbers = [level["level"] for level in levels]
        if len(set(numbers)) != len(numbers):
            problems.error(path, raw_levels.line, "level numbers must be unique")
        if numbers and sorted(numbers) != list(range(1, max(numbers) + 1)):
            problems.error(path, raw_levels.line, "levels must be numbered 1, 2, 3, … without gaps")

    areas = []
    seen_codes: dict[str, int] = {}
    raw_areas = data.get("areas")
    if not isinstance(raw_areas, LineList) or not raw_areas:
        problems.error(path, data.line_of("areas"), "'areas' must be a non-empty list")
    else:
        for index, area in enumerate(raw_areas):
            line = raw_areas.line_of(index)
            if not isinstance(area, LineMap) or not str(area.get("id", "")).strip():
                problems.error(path, line, "each area needs an 'id'")
                continue
            _check_keys(area, {"id", "title", "competences"}, path, problems, "an area")
            competences = []
            raw_competences = area.get("competences")
            if not isinstance(raw_competences, LineList) or not raw_competences:
                problems.error(path, area.line_of("competences"), f"area {area['id']} needs a list of competences")
                raw_competences = []
            for c_index, competence in enumerate(raw_competences):
                c_line = raw_competences.line_of(c_index)
                if not isinstance(competence, LineMap) or not str(competence.get("id", "")).strip():
                    problems.error(path, c_line, "each competence needs an 'id'")
                    continue
                _check_keys(competence, {"id", "title", "description"}, path, problems, "a competence")
                code = str(competence["id"]).strip()
                if code in seen_codes:
                    problems.error(
                        path, c_line, f"competence id '{code}' is used twice (first on line {seen_codes[code]})"
                    )
                seen_codes[code] = c_line
                competences.append(
                    {
                        "code": code,
                        "title": _texts(competence, "title", path, problems),
                        "description": _texts(competence, "description", path, problems, required=False),
                        "line": c_line,
                    }
                )
            areas.append(
                {
                    "code": str(area["id"]).strip(),
                    "title": _texts(area, "title", path, problems),
                    "competences": competences,
                    "line": line,
                }
            )
    if problems:
        return None, problems
    return _Parsed(header, levels, areas), problems


def load_framework_file(path: Path) -> LoadResult:
    """Validate and load (or update) a framework. Raises FrameworkFileError; writes nothing then."""
    path = Path(path)
    parsed, problems = parse_framework_file(path)
    if parsed is None:
        raise FrameworkFileError(problems)
    content_hash = hashlib.sha256(path.read_bytes()).hexdigest()
    header = parsed.header
    framework = db.session.execute(select(Framework).where(Framework.key == header["key"])).scalar_one_or_none()
    if framework is not None and framework.content_hash == content_hash:
        return LoadResult(framework, "unchanged", [], problems.warnings)
    status = "updated" if framework else "created"
    existing = (
        {}
        if framework is None
        else {
            c.code: c
            for c in db.session.execute(select(Competence).where(Competence.framework_id == framework.id)).scalars()
        }
    )
    wanted_codes = {c["code"] for area in parsed.areas for c in area["competences"]}
    dropped = [code for code in existing if code not in wanted_codes and not existing[code].retired]
    in_use = _competences_in_use([existing[code].id for code in dropped])
    if in_use:
        for code in sorted(in_use_code for in_use_code in dropped if existing[in_use_code].id in in_use):
            problems.error(
                path,
                1,
                f"competence {code} is no longer in the file but courses, targets or evidence "
                f"still use it; keep it in the file, or move them to another competence first",
            )
        raise FrameworkFileError(problems)

    if framework is None:
        framework = Framework(key=header["key"])
        db.session.add(framework)
    framework.version = header["version"]
    framework.title_de, framework.title_en = header["title"]
    framework.attribution_de, framework.attribution_en = header["attribution"] or (None, None)
    framework.publisher, framework.licence = header["publisher"], header["licence"]
    framework.source, framework.content_hash = header["source"], content_hash
    db.session.flush()

    levels = {level.level: level for level in framework.levels}
    for item in parsed.levels:
        level = levels.get(item["level"]) or ProficiencyLevel(level=item["level"])
        level.band_de, level.band_en = item["band"]
        level.description_de, level.description_en = item["description"]
        if level not in framework.levels:
            framework.levels.append(level)
    for number, level in levels.items():
        if number not in {item["level"] for item in parsed.levels}:
            framework.levels.remove(level)

    areas = {area.code: area for area in framework.areas}
    for position, item in enumerate(parsed.areas):
        area = areas.get(item["code"]) or CompetenceArea(code=item["code"], framework=framework)
        area.title_de, area.title_en = item["title"]
        area.position = position
        db.session.add(area)
        for c_position, c_item in enumerate(item["competences"]):
            competence = existing.get(c_item["code"]) or Competence(code=c_item["code"], framework=framework)
            competence.area = area
            competence.title_de, competence.title_en = c_item["title"]
            competence.description_de, competence.description_en = c_item["description"] or (None, None)
            competence.position, competence.retired = c_position, False
            db.session.add(competence)
    for code in dropped:
        existing[code].retired = True
    db.session.flush()
    return LoadResult(framework, status, sorted(dropped), problems.warnings)


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
