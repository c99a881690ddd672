"""Working days of the town: no weekends, no public holidays of its state, no extra closing days.

The public holidays come from the `holidays` library for Germany and the state in
LMS_HOLIDAY_REGION (default NW, North Rhine-Westphalia); LMS_HOLIDAYS_EXTRA adds the town's own
closing days (e.g. Rosenmontag, Christmas Eve) as ISO dates separated by commas.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache

from flask import current_app


@lru_cache(maxsize=32)
def _public_holidays(region: str, year: int) -> frozenset[date]:
    import holidays  # imported when needed: the CLI starts faster

    return frozenset(holidays.Germany(subdiv=region, years=year))


def _extra_days(text: str) -> frozenset[date]:
    return frozenset(date.fromisoformat(part.strip()) for part in text.split(",") if part.strip())


def closing_days(year: int) -> frozenset[date]:
    config = current_app.config
    return _public_holidays(config["HOLIDAY_REGION"], year) | _extra_days(config["HOLIDAYS_EXTRA"])


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in closing_days(day.year)


def first_working_day_of_week(day: date) -> bool:
    """Is `day` the first working day of its ISO week (a Tuesday after Easter Monday, say)?"""
    monday = date.fromordinal(day.toordinal() - day.weekday())
    return is_working_day(day) and all(
        not is_working_day(date.fromordinal(monday.toordinal() + offset)) for offset in range(day.weekday())
    )


def first_working_day_of_month(day: date) -> bool:
    return is_working_day(day) and all(not is_working_day(day.replace(day=number)) for number in range(1, day.day))
