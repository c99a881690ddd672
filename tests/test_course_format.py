"""Reading one course folder: what a good course becomes, and `path:line: message` for every bad input.

These tests need no database: the framework is described by a hand-made FrameworkInfo.
Each case writes its own small course into tmp_path (the working directory here, so paths
in messages read `courses/<slug>/<file>`).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lms.catalog.format import FrameworkInfo, content_hash, parse_course, read_course_files
from lms.catalog.media import check_media
from lms.common.sourcefile import Problems
from lms.config import PROJECT_ROOT

FRAMEWORK = FrameworkInfo(
    "digcomp-2.2", {"1.1": 11, "2.6": 26, "4.1": 41, "4.2": 42, "2.9": 29}, retired={"2.9"}, levels=set(range(1, 9))
)

COURSE_MD = """\
---
title: "Testkurs"
summary: "Ein Kurs zum Testen."
competences:
  - {id: "4.2", level: 3}
---

Einführung in den **Testkurs**.
"""

LESSON_MD = """\
---
title: "Erste Lektion"
---

## Abschnitt

Text der Lektion.

```quiz
question: "Ist das richtig?"
answers:
  - {text: "Ja", correct: true}
  - {text: "Nein", correct: false}
```
"""

SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10">'
    b'<title>Bild</title><rect width="10" height="10"/></svg>'
)
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32


@pytest.fixture(autouse=True)
def in_tmp_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


def make_course(tmp_path, files: dict | None = None, slug: str = "testkurs", base: bool = True):
    """Writes course.md and one lesson (unless `base` is False), then `files`; None removes a file."""
    folder = tmp_path / "courses" / slug
    contents = {"course.md": COURSE_MD, "01-erste.md": LESSON_MD} if base else {}
    contents.update(files or {})
    for name, content in contents.items():
        if content is None:
            continue
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def parse(folder):
    problems = Problems()
    course = parse_course(folder, read_course_files(folder), FRAMEWORK, problems)
    return course, [str(problem) for problem in problems.items]


def lesson(body: str, front_matter: str = 'title: "Lektion"') -> str:
    return f"---\n{front_matter}\n---\n{body}"


# -- a good course


def test_a_good_course_becomes_plain_data(tmp_path):
    course, messages = parse(make_course(tmp_path, {"02-zweite.md": "# Zweite Lektion\n\nMehr Text.\n"}))
    assert messages == []
    assert (course.slug, course.title, course.summary) == ("testkurs", "Testkurs", "Ein Kurs zum Testen.")
    # Without a stated duration the derived one is used: 9 words at 160 per minute, 1 question asked.
    assert (course.language, course.pass_score, course.valid_months, course.duration_minutes) == ("de", 80, None, 1)
    assert course.competences == {42: 3}
    assert course.intro_html == "<p>Einführung in den <strong>Testkurs</strong>.</p>"
    first, second = course.lessons
    assert [(first.key, first.title), (second.key, second.title)] == [
        ("01-erste", "Erste Lektion"),
        ("02-zweite", "Zweite Lektion"),
    ]
    assert first.body_html == '<h2 id="abschnitt-abschnitt">Abschnitt</h2>\n<p>Text der Lektion.</p>'
    assert [(q.question, q.answers, q.explanation) for q in first.questions] == [
        ("Ist das richtig?", [{"text": "Ja", "correct": True}, {"text": "Nein", "correct": False}], None)
    ]
    assert second.body_html == "<p>Mehr Text.</p>" and second.questions == []


def test_all_front_matter_fields_are_read(tmp_path):
    course_md = COURSE_MD.replace(
        "competences:",
        "language: en\nduration_minutes: 1\ntags: [sicherheit, e-mail]\n"
        "pass_score: 60\nvalid_months: 12\n"
        "competences:\n  - {id: 4.1, level: 1}",
    )
    course, messages = parse(make_course(tmp_path, {"course.md": course_md}))
    assert messages == []
    assert (course.language, course.duration_minutes, course.pass_score, course.valid_months) == ("en", 1, 60, 12)
    assert course.tags == ["sicherheit", "e-mail"] and course.competences == {41: 1, 42: 3}


def test_lessons_come_in_file_name_order_and_other_files_are_ignored_with_a_warning(tmp_path):
    folder = make_course(
        tmp_path,
        {
            "10-zehn.md": "# Zehn\n\nText\n",
            "02-zwei.md": "# Zwei\n\nText\n",
            "notizen.txt": "x",
            ".versteckt.md": "x",
            "entwurf/03-drei.md": "# Drei\n\nText",
        },
    )
    course, messages = parse(folder)
    assert [lesson.key for lesson in course.lessons] == ["01-erste", "02-zwei", "10-zehn"]
    ignored = "warning: ignored: not a lesson (*.md beside course.md) and not an image in media/"
    assert messages == [
        f"courses/testkurs/entwurf/03-drei.md:1: {ignored}",
        f"courses/testkurs/notizen.txt:1: {ignored}",
    ]


def test_title_from_the_first_heading_outside_code_and_removed_from_the_body(tmp_path):
    body = "```sh\n# kein Titel\n```\n\n# Der Titel\n\nText\n\n# Noch eine Überschrift\n"
    course, messages = parse(make_course(tmp_path, {"01-erste.md": body}))
    assert messages == []
    lesson_ = course.lessons[0]
    assert lesson_.title == "Der Titel"
    assert "Der Titel" not in lesson_.body_html and "# kein Titel" in lesson_.body_html
    # The page's h1 is the title, so a further top-level heading becomes an h2.
    assert '<h2 id="abschnitt-noch-eine-ueberschrift">Noch eine Überschrift</h2>' in lesson_.body_html


def test_quiz_blocks_leave_the_body_and_keep_several_correct_answers_and_the_explanation(tmp_path):
    body = (
        'Vorher\n\n```quiz\nquestion: |\n  Welche?\nanswers:\n  - text: " A "\n    correct: true\n'
        '  - {text: B, correct: true}\n  - {text: C, correct: false}\nexplanation: "  Weil.  "\n```\n\n'
        "Dazwischen\n\n~~~quiz\nquestion: Zweite?\n"
        "answers: [{text: x, correct: false}, {text: y, correct: true}]\n~~~\n"
        "\n````markdown\n```quiz\nkein: quiz\n```\n````\n"
    )
    course, messages = parse(make_course(tmp_path, {"01-erste.md": lesson(body)}))
    assert messages == []
    first, second = course.lessons[0].questions
    assert (first.question, first.explanation) == ("Welche?", "Weil.")
    assert [a["text"] for a in first.answers if a["correct"]] == ["A", "B"]
    assert second.question == "Zweite?"
    html = course.lessons[0].body_html
    assert "Vorher" in html and "Dazwischen" in html and "Welche" not in html and "kein: quiz" in html


def test_images_in_media_are_rewritten_and_stored(tmp_path):
    body = '![Ein Bild](media/bild.svg)\n\n![Foto](./media/fotos/foto%201.png "Titel")\n'
    folder = make_course(tmp_path, {"01-erste.md": lesson(body), "media/bild.svg": SVG, "media/fotos/foto 1.png": PNG})
    course, messages = parse(folder)
    assert messages == []
    assert '<img alt="Ein Bild" src="/courses/testkurs/media/bild.svg">' in course.lessons[0].body_html
    assert 'src="/courses/testkurs/media/fotos/foto%201.png" title="Titel"' in course.lessons[0].body_html
    assert sorted((m.path, m.content_type) for m in course.media) == [
        ("bild.svg", "image/svg+xml"),
        ("fotos/foto 1.png", "image/png"),
    ]


def test_content_hash_covers_names_and_bytes(tmp_path):
    folder = make_course(tmp_path)
    first = content_hash(read_course_files(folder))
    assert content_hash(read_course_files(folder)) == first
    (folder / "01-erste.md").rename(folder / "01-andere.md")
    renamed = content_hash(read_course_files(folder))
    (folder / "01-andere.md").write_text(LESSON_MD + "\n")
    assert len({first, renamed, content_hash(read_course_files(folder))}) == 3


# -- bad input: each case, its file, its line, its message

BAD_INPUT = {
    "front matter not closed": (
        {"course.md": "---\ntitle: Kurs\n"},
        "courses/testkurs/course.md:1: front matter starts with --- but has no closing --- line",
    ),
    "malformed YAML in front matter": (
        {"course.md": '---\ntitle: "Kurs"\nsummary: [nicht geschlossen\n---\n'},
        "courses/testkurs/course.md:4: invalid YAML",
    ),
    "front matter is a list": (
        {"course.md": "---\n- title\n- summary\n---\n"},
        "courses/testkurs/course.md:2: front matter must be a YAML mapping (key: value lines)",
    ),
    "no front matter": (
        {"course.md": "Nur Text.\n"},
        "courses/testkurs/course.md:1: course.md must start with front matter between --- lines",
    ),
    "title missing": (
        {"course.md": "---\nsummary: Kurz\n---\n"},
        "courses/testkurs/course.md:2: 'title' is missing (it must be a text)",
    ),
    "summary is not text": (
        {"course.md": "---\ntitle: Kurs\nsummary: [a, b]\n---\n"},
        "courses/testkurs/course.md:3: 'summary' is missing (it must be a text)",
    ),
    "language unknown": (
        {"course.md": COURSE_MD.replace("competences:", "language: fr\ncompetences:")},
        "courses/testkurs/course.md:4: 'language' must be de or en, not 'fr'",
    ),
    "pass_score above 100": (
        {"course.md": COURSE_MD.replace("competences:", "pass_score: 120\ncompetences:")},
        "courses/testkurs/course.md:4: 'pass_score' must be a whole number from 0 to 100 (percent), not 120",
    ),
    "pass_score negative": (
        {"course.md": COURSE_MD.replace("competences:", "pass_score: -1\ncompetences:")},
        "courses/testkurs/course.md:4: 'pass_score' must be a whole number from 0 to 100 (percent), not -1",
    ),
    "pass_score as text": (
        {"course.md": COURSE_MD.replace("competences:", 'pass_score: "80"\ncompetences:')},
        "courses/testkurs/course.md:4: 'pass_score' must be a whole number from 0 to 100 (percent), not '80'",
    ),
    "valid_months zero": (
        {"course.md": COURSE_MD.replace("competences:", "valid_months: 0\ncompetences:")},
        "courses/testkurs/course.md:4: 'valid_months' must be a whole number above 0 (months), not 0",
    ),
    "duration a fraction": (
        {"course.md": COURSE_MD.replace("competences:", "duration_minutes: 12.5\ncompetences:")},
        "courses/testkurs/course.md:4: 'duration_minutes' must be a whole number above 0 (minutes), not 12.5",
    ),
    "duration a boolean": (
        {"course.md": COURSE_MD.replace("competences:", "duration_minutes: yes\ncompetences:")},
        "courses/testkurs/course.md:4: 'duration_minutes' must be a whole number above 0 (minutes), not True",
    ),
    "tags not a list": (
        {"course.md": COURSE_MD.replace("competences:", "tags: sicherheit\ncompetences:")},
        "courses/testkurs/course.md:4: 'tags' must be a list, e.g. [sicherheit, e-mail]",
    ),
    "unknown competence id": (
        {"course.md": COURSE_MD.replace('"4.2", level: 3}', '"4.2", level: 3}\n  - {id: "7.7", level: 2}')},
        "courses/testkurs/course.md:6: unknown competence id '7.7': the framework digcomp-2.2 has no such competence",
    ),
    "competence level outside the framework": (
        {"course.md": COURSE_MD.replace("level: 3", "level: 9")},
        "courses/testkurs/course.md:5: competence 4.2: level 9 is not a level of digcomp-2.2 (1–8)",
    ),
    "competence level not a number": (
        {"course.md": COURSE_MD.replace('{id: "4.2", level: 3}', '\n    id: "4.2"\n    level: drei')},
        "courses/testkurs/course.md:7: competence 4.2: level 'drei' is not a level of digcomp-2.2 (1–8)",
    ),
    "competence listed twice": (
        {"course.md": COURSE_MD.replace('"4.2", level: 3}', '"4.2", level: 3}\n  - {id: "4.2", level: 4}')},
        "courses/testkurs/course.md:6: competence 4.2 is listed twice",
    ),
    "competence not a mapping": (
        {"course.md": COURSE_MD.replace('{id: "4.2", level: 3}', '"4.2"')},
        'courses/testkurs/course.md:5: each competence is {id: "4.2", level: 3}',
    ),
    "no course.md": ({"course.md": None}, "courses/testkurs:1: course folder has no course.md"),
    "no lessons": ({"01-erste.md": None}, "courses/testkurs/course.md:1: the course has no lessons"),
    "empty lesson": ({"01-erste.md": lesson("\n\n")}, "courses/testkurs/01-erste.md:1: the lesson is empty"),
    "empty lesson after its title heading": (
        {"01-erste.md": "# Nur ein Titel\n"},
        "courses/testkurs/01-erste.md:1: the lesson is empty",
    ),
    "lesson without title": (
        {"01-erste.md": "## Nur eine Unterüberschrift\n\nText\n"},
        "courses/testkurs/01-erste.md:1: the lesson has no title",
    ),
    "lesson title not text": (
        {"01-erste.md": "---\ntitle: [a, b]\n---\n\nText\n"},
        "courses/testkurs/01-erste.md:2: 'title' must be a text",
    ),
    "lesson file name not a key": (
        {"Lektion 2.md": "# Zwei\n\nText\n"},
        "courses/testkurs/Lektion 2.md:1: lesson file names use lowercase letters a-z, digits and single hyphens",
    ),
    "lesson not UTF-8": (
        {"01-erste.md": b"# Titel\n\nZeile 3\n\nGr" + "öße\n".encode("latin-1")},
        "courses/testkurs/01-erste.md:5: not UTF-8 text: save the file as UTF-8",
    ),
    "course.md not UTF-8": (
        {"course.md": COURSE_MD.encode("cp1252")},
        "courses/testkurs/course.md:8: not UTF-8 text: save the file as UTF-8",
    ),
    "quiz YAML malformed": (
        {"01-erste.md": lesson('Text\n\n```quiz\nquestion: "Frage?"\nanswers:\n  - {text: "a", correct: true\n```\n')},
        "courses/testkurs/01-erste.md:9: invalid YAML: expected ',' or '}'",
    ),  # the unclosed brace
    "quiz not a mapping": (
        {"01-erste.md": lesson("Text\n\n```quiz\n- nur\n- eine Liste\n```\n")},
        "courses/testkurs/01-erste.md:6: a ```quiz block holds YAML: question, answers",
    ),
    "quiz empty": (
        {"01-erste.md": lesson("Text\n\n```quiz\n\n```\n")},
        "courses/testkurs/01-erste.md:6: a ```quiz block holds YAML: question, answers",
    ),
    "quiz holding only a comment": (
        {"01-erste.md": lesson("Text\n\n```quiz\n# kommt noch\n```\n")},
        "courses/testkurs/01-erste.md:6: a ```quiz block holds YAML: question, answers",
    ),
    "quiz never closed": (
        {"01-erste.md": lesson("Text\n\n```quiz\nquestion: Frage?\n")},
        "courses/testkurs/01-erste.md:6: this ```quiz block is never closed",
    ),
    "quiz without question": (
        {
            "01-erste.md": lesson(
                "Text\n\n```quiz\nanswers:\n  - {text: a, correct: true}\n  - {text: b, correct: false}\n```\n"
            )
        },
        "courses/testkurs/01-erste.md:7: the quiz has no 'question' (a text)",
    ),
    "quiz with one answer": (
        {"01-erste.md": lesson("Text\n\n```quiz\nquestion: Frage?\nanswers:\n  - {text: a, correct: true}\n```\n")},
        "courses/testkurs/01-erste.md:8: a quiz needs at least 2 answers, this one has 1",
    ),
    "quiz without a correct answer": (
        {
            "01-erste.md": lesson(
                "Text\n\n```quiz\nquestion: Frage?\nanswers:\n  - {text: a, correct: false}\n"
                "  - {text: b, correct: false}\n```\n"
            )
        },
        "courses/testkurs/01-erste.md:8: no answer is marked 'correct: true'",
    ),
    "answers not a list": (
        {"01-erste.md": lesson("Text\n\n```quiz\nquestion: Frage?\nanswers: a, b\n```\n")},
        "courses/testkurs/01-erste.md:8: 'answers' must be a list of {text: \"…\", correct: true/false}",
    ),
    "answer is plain text": (
        {
            "01-erste.md": lesson(
                "Text\n\n```quiz\nquestion: Frage?\nanswers:\n  - Ja\n  - {text: b, correct: true}\n```\n"
            )
        },
        'courses/testkurs/01-erste.md:9: answer 1 must be {text: "…", correct: true/false}',
    ),
    "answer correct is not a boolean": (
        {
            "01-erste.md": lesson(
                "Text\n\n```quiz\nquestion: Frage?\nanswers:\n  - text: a\n    correct: ja\n"
                "  - {text: b, correct: false}\n```\n"
            )
        },
        "courses/testkurs/01-erste.md:10: answer 1: 'correct' must be true or false, not 'ja'",
    ),
    "answer without text": (
        {
            "01-erste.md": lesson(
                "Text\n\n```quiz\nquestion: Frage?\nanswers:\n  - {text: a, correct: true}\n  - {correct: false}\n```\n"
            )
        },
        "courses/testkurs/01-erste.md:10: answer 2 has no 'text'",
    ),
    "quiz in course.md": (
        {"course.md": COURSE_MD + "\n```quiz\nquestion: x\n```\n"},
        "courses/testkurs/course.md:10: quiz blocks belong in lesson files, not in course.md",
    ),
    "image missing": (
        {"01-erste.md": lesson("Text\n\n![Bild](media/fehlt.png)\n")},
        "courses/testkurs/01-erste.md:6: image 'media/fehlt.png' does not exist",
    ),
    "image remote": (
        {"01-erste.md": lesson("Text\n\nMit ![Bild](https://example.org/bild.png) im Satz\n")},
        "courses/testkurs/01-erste.md:6: image 'https://example.org/bild.png' is remote",
    ),
    "image remote without scheme": (
        {"01-erste.md": lesson("Text\n\n![Bild](//example.org/bild.png)\n")},
        "courses/testkurs/01-erste.md:6: image '//example.org/bild.png' is remote",
    ),
    "image remote by reference": (
        {"01-erste.md": lesson("Text\n\n![Bild][logo]\n\n[logo]: http://example.org/logo.png\n")},
        "courses/testkurs/01-erste.md:8: image 'http://example.org/logo.png' is remote",
    ),
    "image escaping the folder": (
        {"01-erste.md": lesson("Text\n\n![Bild](media/../../anderer-kurs/media/x.svg)\n")},
        "courses/testkurs/01-erste.md:6: image 'media/../../anderer-kurs/media/x.svg' escapes the course folder",
    ),
    "image with an absolute path": (
        {"01-erste.md": lesson("Text\n\n![Bild](/etc/passwd)\n")},
        "courses/testkurs/01-erste.md:6: image '/etc/passwd' is not a file of this course",
    ),
    "image as data URL": (
        {"01-erste.md": lesson("Text\n\n![Bild](data:image/png;base64,iVBORw0KGgo=)\n")},
        "courses/testkurs/01-erste.md:6: image 'data:image/png;base64,iVBORw0KGgo=' is not a file of this course",
    ),
    "image outside media": (
        {"01-erste.md": lesson("Text\n\n![Bild](bild.svg)\n"), "bild.svg": SVG},
        "courses/testkurs/01-erste.md:6: image 'bild.svg' must be in the course's media/ folder",
    ),
    "image of a type that is not an image": (
        {"01-erste.md": lesson("Text\n\n![Handout](media/handout.pdf)\n"), "media/handout.pdf": b"%PDF-1.7"},
        "courses/testkurs/01-erste.md:6: image 'media/handout.pdf' cannot be used: see the problem reported",
    ),
    "image in the intro missing": (
        {"course.md": COURSE_MD + "\n![Bild](media/fehlt.svg)\n"},
        "courses/testkurs/course.md:10: image 'media/fehlt.svg' does not exist",
    ),
    "image too large": (
        {"media/gross.png": PNG + b"\0" * (2 * 1024 * 1024)},
        "courses/testkurs/media/gross.png:1: the image has 2.0 MB; at most 2 MB are allowed",
    ),
    "image content not matching its type": (
        {"media/bild.png": b"<html>kein Bild</html>"},
        "courses/testkurs/media/bild.png:1: the file is not a PNG image",
    ),
    "SVG with a script": (
        {"media/bild.svg": b'<svg xmlns="http://www.w3.org/2000/svg">\n<rect/>\n<script>alert(1)</script>\n</svg>'},
        "courses/testkurs/media/bild.svg:3: the SVG contains a <script> element",
    ),
    "SVG with an event handler": (
        {"media/bild.svg": b'<svg xmlns="http://www.w3.org/2000/svg"\n  onload="alert(1)">\n</svg>'},
        "courses/testkurs/media/bild.svg:2: the SVG contains an event handler attribute (on…=)",
    ),
    "SVG with an external reference": (
        {
            "media/bild.svg": b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">\n'
            b'<image xlink:href="https://example.org/x.png"/>\n</svg>'
        },
        "courses/testkurs/media/bild.svg:2: the SVG refers to another file or address",
    ),
    "SVG loading a style from elsewhere": (
        {
            "media/bild.svg": b'<svg xmlns="http://www.w3.org/2000/svg">\n<style>\n@import "https://example.org/x.css";\n'
            b"</style>\n</svg>"
        },
        "courses/testkurs/media/bild.svg:3: the SVG loads a style resource from elsewhere",
    ),
    "folder name with capitals and underscore": (
        {},
        "courses/Test_Kurs:1: folder name 'Test_Kurs' is not a valid course slug",
    ),
    "folder name with a double hyphen": (
        {},
        "courses/test--kurs:1: folder name 'test--kurs' is not a valid course slug",
    ),
    "folder name ending in a hyphen": ({}, "courses/testkurs-:1: folder name 'testkurs-' is not a valid course slug"),
}
FOLDER_NAMES = {
    "folder name with capitals and underscore": "Test_Kurs",
    "folder name with a double hyphen": "test--kurs",
    "folder name ending in a hyphen": "testkurs-",
}


@pytest.mark.parametrize("case", BAD_INPUT)
def test_bad_input_is_an_error_at_its_file_and_line(tmp_path, case):
    files, expected = BAD_INPUT[case]
    course, messages = parse(make_course(tmp_path, files, slug=FOLDER_NAMES.get(case, "testkurs")))
    assert course is None, messages
    assert any(message.startswith(expected) for message in messages), messages


WARNINGS = {
    "unknown key in course.md": (
        {"course.md": COURSE_MD.replace("competences:", "autor: Erika\ncompetences:")},
        "courses/testkurs/course.md:4: warning: unknown key 'autor' in course.md (ignored)",
    ),
    "unknown key in a lesson": (
        {"01-erste.md": LESSON_MD.replace('title: "Erste Lektion"', 'title: "Erste Lektion"\ndauer: 5')},
        "courses/testkurs/01-erste.md:3: warning: unknown key 'dauer' in a lesson's front matter (ignored)",
    ),
    "unknown key in a quiz": (
        {"01-erste.md": LESSON_MD.replace('question: "Ist das richtig?"', 'question: "Ist das richtig?"\nhinweis: x')},
        "courses/testkurs/01-erste.md:11: warning: unknown key 'hinweis' in a quiz (ignored)",
    ),
    "retired competence": (
        {"course.md": COURSE_MD.replace('"4.2"', '"2.9"')},
        "courses/testkurs/course.md:5: warning: competence 2.9 is retired in digcomp-2.2",
    ),
    "tag listed twice": (
        {"course.md": COURSE_MD.replace("competences:", "tags: [a, b, a]\ncompetences:")},
        "courses/testkurs/course.md:4: warning: tag 'a' is listed twice",
    ),
    "not an image in media": (
        {"media/handout.pdf": b"%PDF-1.7"},
        "courses/testkurs/media/handout.pdf:1: warning: ignored: media/ holds images",
    ),
}


@pytest.mark.parametrize("case", WARNINGS)
def test_questionable_input_is_a_warning_and_the_course_is_still_valid(tmp_path, case):
    files, expected = WARNINGS[case]
    course, messages = parse(make_course(tmp_path, files))
    assert course is not None, messages
    assert len(messages) == 1 and messages[0].startswith(expected), messages


def test_every_problem_of_a_course_is_reported_at_once(tmp_path):
    folder = make_course(
        tmp_path,
        {
            "course.md": COURSE_MD.replace("competences:", "pass_score: 101\ncompetences:").replace('"4.2"', '"9.1"'),
            "02-leer.md": lesson(""),
        },
        slug="Kurs",
    )
    course, messages = parse(folder)
    assert course is None
    assert [message.split(": ")[0] for message in messages] == [
        "courses/Kurs:1",
        "courses/Kurs/02-leer.md:1",
        "courses/Kurs/course.md:4",
        "courses/Kurs/course.md:6",
    ]


def test_a_link_to_a_file_outside_the_course_folder_is_an_error_and_not_read(tmp_path):
    secret = tmp_path / "geheim.txt"
    secret.write_text("Passwort")
    folder = make_course(tmp_path, {"01-erste.md": lesson("![Bild](media/bild.svg)\n")})
    (folder / "media").mkdir()
    (folder / "media" / "bild.svg").symlink_to(secret)
    assert read_course_files(folder)["media/bild.svg"] is None
    course, messages = parse(folder)
    assert course is None
    assert messages == [
        "courses/testkurs/media/bild.svg:1: a link to a file outside the course folder",
        "courses/testkurs/01-erste.md:4: image 'media/bild.svg' cannot be used: see the problem reported for that file",
    ]


def test_a_missing_front_matter_is_reported_even_when_a_lesson_has_errors_too(tmp_path):
    course, messages = parse(make_course(tmp_path, {"course.md": "Kein Kopf.\n", "01-erste.md": lesson("")}))
    assert course is None
    assert messages == [
        "courses/testkurs/01-erste.md:1: the lesson is empty",
        "courses/testkurs/course.md:1: course.md must start with front matter between --- lines, with at least "
        "title and summary",
    ]


def test_the_documented_example_is_a_valid_course(tmp_path):
    doc = (PROJECT_ROOT / "docs" / "course-format.md").read_text(encoding="utf-8")
    files = {
        name: body + "\n"
        for name, _fence, body in re.findall(
            r"`courses/sichere-passwoerter/([\w.-]+)`:\n\n(`{3,4})markdown\n(.*?)\n\2\n", doc, re.S
        )
    }
    assert sorted(files) == ["01-gute-passwoerter.md", "02-passwort-manager.md", "course.md"]
    course, messages = parse(
        make_course(tmp_path, {**files, "media/passphrase.svg": SVG}, slug="sichere-passwoerter", base=False)
    )
    assert messages == []
    assert [len(lesson.questions) for lesson in course.lessons] == [1, 2]


def test_the_shipped_svgs_pass_the_svg_check():
    for path in sorted(Path(PROJECT_ROOT, "courses").glob("*/media/*.svg")):
        problems = Problems()
        assert check_media(f"media/{path.name}", path.read_bytes(), str(path), problems) is not None, problems.items


@pytest.mark.parametrize(
    "yaml_text",
    ["? [a]\n: b", "{[a]: 1}", "date: 2001-02-30", "n: " + "9" * 5000],
    ids=["list as key", "list as flow key", "impossible date", "huge integer"],
)
@pytest.mark.parametrize("where", ["front matter", "quiz"])
def test_yaml_that_python_cannot_hold_is_an_error_not_a_crash(tmp_path, yaml_text, where):
    """YAML accepts these; building them in Python raises. Typed into the editor, they must not crash it."""
    body = f"Text\n\n```quiz\n{yaml_text}\n```\n" if where == "quiz" else "Text\n"
    front = yaml_text if where == "front matter" else 'title: "Lektion"'
    course, messages = parse(make_course(tmp_path, {"01-erste.md": lesson(body, front)}))
    assert course is None
    assert any("01-erste.md:" in message and "invalid YAML" in message for message in messages), messages
