"""Larger request bodies for the few views that take uploads; every other request keeps the
installation's limit (LMS_MAX_REQUEST_BYTES)."""

from __future__ import annotations

from flask import current_app, request


def accepts_upload(max_bytes: int):
    """Let this view receive a body of up to `max_bytes` (apply it below the role decorator)."""

    def decorator(view):
        view.max_request_bytes = max_bytes
        return view

    return decorator


def allow_larger_requests() -> None:
    """Before any form is read (the CSRF check reads it first): the view's own limit, if larger."""
    view = current_app.view_functions.get(request.endpoint or "")
    limit = getattr(view, "max_request_bytes", None)
    if limit and limit > (current_app.config.get("MAX_CONTENT_LENGTH") or 0):
        request.max_content_length = limit
