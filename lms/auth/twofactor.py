"""Two-factor sign-in: one-time codes (TOTP, RFC 6238) after the password, recovery codes, and the
pending sign-in between the two. Plain functions over the session; callers commit.

- A person sets it up with an authenticator app (QR code or typed key, confirmed with a code), or
  an admin enrols a hardware token for them (its seed from the vendor's seed file, confirmed with
  the code it shows): nobody needs a private phone. Ten recovery codes are a second way in.
- After the right password, a person with a second factor gets a pending sign-in (server-side,
  `PENDING_MINUTES`), not a session; the code completes it. Codes of the time step before and after
  count too (`VALID_WINDOW`), none twice: the last accepted step is stored. Wrong codes count in
  the sign-in throttling (lms.auth.services) under the person's own key, which a right password
  does not clear, and under the address's.
- Holders of a role in LMS_TWO_FACTOR_REQUIRED_ROLES cannot turn it off; without it they reach
  only its setup (lms.auth.views.require_two_factor_setup).

Auth cannot import the audit trail (privacy is of its layer): a person's own steps are announced
on `two_factor_event` and lms/__init__.py connects the trail to it. An admin's steps are recorded
by lms.admin.services, which calls `reset` and `enrol_hardware_token` here.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

import pyotp
import segno
from blinker import Namespace
from flask import current_app
from sqlalchemy import CursorResult, delete, func, or_, select, update

from lms.auth.models import PendingSignIn, RecoveryCode, TwoFactorCredential
from lms.auth.services import (
    ThrottleKey,
    clear_failures,
    end_all_sessions,
    key_wait,
    record_failure,
    take_turn,
    token_hash,
)
from lms.common.dates import as_utc, utcnow
from lms.common.errors import ValidationFailed
from lms.common.text import has_control_characters
from lms.common.vocabulary import AuditAction, TwoFactorKind
from lms.extensions import db
from lms.i18n import _
from lms.people.models import User

PENDING_MINUTES = 5  # between the right password and the code
VALID_WINDOW = 1  # codes of one time step (30 s) before and after count too: clocks drift a little
RECOVERY_CODE_COUNT = 10
_RECOVERY_CODE_LENGTH = 16  # base32 characters: 80 random bits
_BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
# RFC 4226: a shared secret has at least 128 bits; a seed file's longest (SHA-512) are 64 bytes.
MIN_SECRET_BYTES = 16
MAX_SECRET_BYTES = 64

# Sent when a person changes their own second factor or uses a recovery code: the person is the
# sender, with `action`, `subject` and `ip_address` — the arguments of
# lms.privacy.services.record_event, which lms/__init__.py connects here.
two_factor_event = Namespace().signal("two-factor-event")


def _announce(user: User, action: AuditAction, ip_address: str | None) -> None:
    two_factor_event.send(user, action=action, subject=user, ip_address=ip_address)


# --- state ------------------------------------------------------------------------------------


def credential(user_id: int) -> TwoFactorCredential | None:
    return db.session.get(TwoFactorCredential, user_id)


def is_on(user: User) -> bool:
    row = credential(user.id)
    return row is not None and row.secret is not None


def required_for(user: User) -> bool:
    """Whether one of the person's roles requires a second factor (LMS_TWO_FACTOR_REQUIRED_ROLES)."""
    return bool(user.roles & current_app.config["TWO_FACTOR_REQUIRED_ROLES"])


def needs_setup(user: User) -> bool:
    """Their role requires a second factor and they have none: they may only set it up."""
    return required_for(user) and not is_on(user)


@dataclass(frozen=True)
class Status:
    on: bool
    required: bool
    kind: TwoFactorKind | None = None
    serial: str | None = None
    enabled_at: datetime | None = None
    recovery_codes_left: int = 0


def status(user: User) -> Status:
    """What the person (or an admin on their page) is shown: never the secret."""
    row = credential(user.id)
    required = required_for(user)
    if row is None or row.secret is None:
        return Status(on=False, required=required)
    left = db.session.scalar(select(func.count()).select_from(RecoveryCode).where(RecoveryCode.user_id == user.id))
    return Status(
        on=True,
        required=required,
        kind=TwoFactorKind(row.kind) if row.kind else None,
        serial=row.serial,
        enabled_at=row.enabled_at,
        recovery_codes_left=left or 0,
    )


def _row(user: User) -> TwoFactorCredential:
    row = credential(user.id)
    if row is None:
        row = TwoFactorCredential(user_id=user.id)
        db.session.add(row)
    return row


# --- codes ------------------------------------------------------------------------------------


def _digits(code: str | None) -> str | None:
    """A one-time code as typed: six digits, spaces allowed ("123 456")."""
    cleaned = re.sub(r"\s", "", code or "")
    return cleaned if re.fullmatch(r"\d{6}", cleaned) else None


def matching_step(secret: str, code: str | None, now: datetime | None = None) -> int | None:
    """The time step whose code `code` is, within VALID_WINDOW steps of now (None: no match)."""
    digits = _digits(code)
    if digits is None:
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now or utcnow())
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), digits):
            return step
    return None


def _claim_step(user_id: int, step: int) -> bool:
    """Store `step` as the last one used, unless it (or a later one) was used already: one
    conditional UPDATE, so two requests with the same code cannot both succeed."""
    result = db.session.execute(
        update(TwoFactorCredential)
        .where(
            TwoFactorCredential.user_id == user_id,
            or_(TwoFactorCredential.last_used_step.is_(None), TwoFactorCredential.last_used_step < step),
        )
        .values(last_used_step=step)
        .execution_options(synchronize_session="fetch")
    )
    return bool(cast(CursorResult, result).rowcount)


def _recovery_normal(code: str | None) -> str | None:
    """A recovery code as typed, in the form it was hashed: upper case, without spaces and hyphens;
    0, 1 and 8 (not in base32) are read as O, I and B."""
    cleaned = re.sub(r"[\s-]", "", code or "").upper().translate(str.maketrans("018", "OIB"))
    return cleaned if re.fullmatch(f"[{_BASE32}]{{{_RECOVERY_CODE_LENGTH}}}", cleaned) else None


def _recovery_hash(salt: str, normal: str) -> str:
    return hashlib.sha256(bytes.fromhex(salt) + normal.encode()).hexdigest()


def _use_recovery_code(user_id: int, code: str | None) -> bool:
    """Consume the matching recovery code (deleted: each works once)."""
    normal = _recovery_normal(code)
    if normal is None:
        return False
    rows = db.session.execute(select(RecoveryCode).where(RecoveryCode.user_id == user_id)).scalars().all()
    for row in rows:
        if hmac.compare_digest(_recovery_hash(row.salt, normal), row.code_hash):
            # Deleted by id with a count: of two requests with the same code, one succeeds.
            result = db.session.execute(
                delete(RecoveryCode).where(RecoveryCode.id == row.id).execution_options(synchronize_session=False)
            )
            db.session.expunge(row)
            return bool(cast(CursorResult, result).rowcount)
    return False


def _replace_recovery_codes(user_id: int) -> list[str]:
    """New recovery codes (the old ones stop working), returned once to be shown; stored hashed."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    codes = []
    for _index in range(RECOVERY_CODE_COUNT):
        normal = "".join(secrets.choice(_BASE32) for _ in range(_RECOVERY_CODE_LENGTH))
        salt = secrets.token_hex(16)
        db.session.add(RecoveryCode(user_id=user_id, salt=salt, code_hash=_recovery_hash(salt, normal)))
        codes.append("-".join(normal[i : i + 4] for i in range(0, _RECOVERY_CODE_LENGTH, 4)))
    db.session.flush()
    return codes


# --- checking a code, throttled ---------------------------------------------------------------


@dataclass(frozen=True)
class CodeCheck:
    ok: bool = False
    error: str | None = None  # "throttled" or "invalid"
    wait_seconds: int = 0
    recovery: bool = False  # a recovery code was used (and is gone now)


def _person_key(user: User) -> ThrottleKey:
    # The person's own key, whatever the address: a right password (which clears the sign-in's
    # account key) does not give a guesser of codes fresh attempts.
    return ThrottleKey(f"tfa:{user.id}", current_app.config["LOGIN_FREE_ATTEMPTS_ACCOUNT"])


def _address_key(ip_address: str | None) -> ThrottleKey:
    return ThrottleKey(f"addr:{ip_address or 'unknown'}", current_app.config["LOGIN_FREE_ATTEMPTS_ADDRESS"])


def check_code(user: User, code: str | None, ip_address: str | None, now: datetime | None = None) -> CodeCheck:
    """A one-time code or a recovery code of a person whose second factor is on.

    Throttled like sign-in: the person's key stays locked until the caller commits (parallel
    guesses take turns); a wrong code counts for the person and the address, and the caller must
    commit to keep that count. A recovery code used is announced (audited).
    """
    now = now or utcnow()
    key = _person_key(user)
    take_turn(key)
    wait = key_wait(key, now)
    if wait > 0:
        return CodeCheck(error="throttled", wait_seconds=wait)
    # Read again after the turn was taken: a parallel request may have used a code meanwhile.
    row = db.session.get(TwoFactorCredential, user.id, populate_existing=True)
    if row is not None and row.secret is not None:
        step = matching_step(row.secret, code, now)
        if step is not None and _claim_step(user.id, step):
            clear_failures(key)
            return CodeCheck(ok=True)
        if _use_recovery_code(user.id, code):
            clear_failures(key)
            _announce(user, AuditAction.USE_RECOVERY_CODE, ip_address)
            return CodeCheck(ok=True, recovery=True)
    record_failure((key, _address_key(ip_address)), now)
    return CodeCheck(error="invalid")


# --- the person's own setup -------------------------------------------------------------------


def start_setup(user: User) -> str:
    """A new secret for an authenticator app, kept aside until a code confirms it."""
    row = _row(user)
    row.new_secret = pyotp.random_base32()  # 160 bits
    db.session.flush()
    return row.new_secret


def setup_secret(user: User) -> str | None:
    row = credential(user.id)
    return row.new_secret if row else None


def grouped(secret: str) -> str:
    """The secret in groups of four, for typing it into an app."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def qr_code(user: User, secret: str) -> str:
    """The otpauth address of the secret as a QR code: an SVG data URI for an <img> (the CSP
    allows data: images; no script, no inline style)."""
    issuer = f"Lernpfad {current_app.config['TOWN_NAME']}".strip()
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=issuer)
    return segno.make(uri, error="m").svg_data_uri(scale=5)


def confirm_setup(user: User, code: str | None, ip_address: str | None, now: datetime | None = None) -> list[str]:
    """The code from the app confirms the new secret: two-factor sign-in is on (or uses the new
    device), with new recovery codes, returned to be shown once. The person's other sessions end."""
    now = now or utcnow()
    row = credential(user.id)
    if row is None or row.new_secret is None:
        raise ValidationFailed({"code": _("Please start the setup again.")})
    step = matching_step(row.new_secret, code, now)
    if step is None:
        raise ValidationFailed(
            {"code": _("This code is not correct. Enter the 6-digit code your app shows now for Lernpfad.")}
        )
    row.secret, row.new_secret = row.new_secret, None
    row.kind, row.serial, row.enabled_at, row.last_used_step = TwoFactorKind.APP, None, now, step
    codes = _replace_recovery_codes(user.id)
    end_all_sessions(user.id, except_token=user.session_token)
    _announce(user, AuditAction.ENABLE_TWO_FACTOR, ip_address)
    return codes


def regenerate_recovery_codes(user: User, ip_address: str | None) -> list[str]:
    """New recovery codes (after `check_code`); the old ones stop working."""
    codes = _replace_recovery_codes(user.id)
    _announce(user, AuditAction.NEW_RECOVERY_CODES, ip_address)
    return codes


def turn_off(user: User, ip_address: str | None) -> None:
    """The person turns their second factor off (after `check_code`), unless their role requires it."""
    if required_for(user):
        raise ValidationFailed({"code": _("Your role requires two-factor sign-in: you cannot turn it off.")})
    _remove(user.id)
    _announce(user, AuditAction.DISABLE_TWO_FACTOR, ip_address)


def _remove(user_id: int) -> None:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    db.session.execute(delete(TwoFactorCredential).where(TwoFactorCredential.user_id == user_id))
    db.session.flush()


# --- an admin's steps (recorded by lms.admin.services) -----------------------------------------


def reset(user: User) -> bool:
    """Remove the person's second factor and recovery codes (a lost device). Answers whether
    there was one. If their role requires it, they set it up anew at their next sign-in."""
    had = is_on(user)
    _remove(user.id)
    return had


def parse_seed(text: str | None) -> str:
    """A hardware token's seed as its vendor's seed file gives it: base32 (spaces, hyphens,
    lower case and '=' padding allowed), at least 128 bits. Answers it normalised."""
    cleaned = re.sub(r"[\s-]", "", text or "").upper().rstrip("=")
    if not re.fullmatch(f"[{_BASE32}]+", cleaned):
        raise ValidationFailed(
            {"secret": _("The seed must be in base32: only the letters A to Z and the digits 2 to 7.")}
        )
    try:
        raw = base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))
    except binascii.Error:
        raise ValidationFailed(
            {"secret": _("This is not a complete base32 seed. Please check that you copied all of it.")}
        ) from None
    if len(raw) < MIN_SECRET_BYTES:
        raise ValidationFailed(
            {"secret": _("The seed is too short: at least 128 bits (26 base32 characters) are needed.")}
        )
    if len(raw) > MAX_SECRET_BYTES:
        raise ValidationFailed({"secret": _("The seed is too long: at most 512 bits (103 base32 characters).")})
    return cleaned


def enrol_hardware_token(
    user: User, seed: str | None, serial: str | None, code: str | None, now: datetime | None = None
) -> None:
    """An admin enrols a hardware token for the person: its seed, checked with the code it shows
    now. It replaces any other second factor; recovery codes the person has stay valid."""
    now = now or utcnow()
    secret = parse_seed(seed)
    serial = (serial or "").strip() or None
    if serial and has_control_characters(serial):
        raise ValidationFailed({"serial": _("The serial number must not contain control characters.")})
    step = matching_step(secret, code, now)
    if step is None:
        raise ValidationFailed(
            {
                "code": _(
                    "This code does not belong to this seed. Check that seed and token match, "
                    "and enter the code the token shows now."
                )
            }
        )
    row = _row(user)
    row.secret, row.new_secret = secret, None
    row.kind, row.serial, row.enabled_at, row.last_used_step = TwoFactorKind.HARDWARE, serial, now, step
    db.session.flush()


# --- the pending sign-in ----------------------------------------------------------------------


def start_pending(user: User, now: datetime | None = None) -> str:
    """The right password of a person with a second factor: a pending sign-in, whose token the
    browser keeps (the caller puts it in the session cookie). Expired ones are cleared away."""
    now = now or utcnow()
    db.session.execute(delete(PendingSignIn).where(PendingSignIn.created_at < now - timedelta(minutes=PENDING_MINUTES)))
    token = secrets.token_urlsafe(32)
    db.session.add(PendingSignIn(token_hash=token_hash(token), user_id=user.id, created_at=now))
    db.session.flush()
    return token


def pending_user(token: str | None, now: datetime | None = None) -> User | None:
    """The person whose pending sign-in `token` is, while it counts and they are active."""
    if not token or not isinstance(token, str):
        return None
    row = db.session.execute(
        select(PendingSignIn).where(PendingSignIn.token_hash == token_hash(token))
    ).scalar_one_or_none()
    if row is None:
        return None
    if (now or utcnow()) - as_utc(row.created_at) > timedelta(minutes=PENDING_MINUTES) or not row.user.active:
        return None
    return row.user


def end_pending(token: str | None) -> None:
    if token and isinstance(token, str):
        db.session.execute(delete(PendingSignIn).where(PendingSignIn.token_hash == token_hash(token)))


def end_pending_of(user_id: int) -> None:
    """Every pending sign-in of the person (an admin ends all their sessions)."""
    db.session.execute(delete(PendingSignIn).where(PendingSignIn.user_id == user_id))
