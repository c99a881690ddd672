"""One rule for stored free text, wherever it enters: no control or text-direction characters.

The kernel's `has_control_characters` (NUL, escape, the rest of C0 and C1, DEL, bidi overrides and
isolates) now guards department names and codes, job-role titles and codes (the admin forms, a message
in the user's language next to the field) and the author files of `flask courses sync` and
`flask skills load-framework` (`path:line: message`, exit code 1, nothing stored changed).
One-line fields refuse tabs and line breaks too; Markdown bodies may hold tabs and line breaks.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from lms.catalog.models import Course
from lms.common.errors import ValidationFailed
from lms.extensions import db
from lms.frameworks.loader import FrameworkFileError, load_framework_file, parse_framework_file
from lms.frameworks.models import Competence, Framework
from lms.people import services
from lms.people.models import Department, JobRole
from tests.test_course_format import COURSE_MD, LESSON_MD, in_tmp_path, make_course, parse  # noqa: F401
from tests.test_frameworks import SMALL, write
from tests.test_people import post_form

# name → (the character typed or pasted, its escape in a YAML double-quoted string)
CHARACTERS = {
    "NUL": ("\x00", "\\0"),
    "ESC": ("\x1b", "\\e"),
    "RLO": ("\u202e", "\\u202E"),
    "TAB": ("\t", "\\t"),
}
GERMAN = "Größe und Maß – Übung für Bürgerämter"


@pytest.fixture
def admin(client, make_user, sign_in):
    """A client signed in as an administrator (German, the default language)."""
    sign_in(make_user(roles=["admin"]))
    return client


def code_of(name: str) -> str:
    return f"U+{ord(CHARACTERS[name][0]):04X}"


# --- 1. departments and job roles (admin forms and services) --------------------------------


@pytest.mark.parametrize("name", CHARACTERS)
def test_a_department_name_with_a_control_character_is_refused_next_to_the_field(admin, name):
    character = CHARACTERS[name][0]
    response = post_form(
        admin, "/admin/departments/new", {"code": "33.1", "name": f"Bürger{character}büro", "parent_id": ""}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and 'id="name-error"' in html
    assert "Ein Name darf keine Tabulatoren, Zeilenumbrüche oder anderen Steuerzeichen enthalten." in html
    assert db.session.scalar(select(func.count(Department.id))) == 0


@pytest.mark.parametrize("name", CHARACTERS)
def test_a_job_role_title_with_a_control_character_is_refused_next_to_the_field(admin, name):
    character = CHARACTERS[name][0]
    response = post_form(admin, "/admin/job-roles/new", {"code": "SB-BB", "title": f"Sach{character}bearbeitung"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and 'id="title-error"' in html
    assert "Eine Bezeichnung darf keine Tabulatoren, Zeilenumbrüche oder anderen Steuerzeichen enthalten." in html
    assert db.session.scalar(select(func.count(JobRole.id))) == 0


@pytest.mark.parametrize("name", CHARACTERS)
def test_codes_with_a_control_character_are_refused_by_the_forms(admin, name):
    code = f"FB{CHARACTERS[name][0]}3"
    department = post_form(admin, "/admin/departments/new", {"code": code, "name": "Bauamt", "parent_id": ""})
    job_role = post_form(admin, "/admin/job-roles/new", {"code": code, "title": "Bauaufsicht"})
    for response in (department, job_role):
        assert response.status_code == 200 and 'id="code-error"' in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Department.id))) == 0
    assert db.session.scalar(select(func.count(JobRole.id))) == 0


@pytest.mark.parametrize("name", CHARACTERS)
def test_the_services_refuse_control_characters_in_codes_names_and_titles(database, name):
    character = CHARACTERS[name][0]  # a NUL must not even reach PostgreSQL in the code's lookup
    with pytest.raises(ValidationFailed) as department:
        services.save_department(None, f"FB{character}3", f"Bau{character}amt", None)
    assert set(department.value.errors) == {"code", "name"}
    with pytest.raises(ValidationFailed) as job_role:
        services.save_job_role(None, f"SB{character}BB", f"Sach{character}bearbeitung")
    assert set(job_role.value.errors) == {"code", "title"}
    assert "Steuerzeichen" in job_role.value.errors["title"]  # German: no request, the default language
    db.session.rollback()
    assert db.session.scalar(select(func.count(Department.id))) == 0


def test_editing_keeps_the_stored_name_when_the_new_one_is_refused(admin, make_department, make_job_role):
    department, job_role = make_department(code="33.1", name="Bürgerbüro"), make_job_role(code="KASSE", title="Kasse")
    post_form(
        admin,
        f"/admin/departments/{department.id}",
        {"code": "33.1", "name": "Bürger\u202eoröb", "parent_id": ""},
    )
    post_form(admin, f"/admin/job-roles/{job_role.id}", {"code": "KASSE", "title": "Kas\x1b[2Jse"})
    db.session.expire_all()
    assert db.session.get(Department, department.id).name == "Bürgerbüro"
    assert db.session.get(JobRole, job_role.id).title == "Kasse"


def test_the_message_follows_the_users_language(client, make_user, sign_in):
    sign_in(make_user(roles=["admin"], locale="en"))
    response = post_form(client, "/admin/job-roles/new", {"code": "SB-BB", "title": "Sach\tbearbeitung"})
    assert "A title cannot contain tabs, line breaks or other control characters." in response.get_data(as_text=True)


def test_ordinary_german_names_and_titles_are_kept(admin):
    response = post_form(admin, "/admin/departments/new", {"code": "32.1", "name": GERMAN, "parent_id": ""})
    assert response.status_code == 302
    response = post_form(admin, "/admin/job-roles/new", {"code": "SB-BB", "title": "Sachbearbeitung – Straße"})
    assert response.status_code == 302
    assert db.session.execute(select(Department.name)).scalar_one() == GERMAN
    assert db.session.execute(select(JobRole.title)).scalar_one() == "Sachbearbeitung – Straße"


# --- 2. course files (`flask courses sync`) --------------------------------------------------

# field → (file, text to change, its replacement with {c} for the character, line, a word of the message)
COURSE_FIELDS = {
    "course title": ("course.md", '"Testkurs"', '"Test{c}kurs"', 2, "title"),
    "summary": ("course.md", '"Ein Kurs zum Testen."', '"Ein Kurs{c} zum Testen."', 3, "summary"),
    "tag": ("course.md", "competences:", 'tags: ["sicherheit", "e-{c}mail"]\ncompetences:', 4, "tag"),
    "competence reference": ("course.md", '"4.2"', '"4.{c}2"', 5, "id"),
    "lesson title": ("01-erste.md", '"Erste Lektion"', '"Erste{c} Lektion"', 2, "title"),
    "quiz question": ("01-erste.md", '"Ist das richtig?"', '"Ist das{c} richtig?"', 10, "question"),
    "quiz answer": ("01-erste.md", '"Nein"', '"Ne{c}in"', 13, "text"),
}


def course_with(field: str, character: str):
    file, old, new, line, word = COURSE_FIELDS[field]
    text = {"course.md": COURSE_MD, "01-erste.md": LESSON_MD}[file]
    return {file: text.replace(old, new.replace("{c}", character))}, f"courses/testkurs/{file}:{line}: ", word


@pytest.mark.parametrize("form", ["typed", "escaped"])
@pytest.mark.parametrize("name", CHARACTERS)
@pytest.mark.parametrize("field", COURSE_FIELDS)
def test_a_control_character_in_a_one_line_course_field_is_refused_at_its_line(tmp_path, field, name, form):
    files, where, word = course_with(field, CHARACTERS[name][form == "escaped"])
    course, messages = parse(make_course(tmp_path, files))
    assert course is None and len(messages) == 1, messages
    assert messages[0].startswith(where) and word in messages[0] and code_of(name) in messages[0], messages
    assert CHARACTERS[name][0] not in messages[0]  # the message shows the code, never the character


@pytest.mark.parametrize("character", ["\x00", "\x1b", "\x7f", "\x9b", "\u202e", "\u2066"])
def test_a_markdown_body_refuses_control_characters_other_than_tabs_and_line_breaks(tmp_path, character):
    body = LESSON_MD.replace("Text der Lektion.", f"Text der{character} Lektion.")
    course, messages = parse(make_course(tmp_path, {"01-erste.md": body}))
    assert course is None and len(messages) == 1
    assert messages[0].startswith(
        f"courses/testkurs/01-erste.md:7: the text contains the invisible character U+{ord(character):04X}"
    )


def test_an_explanation_may_have_line_breaks_but_no_control_characters(tmp_path):
    refused = LESSON_MD.replace("```\n", 'explanation: "Weil\\nes\\e so ist."\n```\n')
    course, messages = parse(make_course(tmp_path, {"01-erste.md": refused}))
    assert course is None and len(messages) == 1
    assert messages[0].startswith("courses/testkurs/01-erste.md:14: 'explanation' contains") and "U+001B" in messages[0]


def test_ordinary_german_text_with_line_breaks_and_tabs_in_the_body_is_accepted(tmp_path):
    course_md = COURSE_MD.replace('"Testkurs"', f'"{GERMAN}"').replace(
        '"Ein Kurs zum Testen."', '"Straßen, Größen und Maße – kurz erklärt."'
    )
    lesson_md = (
        '---\ntitle: "Äußerst wichtige Übung"\n---\n\n## Überblick\r\n\r\nErste Zeile,\nzweite Zeile – mit ß.\n\n'
        "    code\tmit Tabulator\n\n"
        '```quiz\nquestion: "Was heißt „Maß“?"\nanswers:\n'
        '  - {text: "Größe – Länge", correct: true}\n  - {text: "Öl", correct: false}\n'
        'explanation: "Erste Zeile.\\nZweite Zeile: Übung."\n```\n'
    )
    course, messages = parse(make_course(tmp_path, {"course.md": course_md, "01-erste.md": lesson_md}))
    assert messages == []
    assert (course.title, course.summary) == (GERMAN, "Straßen, Größen und Maße – kurz erklärt.")
    lesson = course.lessons[0]
    assert lesson.title == "Äußerst wichtige Übung" and "zweite Zeile – mit ß." in lesson.body_html
    assert "mit Tabulator" in lesson.body_html  # Markdown turns the tab in code into spaces
    question = lesson.questions[0]
    assert question.question == "Was heißt „Maß“?" and question.answers[0]["text"] == "Größe – Länge"
    assert question.explanation == "Erste Zeile.\nZweite Zeile: Übung."


def sync(app, *args):
    return app.test_cli_runner().invoke(args=["courses", "sync", *args])


def stored_courses() -> list[tuple]:
    db.session.expire_all()
    rows = db.session.execute(select(Course).order_by(Course.slug)).scalars()
    return [
        (c.slug, c.title, c.summary, c.version, c.content_hash, [(lesson.key, lesson.title) for lesson in c.lessons])
        for c in rows
    ]


@pytest.mark.parametrize("name", CHARACTERS)
def test_a_refused_sync_leaves_the_stored_course_as_it_was(app, digcomp, tmp_path, name):
    folder = make_course(tmp_path)
    assert sync(app, "courses").exit_code == 0
    before = stored_courses()
    files, where, _word = course_with("course title", CHARACTERS[name][0])
    (folder / "course.md").write_text(files["course.md"], encoding="utf-8")
    make_course(tmp_path, course_with("quiz answer", CHARACTERS[name][0])[0], slug="neuer-kurs")
    result = sync(app, "courses")
    assert result.exit_code == 1
    assert f"{where}'title' contains the invisible character {code_of(name)}" in result.stderr
    assert "courses/neuer-kurs/01-erste.md:13: " in result.stderr
    assert CHARACTERS[name][0] not in result.stderr
    assert result.stdout == "0 created, 0 updated, 0 unchanged, 2 with errors\n"
    assert stored_courses() == before


# --- 3. framework files (`flask skills load-framework`) ---------------------------------------

# field → (text to change, its replacement with {c}, line, a word of the message)
FRAMEWORK_FIELDS = {
    "framework title": ('"Fachverfahren"', '"Fach{c}verfahren"', 4, "title"),
    "version": ('"1"', '"1{c}0"', 3, "version"),  # in the middle: the ends are trimmed
    "level band": ("{de: Aufbau,", '{de: "Auf{c}bau",', 7, "band"),
    "area code": ('id: "A"', 'id: "A{c}1"', 9, "id"),
    "area title": ('"Einwohnerwesen"', '"Einwohner{c}wesen"', 10, "title"),
    "competence code": ('id: "A.2"', 'id: "A.{c}2"', 14, "id"),
    "competence title": ('"Passverfahren"', '"Pass{c}verfahren"', 15, "title"),
}


@pytest.mark.parametrize("form", ["typed", "escaped"])
@pytest.mark.parametrize("name", CHARACTERS)
@pytest.mark.parametrize("field", FRAMEWORK_FIELDS)
def test_a_control_character_in_a_framework_file_is_refused_at_its_line(tmp_path, field, name, form):
    old, new, line, word = FRAMEWORK_FIELDS[field]
    path = write(tmp_path, SMALL.replace(old, new.replace("{c}", CHARACTERS[name][form == "escaped"]), 1))
    parsed, problems = parse_framework_file(path)
    messages = [str(problem) for problem in problems.items]
    assert parsed is None and len(messages) == 1, messages
    assert messages[0].startswith(f"{path}:{line}: ") and word in messages[0] and code_of(name) in messages[0]
    assert CHARACTERS[name][0] not in messages[0]


def test_a_description_may_have_line_breaks_but_no_tab(tmp_path):
    accepted = SMALL.replace('"Mit Hilfe."', '"Mit Hilfe – Schritt für Schritt.\\nÜbung macht Größe."')
    parsed, problems = parse_framework_file(write(tmp_path, accepted))
    assert problems.items == [] and parsed.levels[0]["description"][0].endswith("\nÜbung macht Größe.")
    parsed, problems = parse_framework_file(write(tmp_path, SMALL.replace('"Mit Hilfe."', '"Mit\\tHilfe."')))
    assert parsed is None
    assert [str(p).removeprefix(f"{tmp_path / 'framework.yaml'}:") for p in problems.items] == [
        "6: 'description.de' contains the invisible character U+0009 TAB: "
        "remove it (control and text-direction characters are not allowed)"
    ]


def stored_framework() -> list[tuple]:
    db.session.expire_all()
    framework = db.session.execute(select(Framework)).scalar_one()
    competences = db.session.execute(select(Competence.code, Competence.title_de).order_by(Competence.code)).all()
    return [(framework.version, framework.title_de, framework.content_hash), *competences]


@pytest.mark.parametrize("name", CHARACTERS)
def test_a_refused_framework_file_changes_nothing_stored(app, database, tmp_path, name):
    path = write(tmp_path, SMALL)
    load_framework_file(path)
    db.session.commit()
    before = stored_framework()
    character = CHARACTERS[name][0]
    write(tmp_path, SMALL.replace('version: "1"', 'version: "2"').replace('"Passverfahren"', f'"Pass{character}wesen"'))
    with pytest.raises(FrameworkFileError):
        load_framework_file(path)
    db.session.rollback()
    assert stored_framework() == before
    result = app.test_cli_runner().invoke(args=["skills", "load-framework", str(path)])
    assert result.exit_code == 1 and f"{path}:15: 'title.de' contains the invisible character" in result.output
    assert stored_framework() == before


def test_ordinary_german_text_in_a_framework_file_still_loads(database, tmp_path):
    german = SMALL.replace('"Meldeverfahren"', '"Meldewesen – Straßen & Größen"')
    assert load_framework_file(write(tmp_path, german)).status == "created"
    title = db.session.execute(select(Competence.title_de).where(Competence.code == "A.1")).scalar_one()
    assert title == "Meldewesen – Straßen & Größen"
