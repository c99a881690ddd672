"""One course folder → a validated `CourseSource` (plain data; no database). Format: docs/course-format.md.

Every problem is reported as `path:line: message` through `Problems`; a course with any error
yields None, so nothing of it is ever written.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lms.catalog.markdown import MarkdownBody, course_image_url, render_markdown, split_body
from lms.catalog.media import MediaSource, check_media
from lms.catalog.rules import VARIANTS, derived_duration, duration_is_off, word_count
from lms.common.sourcefile import FrontMatterDocument, LineList, LineMap, Problems, load_yaml, read_front_matter
from lms.common.sourcetext import control_character_message, key_path, refused_character, refused_lines

SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
COURSE_KEYS = {
    "title",
    "summary",
    "language",
    "duration_minutes",
    "tags",
    "pass_score",
    "valid_months",
    "competences",
    "final_check",
}
VARIANT_KEYS = {"title", "summary"}
LESSON_KEYS = {"id", "title", "draw"}
LESSON_ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
QUIZ_KEYS = {"question", "answers", "explanation", "type", "shuffle"}
QUESTION_TYPES = ("single", "multiple")
LANGUAGES = ("de", "en")
# Part of the content hash: raise it when rendering changes, and the next sync re-imports every course.
FORMAT_VERSION = b"lernpfad-course-format-2"


@dataclass
class FrameworkInfo:
    """What validation needs to know about the installed competency framework."""

    key: str
    competence_ids: dict[str, int]  # code ("4.2") → Competence.id
    retired: set[str] = field(default_factory=set)
    levels: set[int] = field(default_factory=set)
    loaded: bool = True


@dataclass
class QuestionSource:
    question: str
    answers: list[dict]  # [{"text": str, "correct": bool}]
    explanation: str | None
    content_hash: str
    kind: str = "multiple"  # single: radio buttons, exactly one answer right; multiple: checkboxes
    shuffle: bool = True  # the answers are shown in a new order per attempt


@dataclass
class LessonSource:
    key: str
    title: str
    body_html: str
    content_hash: str
    questions: list[QuestionSource]
    draw: int | None = None  # questions asked per attempt; None: all of them
    words: int = 0  # of the text, for the derived duration
    uid: str | None = None  # front matter `id`: the lesson stays the same lesson when its file is renamed

    @property
    def asked(self) -> int:
        return min(self.draw or len(self.questions), len(self.questions))


@dataclass
class VariantSource:
    """The course for another audience (e.g. in Einfache Sprache): the same lessons, rewritten."""

    code: str
    title: str
    summary: str
    intro_html: str
    lessons: list[LessonSource]


@dataclass
class CourseSource:
    slug: str
    title: str
    summary: str
    language: str
    duration_minutes: int | None
    pass_score: int
    valid_months: int | None
    intro_html: str
    tags: list[str]
    competences: dict[int, int]  # Competence.id → level reached
    lessons: list[LessonSource]
    media: list[MediaSource]
    content_hash: str
    final_draw: int | None = None  # the final check: questions drawn from all of the course's
    final_pass_score: int | None = None
    variants: list[VariantSource] = field(default_factory=list)


def display_path(path: Path) -> str:
    """The path as the author would type it: relative to the working directory when inside it."""
    path = Path(path)
    if path.is_absolute():
        try:
            return path.relative_to(Path.cwd()).as_posix()
        except ValueError:
            return str(path)
    return path.as_posix()


def read_course_files(folder: Path) -> dict[str, bytes | None]:
    """Every file of the folder (hidden ones skipped), by path relative to it, in name order.

    A symbolic link to something outside the folder is not read (None): it would publish that file.
    """
    files, inside = {}, folder.resolve()
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if path.is_file() and not any(part.startswith(".") for part in relative.parts):
            files[relative.as_posix()] = path.read_bytes() if path.resolve().is_relative_to(inside) else None
    return files


def content_hash(files: dict[str, bytes | None]) -> str:
    digest = hashlib.sha256(FORMAT_VERSION)
    for name in sorted(files):
        data = files[name]
        if data is None:
            data = b"(outside)"
        digest.update(f"\0{name}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()


# Beside the lessons: the course file, and the list of sources its facts were checked against
# (for authors and reviewers; not shown to learners).
NOT_LESSONS = {"course.md", "SOURCES.md"}


def is_lesson_file(name: str) -> bool:
    return name.endswith(".md") and "/" not in name and name not in NOT_LESSONS


def _variant_of(name: str) -> str | None:
    """The variant a file belongs to (`einfache-sprache/01-….md` → einfache-sprache), if any."""
    folder, _, rest = name.partition("/")
    return folder if folder in VARIANTS and rest.endswith(".md") and "/" not in rest and rest != "SOURCES.md" else None


def _scalar_text(value: Any) -> str:
    """A text or number given for a short text (a tag, a competence id), trimmed; "" for anything else."""
    return str(value).strip() if isinstance(value, (str, int, float)) and not isinstance(value, bool) else ""


def _yaml_places(text: str) -> dict[int, str]:
    """Line number → "the front matter" or "a quiz", for the lines of a Markdown file that hold YAML
    (where a `key:` names the field a character is in); the other lines are the text."""
    lines = text.lstrip("\ufeff").split("\n")
    places: dict[int, str] = {}
    body_start = 0  # index of the body's first line
    if lines[0].strip() == "---":  # as read_front_matter finds the front matter
        end = next((index for index in range(1, len(lines)) if lines[index].strip() in ("---", "...")), len(lines))
        places = dict.fromkeys(range(2, end + 1), "the front matter")
        body_start = end + 1
    # split_body counts lines as str.splitlines does: a form feed in the body can shift a quiz's
    # lines here, which only changes how a character's place is named, never its line.
    for fence, quiz in split_body("\n".join(lines[body_start:])).quizzes:
        first = body_start + fence + 2  # the line after the fence, counting from 1
        places.update(dict.fromkeys(range(first, first + quiz.count("\n") + 1), "a quiz"))
    return places


def parse_course(
    folder: Path, files: dict[str, bytes | None], framework: FrameworkInfo, problems: Problems
) -> CourseSource | None:
    """Validate a whole course folder; the parsed course, or None when it has any error."""
    return _CourseReader(folder, files, framework, problems).read()


class _CourseReader:
    """Reads one course folder; `read()` runs every check, in the order their problems are reported."""

    def __init__(self, folder: Path, files: dict[str, bytes | None], framework: FrameworkInfo, problems: Problems):
        self.folder, self.framework, self.problems = folder, framework, problems
        self.all_files = files
        self.files = {name: data for name, data in files.items() if data is not None}
        self.slug = folder.name
        self.shown = display_path(folder)
        self.media: dict[str, MediaSource] = {}
        self.lines: dict[str, list[str]] = {}  # of each Markdown file, to find an image's line
        self.intro_words = 0
        self.lesson_ids: dict[str, dict[str, str]] = {}  # folder (course or variant) → id → file
        self.duration_line = self.final_check_line = 1

    def where(self, name: str) -> str:
        return f"{self.shown}/{name}"

    def read(self) -> CourseSource | None:
        errors_before = len(self.problems.errors)
        self.check_slug()
        self.check_links_stay_inside()
        self.read_media_and_warn_of_other_files()
        lesson_names = [name for name in self.files if is_lesson_file(name)]
        lessons = [self.lesson(name) for name in lesson_names]
        if "course.md" not in self.files:
            self.problems.error(self.shown, 1, "course folder has no course.md")
            return None
        course = self.course_file()
        if not lesson_names:
            self.problems.error(
                self.where("course.md"), 1, "the course has no lessons: add 01-….md files beside course.md"
            )
        variants = [self.variant(code, lesson_names) for code in self.variant_codes()]
        if course is None or len(self.problems.errors) > errors_before:
            return None
        source = CourseSource(
            slug=self.slug,
            lessons=[lesson for lesson in lessons if lesson is not None],  # all of them: else there was an error
            media=list(self.media.values()),
            content_hash=content_hash(self.all_files),
            variants=[variant for variant in variants if variant is not None],
            **course,
        )
        self.check_final_check(source)
        self.check_duration(source)
        return None if len(self.problems.errors) > errors_before else source

    # -- the folder

    def check_slug(self) -> None:
        """The folder's name is the course's slug."""
        if not SLUG.fullmatch(self.slug) or len(self.slug) > 80:
            self.problems.error(
                self.shown,
                1,
                f"folder name '{self.slug}' is not a valid course slug: use lowercase "
                "letters a-z, digits and single hyphens, e.g. phishing-erkennen",
            )

    def check_links_stay_inside(self) -> None:
        """No symbolic link to a file outside the folder (read_course_files did not read those)."""
        for name in sorted(set(self.all_files) - set(self.files)):
            self.problems.error(self.where(name), 1, "a link to a file outside the course folder")

    def read_media_and_warn_of_other_files(self) -> None:
        """Check the images in media/ and warn of any other file that is not a lesson or course.md, in file order."""
        for name, data in self.files.items():
            if name.startswith("media/"):
                media = check_media(name, data, self.where(name), self.problems)
                if media:
                    self.media[media.path] = media
            elif (
                name.rsplit("/", 1)[-1] not in NOT_LESSONS
                and not is_lesson_file(name)
                and not self.is_variant_file(name)
            ):
                self.problems.warn(
                    self.where(name), 1, "ignored: not a lesson (*.md beside course.md) and not an image in media/"
                )

    # -- text files

    def document(self, name: str) -> FrontMatterDocument | None:
        """Front matter and body of a Markdown file; None when it is not UTF-8."""
        data = self.files[name]
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as error:
            line = data[: error.start].count(b"\n") + 1
            self.problems.error(self.where(name), line, "not UTF-8 text: save the file as UTF-8")
            return None
        self.lines[name] = text.splitlines()
        if not self.check_characters(name, text):
            return None
        return read_front_matter(Path(self.where(name)), self.problems, text=text)

    def check_characters(self, name: str, text: str) -> bool:
        """No control or text-direction character anywhere in the file, tabs and line breaks aside
        (the body may hold them); one-line fields are checked again once read. A file with one is
        read no further."""
        lines, places = text.split("\n"), _yaml_places(text)
        found = list(refused_lines(lines))
        for index, column in found:
            key = key_path(lines, index, column) if index + 1 in places else None
            what = f"'{key}'" if key else places.get(index + 1, "the text")
            self.problems.error(self.where(name), index + 1, control_character_message(what, lines[index][column]))
        return not found

    def check_one_line(self, value: str, what: str, where: str, line: int) -> bool:
        """A title, a code, an answer: no tab, line break, control or text-direction character."""
        character = refused_character(value, one_line=True)
        if character:
            self.problems.error(where, line, control_character_message(what, character, one_line=True))
        return character is None

    def check_keys(self, mapping: LineMap, allowed: set[str], where: str, context: str) -> None:
        for key in mapping:
            if isinstance(key, str) and not self.check_one_line(key, "a key", where, mapping.line_of(key)):
                continue  # an escaped control character ("\e") shown in a warning could change the terminal
            if key not in allowed:
                self.problems.warn(where, mapping.line_of(key), f"unknown key '{key}' in {context} (ignored)")

    def render(self, markdown_text: str, name: str, first_line: int) -> str:
        where, text_lines = self.where(name), self.lines[name]
        searched_from: dict[str, int] = {}  # image address → the line it was last found on

        def resolve(src: str) -> str | None:
            url, message = course_image_url(src, self.slug, self.media, self.all_files)
            if message:
                # Markdown does not keep source lines: find the line that holds this image's address.
                start = searched_from.get(src, first_line - 1)
                line = next((n + 1 for n in range(start, len(text_lines)) if src in text_lines[n]), first_line)
                searched_from[src] = line
                self.problems.error(where, line, message)
            return url

        return render_markdown(markdown_text, resolve)

    # -- course.md

    def course_file(self) -> dict | None:
        where, errors_before = self.where("course.md"), len(self.problems.errors)
        document = self.document("course.md")
        if document is None:
            return None
        meta = document.front_matter
        if meta is None:
            if len(self.problems.errors) == errors_before:  # else the front matter's own error says it
                self.problems.error(
                    where,
                    1,
                    "course.md must start with front matter between --- lines, with at least title and summary",
                )
            return None
        self.check_keys(meta, COURSE_KEYS, where, "course.md")
        self.duration_line = meta.line_of("duration_minutes")
        body = split_body(document.body)
        for fence_index, _ in body.quizzes:
            self.problems.error(
                where, document.body_first_line + fence_index, "quiz blocks belong in lesson files, not in course.md"
            )
        self.intro_words = word_count(body.markdown)
        pass_score = self.whole_number(meta, "pass_score", where, 0, 100, "percent", default=80)
        final_draw, final_pass_score = self.final_check(meta, where, pass_score)
        return dict(
            title=self.text(meta, "title", where, 300),
            summary=self.text(meta, "summary", where, 1000),
            language=self.language(meta, where),
            duration_minutes=self.whole_number(meta, "duration_minutes", where, 1, None, "minutes"),
            pass_score=pass_score,
            valid_months=self.whole_number(meta, "valid_months", where, 1, None, "months"),
            tags=self.tags(meta, where),
            competences=self.competences(meta, where),
            intro_html=self.render(body.markdown, "course.md", document.body_first_line),
            final_draw=final_draw,
            final_pass_score=final_pass_score,
        )

    def final_check(self, meta: LineMap, where: str, pass_score: int | None) -> tuple[int | None, int | None]:
        """`final_check: {draw: N, pass_score: P}`: (N, P), or (None, None) without one."""
        raw = meta.get("final_check")
        if raw is None:
            return None, None
        if not isinstance(raw, LineMap):
            self.problems.error(where, meta.line_of("final_check"), "'final_check' must be {draw: 6, pass_score: 80}")
            return None, None
        self.check_keys(raw, {"draw", "pass_score"}, where, "the final check")
        if "draw" not in raw:
            self.problems.error(where, raw.line, "the final check needs 'draw': how many questions it asks")
            return None, None
        draw = self.whole_number(raw, "draw", where, 1, None, "questions")
        score = self.whole_number(raw, "pass_score", where, 0, 100, "percent", default=pass_score)
        self.final_check_line = raw.line
        return draw, score

    def check_final_check(self, source: CourseSource) -> None:
        """The final check draws from all of the course's questions: there must be more of them."""
        if source.final_draw is None:
            return
        total = sum(len(lesson.questions) for lesson in source.lessons)
        for questions, what in [(total, "the course")] + [
            (sum(len(lesson.questions) for lesson in variant.lessons), f"its variant {variant.code}")
            for variant in source.variants
        ]:
            if source.final_draw > questions:
                self.problems.error(
                    self.where("course.md"),
                    self.final_check_line,
                    f"the final check draws {source.final_draw} questions, but {what} has only {questions}",
                )

    def check_duration(self, source: CourseSource) -> None:
        """duration_minutes follows one rule (lms.catalog.rules); without one, the derived is used."""
        words = self.intro_words + sum(lesson.words for lesson in source.lessons)
        asked = sum(lesson.asked for lesson in source.lessons) + (source.final_draw or 0)
        derived = derived_duration(words, asked)
        if source.duration_minutes is None:
            source.duration_minutes = derived
        elif duration_is_off(source.duration_minutes, derived):
            self.problems.warn(
                self.where("course.md"),
                self.duration_line,
                f"duration_minutes {source.duration_minutes} is more than 30 % off the derived {derived} "
                f"({words} words at 160 per minute, {asked} questions asked at 1 minute each)",
            )

    # -- variants

    def variant_codes(self) -> list[str]:
        return sorted({name.split("/", 1)[0] for name in self.files} & set(VARIANTS))

    def is_variant_file(self, name: str) -> bool:
        return _variant_of(name) is not None

    def variant(self, code: str, lesson_names: list[str]) -> VariantSource | None:
        """`<code>/course.md` and the same lesson files as the course, rewritten."""
        where = self.where(f"{code}/course.md")
        names = sorted(name for name in self.files if _variant_of(name) == code and not name.endswith("/course.md"))
        if f"{code}/course.md" not in self.files:
            self.problems.error(where, 1, f"the variant {code} has no course.md (title, summary, introduction)")
            return None
        wanted, present = set(lesson_names), {name.split("/", 1)[1] for name in names}
        for missing in sorted(wanted - present):
            self.problems.error(
                self.where(f"{code}/{missing}"), 1, f"the variant {code} lacks this lesson of the course"
            )
        for extra in sorted(present - wanted):
            self.problems.error(self.where(f"{code}/{extra}"), 1, "the course has no lesson of this name")
        document = self.document(f"{code}/course.md")
        if document is None or document.front_matter is None:
            self.problems.error(where, 1, "the variant's course.md must start with front matter (title, summary)")
            return None
        self.check_keys(document.front_matter, VARIANT_KEYS, where, "a variant's course.md")
        lessons = [self.lesson(name) for name in names]
        return VariantSource(
            code=code,
            title=self.text(document.front_matter, "title", where, 300) or "",
            summary=self.text(document.front_matter, "summary", where, 1000) or "",
            intro_html=self.render(split_body(document.body).markdown, f"{code}/course.md", document.body_first_line),
            lessons=[lesson for lesson in lessons if lesson is not None],
        )

    def text(self, meta: LineMap, key: str, where: str, max_length: int) -> str | None:
        value = meta.get(key)
        if not isinstance(value, str) or not value.strip():
            self.problems.error(where, meta.line_of(key), f"'{key}' is missing (it must be a text)")
            return None
        if len(value.strip()) > max_length:
            self.problems.error(where, meta.line_of(key), f"'{key}' is longer than {max_length} characters")
        self.check_one_line(value.strip(), f"'{key}'", where, meta.line_of(key))
        return value.strip()

    def language(self, meta: LineMap, where: str) -> str:
        value = meta.get("language", "de")
        if value not in LANGUAGES:
            self.problems.error(where, meta.line_of("language"), f"'language' must be de or en, not {value!r}")
        return value

    def whole_number(
        self,
        meta: LineMap,
        key: str,
        where: str,
        minimum: int,
        maximum: int | None,
        unit: str,
        default: int | None = None,
    ) -> int | None:
        value = meta.get(key)
        if value is None:
            return default
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or value < minimum
            or (maximum is not None and value > maximum)
        ):
            allowed = f"from {minimum} to {maximum}" if maximum is not None else "above 0"
            self.problems.error(
                where, meta.line_of(key), f"'{key}' must be a whole number {allowed} ({unit}), not {value!r}"
            )
            return default
        return value

    def tags(self, meta: LineMap, where: str) -> list[str]:
        raw = meta.get("tags")
        if raw is None:
            return []
        if not isinstance(raw, LineList):
            self.problems.error(where, meta.line_of("tags"), "'tags' must be a list, e.g. [sicherheit, e-mail]")
            return []
        tags: list[str] = []
        for index, value in enumerate(raw):
            tag = _scalar_text(value)
            if not tag or len(tag) > 60:
                self.problems.error(where, raw.line_of(index), "each tag must be a short text (at most 60 characters)")
            elif not self.check_one_line(tag, "a tag", where, raw.line_of(index)):
                continue
            elif tag in tags:
                self.problems.warn(where, raw.line_of(index), f"tag '{tag}' is listed twice")
            else:
                tags.append(tag)
        return tags

    def competences(self, meta: LineMap, where: str) -> dict[int, int]:
        """Competence id → the level the course reaches."""
        raw = meta.get("competences")
        if raw is None or not self.check_competence_list(raw, meta.line_of("competences"), where):
            return {}
        reached: dict[int, int] = {}
        for index, item in enumerate(raw):
            self.competence(item, raw.line_of(index), where, reached)
        return reached

    def check_competence_list(self, raw: Any, line: int, where: str) -> bool:
        """A list, and a framework to look its ids up in."""
        framework = self.framework
        if not isinstance(raw, LineList):
            self.problems.error(where, line, "'competences' must be a list of {id: \"4.2\", level: 3}")
            return False
        if not framework.loaded:
            self.problems.error(
                where,
                line,
                f"the competency framework {framework.key} is not loaded: run `flask skills load-framework` first",
            )
            return False
        return True

    def competence(self, item: Any, line: int, where: str, reached: dict[int, int]) -> None:
        """One {id, level} entry; adds it to `reached` when it is valid and new."""
        if not isinstance(item, LineMap):
            self.problems.error(where, line, 'each competence is {id: "4.2", level: 3}')
            return
        self.check_keys(item, {"id", "level"}, where, "a competence")
        code = _scalar_text(item.get("id"))
        if not self.check_one_line(code, "competence 'id'", where, item.line_of("id")):
            return  # every other message would show the id
        competence_id = self.competence_id(item, code, where)
        level = self.competence_level(item, code, where)
        if level is None:
            return
        if competence_id in reached:
            self.problems.error(where, line, f"competence {code} is listed twice")
        elif competence_id is not None:
            reached[competence_id] = level

    def competence_id(self, item: LineMap, code: str, where: str) -> int | None:
        """The id of a competence of the framework (a warning when it is retired), or None and an error."""
        framework = self.framework
        competence_id = framework.competence_ids.get(code)
        if competence_id is None:
            self.problems.error(
                where,
                item.line_of("id"),
                f"unknown competence id '{code}': the framework {framework.key} has no such competence"
                if code
                else "competence 'id' is missing",
            )
        elif code in framework.retired:
            self.problems.warn(where, item.line_of("id"), f"competence {code} is retired in {framework.key}")
        return competence_id

    def competence_level(self, item: LineMap, code: str, where: str) -> int | None:
        """The level the course reaches, when it is one of the framework's; None (and an error) otherwise."""
        framework, level = self.framework, item.get("level")
        if not isinstance(level, int) or isinstance(level, bool) or level not in framework.levels:
            levels = f"{min(framework.levels)}–{max(framework.levels)}" if framework.levels else "none"
            self.problems.error(
                where,
                item.line_of("level"),
                f"competence {code}: level {level!r} is not a level of {framework.key} ({levels})",
            )
            return None
        return level

    # -- lessons

    def lesson(self, name: str) -> LessonSource | None:
        where, key = self.where(name), name.rsplit("/", 1)[-1][:-3]
        self.check_lesson_name(key, where)
        document = self.document(name)
        if document is None:
            return None
        meta = document.front_matter if document.front_matter is not None else LineMap()
        self.check_keys(meta, LESSON_KEYS, where, "a lesson's front matter")
        body = split_body(document.body)
        title, markdown_text = self.lesson_title(meta, body, where, document.body_first_line)
        if body.unclosed_quiz is not None:
            self.problems.error(
                where, document.body_first_line + body.unclosed_quiz, "this ```quiz block is never closed"
            )
        if not markdown_text.strip() and not body.quizzes:
            self.problems.error(where, 1, "the lesson is empty")
        questions = [self.question(where, document.body_first_line + index, text) for index, text in body.quizzes]
        return LessonSource(
            key=key,
            title=title,
            questions=[q for q in questions if q],
            body_html=self.render(markdown_text, name, document.body_first_line),
            content_hash=hashlib.sha256(self.files[name]).hexdigest(),
            draw=self.draw(meta, where, len(body.quizzes)),
            uid=self.lesson_id(meta, where),
            words=word_count(markdown_text),
        )

    def lesson_id(self, meta: LineMap, where: str) -> str | None:
        """The lesson's stable id (optional): lowercase letters, digits and single hyphens."""
        value = meta.get("id")
        if value is None:
            return None
        text = _scalar_text(value)
        if not LESSON_ID.fullmatch(text) or len(text) > 40:
            self.problems.error(
                where,
                meta.line_of("id"),
                "'id' must be lowercase letters a-z, digits and single hyphens, at most 40 characters",
            )
            return None
        if text in self.lesson_ids.setdefault(where.rsplit("/", 2)[-2], {}):
            first = self.lesson_ids[where.rsplit("/", 2)[-2]][text]
            self.problems.error(where, meta.line_of("id"), f"the id '{text}' is already the id of {first}")
            return None
        self.lesson_ids[where.rsplit("/", 2)[-2]][text] = where.rsplit("/", 1)[-1]
        return text

    def draw(self, meta: LineMap, where: str, questions: int) -> int | None:
        """How many of the lesson's questions an attempt asks (a pool: more questions than that,
        so that a retry is not the same quiz again; the shipped courses all have one)."""
        draw = self.whole_number(meta, "draw", where, 1, None, "questions")
        if draw is not None and draw > questions:
            self.problems.error(
                where, meta.line_of("draw"), f"'draw' is {draw}, but the lesson has {questions} questions"
            )
            return None
        return draw

    def check_lesson_name(self, key: str, where: str) -> None:
        """The file name without .md is the lesson's key."""
        if not SLUG.fullmatch(key) or len(key) > 120:
            self.problems.error(
                where,
                1,
                "lesson file names use lowercase letters a-z, digits and single hyphens, e.g. 01-einfuehrung.md",
            )

    def lesson_title(self, meta: LineMap, body: MarkdownBody, where: str, body_first_line: int) -> tuple[str, str]:
        """The title (from the front matter, else the first `# ` heading) and the Markdown to show below it."""
        title, line = meta.get("title"), meta.line_of("title")
        if title is not None and (not isinstance(title, str) or not title.strip()):
            self.problems.error(where, line, "'title' must be a text")
        markdown_text = body.markdown
        if not isinstance(title, str) and body.heading:
            title, markdown_text = body.heading[1], body.without_heading()  # the page shows the title as h1
            line = body_first_line + body.heading[0]
        if not isinstance(title, str) or not title.strip():
            self.problems.error(
                where, 1, "the lesson has no title: add 'title:' to its front matter or start it with a '# ' heading"
            )
            return "", markdown_text
        if len(title.strip()) > 300:
            self.problems.error(where, line, "the title is longer than 300 characters")
        self.check_one_line(title.strip(), "the title", where, line)
        return title.strip(), markdown_text

    # -- quizzes

    def question(self, where: str, fence_line: int, text: str) -> QuestionSource | None:
        form = "a ```quiz block holds YAML: question, answers (a list of {text, correct}), optional explanation"
        errors_before = len(self.problems.errors)
        data = load_yaml(text, where, self.problems, first_line=fence_line + 1)
        if not isinstance(data, LineMap):
            if len(self.problems.errors) == errors_before:  # else the YAML error says it
                self.problems.error(where, fence_line, form)
            return None
        self.check_keys(data, QUIZ_KEYS, where, "a quiz")
        question = self.quiz_question(data, where)
        explanation_valid = self.check_explanation(data, where)
        answers = self.answers(where, data)
        if answers is None or question is None or not explanation_valid:
            return None
        kind, shuffle = self.question_type(data, answers, where), self.shuffle(data, where)
        if kind is None or shuffle is None:
            return None
        explanation = data["explanation"].strip() if data.get("explanation") else None
        content: dict[str, Any] = {"question": question, "answers": answers, "explanation": explanation}
        if not shuffle or "type" in data:  # only what authors wrote: older questions keep their identity
            content |= {"kind": kind, "shuffle": shuffle}
        digest = hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
        return QuestionSource(question, answers, explanation, content_hash=digest, kind=kind, shuffle=shuffle)

    def question_type(self, quiz: LineMap, answers: list[dict], where: str) -> str | None:
        """single (exactly one answer right: radio buttons) or multiple (checkboxes); derived from
        the answers unless stated."""
        right = sum(1 for answer in answers if answer["correct"])
        stated = quiz.get("type")
        if stated is None:
            return "single" if right == 1 else "multiple"
        if stated not in QUESTION_TYPES:
            self.problems.error(where, quiz.line_of("type"), f"'type' must be single or multiple, not {stated!r}")
            return None
        if stated == "single" and right != 1:
            self.problems.error(
                where, quiz.line_of("type"), f"a single-choice question needs exactly one right answer, not {right}"
            )
            return None
        return stated

    def shuffle(self, quiz: LineMap, where: str) -> bool | None:
        value = quiz.get("shuffle", True)
        if not isinstance(value, bool):
            self.problems.error(where, quiz.line_of("shuffle"), f"'shuffle' must be true or false, not {value!r}")
            return None
        return value

    def quiz_question(self, quiz: LineMap, where: str) -> str | None:
        """The question's text, trimmed; None (and an error) when there is none."""
        question = quiz.get("question")
        if not isinstance(question, str) or not question.strip():
            self.problems.error(where, quiz.line_of("question"), "the quiz has no 'question' (a text)")
            return None
        if not self.check_one_line(question.strip(), "'question'", where, quiz.line_of("question")):
            return None
        return question.strip()

    def check_explanation(self, quiz: LineMap, where: str) -> bool:
        """The explanation is optional, but a text when given; it may have line breaks."""
        explanation, line = quiz.get("explanation"), quiz.line_of("explanation")
        if explanation is not None and not isinstance(explanation, str):
            self.problems.error(where, line, "'explanation' must be a text")
            return False
        character = refused_character(explanation or "", one_line=False)
        if character:
            self.problems.error(where, line, control_character_message("'explanation'", character))
        return character is None

    def answers(self, where: str, quiz: LineMap) -> list[dict] | None:
        """At least two valid answers, one of them correct; None (and errors) otherwise."""
        raw, line = quiz.get("answers"), quiz.line_of("answers")
        if not isinstance(raw, LineList):
            self.problems.error(where, line, "'answers' must be a list of {text: \"…\", correct: true/false}")
            return None
        answers = [self.answer(where, index, item, raw.line_of(index)) for index, item in enumerate(raw)]
        if len(raw) < 2:
            self.problems.error(where, line, f"a quiz needs at least 2 answers, this one has {len(raw)}")
            return None
        valid = [answer for answer in answers if answer is not None]
        if len(valid) < len(answers):
            return None
        if not any(answer["correct"] for answer in valid):
            self.problems.error(where, line, "no answer is marked 'correct: true'")
            return None
        return valid

    def answer(self, where: str, index: int, item: Any, line: int) -> dict | None:
        """One {text, correct} answer; None (and errors) when it is not valid."""
        if not isinstance(item, LineMap):
            self.problems.error(where, line, f'answer {index + 1} must be {{text: "…", correct: true/false}}')
            return None
        self.check_keys(item, {"text", "correct"}, where, "an answer")
        text_valid = self.check_answer_text(item, index, where)
        correct_valid = self.check_answer_correct(item, index, where)
        if not (text_valid and correct_valid):
            return None
        return {"text": item["text"].strip(), "correct": item["correct"]}

    def check_answer_text(self, item: LineMap, index: int, where: str) -> bool:
        text = item.get("text")
        if not isinstance(text, str) or not text.strip():
            self.problems.error(where, item.line_of("text"), f"answer {index + 1} has no 'text'")
            return False
        return self.check_one_line(text.strip(), f"answer {index + 1}: 'text'", where, item.line_of("text"))

    def check_answer_correct(self, item: LineMap, index: int, where: str) -> bool:
        correct = item.get("correct")
        if not isinstance(correct, bool):
            self.problems.error(
                where, item.line_of("correct"), f"answer {index + 1}: 'correct' must be true or false, not {correct!r}"
            )
            return False
        return True
