"""The vocabularies stored in the database or the configuration, each defined once.

They are `StrEnum`s: a member is its stored text (`Role.HR == "hr"`), so rows, forms and URLs keep
plain strings while the code names each value once and a typo fails at import.
"""

from __future__ import annotations

from enum import StrEnum

from lms.i18n import _l


class Role(StrEnum):
    """What a person may do. Everyone is an employee; the others are added."""

    EMPLOYEE = "employee"
    TRAINER = "trainer"
    MANAGER = "manager"
    HR = "hr"
    ADMIN = "admin"
    DPO = "dpo"

    @property
    def label(self) -> str:
        return str(_ROLE_LABELS[self])


_ROLE_LABELS = {
    Role.EMPLOYEE: _l("Employee"),
    Role.TRAINER: _l("Trainer"),
    Role.MANAGER: _l("Manager"),
    Role.HR: _l("HR"),
    Role.ADMIN: _l("Administrator"),
    Role.DPO: _l("Data protection officer"),
}


class ManagerVisibility(StrEnum):
    """The staff-council preset for what managers see of their people (LMS_MANAGER_VISIBILITY)."""

    LEVELS = "levels"  # competence levels and evidence of their departments' people
    COMPLIANCE_ONLY = "compliance-only"  # only completions; competence data as aggregates


class AuditAction(StrEnum):
    """What an audit entry records about a look at someone else's data."""

    VIEW_PROFILE = "view_profile"
    VIEW_MATRIX = "view_matrix"
    EXPORT_MATRIX = "export_matrix"
    VIEW_EVIDENCE = "view_evidence"
    ASSESS = "assess"
    VIEW_TARGETS = "view_targets"
    DENIED = "denied"

    @property
    def label(self) -> str:
        return str(_ACTION_LABELS[self])


_ACTION_LABELS = {
    AuditAction.VIEW_PROFILE: _l("viewed the competence profile"),
    AuditAction.VIEW_MATRIX: _l("viewed the skill matrix"),
    AuditAction.EXPORT_MATRIX: _l("exported the skill matrix"),
    AuditAction.VIEW_EVIDENCE: _l("viewed the evidence of a competence"),
    AuditAction.ASSESS: _l("confirmed a competence level"),
    AuditAction.VIEW_TARGETS: _l("viewed the individual targets"),
    AuditAction.DENIED: _l("tried to view data without the right to (refused)"),
}
