"""A first page of the audit trail, so the DPO's view shows what it records from the start.

The entries go through the real audit functions, so they are chained like any other.
"""

from __future__ import annotations

from lms.common.vocabulary import AuditAction, AuditField, AuditReason
from lms.people.models import User
from lms.privacy import services as privacy
from lms.privacy.services import managed_department_ids

DEMO_ADDRESS = "127.0.0.1"


def seed_audit(logins: dict[str, User], employees: list[User]) -> None:
    manager, hr, employee = logins["manager"], logins["hr"], logins["employee"]
    managed = managed_department_ids(manager)
    team = [person for person in employees if person.department_id in managed and person.id != manager.id]
    for person in team[:3]:
        privacy.record(manager, [person], AuditAction.VIEW_PROFILE, ip_address=DEMO_ADDRESS)
    privacy.record(
        hr,
        team,
        AuditAction.VIEW_MATRIX,
        {AuditField.FILTER: {"department_id": manager.headed_departments[0].id}},
        DEMO_ADDRESS,
    )
    colleague = next(person for person in employees if person.id not in {employee.id, manager.id})
    privacy.record_denied(
        employee,
        AuditReason.FORBIDDEN,
        {
            AuditField.METHOD: "GET",
            AuditField.ENDPOINT: "skills.person_profile",
            AuditField.PATH: f"/people/{colleague.id}/profile",
        },
        DEMO_ADDRESS,
        subject=colleague,
    )
