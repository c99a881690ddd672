"""Loading competency frameworks: validation with file:line, idempotence, versions, retiring."""

from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from lms.extensions import db
from lms.frameworks.loader import DEFAULT_FRAMEWORK_FILE, FrameworkFileError, load_framework_file
from lms.frameworks.models import Competence, Framework
from lms.targets.models import JobRoleTarget

SMALL = """\
framework:
  id: stadt-fachverfahren
  version: "1"
  title: {de: "Fachverfahren", en: "Specialised software"}
levels:
  - {level: 1, band: {de: Grundlagen, en: Foundation}, description: {de: "Mit Hilfe.", en: "With help."}}
  - {level: 2, band: {de: Aufbau, en: Intermediate}, description: {de: "Allein.", en: "Alone."}}
areas:
  - id: "A"
    title: {de: "Einwohnerwesen", en: "Residents"}
    competences:
      - id: "A.1"
        title: {de: "Meldeverfahren", en: "Registration software"}
      - id: "A.2"
        title: {de: "Passverfahren", en: "Passport software"}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "framework.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_shipped_digcomp_file_loads_with_21_competences(database):
    result = load_framework_file(DEFAULT_FRAMEWORK_FILE)
    assert result.status == "created"
    assert db.session.scalar(select(func.count(Competence.id))) == 21
    assert [level.level for level in result.framework.levels] == list(range(1, 9))
    assert "CC BY 4.0" in result.framework.attribution_de
    assert load_framework_file(DEFAULT_FRAMEWORK_FILE).status == "unchanged"


def test_a_second_framework_can_be_installed_beside_digcomp(database, tmp_path):
    load_framework_file(DEFAULT_FRAMEWORK_FILE)
    load_framework_file(write(tmp_path, SMALL))
    assert db.session.scalar(select(func.count(Framework.id))) == 2


@pytest.mark.parametrize(
    "broken, line, message",
    [
        (SMALL.replace('  version: "1"\n', ""), 2, "'framework.version' is missing"),
        (SMALL.replace("{level: 2,", "{level: 3,"), 6, "without gaps"),
        (SMALL.replace('id: "A.2"', 'id: "A.1"'), 14, "used twice (first on line 12)"),
        (
            SMALL.replace('title: {de: "Passverfahren", en: "Passport software"}', 'title: {de: "Passverfahren"}'),
            15,
            "German and an English",
        ),
        (SMALL.replace("areas:", "areas: [").replace("competences:", "competences: {"), 9, "invalid YAML"),
    ],
)
def test_broken_files_are_refused_with_file_and_line(database, tmp_path, broken, line, message):
    path = write(tmp_path, broken)
    with pytest.raises(FrameworkFileError) as failure:
        load_framework_file(path)
    errors = [str(p) for p in failure.value.problems.errors]
    assert any(e.startswith(f"{path}:{line}: ") and message in e for e in errors), errors
    assert db.session.scalar(select(func.count(Framework.id))) == 0


def test_unknown_keys_are_warnings(database, tmp_path):
    result = load_framework_file(write(tmp_path, SMALL.replace("areas:", "colour: blue\nareas:")))
    assert result.status == "created" and any("unknown key 'colour'" in str(w) for w in result.warnings)


def test_a_new_version_updates_in_place_and_retires_unused_competences(database, tmp_path):
    first = load_framework_file(write(tmp_path, SMALL)).framework
    ids = {c.code: c.id for c in db.session.execute(select(Competence)).scalars()}
    newer = SMALL.replace('version: "1"', 'version: "2"').replace("Meldeverfahren", "Meldewesen (neu)")
    newer = newer.replace('      - id: "A.2"\n        title: {de: "Passverfahren", en: "Passport software"}\n', "")
    result = load_framework_file(write(tmp_path, newer))
    assert result.status == "updated" and result.framework.id == first.id and result.retired == ["A.2"]
    renamed = db.session.get(Competence, ids["A.1"])
    assert renamed.title_de == "Meldewesen (neu)" and not renamed.retired
    assert db.session.get(Competence, ids["A.2"]).retired


def test_a_competence_in_use_cannot_silently_disappear(database, tmp_path, make_job_role):
    load_framework_file(write(tmp_path, SMALL))
    used = db.session.execute(select(Competence).where(Competence.code == "A.2")).scalar_one()
    db.session.add(JobRoleTarget(job_role_id=make_job_role().id, competence_id=used.id, level=2))
    db.session.commit()
    dropped = SMALL.replace('version: "1"', 'version: "2"').replace(
        '      - id: "A.2"\n        title: {de: "Passverfahren", en: "Passport software"}\n', ""
    )
    with pytest.raises(FrameworkFileError) as failure:
        load_framework_file(write(tmp_path, dropped))
    assert "competence A.2" in str(failure.value)
    db.session.rollback()
    assert not db.session.get(Competence, used.id).retired
    assert db.session.execute(select(Framework)).scalar_one().version == "1"


def test_cli_reports_problems_and_exits_non_zero(app, database, tmp_path):
    path = write(tmp_path, SMALL.replace('  version: "1"\n', ""))
    result = app.test_cli_runner().invoke(args=["skills", "load-framework", str(path)])
    assert result.exit_code == 1 and f"{path}:2: 'framework.version' is missing" in result.output
    good = app.test_cli_runner().invoke(args=["skills", "load-framework", str(write(tmp_path, SMALL))])
    assert good.exit_code == 0 and "stadt-fachverfahren 1: created" in good.output
    missing = app.test_cli_runner().invoke(args=["skills", "load-framework", str(tmp_path / "nope.yaml")])
    assert missing.exit_code != 0 and "nope.yaml:1: file not found" in missing.output


def test_yaml_reference_file_is_valid_yaml():
    assert yaml.safe_load(DEFAULT_FRAMEWORK_FILE.read_text(encoding="utf-8"))["framework"]["id"] == "digcomp-2.2"
