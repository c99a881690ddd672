"""The daily job of the HR import. `lms.scheduler` collects `JOBS` from here.

People whose exit date (from the HR system's export) has come are deactivated and signed out, as
the import would have done on that day; uploads never confirmed in the admin area are removed.
"""

from __future__ import annotations

import logging

from flask import Flask

from lms.admin import hr_import
from lms.common.jobs import ScheduledJob
from lms.extensions import db

log = logging.getLogger(__name__)


def deactivate_leavers(app: Flask) -> int:
    with app.app_context():
        try:
            count = hr_import.deactivate_leavers()
            db.session.commit()
        except Exception:
            db.session.rollback()
            raise
        hr_import.discard_stale_uploads()
    log.info("people whose exit date came: %d deactivated", count)
    return count


# Just after midnight (town time), so nobody signs in on their exit date; also at the scheduler's
# start, for a day it missed.
JOBS = (ScheduledJob("people.deactivate_leavers", deactivate_leavers, {"hour": 0, "minute": 5}, run_at_start=True),)
