"""Assignments: rules, due dates, who is in scope, what meets them, recertification, exemption."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from lms.assignments import services
from lms.assignments.models import Assignment
from lms.common.dates import add_months, utcnow
from lms.common.errors import ValidationFailed
from lms.common.vocabulary import AssignmentScope, AssignmentStatus, DueKind
from lms.extensions import db
from lms.learning.models import Completion

TODAY = date(2026, 11, 30)


@pytest.fixture
def office(make_department, make_user, make_job_role):
    """FB3 with its sub-department 33.1; two clerks in 33.1, one in FB3, one elsewhere."""
    fb3 = make_department(code="FB3")
    sub = make_department(code="33.1", parent=fb3)
    other = make_department(code="FB2")
    clerk = make_job_role(code="SB")
    people = {
        "a": make_user(department=sub, job_role=clerk),
        "b": make_user(department=sub),
        "c": make_user(department=fb3),
        "outside": make_user(department=other, job_role=clerk),
    }
    manager = make_user(roles=["manager"], heads=[fb3], department=fb3)
    hr = make_user(roles=["hr"])
    return {"fb3": fb3, "sub": sub, "other": other, "clerk": clerk, "manager": manager, "hr": hr, **people}


def rule_for(course, scope=AssignmentScope.DEPARTMENT, **fields) -> services.RuleData:
    data = {"due_kind": DueKind.WITHIN_DAYS, "due_days": 30, "mandatory": True, "reason": "Pflichtschulung"}
    return services.RuleData(course_id=course.id, scope=scope, **(data | fields))


def open_assignments() -> list[Assignment]:
    return list(db.session.execute(select(Assignment).where(Assignment.open_key.is_not(None))).scalars())


def complete(user, course, days_ago: int = 0, valid_months: int | None = None) -> Completion:
    done = utcnow() - timedelta(days=days_ago)
    sequence = (
        db.session.scalar(
            select(Completion.sequence)
            .where(Completion.user_id == user.id, Completion.course_id == course.id)
            .order_by(Completion.sequence.desc())
        )
        or 0
    )
    completion = Completion(
        user_id=user.id,
        course_id=course.id,
        sequence=sequence + 1,
        course_version=1,
        completed_at=done,
        score_percent=100,
        expires_at=add_months(done, valid_months) if valid_months else None,
    )
    db.session.add(completion)
    db.session.flush()
    return completion


def test_a_department_rule_assigns_everyone_below_it_with_its_due_date(database, office, make_course):
    course = make_course()
    rule, opened = services.create_rule(office["hr"], rule_for(course, department_id=office["fb3"].id), TODAY)
    db.session.commit()
    assert {a.user_id for a in opened} == {office[k].id for k in ("a", "b", "c", "manager")}
    assert {a.due_on for a in opened} == {TODAY + timedelta(days=30)}
    assert all(a.mandatory and a.reason == "Pflichtschulung" and a.rule_id == rule.id for a in opened)


def test_a_fixed_date_and_a_job_role(database, office, make_course):
    course = make_course()
    data = rule_for(
        course, AssignmentScope.JOB_ROLE, job_role_id=office["clerk"].id, due_kind=DueKind.FIXED, due_date=TODAY
    )
    _rule, opened = services.create_rule(office["hr"], data, TODAY)
    assert {a.user_id for a in opened} == {office["a"].id, office["outside"].id}
    assert {a.due_on for a in opened} == {TODAY}


@pytest.mark.parametrize(
    "fields, field, message",
    [
        ({"due_kind": DueKind.FIXED, "due_date": TODAY - timedelta(days=1)}, "due_date", "in der Vergangenheit"),
        ({"due_kind": DueKind.FIXED, "due_date": None}, "due_date", "Geben Sie das Fälligkeitsdatum ein"),
        ({"due_days": 0}, "due_days", "von 1 bis"),
        ({"reason": "Grund\u202e"}, "reason", "Steuer"),
    ],
)
def test_bad_rules_are_refused_per_field_and_store_nothing(database, office, make_course, fields, field, message):
    course = make_course()
    with pytest.raises(ValidationFailed) as refused:
        services.create_rule(office["hr"], rule_for(course, department_id=office["fb3"].id, **fields), TODAY)
    assert message in refused.value.errors[field]
    db.session.rollback()
    assert db.session.scalar(select(Assignment.id)) is None


def test_an_empty_department_and_a_course_without_lessons_are_refused(database, office, make_course, make_department):
    empty = make_department(code="LEER")
    with pytest.raises(ValidationFailed) as refused:
        services.create_rule(office["hr"], rule_for(make_course(), department_id=empty.id), TODAY)
    assert "niemanden, dem der Kurs" in refused.value.errors["department_id"]
    with pytest.raises(ValidationFailed) as refused:
        services.create_rule(office["hr"], rule_for(make_course(lessons=[]), department_id=office["fb3"].id), TODAY)
    assert "keine veröffentlichten Lektionen" in refused.value.errors["course_id"]


def test_a_manager_assigns_only_within_their_departments(database, office, make_course):
    course = make_course()
    services.create_rule(office["manager"], rule_for(course, department_id=office["sub"].id), TODAY)
    with pytest.raises(ValidationFailed) as refused:
        services.create_rule(office["manager"], rule_for(course, department_id=office["other"].id), TODAY)
    assert "Abteilungen zuweisen, die Sie leiten" in refused.value.errors["department_id"]
    person = rule_for(course, AssignmentScope.PERSON, user_id=office["outside"].id)
    with pytest.raises(ValidationFailed):
        services.create_rule(office["manager"], person, TODAY)


def test_joiners_are_assigned_and_leavers_withdrawn_keeping_what_they_completed(
    database, office, make_course, make_user
):
    course = make_course()
    services.create_rule(office["hr"], rule_for(course, department_id=office["sub"].id), TODAY)
    complete(office["a"], course)
    services.close_met_assignments()
    joiner = make_user(department=office["sub"])
    office["a"].department = office["other"]  # completed, then moved
    office["b"].department = office["other"]  # moved before completing
    db.session.flush()
    result = services.sync(TODAY + timedelta(days=1))
    assert [a.user_id for a in result.assigned] == [joiner.id]
    assert result.withdrawn == 1
    by_user = {a.user_id: a for a in db.session.execute(select(Assignment)).scalars()}
    assert services.status_of(by_user[office["a"].id], TODAY) == AssignmentStatus.COMPLETED
    assert services.status_of(by_user[office["b"].id], TODAY) == AssignmentStatus.WITHDRAWN


def test_an_earlier_completion_counts_while_it_is_valid_on_the_due_date(database, office, make_course):
    course = make_course(valid_months=12)
    complete(office["a"], course, days_ago=100, valid_months=12)  # valid for another ~265 days
    complete(office["b"], course, days_ago=350, valid_months=12)  # expires before the due date
    _rule, opened = services.create_rule(office["hr"], rule_for(course, department_id=office["sub"].id), TODAY)
    assert [a.user_id for a in opened] == [office["b"].id]
    closed = db.session.execute(select(Assignment).where(Assignment.user_id == office["a"].id)).scalar_one()
    assert closed.completion_id is not None and closed.open_key is None


def test_a_new_completion_closes_the_assignment_at_once(app, client, sign_in, office, make_course):
    course = make_course(lessons=[[("Frage?", [("Ja", True), ("Nein", False)])]])
    services.create_rule(office["hr"], rule_for(course, AssignmentScope.PERSON, user_id=office["a"].id), TODAY)
    db.session.commit()
    sign_in(office["a"])
    lesson = course.lessons[0]
    page = client.get(f"/courses/{course.slug}/{lesson.key}")
    from tests.conftest import csrf_token

    question = lesson.questions[0]
    response = client.post(
        f"/courses/{course.slug}/{lesson.key}/quiz",
        data={"csrf_token": csrf_token(page), "attempt": "1", f"q-{question.id}": "0"},
    )
    assert response.status_code in (200, 302, 303)  # passing the lesson's quiz completes this course
    db.session.expire_all()
    assignment = db.session.execute(select(Assignment)).scalar_one()
    assert assignment.completed_at is not None and assignment.completion.course_version == 1


def test_an_expiring_mandatory_completion_gets_a_recertification_once(database, office, make_course):
    course = make_course(valid_months=12)
    old = complete(office["a"], course, days_ago=350, valid_months=12)
    data = rule_for(course, AssignmentScope.PERSON, user_id=office["a"].id, due_days=5)
    assert services.create_rule(office["hr"], data, TODAY)[1] == []  # met at once: valid on the due date
    renewed = services.renew_expiring(TODAY, lead_days=30)
    assert len(renewed) == 1 and renewed[0].recertification and renewed[0].mandatory
    assert renewed[0].due_on == old.expires_at.date()
    assert services.renew_expiring(TODAY, lead_days=30) == []  # one open assignment per course
    assert services.close_met_assignments() == []  # the expiring completion does not meet it
    complete(office["a"], course, valid_months=12)
    assert services.close_met_assignments() == renewed
    assert services.renew_expiring(TODAY, lead_days=30) == []


def test_overdue_and_exempted(database, office, make_course):
    course = make_course()
    data = rule_for(course, AssignmentScope.PERSON, user_id=office["a"].id, due_kind=DueKind.FIXED, due_date=TODAY)
    _rule, (assignment,) = services.create_rule(office["hr"], data, TODAY)
    assert services.status_of(assignment, TODAY) == AssignmentStatus.OPEN
    assert services.status_of(assignment, TODAY + timedelta(days=1)) == AssignmentStatus.OVERDUE
    with pytest.raises(ValidationFailed):
        services.exempt(office["hr"], assignment, "  ")
    services.exempt(office["hr"], assignment, "Elternzeit")
    assert services.status_of(assignment, TODAY + timedelta(days=1)) == AssignmentStatus.EXEMPTED
    assert open_assignments() == []


def test_an_archived_course_leaves_the_assignments_and_completed_ones_stay(database, office, make_course):
    course = make_course()
    rule, _opened = services.create_rule(office["hr"], rule_for(course, department_id=office["fb3"].id), TODAY)
    db.session.commit()
    assert open_assignments()
    course.archived = True
    db.session.commit()
    result = services.sync(TODAY)
    db.session.commit()
    assert open_assignments() == [] and result.withdrawn >= 1 and not rule.active
    assert result.assigned == []  # nobody is assigned the archived course again
