"""The HR import as an audited operation (`flask people import`, the admin area's upload): the
people domain reads, checks and writes (lms/people/hr_import.py); here the safety rule against
a truncated export, the sessions of those deactivated, and the audit entry. Functions flush; the
caller commits.

The audit entry names no person: who ran it (the admin, or the operator on the command line), the
file's SHA-256 and the counts. The file itself is not kept; an upload waits for its confirmation
in a file of its own (`keep_upload`), readable by the app's user only, for at most an hour.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

from flask import current_app

from lms.auth import services as auth_services
from lms.common.vocabulary import AuditAction, AuditField
from lms.people import hr_import as people_import
from lms.people.models import User
from lms.privacy import services as privacy

UPLOAD_MAX_AGE_SECONDS = 3600
_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")


class MassDeactivationRefused(Exception):
    """The file would deactivate more than LMS_IMPORT_MAX_DEACTIVATE_PERCENT of the active people."""

    def __init__(self, plan: people_import.Plan, limit: int) -> None:
        self.deactivations, self.active, self.limit = plan.deactivations, plan.active_before, limit
        self.percent = plan.deactivation_percent()
        super().__init__(
            f"the file would deactivate {self.deactivations} of {self.active} active people "
            f"({self.percent:.0f} %), more than LMS_IMPORT_MAX_DEACTIVATE_PERCENT={limit} %"
        )


def max_deactivate_percent() -> int:
    return int(current_app.config["IMPORT_MAX_DEACTIVATE_PERCENT"])


def needs_mass_deactivation_consent(plan: people_import.Plan) -> bool:
    return plan.exceeds(max_deactivate_percent())


def apply_import(
    actor: User | None,
    plan: people_import.Plan,
    *,
    via: str,
    ip_address: str | None = None,
    allow_mass_deactivation: bool = False,
    progress: Callable[[int], object] | None = None,
) -> dict[str, int]:
    """Write a checked plan, end the sessions of those deactivated, and record it. `actor` None is
    the operator on the command line. Answers the counts."""
    if needs_mass_deactivation_consent(plan) and not allow_mass_deactivation:
        raise MassDeactivationRefused(plan, max_deactivate_percent())
    deactivated = people_import.apply(plan, progress)
    auth_services.end_sessions_of([user.id for user in deactivated])
    counts = plan.counts
    privacy.record_event(
        actor,
        AuditAction.IMPORT_PEOPLE,
        context={AuditField.VIA: via, AuditField.SHA256: plan.sha256, AuditField.COUNTS: counts},
        ip_address=ip_address,
    )
    return counts


def deactivate_leavers(today: date | None = None) -> int:
    """The daily job's work: people whose stored exit date has come are deactivated and signed out;
    one audit entry with their number (no names)."""
    leavers = people_import.deactivate_leavers(today)
    auth_services.end_sessions_of([user.id for user in leavers])
    if leavers:
        privacy.record_event(None, AuditAction.DEACTIVATE_LEAVERS, context={AuditField.PEOPLE: len(leavers)})
    return len(leavers)


# --- an upload waiting for its confirmation ---------------------------------------------------


def upload_folder() -> Path:
    return Path(current_app.instance_path) / "hr-import"


def _upload_path(user_id: int, token: str) -> Path | None:
    return upload_folder() / f"{int(user_id)}-{token}.csv" if _TOKEN.fullmatch(token or "") else None


def keep_upload(user_id: int, data: bytes) -> str:
    """Keep an uploaded file until its confirmation (or an hour); answers the token naming it."""
    discard_stale_uploads()
    folder = upload_folder()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    token = secrets.token_urlsafe(32)
    path = _upload_path(user_id, token)
    assert path is not None
    handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(handle, "wb") as file:
        file.write(data)
    return token


def kept_upload(user_id: int, token: str, sha256: str) -> bytes | None:
    """The file this person uploaded under `token`, if it is still there, not older than an hour,
    and has the SHA-256 the preview showed; else None."""
    path = _upload_path(user_id, token)
    try:
        if path is None or time.time() - path.stat().st_mtime > UPLOAD_MAX_AGE_SECONDS:
            return None
        data = path.read_bytes()
    except OSError:
        return None
    same = secrets.compare_digest(hashlib.sha256(data).hexdigest().encode(), (sha256 or "").encode())
    return data if same else None


def discard_upload(user_id: int, token: str) -> None:
    path = _upload_path(user_id, token)
    if path is not None:
        path.unlink(missing_ok=True)


def discard_stale_uploads(max_age: float = UPLOAD_MAX_AGE_SECONDS) -> int:
    """Remove uploads older than `max_age` seconds (never confirmed); answers how many."""
    removed = 0
    folder = upload_folder()
    if not folder.is_dir():
        return 0
    for path in folder.glob("*.csv"):
        try:
            if time.time() - path.stat().st_mtime > max_age:
                path.unlink()
                removed += 1
        except OSError:
            continue
    return removed
