"""Password hashing (Argon2id) and the password policy.

Policy after NIST SP 800-63B and the BSI: 8 to 128 characters, no composition rules,
refused when it appears on a list of commonly used passwords.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

from lms.i18n import _

MIN_LENGTH = 8
MAX_LENGTH = 128
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


def password_problem(password: str, email: str | None = None) -> str | None:
    """Why this password is not acceptable, in the user's language; None when it is fine."""
    if len(password) < MIN_LENGTH:
        return _("The password must be at least %(count)d characters long.", count=MIN_LENGTH)
    if len(password) > MAX_LENGTH:
        return _("The password must be at most %(count)d characters long.", count=MAX_LENGTH)
    lowered = password.lower()
    if lowered in common_passwords():
        return _("This password is on a list of commonly used passwords. Please choose another one.")
    if email and lowered in {email.lower(), email.split("@")[0].lower()}:
        return _("The password must not be your e-mail address.")
    return None
