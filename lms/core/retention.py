"""Runs the retention schedule (lms/common/retention.py) over every domain's rules. Flushes; the
caller commits. A real run leaves one audit entry with the counts, for the DPO."""

from __future__ import annotations

from datetime import datetime, timedelta

from lms.common.retention import PERIODS_BY_KEY, RetentionRule
from lms.common.vocabulary import AuditAction, AuditField
from lms.privacy import services as privacy


def all_rules() -> list[RetentionRule]:
    from lms.assignments.retention import RULES as assignment_rules
    from lms.auth.retention import RULES as auth_rules
    from lms.change.retention import RULES as change_rules
    from lms.learning.retention import RULES as learning_rules
    from lms.people.retention import RULES as people_rules
    from lms.privacy.retention import RULES as audit_rules
    from lms.sessions.retention import RULES as session_rules

    # The audit trail last: the purge's own entry, written after all rules, is never among the removed.
    return [*auth_rules, *learning_rules, *assignment_rules, *session_rules, *change_rules, *people_rules, *audit_rules]


def run(now: datetime, days: dict[str, int], *, dry_run: bool) -> dict[str, int]:
    """Rows per rule that are (or, with `dry_run`, would be) deleted."""
    counts = {}
    for rule in all_rules():
        cutoff = now - timedelta(days=days[rule.period])
        counts[rule.period] = rule.count(cutoff) if dry_run else rule.purge(cutoff)
    if not dry_run:
        privacy.record_event(None, AuditAction.PURGE, context={AuditField.DELETED: counts})
    return counts


def describe(key: str) -> str:
    return str(PERIODS_BY_KEY[key].what)
