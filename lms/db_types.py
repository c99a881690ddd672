"""Shared column types for the models (see pypi/warehouse's habit of Annotated types)."""

from datetime import UTC, datetime
from typing import Annotated

from sqlalchemy import DateTime, String
from sqlalchemy.orm import mapped_column

intpk = Annotated[int, mapped_column(primary_key=True)]
str40 = Annotated[str, mapped_column(String(40))]
str200 = Annotated[str, mapped_column(String(200))]
timestamp = Annotated[datetime, mapped_column(DateTime(timezone=True))]


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; treat them as UTC so comparisons work on both databases."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value
