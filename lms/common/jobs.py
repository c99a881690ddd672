"""What a scheduled job is; each domain's `tasks.py` lists its own, `lms/scheduler.py` runs them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from flask import Flask


@dataclass(frozen=True)
class ScheduledJob:
    id: str
    func: Callable[[Flask], object]  # called with the application
    cron: dict = field(default_factory=dict)  # CronTrigger fields: day, hour, minute, ...
    run_at_start: bool = False  # also once when the scheduler starts
