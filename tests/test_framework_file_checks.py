"""The checks of a framework file (`parse_framework_file`): each message at its line, in a fixed order.

Reading needs no database; loading is tested in test_frameworks.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from lms.extensions import db
from lms.frameworks.loader import FrameworkFileError, load_framework_file, parse_framework_file
from lms.frameworks.models import Competence
from lms.targets.models import JobRoleTarget
from tests.test_frameworks import SMALL

LEVELS = """\
levels:
  - {level: 1, band: {de: Grundlagen, en: Foundation}, description: {de: "Mit Hilfe.", en: "With help."}}
  - {level: 2, band: {de: Aufbau, en: Intermediate}, description: {de: "Allein.", en: "Alone."}}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "framework.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def messages(path: Path) -> list[str]:
    parsed, problems = parse_framework_file(path)
    assert (parsed is None) == bool(problems)
    return [str(problem).removeprefix(f"{path}:") for problem in problems.items]


CASES = {
    "not a mapping": (
        "- framework\n- levels\n",
        ["1: a framework file is a YAML mapping with 'framework', 'levels' and 'areas'"],
    ),
    "framework not a mapping": (
        SMALL.replace("framework:\n", "framework: DigComp\nrest:\n"),
        [
            "2: warning: unknown key 'rest' in the file (ignored)",
            "1: 'framework' must be a mapping with id, version and title",
        ],
    ),
    "levels empty": (
        SMALL.replace(LEVELS, "levels: []\n"),
        ["5: 'levels' must be a non-empty list"],
    ),
    "a level without a number": (
        SMALL.replace("{level: 2,", "{level: zwei,"),
        [
            "7: each level needs a whole number 'level'",
        ],
    ),
    "level numbers twice": (
        SMALL.replace("{level: 2,", "{level: 1,"),
        [
            "6: level numbers must be unique",  # the line of the list's first item
            "6: levels must be numbered 1, 2, 3, … without gaps",
        ],
    ),
    "areas missing": (SMALL.split("areas:")[0], ["1: 'areas' must be a non-empty list"]),
    "an area without an id": (SMALL.replace('  - id: "A"\n', '  - id: ""\n'), ["9: each area needs an 'id'"]),
    "an area without competences": (
        SMALL.split("    competences:")[0],
        ["9: area A needs a list of competences"],
    ),
    "a competence without an id": (
        SMALL.replace('      - id: "A.1"\n', '      - id: " "\n'),
        ["12: each competence needs an 'id'"],
    ),
    "a competence id a third time": (
        SMALL + '      - {id: "A.1", title: {de: x, en: y}}\n      - {id: "A.1", title: {de: x, en: y}}\n',
        [
            "16: competence id 'A.1' is used twice (first on line 12)",
            "17: competence id 'A.1' is used twice (first on line 16)",
        ],
    ),
    "unknown keys in an area and a competence": (
        SMALL.replace("    competences:\n", "    farbe: blau\n    competences:\n").replace(
            '        title: {de: "Meldeverfahren"', '        kurz: M\n        title: {de: "Meldeverfahren"'
        ),
        [
            "11: warning: unknown key 'farbe' in an area (ignored)",
            "14: warning: unknown key 'kurz' in a competence (ignored)",
        ],
    ),
    "problems in the order of the file": (
        "framework: {id: x}\nlevels: [{level: 1, band: {de: a, en: b}}]\n"
        "areas: [{id: A, title: {de: a}, competences: [{id: A.1}]}]\n",
        [
            "1: 'framework.version' is missing",
            "1: 'title' is missing",
            "2: 'description' is missing",
            "3: 'title' is missing",
            "3: 'title' needs a German and an English text: {de: ..., en: ...}",
        ],
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_each_problem_is_reported_at_its_line(tmp_path, case):
    text, expected = CASES[case]
    assert messages(write(tmp_path, text)) == expected


def test_an_unreadable_file_is_reported(tmp_path):
    path = tmp_path / "framework.yaml"
    path.write_bytes(SMALL.replace("Fachverfahren", "Fachverfähren").encode("latin-1"))
    assert messages(path) == [
        "1: cannot read the file: 'utf-8' codec can't decode byte 0xe4 in position 75: invalid continuation byte"
    ]


def test_each_competence_still_in_use_is_named_when_the_file_drops_it(database, tmp_path, make_job_role):
    load_framework_file(write(tmp_path, SMALL))
    role = make_job_role()
    for competence in db.session.execute(select(Competence)).scalars():
        db.session.add(JobRoleTarget(job_role_id=role.id, competence_id=competence.id, level=1))
    db.session.commit()
    other_area = (
        SMALL.split("areas:")[0]
        + "areas:\n  - {id: B, title: {de: b, en: b}, competences: [{id: B.1, title: {de: x, en: y}}]}\n"
    )
    with pytest.raises(FrameworkFileError) as failure:
        load_framework_file(write(tmp_path, other_area))
    path = tmp_path / "framework.yaml"
    in_use = (
        "is no longer in the file but courses, targets or evidence still use it; "
        "keep it in the file, or move them to another competence first"
    )
    assert str(failure.value) == f"{path}:1: competence A.1 {in_use}\n{path}:1: competence A.2 {in_use}"
