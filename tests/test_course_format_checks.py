"""More checks of the course format: messages test_course_format.py does not cover, and their order."""

from __future__ import annotations

import pytest

from lms.catalog.format import FrameworkInfo, parse_course, read_course_files
from lms.common.sourcefile import Problems
from tests.test_course_format import COURSE_MD, FRAMEWORK, in_tmp_path, lesson, make_course, parse  # noqa: F401

BAD_INPUT = {
    "title too long": (
        {"course.md": COURSE_MD.replace('"Testkurs"', "T" * 301)},
        ["courses/testkurs/course.md:2: 'title' is longer than 300 characters"],
    ),
    "tags that are not short texts": (
        {"course.md": COURSE_MD.replace("competences:", f"tags: [gut, true, '', {'x' * 61}, [a]]\ncompetences:")},
        ["courses/testkurs/course.md:4: each tag must be a short text (at most 60 characters)"] * 4,
    ),
    "competences not a list": (
        {"course.md": COURSE_MD.replace('competences:\n  - {id: "4.2", level: 3}', 'competences: "4.2"')},
        ["courses/testkurs/course.md:4: 'competences' must be a list of {id: \"4.2\", level: 3}"],
    ),
    "a competence without an id": (
        {"course.md": COURSE_MD.replace('{id: "4.2", level: 3}', "{level: 3}")},
        ["courses/testkurs/course.md:5: competence 'id' is missing"],
    ),
    "a competence with every problem": (
        {"course.md": COURSE_MD.replace('{id: "4.2", level: 3}', '{id: "2.9", level: 0, note: x}')},
        [
            "courses/testkurs/course.md:5: warning: unknown key 'note' in a competence (ignored)",
            "courses/testkurs/course.md:5: warning: competence 2.9 is retired in digcomp-2.2",
            "courses/testkurs/course.md:5: competence 2.9: level 0 is not a level of digcomp-2.2 (1–8)",
        ],
    ),
    "lesson title too long": (
        {"01-erste.md": lesson("Text\n", front_matter="title: " + "T" * 301)},
        ["courses/testkurs/01-erste.md:2: the title is longer than 300 characters"],
    ),
    "explanation not a text": (
        {
            "01-erste.md": lesson(
                "Text\n\n```quiz\nquestion: Frage?\nanswers: [{text: a, correct: true}, {text: b, correct: false}]\n"
                "explanation: [a, b]\n```\n"
            )
        },
        ["courses/testkurs/01-erste.md:9: 'explanation' must be a text"],
    ),
    "a quiz with every problem, in order": (
        {
            "01-erste.md": lesson(
                "Text\n\n```quiz\nexplanation: 5\nanswers:\n  - Ja\n  - {text: '', correct: 1, hinweis: x}\n```\n"
            )
        },
        [
            "courses/testkurs/01-erste.md:7: the quiz has no 'question' (a text)",
            "courses/testkurs/01-erste.md:7: 'explanation' must be a text",
            'courses/testkurs/01-erste.md:9: answer 1 must be {text: "…", correct: true/false}',
            "courses/testkurs/01-erste.md:10: warning: unknown key 'hinweis' in an answer (ignored)",
            "courses/testkurs/01-erste.md:10: answer 2 has no 'text'",
            "courses/testkurs/01-erste.md:10: answer 2: 'correct' must be true or false, not 1",
        ],
    ),
}


@pytest.mark.parametrize("case", BAD_INPUT)
def test_bad_input_gets_exactly_these_messages(tmp_path, case):
    files, expected = BAD_INPUT[case]
    course, messages = parse(make_course(tmp_path, files))
    assert course is None and messages == expected


def test_competences_need_a_loaded_framework(tmp_path):
    problems = Problems()
    folder = make_course(tmp_path)
    not_loaded = FrameworkInfo("digcomp-2.2", {}, loaded=False)
    assert parse_course(folder, read_course_files(folder), not_loaded, problems) is None
    assert [str(problem) for problem in problems.items] == [
        "courses/testkurs/course.md:4: the competency framework digcomp-2.2 is not loaded: "
        "run `flask skills load-framework` first"
    ]


def test_a_quiz_keeps_its_trimmed_explanation_and_an_empty_one_is_none(tmp_path):
    quiz = "```quiz\nquestion: Q?\nanswers: [{{text: a, correct: true}}, {{text: b, correct: false}}]\n{}```\n\n"
    body = "Text\n\n" + quiz.format("explanation: '  Weil.  '\n") + quiz.format("explanation: ''\n")
    course, messages = parse(make_course(tmp_path, {"01-erste.md": lesson(body)}))
    assert messages == []
    assert [question.explanation for question in course.lessons[0].questions] == ["Weil.", None]


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"course.md": "---\n---\nText.\n"}, "courses/testkurs/course.md:1: 'title' is missing"),
        ({"01-erste.md": "# " + "T" * 301 + "\n\nText.\n"}, "the title is longer than 300 characters"),
        (
            {"course.md": COURSE_MD.replace("level: 3", "level: [3]")},
            "competence 4.2: level [3] is not a level of digcomp-2.2 (1–8)",
        ),
    ],
)
def test_odd_author_input_gets_a_message_not_a_crash(tmp_path, files, expected):
    course, messages = parse(make_course(tmp_path, files))
    assert course is None and any(expected in message for message in messages), messages
