"""Checks on free text before it is stored: one rule for every domain."""

from __future__ import annotations

import unicodedata

from lms.i18n import _

# Explicit direction embeddings and overrides (U+202A–U+202E) and isolates (U+2066–U+2069): they
# reorder how the text around them is shown ("Trojan source"), so a stored note could read
# differently from what was typed. Ordinary text never needs them.
BIDI_CONTROLS = frozenset(chr(code) for code in (*range(0x202A, 0x202F), *range(0x2066, 0x206A)))
_LINE_BREAKS = frozenset("\n\r")


def has_control_characters(text: str | None, *, multiline: bool = False) -> bool:
    """Does the text hold a control character (C0, DEL, C1: NUL, escape, …) or a bidi override?

    `multiline=True` (notes typed in a text area) allows line breaks (LF, CR); a tab is refused
    everywhere, as in people's names.
    """
    if not text:
        return False
    allowed = _LINE_BREAKS if multiline else frozenset()
    return any(
        character in BIDI_CONTROLS or (unicodedata.category(character) == "Cc" and character not in allowed)
        for character in text
    )


def note_problem(note: str, max_length: int) -> str | None:
    """Why a free-text note (several lines allowed) cannot be stored, in the user's language."""
    if len(note) > max_length:
        return _("Keep the note to at most %(max)d characters.", max=max_length)
    if has_control_characters(note, multiline=True):
        return _(
            "The note contains invisible control or text-direction characters. "
            "Please remove them, for example by typing the text again."
        )
    return None


def reveal_control_characters(text: str) -> str:
    """The text with each control or bidi character written out (`\\u202e`), for showing recorded
    input as it arrived: nothing invisible, nothing that reorders the text around it."""
    return "".join(
        f"\\u{ord(character):04x}"
        if character in BIDI_CONTROLS or unicodedata.category(character) == "Cc"
        else character
        for character in text
    )
