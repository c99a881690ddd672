"""Retention of the audit trail (lms/common/retention.py): entries go a while after they were
written, from the start of the chain, behind a signed checkpoint (`chain.remove_prefix`), so
`flask audit verify` still checks what remains. A recent entry keeps every entry after it."""

from __future__ import annotations

from lms.common.dates import utcnow
from lms.common.retention import RetentionRule
from lms.privacy import chain

RULES = (
    RetentionRule(
        "audit_entries",
        chain.count_removable,
        lambda cutoff: chain.remove_prefix(cutoff, utcnow()),
    ),
)
