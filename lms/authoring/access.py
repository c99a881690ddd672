"""Who may do what with a course in the editor.

Trainers edit and publish the courses they own or co-own; admins every course; other trainers,
HR and managers read them (a second trainer reviews). Courses imported from files have no owner
until an admin names one (docs/authoring.md).
"""

from __future__ import annotations

from lms.catalog.models import CourseDraft
from lms.common.vocabulary import CourseOwnership, Role

READERS = (Role.TRAINER, Role.HR, Role.MANAGER, Role.ADMIN)
AUTHORS = (Role.TRAINER, Role.ADMIN)


def may_read(user) -> bool:
    return user.has_role(*READERS)


def ownership(user, draft: CourseDraft | None) -> CourseOwnership | None:
    if draft is None:
        return None
    kind = next((owner.kind for owner in draft.owners if owner.user_id == user.id), None)
    return CourseOwnership(kind) if kind else None


def may_edit(user, draft: CourseDraft | None) -> bool:
    """Admins edit every course; trainers the ones they own or co-own."""
    if user.has_role(Role.ADMIN):
        return True
    return user.has_role(Role.TRAINER) and ownership(user, draft) is not None


def may_create(user) -> bool:
    return user.has_role(*AUTHORS)


def may_manage_owners(user, draft: CourseDraft | None) -> bool:
    """Admins name owners and co-owners; an owner names co-owners."""
    return user.has_role(Role.ADMIN) or ownership(user, draft) == CourseOwnership.OWNER


def may_approve(user, draft: CourseDraft | None) -> bool:
    """The four-eyes review: a trainer (or admin) other than who asked for it and who last edited."""
    if not may_review(user, draft):
        return False
    assert draft is not None
    return user.id not in (draft.review_requested_by_id, draft.updated_by_id)


def may_review(user, draft: CourseDraft | None) -> bool:
    """A trainer may read a draft someone asked to have reviewed, even of an unpublished course."""
    return draft is not None and draft.review_hash is not None and user.has_role(*AUTHORS)
