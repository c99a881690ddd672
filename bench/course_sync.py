"""Course sync speed: 200 generated courses × 6 lessons, a first sync and an unchanged second one.

Budgets (issue 4, SQLite): first sync under 10 s, unchanged sync under 2 s. Each run builds its
own temporary SQLite database from the migrations. With BENCH_DATABASE_URL set (a scratch
PostgreSQL database: its public schema is dropped and rebuilt!) the same is measured there.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from pathlib import Path

from flask_migrate import upgrade

from bench import record, reset_postgres_schema
from lms import create_app
from lms.catalog.importer import sync_directory
from lms.extensions import db
from lms.frameworks.loader import DEFAULT_FRAMEWORK_FILE, load_framework_file

COURSES, LESSONS = 200, 6
BUDGETS = {"first": 10.0, "unchanged": 2.0}  # seconds, SQLite
COMPETENCES = ["1.1", "2.1", "2.4", "3.1", "4.1", "4.2", "5.2"]

COURSE = """---
title: "Benchmark-Kurs {number}"
summary: "Ein erzeugter Kurs zum Messen der Import-Geschwindigkeit."
duration_minutes: 20
tags: [benchmark, kurs-{group}]
valid_months: 12
competences:
  - {{id: "{competence}", level: 3}}
---

Dieser Kurs wurde erzeugt. Er hat **{lessons} Lektionen** mit Tabellen, Hinweisen und Quizfragen.
"""

LESSON = """---
title: "Lektion {lesson} von Kurs {number}"
---

## Worum es geht

Ein Absatz mit *Betonung*, `Code` und einem [Link](https://example.org/{number}/{lesson}).

![Schema](media/schema.svg)

| Begriff | Bedeutung |
|---|---|
| Phishing | Betrug per Nachricht |
| 2FA | Zweiter Faktor |

!!! tip "Tipp"
    Ein Hinweis in einem Kasten.

## Mehr Details

1. Erstens
2. Zweitens
3. Drittens

```quiz
question: "Frage 1 in Lektion {lesson} von Kurs {number}?"
answers:
  - {{text: "Richtig", correct: true}}
  - {{text: "Falsch", correct: false}}
explanation: "Weil es so ist."
```

```quiz
question: "Frage 2 in Lektion {lesson} von Kurs {number}?"
answers:
  - {{text: "Auch richtig", correct: true}}
  - {{text: "Ebenfalls richtig", correct: true}}
  - {{text: "Falsch", correct: false}}
```
"""

SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 50" role="img">'
    '<title>Schema</title><rect width="100" height="50" fill="#e8f0fa"/></svg>'
)


def generate_courses(directory: Path) -> None:
    for number in range(COURSES):
        folder = directory / f"bench-kurs-{number:03d}"
        (folder / "media").mkdir(parents=True)
        (folder / "media" / "schema.svg").write_text(SVG, encoding="utf-8")
        (folder / "course.md").write_text(
            COURSE.format(
                number=number, group=number % 10, lessons=LESSONS, competence=COMPETENCES[number % len(COMPETENCES)]
            ),
            encoding="utf-8",
        )
        for lesson in range(1, LESSONS + 1):
            (folder / f"{lesson:02d}-lektion.md").write_text(
                LESSON.format(number=number, lesson=lesson), encoding="utf-8"
            )


def measure(url: str, courses: Path) -> dict[str, float]:
    """Seconds for the first sync and for the unchanged second one (each with its commit)."""
    app = create_app({"LMS_ENV": "testing", "SQLALCHEMY_DATABASE_URI": url})
    timings = {}
    with app.app_context():
        upgrade()
        load_framework_file(DEFAULT_FRAMEWORK_FILE)
        db.session.commit()
        for run, expected in (("first", "created"), ("unchanged", "unchanged")):
            start = time.perf_counter()
            result = sync_directory(courses)
            db.session.commit()
            timings[run] = time.perf_counter() - start
            if getattr(result, expected) != COURSES:
                raise RuntimeError(f"{run} sync: {result.summary()}\n" + "\n".join(map(str, result.problems)))
        db.session.remove()
        db.engine.dispose()
    return timings


def run() -> list[str]:
    logging.getLogger("alembic").setLevel(logging.WARNING)
    over_budget = []
    with tempfile.TemporaryDirectory(prefix="lernpfad-bench-") as temporary:
        courses = Path(temporary) / "courses"
        generate_courses(courses)
        databases = [("sqlite", f"sqlite:///{temporary}/bench.db")]
        if os.environ.get("BENCH_DATABASE_URL"):
            reset_postgres_schema(os.environ["BENCH_DATABASE_URL"])
            databases.append(("postgresql", os.environ["BENCH_DATABASE_URL"]))
        for backend, url in databases:
            for run_name, seconds in measure(url, courses).items():
                name = f"course_sync_{run_name}_{backend}"
                record(name, seconds, "s")
                if backend == "sqlite" and seconds > BUDGETS[run_name]:
                    over_budget.append(f"{name} {seconds:.2f} s > {BUDGETS[run_name]} s")
    return over_budget
