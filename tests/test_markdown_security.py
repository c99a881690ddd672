"""Author text never runs in a learner's browser: XSS payloads go through the real import path.

Escaped text such as `&lt;script&gt;` is harmless and allowed; what must never survive is markup:
a script element, an event handler, a style attribute or a javascript:/data: address in a tag.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from lms.catalog.importer import sync_directory
from lms.catalog.markdown import render_markdown
from lms.catalog.models import Course, Lesson
from lms.extensions import db
from tests.test_course_format import COURSE_MD, SVG, make_course, parse

PAYLOADS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "<img src=x onerror=alert(1)>",
    '<img src="x" onerror="alert(1)"/>',
    '<iframe src="javascript:alert(1)"></iframe>',
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "<svg/onload=alert(1)>",
    '<math><mi xlink:href="javascript:alert(1)">x</mi></math>',
    '<a href="javascript:alert(1)">x</a>',
    '<a href="JaVaScRiPt:alert(1)">x</a>',
    '<a href="https://ok.example" onclick="alert(1)">ok</a>',
    '<p style="background:url(javascript:alert(1))">x</p>',
    '<div style="position:fixed;inset:0">Overlay</div>',
    "<style>body{display:none}</style>",
    "<link rel=stylesheet href=//evil.example/x.css>",
    '<base href="//evil.example/">',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<object data="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="></object>',
    '<embed src="javascript:alert(1)">',
    '<form action="javascript:alert(1)"><button>Senden</button></form>',
    "<details open ontoggle=alert(1)>",
    "<body onload=alert(1)>",
    "<xss onafterscriptexecute=alert(1)><script>1</script>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    "<!--<script>alert(1)</script>-->",
    '<div markdown="1"><script>alert(1)</script></div>',
    '<abbr title="x" onmouseover="alert(1)">x</abbr>',
    "[x](javascript:alert(1))",
    "[x](JAVASCRIPT:alert(1))",
    "[x](java&#x09;script:alert(1))",
    "[x](&#106;avascript:alert(1))",
    "[x](javascript&colon;alert(1))",
    "[x](  javascript:alert(1)  )",
    '[x](javascript:alert(1) "Titel")',
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[x](vbscript:msgbox(1))",
    "[x][ref]\n\n[ref]: javascript:alert(1)",
    '[x](https://ok.example/" onmouseover="alert(1))',
    "<javascript:alert(1)>",
    '<https://ok.example/" onmouseover="alert(1)>',
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "&#60;script&#62;alert(1)&#60;/script&#62;",
    "&#x3C;img src=x onerror=alert(1)&#x3E;",
    "\\<script>alert(1)\\</script>",
    "`<script>alert(1)</script>`",
    "```html\n<script>alert(1)</script>\n```",
    '!!! note "<script>alert(1)</script>"\n    Inhalt',
    "!!! note onclick=alert(1)\n    Inhalt",
    "| a | b |\n|---|---|\n| <img src=x onerror=alert(1)> | <script>alert(1)</script> |",
    "## Überschrift <script>alert(1)</script>",
    "[TOC]\n\n## <img src=x onerror=alert(1)>",
]

# Markdown images whose address is not one of the course's own media files: reported and removed.
IMAGE_PAYLOADS = [
    "![x](javascript:alert(1))",
    "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "![x](https://evil.example/tracking.png)",
    "![x](//evil.example/x.png)",
    "![x](../../../etc/passwd)",
    '![x](media/bild.svg" onerror="alert(1))',
]

ALLOWED_TAGS = {
    "p",
    "br",
    "hr",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "strong",
    "em",
    "b",
    "i",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "dl",
    "dt",
    "dd",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "caption",
    "a",
    "img",
    "div",
    "span",
    "sup",
    "sub",
    "abbr",
}
HANDLER_OR_STYLE = re.compile(r"[\s/]on\w+\s*=|[\s/]style\s*=", re.I)


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))


def assert_safe(html: str) -> None:
    assert "<script" not in html.lower()
    for tag_text in re.findall(r"<[^>]*>", html):  # markup only: escaped text holds no raw '<'
        names_only = re.sub(r'"[^"]*"', '""', tag_text)  # inside a quoted value, "onclick=" is just text
        assert not HANDLER_OR_STYLE.search(names_only), tag_text
    parser = _Tags()
    parser.feed(html)
    for tag, attrs in parser.tags:
        assert tag in ALLOWED_TAGS, tag
        for name, value in attrs:
            assert not name.startswith("on") and name != "style", (tag, name)
            address = re.sub(r"[\s\x00-\x1f]", "", value or "").lower()  # as a browser reads it
            assert not address.startswith(("javascript:", "vbscript:", "data:")), (tag, name, value)
            if tag == "img" and name == "src":
                assert value.startswith("/courses/"), value


@pytest.fixture(autouse=True)
def in_tmp_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_payload_in_a_lesson_and_in_the_intro_is_neutralised(tmp_path, payload):
    course, messages = parse(
        make_course(
            tmp_path,
            {"course.md": f"{COURSE_MD}\n{payload}\n", "01-erste.md": f"# Lektion\n\nVorher\n\n{payload}\n\nNachher\n"},
        )
    )
    assert course is not None, messages
    assert_safe(course.intro_html)
    assert_safe(course.lessons[0].body_html)
    assert "Vorher" in course.lessons[0].body_html and "Nachher" in course.lessons[0].body_html


@pytest.mark.parametrize("payload", IMAGE_PAYLOADS)
def test_an_image_that_is_not_a_media_file_is_an_error_and_removed(tmp_path, payload):
    folder = make_course(tmp_path, {"01-erste.md": f"# Lektion\n\nText\n\n{payload}\n", "media/bild.svg": SVG})
    course, messages = parse(folder)
    assert course is None
    assert len(messages) == 1 and messages[0].startswith("courses/testkurs/01-erste.md:5: image "), messages
    html = render_markdown(payload, lambda src: None)
    assert "<img" not in html
    assert_safe(html)


def test_raw_html_is_shown_as_text_not_dropped():
    html = render_markdown('Ein <b>fett</b> und <img src=x onerror="alert(1)">')
    assert html == '<p>Ein &lt;b&gt;fett&lt;/b&gt; und &lt;img src=x onerror="alert(1)"&gt;</p>'


def test_safe_markdown_keeps_its_structure():
    html = render_markdown(
        '## Größe\n\n!!! warning "Achtung"\n    Text\n\n| a |\n|---|\n| 1 |\n\n'
        "[Link](https://example.org) <https://example.org/b> [Mail](mailto:a@example.org)\n"
    )
    assert '<h2 id="abschnitt-groesse">Größe</h2>' in html
    assert '<div class="admonition warning">\n<p class="admonition-title">Achtung</p>' in html
    assert "<table>" in html and "<td>1</td>" in html
    assert '<a href="https://example.org" rel="noopener noreferrer">Link</a>' in html
    assert '<a href="https://example.org/b" rel="noopener noreferrer">' in html
    assert '<a href="mailto:a@example.org" rel="noopener noreferrer">Mail</a>' in html


def test_stored_html_is_safe(database, digcomp, tmp_path):
    lessons = {
        f"{number:02d}-payload.md": f"# Lektion {number}\n\n{payload}\n"
        for number, payload in enumerate(PAYLOADS, start=1)
    }
    make_course(tmp_path, {"course.md": COURSE_MD + "\n" + "\n\n".join(PAYLOADS[:10]) + "\n", **lessons}, base=True)
    result = sync_directory(tmp_path / "courses")
    db.session.commit()
    assert (result.created, result.failed) == (1, 0), [str(p) for p in result.problems]
    stored = db.session.execute(select(Lesson.body_html)).scalars().all()
    assert len(stored) == len(PAYLOADS) + 1
    for html in [*stored, db.session.execute(select(Course.intro_html)).scalar_one()]:
        assert_safe(html)
