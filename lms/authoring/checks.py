"""The content check before publishing: what makes a course hard to use or inaccessible.

The parser (lms.catalog.format) decides whether a course can be imported at all and reports its
own errors; these checks come on top of it, in plain words for the trainer who edits the course:
ERROR findings block publishing, WARNING and INFO findings do not. They read the course's files
only (no database), and no file content makes them raise: what cannot be read is skipped, the
parser reports it.

Markdown is read from its source, line by line, because findings name the line to fix (the
rendered HTML has no lines). The reading follows what lms.catalog.markdown renders: quiz blocks
and fenced code are not prose, a lesson's first `# ` heading may be its title, a `#` heading in
the body is shown as `##`.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from lms.catalog.format import NOT_LESSONS
from lms.catalog.markdown import split_body
from lms.catalog.rules import VARIANTS
from lms.common.sourcefile import LineList, LineMap, Problems, read_front_matter
from lms.i18n import _


class Severity(StrEnum):
    ERROR = "error"  # blocks publishing
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True)
class Finding:
    severity: Severity
    path: str  # the file inside the course folder: "01-einfuehrung.md", "einfache-sprache/01-einfuehrung.md"
    line: int  # 1-based, best effort
    message: str  # translated when the check ran


# A sentence longer than this is hard to read in plain language; each file reports a few of them
# and then one summary, so that a long text does not bury the other findings.
LONG_SENTENCE_WORDS = 25
LONG_SENTENCES_PER_FILE = 5
EXCERPT_WORDS = 5
# Below this much prose a readability score says nothing.
READABILITY_MIN_WORDS = 30

# Link texts that say nothing when a screen reader lists a page's links out of context
# (compared lowercased, without punctuation).
VAGUE_LINK_TEXTS = {
    "hier",
    "klicken sie hier",
    "hier klicken",
    "mehr",
    "weiter",
    "link",
    "diese seite",
    "mehr erfahren",
    "weiterlesen",
    "here",
    "click here",
    "more",
    "read more",
}

# -- reading Markdown source

# Author text reaches these patterns as it is: possessive quantifiers (`*+`) and caps (`{0,500}`)
# keep each one linear, so that no text makes the check take time growing with its square.
_FENCE = re.compile(r"^(`{3,}|~{3,})")  # Python-Markdown's fences start in the first column
_CODE_SPAN = re.compile(r"(?<![\\`])(`+)(?!`)((?:(?!\n[ \t]*\n).){1,3000}?)(?<!`)\1(?!`)", re.DOTALL)
_BRACKETED = r"(?:[^\[\]\n]|\n(?![ \t]*+\n)|\[[^\[\]\n]*+\])*+"  # one nesting level, never across a blank line
_TITLE = r"""(?:[ \t\n]++(?:"[^"\n]{0,500}+"|'[^'\n]{0,500}+'|\([^)\n]{0,500}+\)))?"""
_IMAGE = re.compile(
    rf"(?<!\\)!\[(?P<alt>{_BRACKETED})\]"
    rf"(?:\([ \t]*+<?(?P<src>[^)\s>]{{0,1000}}+)>?{_TITLE}[ \t]*+\)|\[(?P<ref>[^\]\n]{{0,500}}+)\])"
)
_LINK = re.compile(
    rf"(?<![!\\])\[(?P<text>{_BRACKETED})\]"
    rf"(?:\(\s*+<?(?P<url>[^()\s>]*+(?:\([^()\s]*+\)[^()\s>]*+)*+)>?{_TITLE}\s*+\)|\[(?P<ref>[^\]\n]{{0,500}}+)\])?"
)
_AUTOLINK = re.compile(r"<(?P<url>(?:https?|ftp)://[^<>\s]*+)>", re.IGNORECASE)
_REFERENCE = re.compile(r"^ {0,3}\[(?P<label>[^\]\n]++)\]:[ \t]*+\S.*$", re.MULTILINE)
_BARE_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_URL_IN_TEXT = re.compile(r"(?:https?://|www\.)[^\s<>]*+", re.IGNORECASE)
_URL_TRAILING_PUNCTUATION = ".,;:!?)]»“\"'"
_EMPHASIS = re.compile(r"\*++|~~|(?<!\w)_++|_++(?!\w)")
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|])")
_ATX_HEADING = re.compile(r"^(#{1,6})(?!#)(.*)$")
_SETEXT_UNDERLINE = re.compile(r"^(=+|-+)[ \t]*+$")
_RULE = re.compile(r"^ {0,3}([-*_])(?:[ \t]*+\1){2,}+[ \t]*+$")
_TABLE_DELIMITER = re.compile(r"^\s*+\|?\s*+:?-++:?\s*+(?:\|\s*+:?-++:?\s*+)*+\|?\s*+$")
_CELL_SEPARATOR = re.compile(r"(?<!\\)\|")
_LIST_ITEM = re.compile(r"^\s*+(?:[-*+]|\d{1,9}[.)])[ \t]++")
_QUOTE = re.compile(r"^\s*+(?:>\s?)++")
_ADMONITION = re.compile(r"^!!!\s*\w")

# -- sentences

_SENTENCE_END = re.compile(r"(?:[.!?]++|…)[\"'“”„»«’)\]]*+(?=\s|$)")
_NEXT_WORD = re.compile(r"\s*(\S+)")
_OPENING_PUNCTUATION = "([„“\"'»«‚"
# Abbreviations whose period ends no sentence (lowercase, without the period). Single letters
# ("z. B.", "d. h.", "u. a.", "i. d. R.") are caught by a rule of their own. Left out on purpose:
# "usw." and "etc.", which mostly do end a sentence.
ABBREVIATIONS = {
    "abs",
    "abschn",
    "abzgl",
    "allg",
    "anl",
    "anm",
    "art",
    "aufl",
    "bd",
    "bspw",
    "bzgl",
    "bzw",
    "ca",
    "di",
    "dr",
    "ebd",
    "einschl",
    "evtl",
    "exkl",
    "ff",
    "fr",
    "gem",
    "ggf",
    "ggü",
    "hr",
    "hrsg",
    "inkl",
    "insb",
    "insbes",
    "jh",
    "kap",
    "lit",
    "max",
    "mi",
    "mind",
    "mio",
    "mo",
    "mr",
    "mrd",
    "mrs",
    "nr",
    "prof",
    "sog",
    "std",
    "str",
    "tel",
    "tsd",
    "vgl",
    "vs",
    "ziff",
    "zzgl",
}
_LETTER_ABBREVIATION = re.compile(r"(?:[^\W\d_]\.)*[^\W\d_]")  # "z", "B", "z.B", "i.d.R"
MONTHS = {
    "januar",
    "jänner",
    "februar",
    "märz",
    "april",
    "mai",
    "juni",
    "juli",
    "august",
    "september",
    "oktober",
    "november",
    "dezember",
}
# Words before a number that make "3." an ordinal ("am 3. Juni", "der 2. Versuch").
ORDINAL_CONTEXT = {"am", "im", "vom", "zum", "zur", "bis", "ab", "seit", "der", "die", "das", "den", "dem", "des"}


# -- the public API


def check_course(files: dict[str, bytes]) -> list[Finding]:
    """The findings for a course folder (path inside the folder → bytes), sorted by path and line."""
    documents = [
        document
        for path in sorted(files)
        if _is_checked(path) and (document := _read_document(path, files[path])) is not None
    ]
    course = next((document for document in documents if document.path == "course.md"), None)
    german = course is None or _course_language(course.front_matter) == "de"
    findings: list[Finding] = []
    if course is not None:
        findings += _competences_without_level(course)
    for document in documents:
        findings += _check_document(document, german)
    return sorted(findings, key=lambda finding: (finding.path, finding.line))


def readability(text: str) -> float | None:
    """German Flesch reading ease (Amstad) of a Markdown body's prose; None below ~30 words."""
    lines = _prose_lines(split_body(text).markdown)
    return _readability_of(_sentences_of(lines))


# -- the files


@dataclass
class _Document:
    """A Markdown file of the course, as far as the checks need it."""

    path: str
    front_matter: LineMap | None
    lines: list[str]  # the body, quiz blocks and fenced code blanked, a lesson's title heading removed
    first_line: int  # the file's line number of lines[0]
    is_lesson: bool
    has_quiz: bool  # a ```quiz block, closed or not (an unclosed one is the parser's to report)

    def line(self, index: int) -> int:
        return self.first_line + index

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def _is_lesson(path: str) -> bool:
    """A lesson of the course or of one of its variants (docs/course-format.md)."""
    folder, _slash, name = path.rpartition("/")
    return name.endswith(".md") and name not in NOT_LESSONS and (folder == "" or folder in VARIANTS)


def _is_checked(path: str) -> bool:
    """Lessons and the introductions (course.md, a variant's course.md) are shown to learners."""
    return _is_lesson(path) or path == "course.md" or path in {f"{code}/course.md" for code in VARIANTS}


def _read_document(path: str, data: Any) -> _Document | None:
    """The file's front matter and body; None when it cannot be read (the parser reports why)."""
    if not isinstance(data, bytes):
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    try:
        document = read_front_matter(Path(path), Problems(), text=text)
    except Exception:  # the YAML loader raises on a few malformed inputs (unhashable keys, huge numbers, bad dates)
        return None
    body = split_body(document.body)
    markdown_text = body.markdown
    if _is_lesson(path) and not _has_title(document.front_matter) and body.heading:
        markdown_text = body.without_heading()  # the lesson's title: shown as the page's h1
    return _Document(
        path=path,
        front_matter=document.front_matter,
        lines=_prose_lines(markdown_text),
        first_line=document.body_first_line,
        is_lesson=_is_lesson(path),
        has_quiz=bool(body.quizzes) or body.unclosed_quiz is not None,
    )


def _has_title(front_matter: LineMap | None) -> bool:
    """As the parser decides: a text `title:` names the lesson, else its first `# ` heading does."""
    return front_matter is not None and isinstance(front_matter.get("title"), str)


def _course_language(front_matter: LineMap | None) -> object:
    return front_matter.get("language", "de") if front_matter is not None else "de"


def _prose_lines(markdown_text: str) -> list[str]:
    """The lines of a body with fenced code blanked and inline code as the word "Code" (line
    numbers kept): neither is prose, and brackets or periods in code are not Markdown."""
    lines = _blank_fenced_code(markdown_text.splitlines())
    masked = _CODE_SPAN.sub(lambda match: _same_lines(match.group(), "Code"), "\n".join(lines))
    return masked.split("\n")


def _blank_fenced_code(lines: list[str]) -> list[str]:
    """Fenced code blocks as blank lines; a fence never closed is text, as Python-Markdown shows it."""
    closers: dict[str, list[int]] = {}  # a fence → the indexes of the lines that could close it
    for index, line in enumerate(lines):
        if _FENCE.fullmatch(line.rstrip()):
            closers.setdefault(line.rstrip(), []).append(index)
    blanked, index = list(lines), 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        candidates = closers.get(opening.group(1), []) if opening else []
        position = bisect.bisect_right(candidates, index)
        if opening and position < len(candidates):
            closing = candidates[position]
            blanked[index : closing + 1] = [""] * (closing + 1 - index)
            index = closing + 1
        else:
            index += 1
    return blanked


def _same_lines(original: str, replacement: str) -> str:
    """`replacement`, followed by as many line breaks as `original` spans: line numbers stay right."""
    return replacement + "\n" * (original.count("\n") - replacement.count("\n"))


class _Lines:
    """The 0-based line of an offset in a text (found by bisection: a text may hold many matches)."""

    def __init__(self, text: str):
        self.breaks = [match.start() for match in re.finditer("\n", text)]

    def at(self, offset: int) -> int:
        return bisect.bisect_left(self.breaks, offset)


# -- the checks


def _check_document(document: _Document, german: bool) -> list[Finding]:
    references = _reference_labels(document.text)
    findings = [
        *_images_without_alt(document, references),
        *_vague_links(document, references),
        *_skipped_heading_levels(document),
    ]
    sentences = _sentences_of(document.lines)
    findings += _long_sentences(document, sentences)
    if document.is_lesson:
        findings += _missing_quiz(document)
        if german:
            findings += _readability_finding(document, sentences)
    return findings


def _competences_without_level(course: _Document) -> list[Finding]:
    """ERROR: a competence in course.md without the level the course reaches."""
    competences = course.front_matter.get("competences") if course.front_matter is not None else None
    if not isinstance(competences, LineList):
        return []  # not a list: the parser says so
    findings = []
    for index, item in enumerate(competences):
        if isinstance(item, LineMap):
            if item.get("level") is not None:
                continue
            code, line = _short_text(item.get("id")), item.line
        else:  # a bare id ("- 4.2") names no level either
            code, line = _short_text(item), competences.line_of(index)
        message = (
            _("Competence %(id)s has no level: add the level a learner reaches, e.g. level: 3", id=code)
            if code
            else _('A competence has no level: write it as {id: "4.2", level: 3}')
        )
        findings.append(Finding(Severity.ERROR, course.path, line, message))
    return findings


def _short_text(value: Any) -> str:
    return str(value).strip()[:20] if isinstance(value, (str, int, float)) and not isinstance(value, bool) else ""


def _reference_labels(text: str) -> set[str]:
    """The labels of reference definitions (`[label]: address`), as Markdown compares them."""
    return {_reference_key(match.group("label")) for match in _REFERENCE.finditer(text)}


def _reference_key(label: str) -> str:
    return " ".join(label.lower().split())


def _images_without_alt(document: _Document, references: set[str]) -> Iterator[Finding]:
    """ERROR: an image without alternative text (`![](media/x.png)`, `![ ][ref]`)."""
    text = document.text
    lines = _Lines(text)
    for match in _IMAGE.finditer(text):
        if match.group("src") is None and _reference_key(match.group("ref") or match.group("alt")) not in references:
            continue  # an undefined reference is shown as text, not as an image
        if match.group("alt").strip():
            continue
        source = match.group("src") or f"[{match.group('ref')}]"
        yield Finding(
            Severity.ERROR,
            document.path,
            document.line(lines.at(match.start())),
            _(
                "Image %(src)s has no alternative text: describe what it shows in ![…] (screen readers read it out)",
                src=source,
            ),
        )


def _vague_links(document: _Document, references: set[str]) -> Iterator[Finding]:
    """WARNING: a link whose text says nothing out of context ("hier", a bare address, nothing)."""
    text = _REFERENCE.sub("", document.text)  # a definition's `[label]:` is no link
    lines = _Lines(text)
    for match in _LINK.finditer(text):
        is_link = match.group("url") is not None or (
            _reference_key(match.group("ref") or match.group("text")) in references
        )
        message = _link_text_problem(match.group("text")) if is_link else None
        if message:
            yield Finding(Severity.WARNING, document.path, document.line(lines.at(match.start())), message)
    for match in _AUTOLINK.finditer(text):  # `<https://…>`: the address is the link's text
        yield Finding(Severity.WARNING, document.path, document.line(lines.at(match.start())), _bare_address_message())


def _link_text_problem(link_text: str) -> str | None:
    """What is wrong with a link's text, or None."""
    # An image in a link is named by its alternative text.
    shown = _IMAGE.sub(lambda image: image.group("alt"), link_text)
    shown = _ESCAPE.sub(r"\1", _EMPHASIS.sub("", shown)).strip()
    label = " ".join(re.findall(r"\w+", shown.lower()))
    if _BARE_URL.fullmatch(shown):
        return _bare_address_message()
    if not label:
        return _("The link has no text: say where it leads")
    if label in VAGUE_LINK_TEXTS:
        return _("Link text „%(text)s“ says nothing on its own: say where the link leads instead", text=shown)
    return None


def _bare_address_message() -> str:
    return _("The link text is a bare address: say where the link leads instead")


def _headings(lines: list[str]) -> dict[int, int]:
    """Line index → heading level of the body's headings (`## …` and underlined ones)."""
    headings = {}
    for index, line in enumerate(lines):
        atx = _ATX_HEADING.match(line)
        if atx and atx.group(2).strip().rstrip("#").strip():  # `## Text ##`: the closing marks are no text
            headings[index] = len(atx.group(1))
        elif index + 1 < len(lines) and _is_setext_heading(lines, index):
            headings[index] = 1 if lines[index + 1].lstrip().startswith("=") else 2
    return headings


def _is_setext_heading(lines: list[str], index: int) -> bool:
    """A line of text underlined with === or ---, not part of a list, table or quote."""
    text, underline = lines[index], lines[index + 1]
    return (
        bool(text.strip())
        and not text.startswith((" " * 4, "\t"))
        and _SETEXT_UNDERLINE.fullmatch(underline.strip()) is not None
        and not underline.startswith((" " * 4, "\t"))
        and not _LIST_ITEM.match(text)
        and not _QUOTE.match(text)
        and "|" not in text
        and not _RULE.fullmatch(text)
    )


def _skipped_heading_levels(document: _Document) -> Iterator[Finding]:
    """WARNING: a heading more than one level below the one before (the page's title is h1, so the
    body starts at ##; a `#` in the body is shown as ##)."""
    previous = 1
    for index, level in sorted(_headings(document.lines).items()):
        shown = max(level, 2)
        if shown > previous + 1:
            if previous == 1:
                message = _(
                    "The first heading is %(found)s: start with ## (the page shows the title as the main heading)",
                    found="#" * shown,
                )
            else:
                message = _(
                    "Heading level skipped: %(found)s follows %(previous)s; use %(expected)s here",
                    found="#" * shown,
                    previous="#" * previous,
                    expected="#" * (previous + 1),
                )
            yield Finding(Severity.WARNING, document.path, document.line(index), message)
        previous = shown


def _missing_quiz(document: _Document) -> list[Finding]:
    """WARNING: a lesson without a quiz question (an empty lesson is the parser's error)."""
    if document.has_quiz or not any(line.strip() for line in document.lines):
        return []
    return [
        Finding(
            Severity.WARNING,
            document.path,
            1,
            _("The lesson has no quiz question: add a ```quiz block so that learners can check what they learnt"),
        )
    ]


# -- sentences


@dataclass(frozen=True)
class _Sentence:
    index: int  # the line (0-based, in the body) it starts on
    text: str
    words: int


def _sentences_of(lines: list[str]) -> list[_Sentence]:
    """The prose sentences of a body's lines: no headings, no tables' delimiter rows, no URLs;
    a paragraph, a list item and a table cell each end a sentence."""
    sentences = []
    for first, block in _prose_blocks(lines):
        plain = _plain_text(block)
        line, counted_to = first, 0
        for offset, sentence in _split_sentences(plain):
            line += plain.count("\n", counted_to, offset)  # onwards from the last sentence: linear in the block
            counted_to = offset
            words = _word_count(sentence)
            if words:
                sentences.append(_Sentence(line, " ".join(sentence.split()), words))
    return sentences


def _word_count(sentence: str) -> int:
    """Whitespace-separated tokens with a letter or digit ("E-Mail", "24", "z."; not "–" or "§")."""
    return sum(1 for token in sentence.split() if any(character.isalnum() for character in token))


def _prose_blocks(lines: list[str]) -> list[tuple[int, str]]:
    """(index of the first line, the lines joined by line breaks) of each paragraph, list item and
    table cell; consecutive lines, so a line break's count gives the line."""
    headings = _headings(lines)
    underlines = {
        index + 1
        for index in headings
        if index + 1 < len(lines) and _SETEXT_UNDERLINE.fullmatch(lines[index + 1].strip())
    }
    structure = headings.keys() | underlines
    cells = _table_cells(lines)
    blocks: list[tuple[int, str]] = []
    current: list[str] = []
    start = 0

    def close() -> None:
        if current:
            blocks.append((start, "\n".join(current)))
            current.clear()

    for index, raw in enumerate(lines):
        line = _QUOTE.sub("", raw)
        if index in cells:
            close()
            blocks.extend((index, cell) for cell in cells[index])
            continue
        if index in structure or not line.strip() or _is_markup_line(line):
            close()
            continue
        item = _LIST_ITEM.match(line)
        if item:
            close()
            line = line[item.end() :]
        if not current:
            start = index
        current.append(line.strip())
    close()
    return blocks


def _is_markup_line(line: str) -> bool:
    """A line without prose: a rule, a table of contents, an admonition's first line (its title is a label)."""
    return bool(_RULE.fullmatch(line)) or line.strip() == "[TOC]" or bool(_ADMONITION.match(line))


def _table_cells(lines: list[str]) -> dict[int, list[str]]:
    """Line index → the cells of each table row (a table: a header row, a delimiter row, rows)."""
    cells: dict[int, list[str]] = {}
    for index, line in enumerate(lines):
        if index == 0 or index in cells or "|" not in line or "|" not in lines[index - 1]:
            continue  # a row of a table already found is no new table's delimiter
        if not _TABLE_DELIMITER.fullmatch(line):
            continue
        cells[index] = []  # the delimiter row: no prose
        row = index - 1
        while row < len(lines) and "|" in lines[row] and lines[row].strip():
            if row != index:
                cells[row] = [cell.strip() for cell in _CELL_SEPARATOR.split(lines[row].strip().strip("|"))]
            row += 1
    return cells


def _plain_text(markdown_text: str) -> str:
    """The words a reader reads: link texts without their addresses, no images, URLs or emphasis
    marks (line breaks kept where they were)."""
    text = _replace(_IMAGE, lambda match: "", markdown_text)
    text = _replace(_LINK, lambda match: match.group("text"), text)
    text = _replace(_AUTOLINK, lambda match: "", text)
    text = _replace(_URL_IN_TEXT, _url_trailing_punctuation, text)
    text = _replace(_EMPHASIS, lambda match: "", text)
    return _ESCAPE.sub(r"\1", text)


def _url_trailing_punctuation(url: re.Match[str]) -> str:
    """What ends the sentence an address stands at the end of (`… unter https://example.org.`)."""
    return url.group()[len(url.group().rstrip(_URL_TRAILING_PUNCTUATION)) :]


def _replace(pattern: re.Pattern[str], replacement: Callable[[re.Match[str]], str], text: str) -> str:
    return pattern.sub(lambda match: _same_lines(match.group(), replacement(match)), text)


def _split_sentences(text: str) -> Iterator[tuple[int, str]]:
    """(offset, sentence) for each sentence of a block of text."""
    start = 0
    for match in _SENTENCE_END.finditer(text):
        if _ends_sentence(text, match):
            yield from _trimmed(text, start, match.end())
            start = match.end()
    yield from _trimmed(text, start, len(text))


def _trimmed(text: str, start: int, end: int) -> Iterator[tuple[int, str]]:
    sentence = text[start:end]
    if sentence.strip():
        yield start + len(sentence) - len(sentence.lstrip()), sentence.strip()


def _ends_sentence(text: str, end: re.Match[str]) -> bool:
    """Whether punctuation followed by a space ends a sentence (German: the next one starts with a
    capital letter or a digit; an abbreviation or an ordinal number is followed by more)."""
    following = _NEXT_WORD.match(text, end.end())
    if following is None:
        return True
    if following.group(1)[0].islower():
        return False
    if not end.group().startswith(".") or end.group().startswith(".."):
        return True
    # The last words before the period (a window: looking back to the start of a long paragraph
    # for every period would take time growing with its square).
    before = text[max(0, end.start() - 100) : end.start()].split()[-2:]
    token = before[-1].lstrip(_OPENING_PUNCTUATION) if before else ""
    return not (_is_abbreviation(token) or _is_ordinal(before, following.group(1)))


def _is_abbreviation(token: str) -> bool:
    return bool(_LETTER_ABBREVIATION.fullmatch(token)) or token.lower() in ABBREVIATIONS


def _is_ordinal(before: list[str], next_word: str) -> bool:
    """`am 3. Juni`, `der 2. Versuch`, `31. 12. 2025`: a number with a period that ends no sentence."""
    number = before[-1] if before else ""
    if not (number.isdigit() and len(number) <= 2):
        return False
    return (
        re.sub(r"\W", "", next_word).lower() in MONTHS
        or next_word[0].isdigit()
        or (len(before) > 1 and before[-2].lower() in ORDINAL_CONTEXT)
    )


def _long_sentences(document: _Document, sentences: list[_Sentence]) -> list[Finding]:
    """WARNING: sentences of more than LONG_SENTENCE_WORDS words, a few per file, then a summary."""
    long = [sentence for sentence in sentences if sentence.words > LONG_SENTENCE_WORDS]
    findings = [
        Finding(
            Severity.WARNING,
            document.path,
            document.line(sentence.index),
            _(
                "Sentence of %(count)s words: „%(start)s …“ — split it",
                count=sentence.words,
                start=" ".join(sentence.text.split()[:EXCERPT_WORDS]),
            ),
        )
        for sentence in long[:LONG_SENTENCES_PER_FILE]
    ]
    if len(long) > LONG_SENTENCES_PER_FILE:
        findings.append(
            Finding(
                Severity.WARNING,
                document.path,
                document.line(long[LONG_SENTENCES_PER_FILE].index),
                _(
                    "%(count)s more sentences of more than %(limit)s words in this file: split them too",
                    count=len(long) - LONG_SENTENCES_PER_FILE,
                    limit=LONG_SENTENCE_WORDS,
                ),
            )
        )
    return findings


# -- readability


def _readability_of(sentences: list[_Sentence]) -> float | None:
    """Flesch reading ease for German (Amstad: 180 − words per sentence − 58.5 × syllables per word),
    over our own sentences."""
    if sum(sentence.words for sentence in sentences) < READABILITY_MIN_WORDS:
        return None
    # Each of ours goes in as one sentence with a single final period ("z. B." does not end one).
    text = " ".join(re.sub(r"[.!?…]", "", sentence.text).strip() + "." for sentence in sentences)
    return _german_flesch(text)


def _german_flesch(text: str) -> float:
    """Amstad's formula over `text`, whose sentences each end with one period; syllables from
    pyphen's German hyphenation dictionary (a word has one more syllable than hyphenation points)."""
    sentences = max(1, text.count("."))
    words = _WORD.findall(text)
    if not words:
        return 0.0
    syllables = sum(len(_hyphenation().positions(word)) + 1 for word in words)
    return 180 - len(words) / sentences - 58.5 * syllables / len(words)


_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")


@functools.cache
def _hyphenation():
    import pyphen  # loaded when first needed: the dictionary takes a moment to read

    return pyphen.Pyphen(lang="de_DE")


def _band(score: float) -> str:
    """The usual bands of the Flesch reading ease."""
    if score < 30:
        return _("very difficult")
    if score < 50:
        return _("difficult")
    if score < 60:
        return _("fairly difficult")
    if score < 70:
        return _("standard")
    if score < 80:
        return _("fairly easy")
    if score < 90:
        return _("easy")
    return _("very easy")


def _readability_finding(document: _Document, sentences: list[_Sentence]) -> list[Finding]:
    """INFO: the lesson's readability; WARNING when it is very difficult (below 30)."""
    score = _readability_of(sentences)
    if score is None:
        return []
    # Amstad's formula leaves 0–100 for extreme texts; the band follows the number shown.
    shown = max(0, min(100, round(score)))
    if shown < 30:
        message = _(
            "Readability (Flesch, German): %(score)s — %(band)s: use shorter sentences and shorter words",
            score=shown,
            band=_band(shown),
        )
        return [Finding(Severity.WARNING, document.path, 1, message)]
    message = _("Readability (Flesch, German): %(score)s — %(band)s", score=shown, band=_band(shown))
    return [Finding(Severity.INFO, document.path, 1, message)]
