"""The checks of a targets CSV file (`parse_targets_csv`): each message at its line, in a fixed order.

The common cases run through the CLI in test_targets.py; these call the function and compare whole messages.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from lms.extensions import db
from lms.targets.importer import parse_targets_csv

HEADER = "type,code,competence,level,recert_months,note\n"


@pytest.fixture
def town(digcomp, make_job_role, make_user):
    """An active job role SB-BB and person 100777; a deactivated job role ALT."""
    make_job_role(code="SB-BB")
    make_job_role(code="ALT").active = False
    make_user(personnel_number="100777")
    db.session.commit()


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "targets.csv"
    path.write_bytes(text.encode("utf-8"))
    return path


def messages(path: Path) -> list[str]:
    _rows, problems = parse_targets_csv(path)
    return [str(problem).removeprefix(f"{path}:") for problem in problems.items]


CASES = {
    "code empty": (
        "job_role,,1.1,3,,\n",
        ["2: code is empty: give the job role code or the personnel number"],
    ),
    "level empty": (
        "job_role,SB-BB,1.1,,,\n",
        ["2: level must be a whole number from 0 to 8 (0 removes the target), but it is empty"],
    ),
    "note too long": (
        "person,100777,1.1,3,," + "x" * 501 + "\n",
        ["2: note is longer than 500 characters"],
    ),
    "note with a text-direction override": (
        "person,100777,1.1,3,,Ziel \u202eerreicht\n",
        ["2: note contains control characters (such as tabs or text-direction overrides)"],
    ),
    "deactivated job role": (
        "job_role,ALT,1.1,3,,\n",
        ["2: warning: job role 'ALT' is deactivated"],
    ),
    "duplicate person row": (
        "person,100777,1.1,3,,\nperson,100777,1.1,4,,\n",
        ["3: duplicate row: line 2 already sets person 100777 1.1"],
    ),
    "unreadable CSV line": (
        'job_role,SB-BB,1.1,3,,"a"b\n',
        ["2: cannot read this CSV line: ',' expected after '\"'"],
    ),
    "a line with every problem, in the order of the columns": (
        "team,SB-BB,9.9,drei,0," + "x" * 501 + "\n",
        [
            "2: type must be 'job_role' or 'person', not 'team'",
            "2: unknown competence '9.9' (not in digcomp-2.2)",
            "2: level must be a whole number from 0 to 8 (0 removes the target), not 'drei'",
            "2: recert_months must be empty or a whole number of months from 1 to 240, not '0'",
            "2: note is longer than 500 characters",
        ],
    ),
    "a record over two lines is reported at its first": (
        'person,100777,1.1,3,x,"Zeile 1\nZeile 2"\njob_role,XX,1.1,3,,\n',
        [
            "2: recert_months must be empty or a whole number of months from 1 to 240, not 'x'",
            "4: unknown job role code 'XX'",
        ],
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_each_problem_is_reported_at_its_line(town, tmp_path, case):
    lines, expected = CASES[case]
    assert messages(write(tmp_path, HEADER + lines)) == expected


def test_an_empty_file_needs_the_header(database, tmp_path):
    assert messages(write(tmp_path, "")) == [
        "1: the first line must be the header: type,code,competence,level,recert_months,note"
    ]


def test_an_unreadable_file_is_reported(database, tmp_path):
    folder = tmp_path / "targets.csv"
    folder.mkdir()
    assert messages(folder) == ["1: cannot read the file: Is a directory"]


def test_nothing_is_checked_before_a_framework_is_loaded(database, tmp_path):
    assert messages(write(tmp_path, HEADER + "job_role,SB-BB,1.1,3,,\n")) == [
        "1: no competency framework is loaded; run 'flask skills load-framework' first"
    ]


def test_a_job_role_row_keeps_no_note_and_level_zero_keeps_no_months(town, tmp_path):
    rows, problems = parse_targets_csv(
        write(tmp_path, HEADER + "job_role,sb-bb,1.1,3,,Notiz\nperson,100777,1.1,0,12,x\n")
    )
    assert [str(p).removeprefix(f"{tmp_path / 'targets.csv'}:") for p in problems.items] == [
        "2: warning: a note is kept only for person rows; ignored"
    ]
    assert [(r.kind, r.code, r.level, r.recert_months, r.note) for r in rows] == [
        ("job_role", "sb-bb", 3, None, ""),
        ("person", "100777", 0, None, ""),
    ]
