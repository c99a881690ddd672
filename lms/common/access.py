"""Role checks for views. Every view declares who may use it; a test checks none is forgotten."""

from __future__ import annotations

from functools import wraps

from blinker import Namespace
from flask import abort
from flask_login import current_user

from lms.extensions import login_manager

ANY_SIGNED_IN = "__any__"

# Sent (by the 403 error page) whenever a request is refused, with the app as sender. The audit
# trail listens; the kernel does not need to know it (lms/__init__.py connects the two).
access_refused = Namespace().signal("access-refused")


def roles_required(*roles: str):
    """Allow signed-in users holding one of `roles`; anonymous users go to the sign-in page,
    users without the role get 403."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if ANY_SIGNED_IN not in roles and not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        wrapped.required_roles = roles  # type: ignore[attr-defined]  # read by the access test
        return wrapped

    return decorator


def signed_in(view):
    """Any signed-in user (every user is at least an employee of the town)."""
    return roles_required(ANY_SIGNED_IN)(view)


def public(view):
    """Marks a view as deliberately open to anonymous users."""
    view.required_roles = ()
    view.is_public = True
    return view
