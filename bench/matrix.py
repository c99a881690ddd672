"""Skill matrix speed: the page for 500 people × 21 competences, and the CSV export of 5,000.

Budgets (issue 5): matrix page under 300 ms median, export under 3 s — on SQLite, and on
PostgreSQL when BENCH_DATABASE_URL is set (a scratch database: its public schema is rebuilt!).
The page's statement count is printed too; a test asserts that it does not grow with people.
"""

from __future__ import annotations

import logging
import random
import re
import statistics
import time
import tracemalloc
from datetime import UTC, date, datetime

import sqlalchemy as sa
from flask_migrate import upgrade
from sqlalchemy import insert, select

from bench import on_each_database, record
from lms.auth import services as auth_services
from lms.extensions import db
from lms.frameworks.loader import DEFAULT_FRAMEWORK_FILE, load_framework_file
from lms.frameworks.models import Competence
from lms.people.models import Department, JobRole, User, UserRole
from lms.skills import export
from lms.skills.matrix import MatrixFilter, build_matrix
from lms.skills.models import Assessment
from lms.targets.models import JobRoleTarget

BUDGETS = {"page_ms": 300.0, "export_s": 3.0}
PASSWORD = "Bench-Passwort-2026"


def _populate(people: int, tag: str) -> None:
    rng = random.Random(7)
    competences = list(db.session.execute(select(Competence)).scalars())
    departments = [Department(code=f"{tag}{i}", name=f"Abteilung {i}") for i in range(10)]
    roles = [JobRole(code=f"{tag}R{i}", title=f"Tätigkeit {i}") for i in range(12)]
    db.session.add_all(departments + roles)
    db.session.flush()
    db.session.execute(
        insert(JobRoleTarget),
        [
            {"job_role_id": role.id, "competence_id": c.id, "level": rng.randint(1, 5)}
            for role in roles
            for c in rng.sample(competences, 8)
        ],
    )
    ids = list(
        db.session.execute(
            insert(User).returning(User.id, sort_by_parameter_order=True),
            [
                {
                    "email": f"b{tag}{i}@bench.example",
                    "given_name": "Bea",
                    "family_name": f"Bench{i:05d}",
                    "personnel_number": f"B{tag}{i}",
                    "active": True,
                    "must_change_password": False,
                    "department_id": departments[i % 10].id,
                    "job_role_id": roles[i % 12].id,
                }
                for i in range(people)
            ],
        ).scalars()
    )
    db.session.execute(insert(UserRole), [{"user_id": user_id, "role": "employee"} for user_id in ids])
    db.session.execute(
        insert(Assessment),
        [
            {
                "user_id": user_id,
                "competence_id": c.id,
                "level": rng.randint(1, 6),
                "note": "bench",
                "assessed_on": date.today(),
            }
            for user_id in ids
            for c in rng.sample(competences, 6)
        ],
    )
    db.session.commit()


def _hr_client(app):
    hr = User(email="hr@bench.example", given_name="Hanna", family_name="HR", role_rows=[UserRole(role="hr")])
    auth_services.set_password(hr, PASSWORD)
    db.session.add(hr)
    db.session.commit()
    client = app.test_client()
    page = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    client.post("/auth/login", data={"csrf_token": token, "email": hr.email, "password": PASSWORD})
    return client


def _export_csv() -> bytes:
    db.session.expunge_all()
    result = build_matrix(None, MatrixFilter(), page=None)
    return export.csv_bytes(export.header_rows(datetime.now(UTC), "bench", "none"), result)


def _measure(app, label: str) -> list[str]:
    over = []
    with app.app_context():
        upgrade()
        load_framework_file(DEFAULT_FRAMEWORK_FILE)
        db.session.commit()
        _populate(500, "A")
        client = _hr_client(app)
        statements = []
        sa.event.listen(db.engine, "before_cursor_execute", lambda *args: statements.append(1))
        timings = []
        for _ in range(12):
            statements.clear()
            started = time.perf_counter()
            # All 500 people are filtered and evaluated; the page shows the first 50 of them.
            response = client.get("/matrix/")
            timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
        page_ms = statistics.median(timings)
        record(f"matrix_page_500_people_x21_median_{label}", page_ms, "ms")
        record(f"matrix_page_statements_{label}", len(statements), "statements")
        if page_ms > BUDGETS["page_ms"]:
            over.append(f"matrix page {page_ms:.0f} ms on {label}")

        _populate(4500, "B")
        started = time.perf_counter()
        body = _export_csv()
        elapsed = time.perf_counter() - started
        tracemalloc.start()  # a second run for memory: tracing slows the code it watches
        _export_csv()
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        record(f"matrix_csv_export_5000x21_{label}", elapsed, "s")
        record(f"matrix_csv_export_peak_memory_{label}", peak / 1_000_000, "MB")
        assert body.count(b"\n") >= 5000
        if elapsed > BUDGETS["export_s"]:
            over.append(f"matrix export {elapsed:.2f} s on {label}")
        db.engine.dispose()
    return over


def run() -> list[str]:
    logging.getLogger("lms").setLevel(logging.WARNING)
    return on_each_database(_measure)
