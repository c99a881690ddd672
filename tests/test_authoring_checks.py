"""The content check before publishing (lms.authoring.checks): accessibility and plain language,
on top of the parser's own errors."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from lms.authoring.checks import Finding, Severity, check_course, readability
from lms.catalog.format import read_course_files

COURSES = Path(__file__).resolve().parent.parent / "courses"

COURSE_MD = """---
title: "Testkurs"
summary: "Ein Kurs für die Tests."
competences:
  - {id: "4.2", level: 3}
---

Eine kurze Einleitung.
"""
QUIZ = """```quiz
question: "Was stimmt?"
answers:
  - {text: "Das hier", correct: true}
  - {text: "Das nicht", correct: false}
```
"""
# Front matter of three lines plus its two --- lines: a lesson's body starts on line 4.
FRONT_MATTER = '---\ntitle: "Eine Lektion"\n---\n'
BODY_START = 4


pytestmark = pytest.mark.database_free


def lesson(body: str, front_matter: str = FRONT_MATTER, quiz: bool = True) -> bytes:
    return (front_matter + body + ("\n" + QUIZ if quiz else "")).encode()


def course(files: dict[str, bytes | str]) -> dict[str, bytes]:
    """course.md and the given files, as read_course_files gives them."""
    return {"course.md": COURSE_MD.encode()} | {
        path: content.encode() if isinstance(content, str) else content for path, content in files.items()
    }


def findings(files: dict[str, bytes], severity: Severity | None = None, containing: str = "") -> list[Finding]:
    return [
        finding
        for finding in check_course(files)
        if (severity is None or finding.severity == severity) and containing in finding.message
    ]


@pytest.fixture(autouse=True)
def english(app):
    """The messages are translated when the check runs: English (the source text) here."""
    with app.test_request_context(headers={"Accept-Language": "en"}):
        yield


# -- 1. images without alternative text


def test_an_image_without_alt_text_is_an_error_at_its_line():
    body = "## Bild\n\nText davor.\n\n![](media/bild.png)\n"
    found = findings(course({"01-bild.md": lesson(body)}), Severity.ERROR)
    assert [(f.path, f.line) for f in found] == [("01-bild.md", BODY_START + 4)]
    assert "media/bild.png" in found[0].message
    assert "alternative text" in found[0].message


@pytest.mark.parametrize(
    "image",
    [
        "![   ](media/bild.png)",
        '![](media/bild.png "Ein Titel ist kein Alternativtext")',
        "Text mit ![](media/bild.png) mitten im Satz.",
        "![][bild]\n\n[bild]: media/bild.png",
    ],
)
def test_images_without_alt_text_in_any_form(image):
    assert findings(course({"01-bild.md": lesson(image)}), Severity.ERROR, "alternative text")


@pytest.mark.parametrize(
    "text",
    [
        "![Ein Passwort-Manager mit drei Einträgen](media/bild.png)",
        "![Bild eines Schlosses][bild]\n\n[bild]: media/bild.png",
        "```\n![](media/bild.png)\n```",  # code, not an image
        "Schreiben Sie `![](media/bild.png)` nie ohne Text.",  # inline code
        "![][nirgends]",  # an undefined reference is shown as text
        r"Ein \![](media/bild.png) ist kein Bild.",
    ],
)
def test_images_with_alt_text_or_no_image_at_all_pass(text):
    assert not findings(course({"01-bild.md": lesson(text)}), Severity.ERROR)


def test_images_in_the_introduction_and_variants_are_checked():
    files = course(
        {
            "01-a.md": lesson("Text."),
            "einfache-sprache/course.md": '---\ntitle: "Leicht"\nsummary: "S"\n---\n\n![](media/a.png)\n',
            "einfache-sprache/01-a.md": lesson("Text.\n\n![](media/a.png)\n"),
        }
    )
    files["course.md"] = COURSE_MD.encode() + b"\n![ ](media/b.png)\n"
    found = findings(files, Severity.ERROR)
    assert [(f.path, f.line) for f in found] == [
        ("course.md", 10),
        ("einfache-sprache/01-a.md", BODY_START + 2),
        ("einfache-sprache/course.md", 6),
    ]


# -- 2. competences without a level


def test_a_competence_without_a_level_is_an_error_at_its_line():
    files = course({"01-a.md": lesson("Text.")})
    files["course.md"] = COURSE_MD.replace(
        '  - {id: "4.2", level: 3}', '  - {id: "4.2", level: 3}\n  - {id: "1.1"}\n  - "2.3"\n  - {id: "3.1", level:}'
    ).encode()
    found = findings(files, Severity.ERROR)
    assert [(f.path, f.line) for f in found] == [("course.md", 6), ("course.md", 7), ("course.md", 8)]
    assert "Competence 1.1 has no level" in found[0].message
    assert "Competence 2.3 has no level" in found[1].message


def test_competences_with_levels_pass():
    assert not findings(course({"01-a.md": lesson("Text.")}), Severity.ERROR)


def test_a_competence_without_id_or_level_is_reported_in_plain_words():
    files = course({"01-a.md": lesson("Text.")})
    files["course.md"] = COURSE_MD.replace('{id: "4.2", level: 3}', "{note: 1}").encode()
    (found,) = findings(files, Severity.ERROR)
    assert found.line == 5
    assert 'write it as {id: "4.2", level: 3}' in found.message


# -- 3. skipped heading levels


def test_a_skipped_heading_level_is_a_warning_at_its_line():
    body = "## Erstens\n\nText.\n\n#### Zu tief\n\nText.\n"
    (found,) = findings(course({"01-a.md": lesson(body)}), Severity.WARNING, "Heading")
    assert found.line == BODY_START + 4
    assert "#### follows ##; use ### here" in found.message


def test_the_first_heading_should_be_level_two():
    (found,) = findings(course({"01-a.md": lesson("### Zu tief\n\nText.\n")}), Severity.WARNING, "heading")
    assert found.line == BODY_START
    assert "first heading is ###" in found.message


@pytest.mark.parametrize(
    "body",
    [
        "## Eins\n\n### Zwei\n\n#### Drei\n\n## Vier\n\n### Fünf\n",
        "# Wie zwei gezeigt\n\n### Drei\n",  # a body's `#` is shown as ##
        "## Eins\n\n```\n#### Kein Titel, sondern Code\n```\n",
        "Zwei\n----\n\n### Drei\n",  # an underlined heading is ## too
        "Nur Text, keine Überschriften.\n",
    ],
)
def test_headings_in_order_pass(body):
    assert not findings(course({"01-a.md": lesson(body)}), Severity.WARNING, "heading")


def test_a_lessons_title_heading_does_not_count_but_a_second_one_does():
    # Without a front-matter title, the first `# ` heading is the lesson's title (the page's h1).
    untitled = "# Der Titel\n\n### Zu tief\n"
    (found,) = findings(course({"01-a.md": lesson(untitled, front_matter="")}), Severity.WARNING, "heading")
    assert (found.line, "first heading is ###" in found.message) == (3, True)
    titled = "# Wie zwei gezeigt\n\n### Drei\n"
    assert not findings(course({"01-a.md": lesson(titled)}), Severity.WARNING, "heading")


def test_headings_of_the_introduction_are_checked_too():
    files = course({"01-a.md": lesson("Text.")})
    files["course.md"] = COURSE_MD.encode() + b"\n### Zu tief\n"
    assert [f.path for f in findings(files, Severity.WARNING, "heading")] == ["course.md"]


# -- 4. link texts that say nothing


@pytest.mark.parametrize(
    "link",
    [
        "[hier](https://example.org/merkblatt)",
        "[Klicken Sie hier!](https://example.org/)",
        "[hier klicken](https://example.org/)",
        "[**Mehr**](https://example.org/)",
        "[weiter …](https://example.org/)",
        "[Link](https://example.org/)",
        "[diese Seite](https://example.org/)",
        "[Mehr erfahren](https://example.org/)",
        "[Weiterlesen](https://example.org/)",
        "[here](https://example.org/)",
        "[Click here.](https://example.org/)",
        "[more](https://example.org/)",
        "[Read more](https://example.org/)",
        "[hier][merkblatt]\n\n[merkblatt]: https://example.org/",
        "[ hier ]\n\n[hier]: https://example.org/",
    ],
)
def test_link_texts_that_say_nothing_are_warnings(link):
    files = course({"01-a.md": lesson(f"Das Merkblatt finden Sie {link}.\n")})
    (found,) = findings(files, Severity.WARNING, "Link text")
    assert found.line == BODY_START
    assert "says nothing on its own" in found.message


@pytest.mark.parametrize(
    "link, says",
    [
        ("[https://example.org/merkblatt](https://example.org/merkblatt)", "bare address"),
        ("[www.example.org](https://www.example.org)", "bare address"),
        ("<https://example.org/merkblatt>", "bare address"),
        ("[](https://example.org/)", "no text"),
        ("[ → ](https://example.org/)", "no text"),
    ],
)
def test_a_bare_address_or_no_text_as_link_text_is_a_warning(link, says):
    (found,) = findings(course({"01-a.md": lesson(f"Text.\n\nSiehe {link}\n")}), Severity.WARNING, "link")
    assert found.line == BODY_START + 2
    assert says in found.message


@pytest.mark.parametrize(
    "text",
    [
        "Lesen Sie das [Merkblatt zur E-Akte](https://example.org/merkblatt).",
        "Mehr steht [im Merkblatt zur E-Akte](https://example.org/hier).",  # "hier" in the address is fine
        "Schreiben Sie nie `[hier](https://example.org)`.",
        "```\n[hier](https://example.org)\n```",
        "Ein [hier] ohne Verweis ist kein Link.",
        "[![Logo der Stadt Musterhausen](media/logo.png)](https://example.org)",
        "Mail an <it-hilfe@musterhausen.example>.",
        "[TOC]",
    ],
)
def test_link_texts_that_name_their_target_pass(text):
    assert not findings(course({"01-a.md": lesson(text)}), Severity.WARNING, "link")


def test_a_link_over_two_lines_is_found_at_its_first_line():
    body = "Text.\n\nDas steht im Merkblatt, [mehr\nerfahren](https://example.org) Sie dort.\n"
    (found,) = findings(course({"01-a.md": lesson(body)}), Severity.WARNING, "Link text")
    assert found.line == BODY_START + 2


# -- 5. lessons without a quiz


def test_a_lesson_without_a_quiz_is_a_warning_at_line_one():
    found = findings(course({"01-a.md": lesson("Text.", quiz=False)}), Severity.WARNING, "quiz")
    assert [(f.path, f.line) for f in found] == [("01-a.md", 1)]


def test_lessons_with_a_quiz_and_the_introduction_need_none():
    files = course({"01-a.md": lesson("Text."), "02-b.md": lesson("Mehr Text.", quiz=True)})
    assert not findings(files, Severity.WARNING, "quiz")


def test_a_variants_lesson_without_a_quiz_is_reported_under_its_path():
    files = course(
        {
            "01-a.md": lesson("Text."),
            "einfache-sprache/course.md": '---\ntitle: "Leicht"\nsummary: "S"\n---\n\nText.\n',
            "einfache-sprache/01-a.md": lesson("Text.", quiz=False),
        }
    )
    assert [f.path for f in findings(files, Severity.WARNING, "quiz")] == ["einfache-sprache/01-a.md"]


# -- 6. long sentences


def words(count: int, word: str = "Wort") -> str:
    return " ".join([word] * count)


def test_a_sentence_of_more_than_25_words_is_a_warning_with_its_first_words():
    body = f"Kurzer Satz.\n\nWenn Sie eine E-Mail {words(27, 'bekommen')}. Danach ein kurzer Satz.\n"
    (found,) = findings(course({"01-a.md": lesson(body)}), Severity.WARNING, "Sentence")
    assert found.line == BODY_START + 2
    assert found.message == "Sentence of 31 words: „Wenn Sie eine E-Mail bekommen …“ — split it"


def test_a_sentence_of_25_words_passes():
    body = f"Kurzer Satz. {words(25)}. {words(25)}! {words(25)}?\n"
    assert not findings(course({"01-a.md": lesson(body)}), Severity.WARNING, "Sentence")


@pytest.mark.parametrize(
    "abbreviation",
    ["z. B.", "z.B.", "d. h.", "u. a.", "bzw.", "Nr.", "Abs.", "Art.", "i. d. R.", "vgl.", "ggf.", "ca.", "am 1."],
)
def test_abbreviations_end_no_sentence(abbreviation):
    # 13 words, the abbreviation, 13 words: one long sentence, two short ones if it ended one.
    sentence = f"{words(13)} {abbreviation} Januar {words(12)}."
    (found,) = findings(course({"01-a.md": lesson(sentence)}), Severity.WARNING, "Sentence")
    assert f"{13 + len(abbreviation.split()) + 13} words" in found.message


def test_a_legal_reference_stays_one_sentence():
    # 18 words before the padding: "§" is no word, "z." and "B." are two.
    sentence = "Das regelt § 3 Abs. 2 Nr. 1 und Art. 6 Abs. 1 lit. b DSGVO, z. B. für " + words(12) + "."
    (found,) = findings(course({"01-a.md": lesson(sentence)}), Severity.WARNING, "Sentence")
    assert "30 words" in found.message


@pytest.mark.parametrize(
    "body",
    [
        f"- {words(15)}\n- {words(15)}\n",  # list items end sentences
        f"1. {words(15)}\n2. {words(15)}\n",
        f"## {words(15)}\n{words(15)}\n",  # a heading is no part of a sentence
        f"{words(15)}\n\n{words(15)}\n",  # nor is a paragraph of the next
        f"{words(15)}\n\n```\n{words(30)}\n```\n",  # code is no prose
        f"{words(20)} `{' '.join(['code'] * 20)}`.\n",  # inline code: one word
        f"{words(20)} https://example.org/a/b/c?d=e.f {words(3)} www.example.org/x.\n",  # addresses are no words
        f"{words(20)} [das Merkblatt](https://example.org/{'/'.join(['teil'] * 20)}).\n",
        f"| {words(15)} | {words(15)} |\n|---|---|\n| {words(15)} | {words(15)} |\n",  # table cells end sentences
        f'!!! note "{words(20)}"\n    {words(20)}\n',  # an admonition's title is a label
        f"{words(15)}. {words(15)}.\n",
    ],
)
def test_what_is_not_one_long_sentence(body):
    assert not findings(course({"01-a.md": lesson(body)}), Severity.WARNING, "Sentence")


def test_quiz_blocks_are_not_prose():
    long_question = QUIZ.replace("Was stimmt?", words(40) + ", was stimmt?")
    assert not findings(course({"01-a.md": lesson("Text.\n\n" + long_question)}), Severity.WARNING, "Sentence")


def test_at_most_five_long_sentences_per_file_and_then_a_summary():
    body = "\n\n".join(f"Satz {number} {words(30)}." for number in range(1, 9))
    found = findings(course({"01-a.md": lesson(body)}), Severity.WARNING)
    long = [f for f in found if "Sentence" in f.message or "more sentences" in f.message]
    assert [f.line for f in long] == [BODY_START + 2 * n for n in range(6)]
    assert "„Satz 5 Wort Wort Wort …“" in long[4].message
    assert long[5].message == "3 more sentences of more than 25 words in this file: split them too"


def test_long_sentences_of_the_introduction_count_too():
    files = course({"01-a.md": lesson("Text.")})
    files["course.md"] = COURSE_MD.encode() + f"\n{words(30)}.\n".encode()
    assert [(f.path, f.line) for f in findings(files, Severity.WARNING, "Sentence")] == [("course.md", 10)]


# -- 7. readability

EASY = """Sie haben eine neue Mail. Die Mail ist von der Bank. Die Bank will Ihr Passwort.
Das ist nicht gut. Eine Bank fragt nie nach dem Passwort. Sie klicken nicht auf den Link.
Sie rufen die Bank an. Sie nehmen die Nummer aus Ihrem Heft. So sind Sie sicher.
"""
HARD = """Die datenschutzrechtliche Verantwortlichkeit der kommunalen Gebietskörperschaft erstreckt sich
hinsichtlich automatisierter Verarbeitungsvorgänge personenbezogener Informationen insbesondere auf
die ordnungsgemäße Dokumentation sämtlicher Verarbeitungstätigkeiten einschließlich technischer und
organisatorischer Sicherheitsvorkehrungen. Unzureichende Berechtigungskonzeptionen verursachen
erfahrungsgemäß erhebliche Vertraulichkeitsbeeinträchtigungen innerhalb verwaltungsinterner
Informationsverarbeitungsinfrastrukturen.
"""


def test_readability_of_an_easy_german_text_is_easy():
    score = readability(EASY)
    assert score is not None and score >= 80  # easy or very easy (Amstad's formula can pass 100)


def test_readability_of_a_hard_german_text_is_very_difficult():
    score = readability(HARD)
    assert score is not None and score < 30


def test_readability_is_none_for_too_little_text():
    assert readability("Ein Satz mit sechs Wörtern hier.") is None
    assert readability("```quiz\n" + words(50) + "\n```\n") is None  # a quiz is not prose


def test_readability_is_the_amstad_formula():
    # 7 sentences of 5 words and 6 syllables (Die Kat-ze schläft im Haus): 180 − 5 − 58.5 × 1.2.
    assert readability("Die Katze schläft im Haus. " * 7) == pytest.approx(104.8)


def test_each_lesson_gets_its_readability_with_its_band():
    files = course({"01-leicht.md": lesson(EASY), "02-schwer.md": lesson(HARD)})
    easy = findings(files, containing="Readability")[0]
    hard = findings(files, containing="Readability")[1]
    assert (easy.path, easy.severity, easy.line) == ("01-leicht.md", Severity.INFO, 1)
    assert easy.message.split(" — ")[1] in ("easy", "very easy")
    assert (hard.path, hard.severity) == ("02-schwer.md", Severity.WARNING)
    assert " — very difficult: use shorter sentences" in hard.message


def test_no_readability_for_short_lessons_the_introduction_or_english_courses():
    files = course({"01-a.md": lesson("Ein kurzer Text.")})
    files["course.md"] = COURSE_MD.encode() + EASY.encode()
    assert not findings(files, containing="Readability")
    english = course({"01-a.md": lesson(EASY)})
    english["course.md"] = COURSE_MD.replace("competences:", "language: en\ncompetences:").encode()
    assert not findings(english, containing="Readability")


# -- what is checked, order, and malformed input


def test_sources_and_files_outside_lessons_are_not_checked():
    files = course(
        {
            "01-a.md": lesson("Text."),
            "SOURCES.md": "[hier](https://example.org) ![](x.png)\n",
            "media/notizen.md": "[hier](https://example.org) ![](x.png)\n",
            "anderes/01-a.md": "[hier](https://example.org) ![](x.png)\n",
        }
    )
    assert {f.path for f in check_course(files)} <= {"01-a.md"}


def test_findings_are_sorted_by_path_and_line():
    bad = lesson("[hier](https://example.org)\n\n### Zu tief\n\n![](media/a.png)\n", quiz=False)
    files = course({"02-b.md": bad, "01-a.md": bad})
    found = check_course(files)
    assert [(f.path, f.line) for f in found] == sorted((f.path, f.line) for f in found)
    assert {f.path for f in found} == {"01-a.md", "02-b.md"}
    assert all(isinstance(f.message, str) and f.line >= 1 for f in found)


@pytest.mark.parametrize(
    "content",
    [
        b"\xff\xfe not UTF-8 ![](media/a.png)",
        b"",
        b"---\n",
        b"---\ntitle: [unclosed\n---\n![](media/a.png)\n",
        b"---\ntitle: x\nno closing line\n![](media/a.png)\n",
        b"---\n? [a]\n: b\n---\n![](media/a.png)\n",  # an unhashable key: the YAML loader raises TypeError
        b"---\na: " + b"1" * 5000 + b"\n---\n",  # more digits than int() takes
        b"---\na: 2001-02-30\n---\n",  # no such date
        b"---\n- a list\n---\nText.\n",
        b"---\n" + b"[" * 300 + b"\n---\n",  # unclosed, deeply nested YAML
        b"```quiz\nquestion: never closed\n",
        b"```\nnever closed code [hier](x)\n",
        b"[" * 20000 + b"](" * 5000 + b"![" * 5000,
        "\x00\x1b\u202e# \u202e\n".encode(),
        "\n".join(["Satz. z. B. " * 50] * 200).encode(),
        b"## a\n===\n---\n|\n|-|\n| |\n> ## b\n- ## c\n!!!\n    ```\n",
    ],
)
def test_malformed_files_never_raise(content):
    files = course({"01-a.md": content, "einfache-sprache/01-a.md": content})
    files["course.md"] = content
    for finding in check_course(files):
        assert finding.line >= 1


@pytest.mark.parametrize(
    "pattern",
    ["![a](", '[a](b "', ". ", "1. ", "\n-\n", "`a", "a_", "|-", "|-\n", "#" + " " * 50 + "x\n", "." * 50 + "x"],
)
def test_adversarial_text_is_checked_in_linear_time(pattern):
    # Trainers paste text in the browser: no text may make a pattern backtrack for minutes.
    # Quadratic, some of these took a minute; linear, each takes about a second at most.
    content = (pattern * (100_000 // len(pattern))).encode()
    started = time.monotonic()
    check_course(course({"01-a.md": content}))
    assert time.monotonic() - started < 10


@pytest.mark.parametrize(
    "front_matter",
    [
        "competences: 4.2",
        "competences: [[1, 2], null, true, {id: [1]}, {level: 3}]",
        "competences:\n  - {id: {nested: true}}",
        "language: [de]",
    ],
)
def test_odd_course_front_matter_never_raises(front_matter):
    files = course({"01-a.md": lesson("Text.")})
    files["course.md"] = f"---\ntitle: x\nsummary: y\n{front_matter}\n---\n\nText.\n".encode()
    check_course(files)


def test_a_file_whose_yaml_python_cannot_hold_is_still_checked_and_nothing_raises():
    files = course(
        {
            "01-a.md": b"---\n? [a]\n: b\n---\n![](media/a.png)\n",
            "02-b.md": lesson("![](media/b.png)"),
        }
    )
    assert [f.path for f in findings(files, Severity.ERROR)] == ["01-a.md", "02-b.md"]


# -- the shipped courses


@pytest.mark.parametrize("folder", sorted(path.name for path in COURSES.iterdir() if path.is_dir()))
def test_shipped_courses_have_no_errors(folder):
    files = {path: data for path, data in read_course_files(COURSES / folder).items() if data is not None}
    found = check_course(files)
    assert [finding for finding in found if finding.severity == Severity.ERROR] == []
    assert any("Readability" in finding.message for finding in found)  # the score runs on real lessons
