"""Password hashing (Argon2id) and the password policy.

Policy after NIST SP 800-63B and the BSI: 8 to 128 characters, no composition rules,
refused when it appears on a list of commonly used passwords, and refused when zxcvbn rates it
easy to guess (score below 3) given what an attacker knows of the person: their name, their
e-mail address, the town and the application's name.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_app_context

from lms.i18n import _

MIN_LENGTH = 8
MAX_LENGTH = 128
MIN_SCORE = 3  # zxcvbn: 3 is "safely unguessable: moderate protection from offline slow-hash scenario"
APPLICATION_NAME = "lernpfad"
_GERMAN_LIST = Path(__file__).parent / "data" / "common-passwords-de.txt"


def _hasher() -> PasswordHasher:
    config = current_app.config
    return PasswordHasher(
        time_cost=config["ARGON2_TIME_COST"],
        memory_cost=config["ARGON2_MEMORY_COST"],
        parallelism=config["ARGON2_PARALLELISM"],
    )


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Check a password; without a stored hash, still spend the same time (no account probing)."""
    hasher = _hasher()
    try:
        return hasher.verify(password_hash or _dummy_hash(hasher), password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher().check_needs_rehash(password_hash)


_dummy_hashes: dict[tuple, str] = {}


def _dummy_hash(hasher: PasswordHasher) -> str:
    key = (hasher.time_cost, hasher.memory_cost, hasher.parallelism)
    if key not in _dummy_hashes:
        _dummy_hashes[key] = hasher.hash("not-a-real-password-only-for-equal-timing")
    return _dummy_hashes[key]


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """zxcvbn's list of the 30,000 most used passwords, plus a short German supplement."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    words = set(FREQUENCY_LISTS["passwords"])
    words.update(
        line.strip().lower()
        for line in _GERMAN_LIST.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    )
    return frozenset(words)


def _words(*texts: str | None) -> list[str]:
    """The texts themselves and their parts (split at anything not a letter or digit), lowercased."""
    words: list[str] = []
    for text in texts:
        if not text:
            continue
        lowered = text.lower()
        for word in [lowered, *re.split(r"[^\w]+|_", lowered)]:
            if len(word) >= 3 and word not in words:
                words.append(word)
    return words


def _letters(text: str) -> str:
    return "".join(c for c in text.lower() if c.isalpha())


def password_problem(
    password: str,
    *,
    email: str | None = None,
    given_name: str | None = None,
    family_name: str | None = None,
) -> str | None:
    """Why this password is not acceptable, in the user's language; None when it is fine.

    `email`, `given_name` and `family_name` are the person's own data: a password made of them
    is refused, and zxcvbn rates the password knowing them, the town's name and "lernpfad".
    """
    if len(password) < MIN_LENGTH:
        return _("The password must be at least %(count)d characters long.", count=MIN_LENGTH)
    if len(password) > MAX_LENGTH:
        return _("The password must be at most %(count)d characters long.", count=MAX_LENGTH)
    lowered = password.lower()
    if lowered in common_passwords():
        return _("This password is on a list of commonly used passwords. Please choose another one.")
    local_part, _at, domain = (email or "").partition("@")
    personal = _words(given_name, family_name, local_part) + ([email.lower()] if email else [])
    if _is_made_of_own_data(password, given_name, family_name, local_part or None, email):
        return _too_easy(_("It contains your name or your e-mail address."))
    town = current_app.config.get("TOWN_NAME") if has_app_context() else None
    local = [word for word in _words(town, APPLICATION_NAME, domain) if word not in personal]
    from zxcvbn import zxcvbn

    result = zxcvbn(password, user_inputs=personal + local, max_length=MAX_LENGTH)
    if result["score"] >= MIN_SCORE:
        return None
    return _too_easy(_reason(result["sequence"], set(personal)))


def _is_made_of_own_data(password: str, *parts: str | None) -> bool:
    """The password is only the person's name or e-mail address, give or take separators and
    digits ("Erika-Mustermann-1", "erika.mustermann", "MustermannErika")."""
    letters = _letters(password)
    names = [_letters(part) for part in parts if part and _letters(part)]
    if not letters or not names:
        return False
    given, family = _letters(parts[0] or ""), _letters(parts[1] or "")
    candidates = set(names)
    if given and family:
        candidates.update({given + family, family + given})
    return letters in candidates


def _reason(sequence: list[dict], personal: set[str]) -> str:
    """Our own words for zxcvbn's finding (its feedback texts are English only)."""
    patterns = {match["pattern"] for match in sequence}
    user_tokens = {match["matched_word"] for match in sequence if match.get("dictionary_name") == "user_inputs"}
    if user_tokens & personal:
        return _("It contains your name or your e-mail address.")
    if user_tokens:
        return _("It contains the town's name or the name of this application.")
    if patterns & {"repeat", "sequence", "spatial", "date", "regex"}:
        return _("It follows a known pattern (repetitions, keyboard sequences, years).")
    if "dictionary" in patterns:
        return _("It is made of common words or passwords with small changes.")
    return _("It is too short for the kind of characters it uses.")


def _too_easy(reason: str) -> str:
    return " ".join(
        [
            _("This password is too easy to guess."),
            reason,
            _("A long sentence you can remember is the safest."),
        ]
    )
