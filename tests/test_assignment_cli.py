"""`flask assignments add` and `flask assignments sync`."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from lms.assignments import notices, services
from lms.assignments.models import Assignment, AssignmentRule
from lms.common.vocabulary import AuditAction, DueKind
from lms.extensions import db
from lms.privacy.models import AuditEntry


@pytest.fixture
def office(make_department, make_user, make_job_role):
    fb3 = make_department(code="FB3")
    sub = make_department(code="33.1", parent=fb3)
    empty = make_department(code="LEER")
    clerk = make_job_role(code="SB")
    people = {
        "a": make_user(department=sub, job_role=clerk, personnel_number="P-1"),
        "b": make_user(department=sub, personnel_number="P-2"),
        "c": make_user(department=fb3, personnel_number="P-3"),
        "x": make_user(job_role=clerk, personnel_number="P-9"),
    }
    return {"fb3": fb3, "sub": sub, "empty": empty, "clerk": clerk, **people}


@pytest.fixture
def told(monkeypatch):
    """Whom the command told through `notices.tell_assigned`, as sets of user ids per call."""
    calls: list[set[int]] = []
    monkeypatch.setattr(notices, "tell_assigned", lambda assignments: calls.append({a.user_id for a in assignments}))
    return calls


def run(app, *args):
    return app.test_cli_runner().invoke(args=["assignments", *args])


def counts() -> tuple[int, int]:
    db.session.expire_all()
    return (
        db.session.scalar(select(func.count()).select_from(AssignmentRule)),
        db.session.scalar(select(func.count()).select_from(Assignment)),
    )


def test_add_assigns_a_department_with_a_due_date_and_tells_the_people(app, office, make_course, told):
    course = make_course(slug="datenschutz")
    due = (services.town_today() + timedelta(days=20)).isoformat()
    result = run(app, "add", "--course", "datenschutz", "--department", "FB3", "--due", due, "--mandatory")
    assert result.exit_code == 0, result.output + result.stderr
    assert result.output.startswith("3 people assigned")
    rule = db.session.execute(select(AssignmentRule)).scalar_one()
    assert (rule.course_id, rule.department_id, rule.due_kind, rule.due_date.isoformat(), rule.mandatory) == (
        course.id,
        office["fb3"].id,
        DueKind.FIXED,
        due,
        True,
    )
    assert rule.created_by_id is None  # the operator
    assert told == [{office[k].id for k in "abc"}]
    entry = db.session.execute(select(AuditEntry).where(AuditEntry.action == AuditAction.ASSIGN_COURSE)).scalar_one()
    assert entry.actor_id is None and entry.context["via"] == "cli" and entry.context["course"] == "datenschutz"


def test_add_to_a_job_role_or_a_person_within_days(app, office, make_course, told):
    make_course(slug="netz")
    result = run(app, "add", "--course", "netz", "--job-role", "SB", "--within", "14", "--reason", "Neue Software")
    assert result.exit_code == 0 and result.output.startswith("2 people assigned")
    result = run(app, "add", "--course", "netz", "--person", "P-3", "--within", "7")
    assert result.exit_code == 0 and result.output.startswith("1 person assigned")
    by_user = {a.user_id: a for a in db.session.execute(select(Assignment)).scalars()}
    assert set(by_user) == {office["a"].id, office["x"].id, office["c"].id}
    assert by_user[office["a"].id].reason == "Neue Software"
    assert by_user[office["c"].id].due_on == services.town_today() + timedelta(days=7)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--course", "fehlt", "--department", "FB3", "--within", "5"], "--course: no published course 'fehlt'"),
        (["--course", "kurs", "--department", "XX", "--within", "5"], "--department: no department 'XX'"),
        (["--course", "kurs", "--job-role", "XX", "--within", "5"], "--job-role: no job role 'XX'"),
        (["--course", "kurs", "--person", "0000", "--within", "5"], "no person with the personnel number '0000'"),
        (["--course", "kurs", "--within", "5"], "give exactly one of --department, --job-role, --person"),
        (["--course", "kurs", "--department", "FB3", "--person", "P-1", "--within", "5"], "exactly one of"),
        (["--course", "kurs", "--department", "FB3"], "give exactly one of --due, --within"),
        (["--course", "kurs", "--department", "FB3", "--due", "1.1.2030"], "'1.1.2030' does not match"),
        (["--department", "FB3", "--within", "5"], "Missing option '--course'"),
    ],
)
def test_add_refuses_wrong_usage(app, office, make_course, told, args, message):
    make_course(slug="kurs")
    result = run(app, "add", *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert counts() == (0, 0) and told == []


@pytest.mark.parametrize(
    "args, line",
    [
        (["--department", "FB3", "--due", "2020-01-01"], "--due: Das Fälligkeitsdatum liegt in der Vergangenheit"),
        (["--department", "FB3", "--within", "0"], "--within: Geben Sie eine Zahl von Tagen von 1 bis"),
        (["--department", "LEER", "--within", "5"], "--department: Dazu gehört niemand, der aktiv ist"),
        (["--department", "FB3", "--within", "5", "--reason", "x\u202ey"], "--reason: "),
    ],
)
def test_add_prints_what_the_rules_refuse_and_stores_nothing(app, office, make_course, told, args, line):
    make_course(slug="kurs")
    result = run(app, "add", "--course", "kurs", *args)
    assert result.exit_code == 1
    assert line in result.stderr
    assert counts() == (0, 0) and told == []
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 0


def test_an_archived_course_is_not_published(app, office, make_course, told):
    course = make_course(slug="alt")
    course.archived = True
    db.session.commit()
    result = run(app, "add", "--course", "alt", "--department", "FB3", "--within", "5")
    assert result.exit_code == 2 and "--course: no published course 'alt'" in result.stderr


def test_sync_assigns_joiners_and_prints_the_counts(app, office, make_course, make_user, told):
    course = make_course()
    data = services.RuleData(course_id=course.id, scope="department", department_id=office["sub"].id, due_days=30)
    services.create_rule(None, data, services.town_today())
    db.session.commit()
    joiner = make_user(department=office["sub"])
    office["b"].department = None  # left before completing
    db.session.commit()
    result = run(app, "sync", "--today", "2030-03-02")
    assert result.exit_code == 0, result.stderr
    assert result.output.strip() == "2030-03-02: 1 assigned, 0 recertifications, 0 completed, 1 withdrawn"
    assert told == [{joiner.id}]
    db.session.expire_all()
    joined = db.session.execute(select(Assignment).where(Assignment.user_id == joiner.id)).scalar_one()
    assert joined.due_on == date(2030, 3, 2) + timedelta(days=30)


def test_the_commands_explain_themselves(app):
    runner = app.test_cli_runner()
    assert "Assign courses" in runner.invoke(args=["assignments", "--help"]).output
    text = runner.invoke(args=["assignments", "add", "--help"]).output
    for option in (
        "--course",
        "--department",
        "--job-role",
        "--person",
        "--due",
        "--within",
        "--mandatory",
        "--reason",
    ):
        assert option in text
    assert "--today" in runner.invoke(args=["assignments", "sync", "--help"]).output
