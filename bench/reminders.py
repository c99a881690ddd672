"""The daily reminder run over 5,000 people × 10 mandatory assignments, and mail delivery speed.

Budget (issue 10): the run under 20 s, and its statement count not growing with the number of
people (measured at 1,000 and at 5,000 people: the same). Also recorded: the driver's round trips,
which grow in steps of its batch size (rows travel as parameters of one statement, in batches). Mails per
second are measured by delivering 1,000 of the queued mails to a real SMTP server (aiosmtpd) on
this machine. SQLite; on PostgreSQL too when BENCH_DATABASE_URL is set (its schema is rebuilt!).
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from flask_migrate import upgrade
from sqlalchemy import insert

from bench import on_each_database, record
from lms.assignments import reminders
from lms.assignments.models import Assignment
from lms.catalog.models import Course
from lms.extensions import db
from lms.notifications import delivery
from lms.notifications.models import Notification, OutboxMessage
from lms.people.models import Department, User, UserRole, department_heads

BUDGETS = {"run_s": 20.0}
COURSES = 10
TODAY = date(2026, 12, 2)  # a Wednesday
ASSIGNED_AT = datetime(2026, 10, 1, 8, tzinfo=UTC)


def _populate(people: int, tag: str) -> None:
    """`people` employees in 20 departments (each with a head), each with 10 mandatory courses:
    a third due in 3 days, a third overdue by 2 days, a third overdue by 20 (escalated)."""
    departments = [Department(code=f"{tag}D{i}", name=f"Abteilung {i}") for i in range(20)]
    courses = [
        Course(slug=f"{tag.lower()}-kurs-{i}", title=f"Pflichtkurs {i}", summary="Bench", content_hash="x" * 64)
        for i in range(COURSES)
    ]
    db.session.add_all(departments + courses)
    db.session.flush()
    heads = list(
        db.session.execute(
            insert(User).returning(User.id, sort_by_parameter_order=True),
            [
                {
                    "email": f"head{tag}{i}@bench.example",
                    "given_name": "Leo",
                    "family_name": f"Leitung{i}",
                    "active": True,
                    "must_change_password": False,
                    "department_id": departments[i].id,
                }
                for i in range(20)
            ],
        ).scalars()
    )
    db.session.execute(
        insert(department_heads),
        [{"department_id": d.id, "user_id": h} for d, h in zip(departments, heads, strict=True)],
    )
    ids = list(
        db.session.execute(
            insert(User).returning(User.id, sort_by_parameter_order=True),
            [
                {
                    "email": f"p{tag}{i}@bench.example",
                    "given_name": "Bea",
                    "family_name": f"Bench{i:05d}",
                    "active": True,
                    "must_change_password": False,
                    "department_id": departments[i % 20].id,
                    "locale": "de",
                }
                for i in range(people)
            ],
        ).scalars()
    )
    db.session.execute(insert(UserRole), [{"user_id": u, "role": "employee"} for u in ids + heads])
    due = [TODAY + timedelta(days=3), TODAY - timedelta(days=2), TODAY - timedelta(days=20)]
    db.session.execute(
        insert(Assignment),
        [
            {
                "user_id": u,
                "course_id": c.id,
                "due_on": due[(n + k) % 3],
                "mandatory": True,
                "reason": "Pflicht",
                "open_key": f"{u}:{c.id}",
                "assigned_at": ASSIGNED_AT,
            }
            for n, u in enumerate(ids)
            for k, c in enumerate(courses)
        ],
    )
    db.session.commit()


def _run_counted() -> tuple[float, int, int, int]:
    """The run's time, its SQL statements (as the code issues them), the driver's round trips
    (a statement with many rows of parameters travels in batches) and the new reminders."""
    statements, round_trips = [], []

    def count_statement(*_args):
        statements.append(1)

    def count_round_trip(*_args):
        round_trips.append(1)

    sa.event.listen(db.engine, "before_execute", count_statement)
    sa.event.listen(db.engine, "before_cursor_execute", count_round_trip)
    started = time.perf_counter()
    report = reminders.run(TODAY)
    db.session.commit()
    elapsed = time.perf_counter() - started
    sa.event.remove(db.engine, "before_execute", count_statement)
    sa.event.remove(db.engine, "before_cursor_execute", count_round_trip)
    return elapsed, len(statements), len(round_trips), len(report.sent)


def _mails_per_second(app) -> float:
    from tests.smtp import SMTPServer  # the test suite's real SMTP server

    server = SMTPServer()
    server.start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=server.port, MAIL_DEFAULT_SENDER="lernpfad@bench.example")
    try:
        db.session.execute(sa.update(OutboxMessage).values(status="queued"))
        db.session.commit()
        started = time.perf_counter()
        result = delivery.deliver_outbox(limit=1000)
        elapsed = time.perf_counter() - started
        return result.sent / elapsed if elapsed else 0.0
    finally:
        server.stop()


def _measure(app, label: str) -> list[str]:
    over = []
    with app.app_context():
        upgrade()
        _populate(1000, "A")
        _small_s, small_statements, small_trips, _sent = _run_counted()
        # Start the 5,000 afresh: SQLite reuses the ids of deleted rows, and with them the keys.
        for model in (Assignment, Notification, OutboxMessage):
            db.session.execute(sa.delete(model))
        db.session.commit()
        _populate(5000, "B")
        elapsed, statements, trips, sent = _run_counted()
        record(f"reminders_run_5000x10_{label}", elapsed, "s")
        record(f"reminders_run_statements_1000_people_{label}", small_statements, "statements")
        record(f"reminders_run_statements_5000_people_{label}", statements, "statements")
        record(f"reminders_run_round_trips_1000_people_{label}", small_trips, "round trips")
        record(f"reminders_run_round_trips_5000_people_{label}", trips, "round trips")
        record(f"reminders_run_new_reminders_5000x10_{label}", sent, "reminders")
        again, again_statements, _trips, again_sent = _run_counted()
        record(f"reminders_second_run_5000x10_{label}", again, "s")
        record(f"reminders_second_run_statements_{label}", again_statements, "statements")
        assert again_sent == 0, "a second run must send nothing new"
        record(f"mail_delivery_{label}", _mails_per_second(app), "mails/s")
        if elapsed > BUDGETS["run_s"]:
            over.append(f"reminders run {elapsed:.1f} s on {label}")
        if statements != small_statements:
            over.append(f"reminders run statements grow with people on {label}: {small_statements} → {statements}")
        db.engine.dispose()
    return over


def run() -> list[str]:
    logging.getLogger("lms").setLevel(logging.WARNING)
    return on_each_database(_measure)
