"""What the assignments domain does when learning announces something (wired in lms/__init__.py)."""

from __future__ import annotations

from lms.assignments import notices, services
from lms.learning.models import Completion


def close_assignments_met_by(_app, completion: Completion, **_extra) -> None:
    """A new completion closes the open assignments it meets at once (not only at the next daily
    run), and the person is told that they are done."""
    notices.tell_completed(services.close_met_assignments(user_id=completion.user_id))
