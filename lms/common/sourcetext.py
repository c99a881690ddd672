"""Control characters in author files (framework and course files): find them, and say where.

The rule is the kernel's (`lms.common.text.has_control_characters`); this module only applies it to
the lines of a file and to the values read from its YAML, and words the `path:line: message`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

from lms.common.text import has_control_characters

# A YAML `key:` (block or flow style: `title: …`, `- {text: …`) or a brace of a flow mapping.
_KEY_OR_BRACE = re.compile(r"""(?:^|(?<=[\s{,]))["']?([A-Za-z_][\w-]*)["']?\s*:(?=\s|$)|[{}]""")
# A line that opens a block below it: `title:`, `- description:`, `summary: |`.
_OPENER = re.compile(r"""^\s*(?:-\s+)?["']?([A-Za-z_][\w-]*)["']?\s*:\s*(?:[|>][-+0-9]*)?\s*(?:#.*)?$""")
# Unicode gives these no name; the rest of C0 and C1 stay bare codes (U+0000, U+001B).
_NAMES = {"\t": "TAB", "\n": "LINE FEED", "\r": "CARRIAGE RETURN"}
ONE_LINE_RULE = "a one-line text cannot hold tabs, line breaks, control or text-direction characters"
TEXT_RULE = "control and text-direction characters are not allowed"


def refused_lines(lines: list[str]) -> Iterator[tuple[int, int]]:
    """(index, column of the first refused character) of every line that holds a control or
    text-direction character other than a tab or a line break.

    Checked on the raw text, before YAML reads it: PyYAML reports a NUL or an escape at the start of
    the YAML rather than at its line, and lets a text-direction override through. Split the text at
    LF only, to count lines as an editor does.
    """
    for index, line in enumerate(lines):
        # The kernel refuses tabs even in long text; in a Markdown body or in YAML they are layout.
        if has_control_characters(line.replace("\t", " "), multiline=True):
            column = next(
                column
                for column, character in enumerate(line)
                if character != "\t" and has_control_characters(character, multiline=True)
            )
            yield index, column


def refused_character(value: str, *, one_line: bool) -> str | None:
    """The first character of a value the kernel refuses, or None. A one-line value (a title, a code)
    holds no tab or line break either; a longer text (a description) may hold line breaks."""
    if not has_control_characters(value, multiline=not one_line):
        return None
    return next(character for character in value if has_control_characters(character, multiline=not one_line))


def key_path(lines: list[str], index: int, column: int) -> str | None:
    """The field a character at `column` of `lines[index]` is in, as YAML keys ('title.de'): the
    block key that opens its line's mapping (`title:` on the line above), then the keys of the
    flow mappings open before it. A guess from the text, for the message only: the YAML cannot be
    read while the character is in it.
    """
    keys = _flow_keys(lines[index][:column])
    indent = _indent(lines[index])
    for above in reversed(lines[:index]):
        if above.strip() and _indent(above) < indent:
            opener = _OPENER.match(above)
            if opener:
                keys.insert(0, opener.group(1))
            break
    return ".".join(keys) or None


def _flow_keys(text: str) -> list[str]:
    """The keys still open at the end of `text` (one line's start), outermost first."""
    open_keys: dict[int, str] = {}  # depth of flow mappings → the last key seen there
    depth = 0
    for match in _KEY_OR_BRACE.finditer(text):
        token = match.group(0)
        depth += 1 if token == "{" else -1 if token == "}" else 0
        if match.group(1):
            open_keys[depth] = match.group(1)
        open_keys = {level: key for level, key in open_keys.items() if level <= depth}
    return [open_keys[level] for level in sorted(open_keys)]


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def control_character_message(what: str, character: str, *, one_line: bool = False) -> str:
    """E.g. `'title' contains the invisible character U+202E RIGHT-TO-LEFT OVERRIDE: …`."""
    name = _NAMES.get(character) or unicodedata.name(character, "")
    code = f"U+{ord(character):04X}" + (f" {name}" if name else "")
    if one_line:
        return f"{what} contains the invisible character {code}: {ONE_LINE_RULE}"
    return f"{what} contains the invisible character {code}: remove it ({TEXT_RULE})"
