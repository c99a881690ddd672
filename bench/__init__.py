"""Benchmarks, run by `make bench` (`python -m bench`).

Every figure is printed as a line `BENCH <name> <value> <unit>` and merged into
bench/results.json (name → {value, unit, measured_at}), so benchmarks added later keep the
figures of the others.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

RESULTS_FILE = Path(__file__).with_name("results.json")


def record(name: str, value: float, unit: str, results_file: Path = RESULTS_FILE) -> None:
    value = value if isinstance(value, int) else round(value, 3)
    print(f"BENCH {name} {value} {unit}", flush=True)
    results = json.loads(results_file.read_text(encoding="utf-8")) if results_file.exists() else {}
    results[name] = {"value": value, "unit": unit, "measured_at": datetime.now(UTC).isoformat(timespec="seconds")}
    results_file.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def reset_postgres_schema(url: str) -> None:
    """Empty a scratch PostgreSQL database (BENCH_DATABASE_URL): its public schema is rebuilt."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text("DROP SCHEMA public CASCADE"))
        connection.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


def on_each_database(measure) -> list[str]:
    """`measure(app, label)` on a scratch SQLite database, then on PostgreSQL when
    BENCH_DATABASE_URL is set (a scratch database: its public schema is rebuilt!). Answers the
    over-budget messages of both."""
    import os
    import tempfile

    from lms import create_app

    over = []
    with tempfile.TemporaryDirectory() as directory:
        app = create_app({"LMS_ENV": "testing", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{directory}/bench.db"})
        over += measure(app, "sqlite")
    url = os.environ.get("BENCH_DATABASE_URL")
    if url:
        reset_postgres_schema(url)
        over += measure(create_app({"LMS_ENV": "testing", "SQLALCHEMY_DATABASE_URI": url}), "postgresql")
    return over
