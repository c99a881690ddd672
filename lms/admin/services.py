"""What an admin does that spans people and sign-in. Functions flush; the view commits."""

from __future__ import annotations

from lms.auth import services as auth_services
from lms.people import services as people
from lms.people.models import User


def create_person(data: people.UserData) -> tuple[User, auth_services.OneTimePassword]:
    """A new person with a one-time password they must replace at their first sign-in."""
    user = people.create_user(data)
    return user, auth_services.issue_temporary_password(user)


def set_person_active(user: User, active: bool) -> None:
    """Deactivation keeps the person's records but ends their sessions and sign-in at once."""
    people.set_user_active(user, active)
    if not active:
        auth_services.end_all_sessions(user.id)


def reset_password(user: User) -> auth_services.OneTimePassword:
    return auth_services.issue_temporary_password(user)
