"""Reminders end to end: the daily run through `--today`, mail through a real SMTP server, each
reminder exactly once, working days only, and one scheduler through the database lease."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from lms.assignments import reminders, reports, services
from lms.assignments.models import Assignment
from lms.common import lease
from lms.common.dates import utcnow
from lms.common.vocabulary import AssignmentScope, DueKind
from lms.extensions import db
from lms.learning.models import Completion
from lms.notifications.models import Notification, OutboxMessage
from lms.notifications.services import set_optional_mails

DUE = date(2026, 12, 1)  # a Tuesday
MONDAY = date(2026, 12, 7)


@pytest.fixture
def duty(make_department, make_user, make_course):
    """A mandatory course for department 33.1 (below FB3, whose head is the manager), due on DUE."""
    fb3 = make_department(code="FB3")
    office = make_department(code="33.1", parent=fb3)
    employee = make_user(department=office, email="emil.engel@musterhausen.example", locale="de")
    manager = make_user(roles=["manager"], heads=[fb3], department=fb3, email="martina.meyer@musterhausen.example")
    hr = make_user(roles=["hr"], email="helga.hoffmann@musterhausen.example")
    course = make_course(title="Datenschutz im Büro")
    data = services.RuleData(
        course_id=course.id,
        scope=AssignmentScope.DEPARTMENT,
        department_id=office.id,
        due_kind=DueKind.FIXED,
        due_date=DUE,
        mandatory=True,
        reason="Pflicht nach der Dienstanweisung",
    )
    _rule, opened = services.create_rule(hr, data, DUE - timedelta(days=20))
    db.session.commit()
    return {"employee": employee, "manager": manager, "hr": hr, "course": course, "assignment": opened[0]}


def run_cli(app, *args):
    result = app.test_cli_runner().invoke(args=["reminders", "run", *args])
    assert result.exit_code == 0, result.output
    return result.output


def deliver(app):
    result = app.test_cli_runner().invoke(args=["notifications", "deliver"])
    assert result.exit_code == 0, result.output


def subjects_to(server, address: str) -> list[str]:
    return [str(message["Subject"]) for message in server.to(address)]


def report_figures(day: date) -> tuple[int, int, int]:
    """The compliance report's course total (assigned, completed, overdue), small groups not hidden."""
    (course,) = reports.course_report(reports.ReportFilter(), day, minimum=1).courses
    return course.total.assigned, course.total.completed, course.total.overdue


def keys() -> list[str]:
    return sorted(db.session.execute(select(Notification.dedupe_key)).scalars())


def test_overdue_mail_then_escalation_each_once_and_the_report_follows(app, mail_server, duty):
    employee, manager = duty["employee"], duty["manager"]
    day_after = DUE + timedelta(days=1)
    output = run_cli(app, "--today", day_after.isoformat())
    assert "1 new queued" in output
    deliver(app)
    overdue_mails = [s for s in subjects_to(mail_server, employee.email) if "überfällig" in s.lower()]
    assert len(overdue_mails) == 1, subjects_to(mail_server, employee.email)
    assert "Datenschutz im Büro" in overdue_mails[0]
    assert subjects_to(mail_server, manager.email) == []

    assert "0 new queued" in run_cli(app, "--today", day_after.isoformat())  # a second run: nothing new
    deliver(app)
    assert len([s for s in subjects_to(mail_server, employee.email) if "überfällig" in s.lower()]) == 1

    escalation_day = DUE + timedelta(days=app.config["REMINDER_ESCALATION_DAYS"] + 1)  # a Wednesday
    run_cli(app, "--today", escalation_day.isoformat())
    run_cli(app, "--today", escalation_day.isoformat())
    deliver(app)
    to_manager = subjects_to(mail_server, manager.email)
    body = mail_server.to(manager.email)[0].get_body(("plain",)).get_content()
    assert len(to_manager) == 1 and "Datenschutz im Büro" in body and employee.name in body

    status = services.status_of(db.session.get(Assignment, duty["assignment"].id), escalation_day)
    assert status == "overdue"
    assert report_figures(escalation_day) == (1, 0, 1)
    db.session.add(
        Completion(
            user_id=employee.id, course_id=duty["course"].id, course_version=1, completed_at=utcnow(), score_percent=100
        )
    )
    db.session.flush()
    run_cli(app, "--today", (escalation_day + timedelta(days=1)).isoformat())
    assignment = db.session.get(Assignment, duty["assignment"].id)
    db.session.refresh(assignment)
    assert services.status_of(assignment, escalation_day) == "completed"
    assert report_figures(escalation_day) == (1, 1, 0)
    assert any(key.endswith(":completed") for key in keys())


def test_no_reminder_on_weekends_and_holidays(app, no_mail_server, duty):
    for closed in (date(2026, 12, 5), date(2026, 12, 6), date(2026, 12, 25)):  # Saturday, Sunday, Christmas
        assert "not a working day" in run_cli(app, "--today", closed.isoformat())
    assert [k for k in keys() if "overdue" in k or "due_soon" in k] == []
    app.config["HOLIDAYS_EXTRA"] = "2026-12-02"
    try:
        assert "not a working day" in run_cli(app, "--today", "2026-12-02")
    finally:
        app.config["HOLIDAYS_EXTRA"] = ""


def test_due_soon_at_fourteen_and_three_days_and_a_missed_day_is_made_up(app, no_mail_server, duty):
    assignment_id = duty["assignment"].id
    run_cli(app, "--today", (DUE - timedelta(days=16)).isoformat())  # 16 days before: nothing yet
    assert [k for k in keys() if "due_soon" in k] == []
    run_cli(app, "--today", (DUE - timedelta(days=12)).isoformat())  # day 14 was a weekend: made up
    run_cli(app, "--today", (DUE - timedelta(days=11)).isoformat())
    assert [k for k in keys() if "due_soon" in k] == [f"assignment:{assignment_id}:due_soon:14"]
    run_cli(app, "--today", (DUE - timedelta(days=1)).isoformat())
    assert [k for k in keys() if "due_soon" in k] == [
        f"assignment:{assignment_id}:due_soon:14",
        f"assignment:{assignment_id}:due_soon:3",
    ]


def test_the_dry_run_lists_and_stores_nothing(app, no_mail_server, duty):
    before = keys()
    output = run_cli(app, "--today", (DUE + timedelta(days=1)).isoformat(), "--dry-run")
    assert "overdue" in output and duty["employee"].email in output and "would send" in output
    db.session.expire_all()
    assert keys() == before


def test_the_weekly_digest_goes_to_managers_and_respects_their_choice(app, no_mail_server, duty):
    manager = duty["manager"]
    run_cli(app, "--today", MONDAY.isoformat())
    digest = db.session.execute(select(Notification).where(Notification.kind == "digest")).scalar_one()
    assert digest.user_id == manager.id and digest.params["items"][0]["person"] == duty["employee"].name
    assert db.session.scalar(select(func.count(OutboxMessage.id)).where(OutboxMessage.user_id == manager.id)) == 1
    set_optional_mails(manager, False)
    db.session.commit()
    run_cli(app, "--today", (MONDAY + timedelta(days=7)).isoformat())
    digests = db.session.scalar(select(func.count(Notification.id)).where(Notification.kind == "digest"))
    assert digests == 2  # in the app still, but no second mail
    assert db.session.scalar(select(func.count(OutboxMessage.id)).where(OutboxMessage.user_id == manager.id)) == 1


def test_the_monthly_summary_goes_to_hr_on_the_first_working_day(app, no_mail_server, duty):
    run_cli(app, "--today", "2027-01-04")  # 1 January is a holiday, then a weekend
    summary = db.session.execute(select(Notification).where(Notification.kind == "summary")).scalar_one()
    assert summary.user_id == duty["hr"].id and summary.params["overdue"] == 1


def test_two_runs_at_once_send_each_reminder_once(app, no_mail_server, duty):
    day = (DUE + timedelta(days=1)).isoformat()
    errors: list[BaseException] = []

    def run_once():
        try:
            with app.app_context():
                reminders.run(date.fromisoformat(day))
                db.session.commit()
                db.session.remove()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run_once) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    overdue = db.session.scalar(
        select(func.count(OutboxMessage.id)).where(OutboxMessage.dedupe_key.like("%:overdue:%"))
    )
    assert overdue == 1


def test_one_scheduler_holds_the_lease_until_it_stops_or_lapses(database):
    now = utcnow()
    assert lease.hold("scheduler", "server-a", now)
    db.session.commit()
    assert not lease.hold("scheduler", "server-b", now + timedelta(seconds=60))
    assert lease.hold("scheduler", "server-a", now + timedelta(seconds=60))  # renewed
    assert lease.hold("scheduler", "server-b", now + timedelta(seconds=60 + lease.LEASE_SECONDS + 1))  # lapsed
    lease.release("scheduler", "server-b")
    assert lease.hold("scheduler", "server-a", utcnow())


def test_two_scheduler_processes_run_the_daily_job_once(app, no_mail_server, duty, monkeypatch):
    """Two schedulers against one database: only the lease holder runs the job."""
    from lms import scheduler as module
    from lms.assignments import tasks

    day = DUE + timedelta(days=1)
    monkeypatch.setattr(tasks.services, "town_today", lambda: day)
    runs = []
    for holder in ("server-a", "server-b"):
        jobs = {job.id: job for job in module.create_scheduler(app, holder=holder).get_jobs()}
        runs.append(jobs["assignments.daily_reminders"].func(app))
    assert isinstance(runs[0], reminders.RunReport) and runs[1] is None
    assert (
        db.session.scalar(select(func.count(OutboxMessage.id)).where(OutboxMessage.dedupe_key.like("%:overdue:%"))) == 1
    )
