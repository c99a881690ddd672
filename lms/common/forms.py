"""Form helpers every domain's views and templates share: field attributes and service errors."""

from __future__ import annotations

from flask import flash

from lms.common.urls import MAX_DB_INT


def field_attrs(field, css_class: str) -> dict[str, str]:
    """HTML attributes tying a form field to its hint and error (KERN classes, ARIA)."""
    attrs = {"class": css_class + (f" {css_class}--error" if field.errors else "")}
    described_by = [
        f"{field.id}-{part}" for part, present in (("hint", field.description), ("error", field.errors)) if present
    ]
    if described_by:
        attrs["aria-describedby"] = " ".join(described_by)
    if field.errors:
        attrs["aria-invalid"] = "true"
    return attrs


def attach_errors(form, errors: dict[str, str]) -> None:
    """Show a service's ValidationFailed messages next to their fields (or as a flash message)."""
    for field_name, message in errors.items():
        field = form._fields.get(field_name)
        if field is not None:
            field.errors = list(field.errors) + [message]
        else:
            flash(message, "error")


def strip_text(value):
    """A form filter: text without surrounding whitespace (other values as they are)."""
    return value.strip() if isinstance(value, str) else value


def optional_int(value: object) -> int | None:
    """A select field's value as a whole number (its `coerce`): None when empty, and a ValueError,
    which the field shows as an invalid choice, beyond what the database's integer holds."""
    if value in (None, "", "None"):
        return None
    number = int(value)  # type: ignore[call-overload]  # ValueError/TypeError: the field reports it
    if abs(number) > MAX_DB_INT:
        raise ValueError("out of range")
    return number
