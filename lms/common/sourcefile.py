"""Reading author-written files (YAML, front matter) with line numbers, for `path:line: message` errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml


@dataclass(frozen=True)
class Problem:
    path: str
    line: int
    message: str
    warning: bool = False

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {'warning: ' if self.warning else ''}{self.message}"


@dataclass
class Problems:
    """Collects problems of one source; errors make it invalid, warnings do not."""

    items: list[Problem] = field(default_factory=list)

    def error(self, path, line: int, message: str) -> None:
        self.items.append(Problem(str(path), max(line, 1), message))

    def warn(self, path, line: int, message: str) -> None:
        self.items.append(Problem(str(path), max(line, 1), message, warning=True))

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.items if not p.warning]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.items if p.warning]

    def __bool__(self) -> bool:
        return bool(self.errors)


class LineMap(dict):
    """A YAML mapping that knows the line of itself and of each key (1-based)."""

    line: int = 1

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.key_lines: dict = {}  # an empty mapping (no YAML behind it) answers with its own line

    def line_of(self, key) -> int:
        return self.key_lines.get(key, self.line)


class LineList(list):
    line: int = 1
    item_lines: list

    def line_of(self, index: int) -> int:
        return self.item_lines[index] if index < len(self.item_lines) else self.line


ANCHORS_REFUSED = "YAML anchors and aliases (&, *) are not allowed"


class _AnchorRefused(yaml.composer.ComposerError):
    pass


class _LineLoader(yaml.SafeLoader):
    """SafeLoader that keeps line numbers and refuses anchors and aliases.

    An alias repeats a node without copying it in the text, so nested aliases ("billion laughs")
    make a few lines expand to billions of values for whatever walks the result. Authors never need
    them: the first anchor or alias stops the parse before anything is composed from it.
    """

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise _AnchorRefused(problem=ANCHORS_REFUSED, problem_mark=event.start_mark)
        return super().compose_node(parent, index)


def _construct_mapping(loader, node, deep=False):
    loader.flatten_mapping(node)
    mapping = LineMap()
    mapping.line = node.start_mark.line + 1
    mapping.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        mapping[key] = loader.construct_object(value_node, deep=True)
        mapping.key_lines[key] = key_node.start_mark.line + 1
    return mapping


def _construct_sequence(loader, node, deep=False):
    sequence = LineList(loader.construct_object(child, deep=True) for child in node.value)
    sequence.line = node.start_mark.line + 1
    sequence.item_lines = [child.start_mark.line + 1 for child in node.value]
    return sequence


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def _shift_lines(value, offset: int):
    if isinstance(value, LineMap):
        value.line += offset
        value.key_lines = {k: v + offset for k, v in value.key_lines.items()}
        for item in value.values():
            _shift_lines(item, offset)
    elif isinstance(value, LineList):
        value.line += offset
        value.item_lines = [v + offset for v in value.item_lines]
        for item in value:
            _shift_lines(item, offset)
    return value


def load_yaml(text: str, path, problems: Problems, first_line: int = 1):
    """Parse YAML whose first line is line `first_line` of `path`; None (and an error) when invalid."""
    try:
        data = yaml.load(text, Loader=_LineLoader)  # noqa: S506 (a SafeLoader subclass)
    except _AnchorRefused as error:
        problems.error(path, (error.problem_mark.line if error.problem_mark else 0) + first_line, ANCHORS_REFUSED)
        return None
    except RecursionError:
        problems.error(path, first_line, "invalid YAML: it is nested too deeply")
        return None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = (mark.line if mark else 0) + first_line
        problems.error(path, line, f"invalid YAML: {error.problem or error.context}")
        return None
    except yaml.YAMLError as error:
        problems.error(path, first_line, f"invalid YAML: {error}")
        return None
    except (TypeError, ValueError, OverflowError) as error:
        # Raised while building values YAML accepts but Python cannot hold: a list as a key, a
        # date that does not exist (2001-02-30), an integer of thousands of digits.
        problems.error(path, first_line, f"invalid YAML: a value cannot be read ({error.__class__.__name__})")
        return None
    return _shift_lines(data, first_line - 1)


@dataclass
class FrontMatterDocument:
    front_matter: LineMap | None
    body: str
    body_first_line: int  # line of `path` where the body starts


def read_front_matter(path: Path, problems: Problems, text: str | None = None) -> FrontMatterDocument:
    """Split `---` YAML front matter from a Markdown body."""
    if text is None:
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as error:
            problems.error(path, 1, f"not UTF-8 text ({error.reason})")
            return FrontMatterDocument(None, "", 1)
    text = text.lstrip("\ufeff")
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        return FrontMatterDocument(None, text, 1)
    for index in range(1, len(lines)):
        if lines[index].strip() in ("---", "..."):
            raw = "".join(lines[1:index])
            data = load_yaml(raw, path, problems, first_line=2) if raw.strip() else LineMap()
            if data is not None and not isinstance(data, LineMap):
                problems.error(path, 2, "front matter must be a YAML mapping (key: value lines)")
                data = None
            return FrontMatterDocument(data, "".join(lines[index + 1 :]), index + 2)
    problems.error(path, 1, "front matter starts with --- but has no closing --- line")
    return FrontMatterDocument(None, "", len(lines) + 1)
