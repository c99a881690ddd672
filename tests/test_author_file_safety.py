"""Author files cannot attack the server or a browser: SVGs pass an allowlist, YAML has no aliases.

Every case goes through the real import path (`parse_course`), as `flask courses sync` reads it.
"""

from __future__ import annotations

import time

import pytest

from lms.catalog.media import check_media
from lms.common.sourcefile import Problems
from lms.frameworks.loader import DEFAULT_FRAMEWORK_FILE, parse_framework_file
from tests.test_course_format import COURSE_MD, SVG, in_tmp_path, lesson, make_course, parse  # noqa: F401

HEAD = '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 10 10">\n'

# name: (SVG text, line, start of the message). Each of them got past the old blocklist of regexes
# unless marked "(also refused before)".
UNSAFE_SVGS = {
    "script with a namespace prefix": (
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:svg="http://www.w3.org/2000/svg">\n'
        "<rect/>\n<svg:script>alert(1)</svg:script>\n</svg>",
        3,
        "the SVG contains a <script> element",
    ),
    "script in the XHTML namespace": (
        HEAD + '<rect/>\n<h:script xmlns:h="http://www.w3.org/1999/xhtml">alert(1)</h:script>\n</svg>',
        3,
        "the SVG uses the namespace 'http://www.w3.org/1999/xhtml'",
    ),
    "foreignObject with a namespace prefix": (
        '<svg:svg xmlns:svg="http://www.w3.org/2000/svg">\n<svg:foreignObject><p>HTML</p></svg:foreignObject>\n</svg:svg>',
        2,
        "the SVG contains a <foreignObject> element",
    ),
    "<set> turning href into a javascript: address behind a character reference": (
        HEAD + '<a href="#x">\n<set attributeName="href" to="&#x6A;avascript:alert(1)"/>\n<rect/></a>\n</svg>',
        2,
        "the SVG contains a <a> element",
    ),
    "<set> itself": (
        HEAD + '<rect>\n<set attributeName="href" to="&#x6A;avascript:alert(1)"/>\n</rect>\n</svg>',
        3,
        "the SVG contains a <set> element",
    ),
    "<animate> with a javascript: value behind a character reference": (
        HEAD + '<rect>\n<animate attributeName="href" values="&#106;avascript:alert(1)"/>\n</rect>\n</svg>',
        3,
        "the SVG contains a <animate> element",
    ),
    "CSS escape in a style attribute": (
        HEAD + '<rect\n  style="fill:u\\72l(https://evil.example/x.svg#p)"/>\n</svg>',
        3,
        "the SVG contains a style attribute",
    ),
    "CSS escape in a <style> element": (
        HEAD + "<style>\n@\\69mport 'https://evil.example/x.css';\n</style>\n</svg>",
        2,
        "the SVG contains a <style> element",
    ),
    "CSS escape in a presentation attribute": (
        HEAD + '<rect fill="\\75rl(https://evil.example/x.svg#p)"/>\n</svg>',
        2,
        "the SVG's attribute fill= contains a backslash",
    ),
    "url() behind a character reference in a presentation attribute": (
        HEAD + '<rect\n fill="u&#x72;l(https://evil.example/x.svg#p)"/>\n</svg>',
        3,
        "the SVG refers to another file or address",
    ),
    "an external DTD": (
        '<?xml version="1.0"?>\n<!DOCTYPE svg SYSTEM "https://evil.example/x.dtd">\n' + HEAD + "</svg>",
        2,
        "the SVG has a <!DOCTYPE …>",
    ),
    "billion laughs entities (also refused before)": (
        '<!DOCTYPE svg [\n<!ENTITY a "aaaaaaaaaa">\n<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">\n]>\n'
        + HEAD
        + "<text>&b;</text></svg>",
        1,
        "the SVG has a <!DOCTYPE …>",
    ),
    "an external xlink:href (also refused before)": (
        HEAD + '<use\n  xlink:href="https://evil.example/sprite.svg#icon"/>\n</svg>',
        3,
        "the SVG refers to another file or address",
    ),
    "<use href> to another file (also refused before)": (
        HEAD + '<use href="sprite.svg#icon"/>\n</svg>',
        2,
        "the SVG refers to another file or address",
    ),
    "an event handler (also refused before)": (
        HEAD + '<g>\n<rect width="1"\n      onclick="alert(1)"/></g>\n</svg>',
        4,
        "the SVG contains an event handler attribute (on…=): onclick",
    ),
    "an image": (HEAD + '<image href="#x"/>\n</svg>', 2, "the SVG contains a <image> element"),
    "an xml-stylesheet processing instruction": (
        '<?xml-stylesheet type="text/css" href="https://evil.example/x.css"?>\n' + HEAD + "</svg>",
        1,
        "the SVG contains a processing instruction <?xml-stylesheet …?>",
    ),
    "xml:base": (HEAD + '<g xml:base="https://evil.example/"/>\n</svg>', 2, "the SVG contains the attribute xml:base="),
    "an unknown attribute": (HEAD + '<rect\n\n  data-x="1"/>\n</svg>', 4, "the SVG contains the attribute data-x="),
    "a CSS function that is not allowed": (
        HEAD + "<rect fill=\"image-set('https://evil.example/x.png' 1x)\"/>\n</svg>",
        2,
        "the SVG's attribute fill= uses image-set(…)",
    ),
    "a root that is not <svg>": ('<html xmlns="http://www.w3.org/2000/svg"/>', 1, "the root element must be <svg"),
    "not well-formed": (HEAD + "<rect>\n</svg>", 3, "the SVG is not well-formed XML"),
}


@pytest.mark.parametrize("case", UNSAFE_SVGS)
def test_an_unsafe_svg_is_refused_at_its_line(tmp_path, case):
    svg, line, message = UNSAFE_SVGS[case]
    course, messages = parse(make_course(tmp_path, {"media/bild.svg": svg.encode()}))
    assert course is None, messages
    assert any(m.startswith(f"courses/testkurs/media/bild.svg:{line}: {message}") for m in messages), messages


def test_a_rich_but_safe_svg_passes():
    svg = (
        HEAD + '<title id="t">Titel</title><desc>Beschreibung</desc>\n'
        '<defs><linearGradient id="g" x1="0" x2="1"><stop offset="0" stop-color="#fff"/>'
        '<stop offset="1" stop-color="rgb(0, 0, 0)" stop-opacity="0.5"/></linearGradient>\n'
        '<marker id="m" markerWidth="4" markerHeight="4" refX="2" refY="2" orient="auto">'
        '<path d="M0,0 L4,2 L0,4 z"/></marker>\n'
        '<clipPath id="c"><circle cx="5" cy="5" r="5"/></clipPath><symbol id="s" viewBox="0 0 1 1">'
        '<ellipse rx="1" ry="1"/></symbol></defs>\n'
        '<g clip-path="url(#c)" transform="translate(1 1) rotate(45)">'
        '<rect width="10" height="10" fill="url(\'#g\')" stroke="black" stroke-width="0.5"/>'
        '<line x1="0" y1="0" x2="5" y2="5" marker-end="url(#m)"/><polyline points="0,0 1,1"/>'
        '<polygon points="0,0 1,1 1,0" fill-rule="evenodd"/></g>\n'
        '<use href="#s" x="1"/><use xlink:href="#s" y="1"/>\n'
        '<text x="1" y="9" font-family="Arial, sans-serif" font-size="2" text-anchor="middle" xml:space="preserve">'
        'Größe: 5 &lt; 6 &amp; "(gut)"<tspan font-weight="bold" dx="1">!</tspan></text>\n'
        "<!-- ein Kommentar --></svg>"
    )
    problems = Problems()
    assert check_media("media/bild.svg", ('<?xml version="1.0" encoding="UTF-8"?>\n' + svg).encode(), "x", problems)
    assert problems.items == []
    assert check_media("media/bild.svg", SVG, "x", problems) and problems.items == []


def test_each_kind_of_svg_problem_is_reported_once():
    problems = Problems()
    svg = HEAD + '<rect onclick="a()"/>\n<rect onclick="b()"/>\n<script/>\n<script/>\n</svg>'
    assert check_media("media/bild.svg", svg.encode(), "x", problems) is None
    assert [str(problem) for problem in problems.items] == [
        "x:2: the SVG contains an event handler attribute (on…=): onclick",
        "x:4: the SVG contains a <script> element, which is not allowed",
    ]


# -- YAML: anchors and aliases ("billion laughs") are refused before anything expands


def bomb(levels: int = 7) -> str:
    """`a` holds 9 values, `b` nine times `a`, …: 9**levels values from a few lines."""
    names = "abcdefghijklmnop"[:levels]
    lines = [f"{names[0]}: &{names[0]} [x, x, x, x, x, x, x, x, x]"]
    lines += [
        f"{name}: &{name} [{', '.join([f'*{previous}'] * 9)}]" for previous, name in zip(names, names[1:], strict=False)
    ]
    return "\n".join(lines) + "\n"


def timed_parse(folder):
    started = time.perf_counter()
    course, messages = parse(folder)
    return course, messages, time.perf_counter() - started


def test_an_alias_bomb_in_a_quiz_block_is_refused_quickly(tmp_path):
    quiz = "```quiz\nquestion: Frage?\nanswers: [{text: a, correct: true}, {text: b, correct: false}]\n"
    folder = make_course(tmp_path, {"01-erste.md": lesson(f"Text\n\n{quiz}{bomb()}```\n")})
    course, messages, seconds = timed_parse(folder)
    assert course is None
    assert messages == ["courses/testkurs/01-erste.md:9: YAML anchors and aliases (&, *) are not allowed"]
    assert seconds < 0.5


def test_an_alias_bomb_in_front_matter_is_refused_quickly(tmp_path):
    folder = make_course(tmp_path, {"course.md": COURSE_MD.replace("competences:", bomb() + "competences:")})
    course, messages, seconds = timed_parse(folder)
    assert course is None
    assert messages == ["courses/testkurs/course.md:4: YAML anchors and aliases (&, *) are not allowed"]
    assert seconds < 0.5


@pytest.mark.parametrize(
    ("yaml_text", "line"),
    [
        ('title: &t "Lektion"', 2),  # an anchor alone
        ('title: "Lektion"\nbase: &b {x: 1}\nmore:\n  <<: *b', 3),  # a merge key
        ('title: "Lektion"\nx: *undefined', 3),  # an alias without its anchor
    ],
)
def test_any_anchor_or_alias_in_front_matter_is_refused(tmp_path, yaml_text, line):
    course, messages = parse(make_course(tmp_path, {"01-erste.md": lesson("Text\n", front_matter=yaml_text)}))
    assert course is None
    assert f"courses/testkurs/01-erste.md:{line}: YAML anchors and aliases (&, *) are not allowed" in messages


def test_ampersands_and_stars_in_texts_are_just_text(tmp_path):
    course, messages = parse(make_course(tmp_path, {"01-erste.md": lesson("Text\n", front_matter='title: "&a *b"')}))
    assert messages == [] and course.lessons[0].title == "&a *b"


def test_deeply_nested_yaml_is_an_error_not_a_crash(tmp_path):
    quiz = "```quiz\nquestion: " + "[" * 3000 + "]" * 3000 + "\n```\n"
    course, messages = parse(make_course(tmp_path, {"01-erste.md": lesson(f"Text\n\n{quiz}")}))
    assert course is None
    assert messages == ["courses/testkurs/01-erste.md:7: invalid YAML: it is nested too deeply"]


def test_an_alias_in_a_framework_file_is_refused(tmp_path):
    path = tmp_path / "framework.yaml"
    path.write_text("framework: &f {id: x}\nlevels: []\nareas: []\n", encoding="utf-8")
    parsed, problems = parse_framework_file(path)
    assert parsed is None
    assert [str(problem) for problem in problems.items] == [
        f"{path}:1: YAML anchors and aliases (&, *) are not allowed"
    ]


def test_the_shipped_framework_uses_no_anchors():
    parsed, problems = parse_framework_file(DEFAULT_FRAMEWORK_FILE)
    assert parsed is not None and problems.items == []
