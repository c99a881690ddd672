"""Certificates of completions and their verification codes (issue 15). Functions flush; the
view (or command) commits.

- A certificate is made with its completion (`issue`, on `course_completed`; connected in
  lms/__init__.py), or for a completion from before this feature on its first download
  (`certificate_for`). Either way there is one per completion (a unique key), so its code never
  changes. It keeps the course's title, version and competences as they were at completion.
- The code: 16 characters from an alphabet without look-alikes (no 0/O, 1/I/L), about 79 bits,
  shown as `LP-7K3M-9QXR-2HFD-8WNA`. It is a capability: whoever holds it learns the name,
  course and date of one certificate, which is what HR and administrators, the only ones to ask,
  may see anyway. It is stored as it is, not hashed, because the learner's PDF shows it again at
  every download; a copy of the database tells no more than the completions beside it.
- Checking a code (`check`, the verification page): a found certificate is audited
  (VERIFY_CERTIFICATE, with the person); a wrong code counts against the one who typed it, and
  after MAX_FAILED_LOOKUPS wrong codes within LOOKUP_WINDOW the page answers nobody's code until
  the window ends, so that codes cannot be guessed. Text that cannot be a code is not counted.
- A certificate goes with its completion and its person (ON DELETE CASCADE): when the retention
  of people who left deletes someone, their certificates go too, and their codes are then "not
  found or no longer held" (docs/certificates.md).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from flask import current_app, url_for
from flask_babel import format_datetime
from sqlalchemy import case, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import lazyload

from lms.catalog.models import Course, CourseCompetence
from lms.common.dates import as_utc, utcnow
from lms.common.vocabulary import AuditAction, AuditField
from lms.extensions import db
from lms.frameworks.models import Competence
from lms.i18n import _
from lms.learning.models import Certificate, CertificateLookupFailures, Completion
from lms.people.models import User
from lms.privacy import services as privacy

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0, 1, I, L, O: nothing to mistake when typing
CODE_LENGTH = 16
PREFIX = "LP"  # "Lernpfad"; never part of the stored code (L is not in the alphabet)
GROUP = 4
MAX_FAILED_LOOKUPS = 10
LOOKUP_WINDOW = timedelta(hours=1)
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212_.]+")  # spaces, hyphens and dashes people type or paste


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def formatted(code: str) -> str:
    """The stored code as printed: LP-XXXX-XXXX-XXXX-XXXX."""
    return "-".join([PREFIX, *(code[start : start + GROUP] for start in range(0, len(code), GROUP))])


def normalised(text: str) -> str | None:
    """The code in `text` as stored, or None if `text` cannot be a code. Spaces, hyphens, letter
    case and the "LP" in front do not matter."""
    compact = _SEPARATORS.sub("", text or "").upper()
    if compact.startswith(PREFIX):
        compact = compact[len(PREFIX) :]
    if len(compact) != CODE_LENGTH or any(character not in ALPHABET for character in compact):
        return None
    return compact


# --- issuing --------------------------------------------------------------------------------------


def _competences(course_id: int) -> list[dict]:
    rows = db.session.execute(
        select(Competence.code, Competence.title_de, Competence.title_en, CourseCompetence.level)
        .join(CourseCompetence, CourseCompetence.competence_id == Competence.id)
        .where(CourseCompetence.course_id == course_id)
        .order_by(Competence.position, Competence.code)
    )
    return [{"code": code, "title_de": de, "title_en": en, "level": level} for code, de, en, level in rows]


def _held(completion_id: int) -> Certificate | None:
    return db.session.execute(
        select(Certificate).where(Certificate.completion_id == completion_id)
    ).scalar_one_or_none()


def issue(completion: Completion, attempts: int = 3) -> Certificate:
    """The completion's certificate, made now if it has none: the course as it is now (the version
    just completed, when called on completion). A second request making the same certificate at
    the same moment finds the first one's."""
    course = db.session.get(Course, completion.course_id)
    assert course is not None  # a completion's course is deleted with it
    competences = _competences(course.id)
    for _attempt in range(attempts):
        certificate = Certificate(
            completion_id=completion.id,
            user_id=completion.user_id,
            code=new_code(),
            course_title=course.title,
            course_version=completion.course_version,
            competences=competences,
            issued_at=utcnow(),
        )
        try:
            with db.session.begin_nested():
                db.session.add(certificate)
        except IntegrityError:
            held = _held(completion.id)
            if held is not None:  # made by a parallel request
                return held
            continue  # the unlikely case of a code given before: another one
        return certificate
    raise RuntimeError("no unused certificate code found")  # 79 bits: does not happen


def issue_on_completion(_sender, completion: Completion, **_extra) -> None:
    """Receiver of `course_completed` (lms.learning.signals), connected in lms/__init__.py."""
    issue(completion)


def verification_address() -> str:
    """The verification page's address as printed on a certificate: LMS_BASE_URL and the path, or
    the address the current request came to when no base address is configured."""
    base = (current_app.config.get("LMS_BASE_URL") or "").rstrip("/")
    return base + url_for("certificates.verify") if base else url_for("certificates.verify", _external=True)


def certificate_for(completion: Completion) -> Certificate:
    """The completion's certificate; a completion from before certificates gets its own now."""
    return _held(completion.id) or issue(completion)


def held_with_code(text: str) -> Certificate | None:
    """The certificate a code names, if it is held."""
    code = normalised(text)
    if code is None:
        return None
    return db.session.execute(select(Certificate).where(Certificate.code == code)).scalar_one_or_none()


def revoke(certificate: Certificate, now: datetime | None = None) -> bool:
    """Declare a certificate no longer valid (issued in error, e.g. an attendance recorded for the
    wrong person): the verification page says so from now on. False if it was revoked before."""
    if certificate.revoked_at is not None:
        return False
    certificate.revoked_at = now or utcnow()
    db.session.flush()
    return True


# --- checking a code ------------------------------------------------------------------------------


class Standing(StrEnum):
    VALID = "valid"
    EXPIRED = "expired"  # the completion's validity ended (the course is to be renewed)
    REVOKED = "revoked"


@dataclass(frozen=True)
class Found:
    """What the verification page shows of a certificate."""

    certificate: Certificate
    completion: Completion
    person: User
    standing: Standing

    @property
    def code(self) -> str:
        return formatted(self.certificate.code)


@dataclass(frozen=True)
class Verification:
    """The answer to one code: a certificate, or the message to show next to the field."""

    found: Found | None = None
    error: str | None = None
    locked_until: datetime | None = None


def standing(certificate: Certificate, completion: Completion, now: datetime | None = None) -> Standing:
    now = now or utcnow()
    if certificate.revoked_at is not None:
        return Standing.REVOKED
    if completion.expires_at is not None and as_utc(completion.expires_at) <= now:
        return Standing.EXPIRED
    return Standing.VALID


def check(viewer: User, text: str, ip_address: str | None = None, now: datetime | None = None) -> Verification:
    """Look a code up for `viewer` (HR or an administrator): found (and audited), or why not."""
    now = now or utcnow()
    code = normalised(text)
    if code is None:
        return Verification(error=_format_error())
    locked_until = _locked_until(viewer, now)
    if locked_until is not None:
        return Verification(error=_locked_error(locked_until), locked_until=locked_until)
    row = db.session.execute(
        select(Certificate, Completion, User)
        .join(Completion, Completion.id == Certificate.completion_id)
        .join(User, User.id == Certificate.user_id)
        .where(Certificate.code == code)
        .options(lazyload(User.role_rows))  # the person's roles are not shown
    ).one_or_none()
    if row is None:
        failures, since = _count_failure(viewer, now)
        if failures >= MAX_FAILED_LOOKUPS:
            until = since + LOOKUP_WINDOW
            return Verification(error=f"{_not_found_error()} {_locked_error(until)}", locked_until=until)
        return Verification(error=_not_found_error())
    certificate, completion, person = row
    privacy.record_event(
        viewer,
        AuditAction.VERIFY_CERTIFICATE,
        person,
        {AuditField.CERTIFICATE: certificate.id, AuditField.COURSE: certificate.course_title, AuditField.VIA: "web"},
        ip_address,
    )
    return Verification(found=Found(certificate, completion, person, standing(certificate, completion, now)))


def _format_error() -> str:
    return _(
        "This is not a verification code. A code starts with LP and has 16 letters and digits, "
        "e.g. LP-7K3M-9QXR-2HFD-8WNA."
    )


def _not_found_error() -> str:
    return _(
        "No certificate with this code is held. Please check the code. A certificate is also no "
        "longer held when the data of its person was deleted after they left."
    )


def _locked_error(until: datetime) -> str:
    return _(
        "Too many wrong codes were entered. Codes can be checked again from %(time)s.",
        time=format_datetime(until, "short"),
    )


def _locked_until(viewer: User, now: datetime) -> datetime | None:
    row = db.session.execute(
        select(CertificateLookupFailures.failures, CertificateLookupFailures.first_failed_at).where(
            CertificateLookupFailures.user_id == viewer.id
        )
    ).one_or_none()
    if row is None or row.failures < MAX_FAILED_LOOKUPS:
        return None
    until = as_utc(row.first_failed_at) + LOOKUP_WINDOW
    return until if until > now else None


def _count_failure(viewer: User, now: datetime) -> tuple[int, datetime]:
    """One more wrong code for `viewer`, added in the database (parallel guesses all count); a
    count whose window has passed starts again. Returns the count and when its window began."""
    insert = postgresql_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(CertificateLookupFailures).values(user_id=viewer.id, failures=1, first_failed_at=now)
    window_passed = CertificateLookupFailures.first_failed_at <= now - LOOKUP_WINDOW
    counted = statement.on_conflict_do_update(
        index_elements=[CertificateLookupFailures.user_id],
        set_={
            "failures": case((window_passed, 1), else_=CertificateLookupFailures.failures + 1),
            "first_failed_at": case((window_passed, now), else_=CertificateLookupFailures.first_failed_at),
        },
    ).returning(CertificateLookupFailures.failures, CertificateLookupFailures.first_failed_at)
    failures, since = db.session.execute(counted).one()
    return failures, as_utc(since)
