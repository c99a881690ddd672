"""The course format as the editor reads and writes it: lesson files and course.md as fields
(front matter, Markdown, quiz questions) and back into the documented format. Pure: no database.

A file written here reads back to the same fields, and `courses sync` reads it like any other.
"""

from __future__ import annotations

import copy
import functools
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from lms.catalog.format import is_lesson_file
from lms.catalog.markdown import spell_out_german, split_body
from lms.common.sourcefile import Problems, read_front_matter

_NUMBER_PREFIX = re.compile(r"^\d+-")
_BLANK_RUNS = re.compile(r"\n{3,}")
QUIZ_KEY_ORDER = ("question", "type", "shuffle", "answers", "explanation")
# libyaml's safe loader where PyYAML was built with it: the same documents, ten times as fast.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def slug_of(text: str, max_length: int = 60) -> str:
    """Lowercase letters, digits and single hyphens, German letters spelt out (Übung → uebung)."""
    ascii_text = unicodedata.normalize("NFKD", spell_out_german(text)).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:max_length].rstrip("-")


@dataclass
class LessonFile:
    """A lesson file as fields. `meta` keeps front-matter keys the editor does not show."""

    meta: dict[str, Any] = field(default_factory=dict)
    body: str = ""  # Markdown without the quiz blocks
    questions: list[dict[str, Any]] = field(default_factory=list)
    readable: bool = True  # False: the front matter could not be read; `body` is the whole file

    @property
    def title(self) -> str:
        value = self.meta.get("title")
        return value if isinstance(value, str) else ""

    @property
    def uid(self) -> str | None:
        value = self.meta.get("id")
        return str(value) if value is not None else None


def read_lesson(data: bytes, name: str = "lesson.md") -> LessonFile:
    """Fields of a lesson file; a title given as a first `# ` heading moves into the front matter.
    The caller may change what it gets: a copy of what was read before from the same bytes."""
    return copy.deepcopy(_read_lesson(data, name))


@functools.lru_cache(maxsize=256)
def _read_lesson(data: bytes, name: str) -> LessonFile:
    """Reading YAML is most of an editor page's time, and pages read the same files again."""
    text = data.decode("utf-8", errors="replace")
    problems = Problems()
    document = read_front_matter(Path(name), problems, text=text)
    if problems.errors:
        return LessonFile(body=text, readable=False)
    meta = _plain(document.front_matter or {})
    parts = split_body(document.body)
    markdown = parts.markdown
    if "title" not in meta and parts.heading:
        meta["title"] = parts.heading[1]
        markdown = parts.without_heading()
    questions = []
    for _index, quiz_text in parts.quizzes:
        try:
            loaded = yaml.load(quiz_text, Loader=_SAFE_LOADER)  # noqa: S506 (a safe loader)
        except (yaml.YAMLError, TypeError, ValueError, OverflowError, RecursionError):
            loaded = None  # kept as its text; the content check names the error
        questions.append(loaded if isinstance(loaded, dict) else {"raw": quiz_text})
    return LessonFile(meta=meta, body=_tidy(markdown), questions=questions)


def write_lesson(lesson: LessonFile) -> bytes:
    """The lesson in the course format: front matter, the Markdown, then one ```quiz block per question."""
    parts = [_front_matter(lesson.meta), _tidy(lesson.body)]
    for question in lesson.questions:
        parts.append("```quiz\n" + _quiz_yaml(question) + "```")
    return ("\n\n".join(part for part in parts if part.strip()) + "\n").encode("utf-8")


@dataclass
class CourseFile:
    meta: dict[str, Any] = field(default_factory=dict)
    intro: str = ""
    readable: bool = True


def read_course_file(data: bytes) -> CourseFile:
    """course.md as fields (a copy: the caller may change it)."""
    return copy.deepcopy(_read_course_file(data))


@functools.lru_cache(maxsize=64)
def _read_course_file(data: bytes) -> CourseFile:
    text = data.decode("utf-8", errors="replace")
    problems = Problems()
    document = read_front_matter(Path("course.md"), problems, text=text)
    if problems.errors:
        return CourseFile(intro=text, readable=False)
    return CourseFile(meta=_plain(document.front_matter or {}), intro=_tidy(document.body))


def write_course_file(course: CourseFile) -> bytes:
    parts = [_front_matter(course.meta), _tidy(course.intro)]
    return ("\n\n".join(part for part in parts if part.strip()) + "\n").encode("utf-8")


# -- lesson files in a folder


def lesson_paths(files: dict[str, bytes]) -> list[str]:
    """The course's own lesson files (not its variants'), in order."""
    return sorted(path for path in files if "/" not in path and is_lesson_file(path))


def key_of(path: str) -> str:
    return path.rsplit("/", 1)[-1].removesuffix(".md")


def numbered_name(position: int, key: str) -> str:
    """`03-grundlagen` for the third lesson, whatever number the key had."""
    return f"{position:02d}-{_NUMBER_PREFIX.sub('', key)}"


def variant_folders(files: dict[str, bytes]) -> set[str]:
    return {path.split("/", 1)[0] for path in files if "/" in path and not path.startswith("media/")}


def free_id(wanted: str, taken: set[str]) -> str:
    """`wanted`, or `wanted-2`, `wanted-3`… if another lesson has it (ids are at most 40 characters)."""
    base = (wanted or "lektion")[:36].rstrip("-")
    candidate, number = base, 2
    while candidate in taken:
        candidate, number = f"{base}-{number}", number + 1
    return candidate


# -- helpers


def _plain(value: Any) -> Any:
    """Front-matter values as plain dicts, lists and scalars (the loader's line-keeping types dropped)."""
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def _front_matter(meta: dict[str, Any]) -> str:
    if not meta:
        return ""
    dumped = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, width=1000, default_flow_style=False)
    return "---\n" + dumped + "---"


def _quiz_yaml(question: dict[str, Any]) -> str:
    if "raw" in question and len(question) == 1:  # a block that was not valid YAML stays as it was
        raw = str(question["raw"])
        return raw if raw.endswith("\n") else raw + "\n"
    ordered = {key: question[key] for key in QUIZ_KEY_ORDER if key in question}
    ordered |= {key: value for key, value in question.items() if key not in ordered}
    return yaml.safe_dump(ordered, allow_unicode=True, sort_keys=False, width=1000, default_flow_style=False)


def _tidy(markdown: str) -> str:
    """Without the blank lines left where quiz blocks were, and without trailing blanks."""
    return _BLANK_RUNS.sub("\n\n", markdown.replace("\r\n", "\n")).strip("\n")
