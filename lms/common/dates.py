"""Time in UTC, the same on SQLite and PostgreSQL, and calendar arithmetic."""

from __future__ import annotations

import calendar
from datetime import UTC, datetime
from typing import overload


def utcnow() -> datetime:
    return datetime.now(UTC)


@overload
def as_utc(value: datetime) -> datetime: ...
@overload
def as_utc(value: None) -> None: ...
def as_utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; treat them as UTC so comparisons work on both databases."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def add_months(moment: datetime, months: int) -> datetime:
    """The same day `months` later, or the month's last day where it is shorter (31 Jan + 1 → 28/29 Feb)."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)
