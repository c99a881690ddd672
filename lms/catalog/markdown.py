"""Author Markdown to sanitised HTML, once, at import time (pages never render Markdown).

Before rendering, `split_body` takes out what the course format adds to Markdown: ```quiz
blocks and the `# ` heading that can name a lesson.

Two layers keep author text from running in a learner's browser:
1. Python-Markdown runs without its raw-HTML handling, so `<script>` in a lesson is shown as text.
2. nh3 then keeps only an allowlist of tags, attributes, classes and URL schemes.

Images are checked by the caller's `resolve_image(src)`: it returns the URL to use, or None to drop
the image (the caller reports why).
"""

from __future__ import annotations

import posixpath
import re
import xml.etree.ElementTree as etree
from collections.abc import Callable, Container
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit

import markdown
import nh3
from markdown.extensions import Extension
from markdown.extensions.toc import slugify
from markdown.treeprocessors import Treeprocessor

EXTENSIONS = ["tables", "fenced_code", "toc", "admonition", "sane_lists"]
HEADING_ID_PREFIX = "abschnitt-"  # heading ids never clash with the page's own ids

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
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "th": {"colspan", "rowspan", "scope"},
    "td": {"colspan", "rowspan", "scope"},
    "abbr": {"title"},
    **{f"h{level}": {"id"} for level in range(2, 7)},
}
ADMONITION_TYPES = {"note", "tip", "hint", "important", "warning", "caution", "danger", "attention", "error", "info"}
# Class is allowed only with these values (nh3 wants `class` absent from ALLOWED_ATTRIBUTES for this).
ALLOWED_CLASSES = {
    "div": {"admonition", "toc", *ADMONITION_TYPES},
    "p": {"admonition-title"},
    "span": {"toctitle"},
}
URL_SCHEMES = {"http", "https", "mailto"}

_FENCE = re.compile(r"^(`{3,}|~{3,})[ \t]*([^\s`]*)")
_H1 = re.compile(r"^#(?!#)[ \t]*(.*?)[ \t#]*$")
_GERMAN_LETTERS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss"})


@dataclass
class MarkdownBody:
    """A body split by `split_body`; line indexes count from the body's first line (0)."""

    markdown: str  # the body without its quiz blocks (blank lines in their place)
    quizzes: list[tuple[int, str]]  # (index of the opening fence, YAML text inside)
    heading: tuple[int, str] | None  # (index, text) of the first `# ` heading
    unclosed_quiz: int | None = None  # index of a ```quiz fence that is never closed

    def without_heading(self) -> str:
        lines = self.markdown.splitlines()
        if self.heading:
            lines[self.heading[0]] = ""
        return "\n".join(lines)


def split_body(body: str) -> MarkdownBody:
    """Take the ```quiz blocks out of a Markdown body and find its first `# ` heading (outside code)."""
    kept: list[str] = []
    quizzes: list = []
    heading: tuple[int, str] | None = None
    fence: str | None = None
    quiz: tuple[int, list[str]] | None = None
    for index, line in enumerate(body.splitlines()):
        if fence is not None:
            if line.rstrip() == fence:  # Python-Markdown closes a fence with the same fence
                if quiz is not None:
                    quizzes.append((quiz[0], "\n".join(quiz[1])))
                    kept.append("")
                else:
                    kept.append(line)
                fence = quiz = None
            elif quiz is not None:
                quiz[1].append(line)
                kept.append("")
            else:
                kept.append(line)
            continue
        opening = _FENCE.match(line)
        if opening:
            fence = opening.group(1)
            quiz = (index, []) if opening.group(2) == "quiz" else None
            kept.append("" if quiz else line)
            continue
        title = _H1.match(line)
        if heading is None and title and title.group(1):
            heading = (index, title.group(1))
        kept.append(line)
    return MarkdownBody("\n".join(kept), quizzes, heading, quiz[0] if quiz is not None else None)


def spell_out_german(text: str) -> str:
    """Umlauts and ß as the ASCII spelling Germans use (Größe → Groesse)."""
    return text.translate(_GERMAN_LETTERS)


def heading_id(text: str, separator: str) -> str:
    """`## Größe prüfen` → `abschnitt-groesse-pruefen`: readable ASCII ids with a fixed prefix."""
    return HEADING_ID_PREFIX + slugify(text.translate(_GERMAN_LETTERS), separator)


class _PageStructure(Treeprocessor):
    """The page shows the title as h1, so headings in the body start at h2; images are checked."""

    def __init__(self, md, resolve_image: Callable[[str], str | None] | None):
        super().__init__(md)
        self.resolve_image = resolve_image

    def run(self, root: etree.Element) -> None:
        for element in root.iter("h1"):
            element.tag = "h2"
        for parent in list(root.iter()):
            for child in list(parent):
                if child.tag == "img":
                    self._check_image(parent, child)

    def _check_image(self, parent: etree.Element, image: etree.Element) -> None:
        url = self.resolve_image(image.get("src", "")) if self.resolve_image else None
        if url is not None:
            image.set("src", url)
            return
        # Drop the element but keep the text that followed it.
        index = list(parent).index(image)
        if image.tail:
            if index:
                previous = parent[index - 1]
                previous.tail = (previous.tail or "") + image.tail
            else:
                parent.text = (parent.text or "") + image.tail
        parent.remove(image)


class _LernpfadMarkdown(Extension):
    def __init__(self, resolve_image):
        super().__init__()
        self.resolve_image = resolve_image

    def extendMarkdown(self, md) -> None:  # noqa: N802 (Python-Markdown's name)
        # Raw HTML becomes escaped text: authors never write markup that reaches the browser.
        md.preprocessors.deregister("html_block")
        md.inlinePatterns.deregister("html")
        # After inline parsing (20) has created the <img> elements, before the toc (5) reads headings.
        md.treeprocessors.register(_PageStructure(md, self.resolve_image), "lernpfad_page_structure", 15)


def course_image_url(
    src: str, slug: str, media: Container[str], files: Container[str]
) -> tuple[str | None, str | None]:
    """Where a course's image is served, or None and why not.

    Images must be the course's own files in media/ (no external requests); `media` holds their
    paths below media/, `files` every file of the course folder.
    """
    parts = urlsplit(src)
    if parts.scheme in ("http", "https") or parts.netloc:
        return None, f"image '{src}' is remote: images must be files in the course's media/ folder"
    path = unquote(parts.path)
    if parts.scheme or not path or path.startswith("/"):
        return None, f"image '{src}' is not a file of this course: images must be files in media/"
    path = posixpath.normpath(path)
    if path == ".." or path.startswith("../"):
        return None, f"image '{src}' escapes the course folder: images must be files in media/"
    if not path.startswith("media/"):
        return None, f"image '{src}' must be in the course's media/ folder"
    if path[len("media/") :] not in media:
        if path in files:
            return None, f"image '{src}' cannot be used: see the problem reported for that file"
        return None, f"image '{src}' does not exist"
    return f"/courses/{slug}/media/{quote(path[len('media/') :])}", None


def sanitise(html: str) -> str:
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        allowed_classes=ALLOWED_CLASSES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


def render_markdown(text: str, resolve_image: Callable[[str], str | None] | None = None) -> str:
    """Sanitised HTML for `text`. Without `resolve_image` every image is dropped."""
    md = markdown.Markdown(
        extensions=[*EXTENSIONS, _LernpfadMarkdown(resolve_image)],
        extension_configs={"toc": {"slugify": heading_id}},
        output_format="html",
    )
    return sanitise(md.convert(text))
