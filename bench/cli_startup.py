"""Command-line start-up: CPU time of `flask --app wsgi --help` (budget 0.8 s, issue 8).

Every `flask` command pays this before it does anything, so heavy libraries (Alembic through
Flask-Migrate, APScheduler, openpyxl, Markdown) are imported only by the commands that use them.
CPU time (user + system of the child) is measured, not wall time, so that a busy machine
distorts it less; the median of several runs is recorded. Python's bytecode cache is allowed
(as on a server or a newcomer's machine) even where PYTHONDONTWRITEBYTECODE is set, and one run
warms it first.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import record

ROOT = Path(__file__).resolve().parent.parent
FLASK = Path(sys.executable).with_name("flask")
RUNS = 7
BUDGET_SECONDS = 0.8


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(median CPU seconds, median wall seconds) of running `command` RUNS times."""
    subprocess.run(command, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)  # warms the cache
    cpu, wall = [], []
    for _ in range(RUNS):
        cpu_before, started = _children_cpu(), time.perf_counter()
        subprocess.run(command, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
        wall.append(time.perf_counter() - started)
        cpu.append(_children_cpu() - cpu_before)
    return statistics.median(cpu), statistics.median(wall)


def run() -> list[str]:
    with tempfile.TemporaryDirectory(prefix="lernpfad-bench-") as temporary:
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{temporary}/cli.db", "LMS_INSTANCE_DIR": temporary}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        cpu, wall = measure([str(FLASK), "--app", "wsgi", "--help"], env)
    record("cli_help_cpu", cpu, "s")
    record("cli_help_wall", wall, "s")
    return [f"cli_help_cpu {cpu:.2f} s > {BUDGET_SECONDS} s"] if cpu > BUDGET_SECONDS else []
