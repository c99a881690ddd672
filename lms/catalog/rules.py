"""Rules of the course format that several parts share: how long a course takes, and which
variants of a course there may be (docs/course-format.md)."""

from __future__ import annotations

import re

from lms.i18n import _l

# A realistic reading speed for instructional text read at work (words per minute), and the time
# a learner needs per question asked. duration_minutes = words / READING_WORDS_PER_MINUTE +
# MINUTES_PER_QUESTION × questions asked (each lesson's draw plus the final check's).
READING_WORDS_PER_MINUTE = 160
MINUTES_PER_QUESTION = 1
# A stated duration further off the derived one than this share is reported (a warning).
DURATION_TOLERANCE = 0.3

_WORD = re.compile(r"[^\W\d_][\w'’-]*")

# Variants of a course: a sub-folder of the course folder with the same lesson files, written
# for another audience or language. The folder name is the variant's code.
VARIANTS = {
    "einfache-sprache": _l("Einfache Sprache"),
    "leichte-sprache": _l("Leichte Sprache"),
}


def word_count(markdown_text: str) -> int:
    """Words of a Markdown text (its markup and numbers aside)."""
    return len(_WORD.findall(markdown_text))


def derived_duration(words: int, questions_asked: int) -> int:
    """Whole minutes, at least 1."""
    return max(1, round(words / READING_WORDS_PER_MINUTE + MINUTES_PER_QUESTION * questions_asked))


def duration_is_off(stated: int, derived: int) -> bool:
    return abs(stated - derived) > DURATION_TOLERANCE * derived


def variant_label(code: str) -> str:
    label = VARIANTS.get(code)
    return str(label) if label is not None else code
