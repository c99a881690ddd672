"""What a scheduled job is; each domain's `tasks.py` lists its own, `lms/scheduler.py` runs them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from flask import Flask


@dataclass(frozen=True)
class ScheduledJob:
    id: str
    func: Callable[[Flask], object]  # called with the application
    # CronTrigger fields (day, hour, minute, ...), or a function of the app's config that gives them
    # (a job at a configured hour).
    cron: dict | Callable[[dict], dict] = field(default_factory=dict)
    run_at_start: bool = False  # also once when the scheduler starts
