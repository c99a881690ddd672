"""Errors that every domain raises the same way."""

from __future__ import annotations


class ValidationFailed(Exception):
    """Input that breaks a rule; `errors` maps a field name to a message in the user's language."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors
