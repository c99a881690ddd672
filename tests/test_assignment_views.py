"""Assigning courses on the web (HR and managers), a rule's page, ending and exempting, and the
learner's assignments on My learning. People here read English, so that the texts checked stay the
same whatever the German catalogue says."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from lms.assignments import notices, services
from lms.assignments.models import Assignment, AssignmentRule
from lms.common.dates import utcnow
from lms.common.vocabulary import AssignmentScope, AuditAction, DueKind
from lms.extensions import db
from lms.learning.models import Enrollment
from lms.privacy.models import AuditEntry
from tests.conftest import csrf_token


@pytest.fixture
def office(make_department, make_user, make_job_role):
    """FB3 with 33.1 below it (two clerks), one person in FB3, two in FB2; a manager of FB3; HR."""
    fb3 = make_department(code="FB3", name="Bürgerdienste")
    sub = make_department(code="33.1", name="Bürgerbüro", parent=fb3)
    fb2 = make_department(code="FB2", name="Finanzen")
    empty = make_department(code="LEER", name="Ohne Leute")
    clerk = make_job_role(code="SB", title="Sachbearbeitung")
    people = {
        "a": make_user(department=sub, job_role=clerk, family_name="Adler", locale="en"),
        "b": make_user(department=sub, family_name="Berg", locale="en"),
        "c": make_user(department=fb3, family_name="Clausen", locale="en"),
        "x": make_user(department=fb2, job_role=clerk, family_name="Xaver", locale="en"),
        "y": make_user(department=fb2, family_name="Yilmaz", locale="en"),
    }
    manager = make_user(roles=["manager"], heads=[fb3], department=fb3, family_name="Meyer", locale="en")
    hr = make_user(roles=["hr"], family_name="Hoffmann", locale="en")
    return {"fb3": fb3, "sub": sub, "fb2": fb2, "empty": empty, "clerk": clerk, "manager": manager, "hr": hr, **people}


@pytest.fixture
def told(monkeypatch):
    """Whom the pages told through `notices.tell_assigned`, as sets of user ids per call (the
    notifications' own tests say what telling does)."""
    calls: list[set[int]] = []
    monkeypatch.setattr(notices, "tell_assigned", lambda assignments: calls.append({a.user_id for a in assignments}))
    return calls


def today():
    return services.town_today()


def rule_data(course, scope=AssignmentScope.DEPARTMENT, **fields) -> services.RuleData:
    values = {"due_kind": DueKind.WITHIN_DAYS, "due_days": 30, "mandatory": True, "reason": "Pflicht"}
    return services.RuleData(course_id=course.id, scope=scope, **(values | fields))


def make_rule(actor, course, **fields) -> AssignmentRule:
    rule, _opened = services.create_rule(actor, rule_data(course, **fields), today())
    db.session.commit()
    return rule


def form_data(client, course, **fields) -> dict:
    data = {
        "csrf_token": csrf_token(client.get("/assignments/new")),
        "course_id": str(course.id),
        "scope": "department",
        "department_id": "",
        "user_id": "",
        "due_kind": "fixed",
        "due_date": (today() + timedelta(days=14)).isoformat(),
        "due_days": "",
        "mandatory": "y",
        "reason": "Datenschutz ist Pflicht",
    }
    return data | {key: str(value) for key, value in fields.items()}


def audit(action: AuditAction) -> list[AuditEntry]:
    db.session.expire_all()
    return list(db.session.execute(select(AuditEntry).where(AuditEntry.action == action)).scalars())


def switch_to(client, sign_in, user) -> None:
    client.post("/auth/logout", data={"csrf_token": csrf_token(client.get("/learning/"))})
    sign_in(user)


def error_of(html: str, field_id: str) -> str:
    """The error text shown next to a field (by the id that ties it to the field)."""
    match = re.search(rf'id="{re.escape(field_id)}-error">(.*?)</p>', html, re.S)
    assert match, f"no error shown next to {field_id}"
    return re.sub(r"<[^>]+>", "", match.group(1)).strip()


def section(html: str, start: str, end: str) -> str:
    return html.split(start, 1)[1].split(end, 1)[0]


# --- who may use the pages --------------------------------------------------------------------


@pytest.mark.parametrize("role", ["employee", "trainer", "dpo", "admin"])
def test_people_who_do_not_assign_are_refused(client, office, make_user, make_course, sign_in, role):
    rule = make_rule(office["hr"], make_course(), department_id=office["fb3"].id)
    sign_in(make_user(roles=[role] if role != "employee" else []))
    token = csrf_token(client.get("/learning/"))
    assert client.get("/assignments/").status_code == 403
    assert client.get("/assignments/new").status_code == 403
    assert client.get(f"/assignments/rules/{rule.id}").status_code == 403
    assert client.post(f"/assignments/rules/{rule.id}/end", data={"csrf_token": token}).status_code == 403
    assignment = db.session.execute(select(Assignment)).scalars().first()
    exempt_url = f"/assignments/rules/{rule.id}/assignments/{assignment.id}/exempt"
    assert client.post(exempt_url, data={"csrf_token": token}).status_code == 403
    assert db.session.scalar(select(AssignmentRule.active).where(AssignmentRule.id == rule.id)) is True


@pytest.mark.parametrize("url", ["/assignments/", "/assignments/new"])
def test_anonymous_people_are_sent_to_sign_in(client, url):
    response = client.get(url)
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


@pytest.mark.parametrize("who", ["hr", "manager"])
def test_hr_and_managers_reach_the_pages_and_the_menu(client, office, sign_in, who):
    sign_in(office[who])
    html = client.get("/assignments/").get_data(as_text=True)
    assert "Course assignments" in html and 'href="/assignments/"' in html
    assert client.get("/assignments/new").status_code == 200


# --- assigning --------------------------------------------------------------------------------


def test_hr_assigns_a_course_to_a_department(client, office, make_course, sign_in, told):
    course = make_course(title="Datenschutz kompakt")
    sign_in(office["hr"])
    due = today() + timedelta(days=14)
    response = client.post(
        "/assignments/new", data=form_data(client, course, department_id=office["fb3"].id, due_date=due.isoformat())
    )
    rule = db.session.execute(select(AssignmentRule)).scalar_one()
    assert response.status_code == 302 and response.headers["Location"] == f"/assignments/rules/{rule.id}"
    assert (rule.course_id, rule.department_id, rule.due_date, rule.mandatory) == (
        course.id,
        office["fb3"].id,
        due,
        True,
    )
    assert rule.created_by_id == office["hr"].id and rule.reason == "Datenschutz ist Pflicht"
    assigned = db.session.execute(select(Assignment)).scalars().all()
    expected = {office[k].id for k in ("a", "b", "c", "manager")}
    assert {a.user_id for a in assigned} == expected and {a.due_on for a in assigned} == {due}
    assert told == [expected]  # the people are told
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Assigned to 4 people." in page
    [entry] = audit(AuditAction.ASSIGN_COURSE)
    assert entry.actor_id == office["hr"].id and entry.subject_id is None
    assert entry.context["course"] == course.slug and entry.context["assignment_rule"] == rule.id
    assert entry.context["filter"] == {
        "scope": "department",
        "target": "FB3",
        "due_kind": "fixed",
        "due": due.isoformat(),
        "mandatory": True,
    }
    assert entry.context["people"] == 4


def test_hr_assigns_to_a_job_role_within_days_and_to_a_person(client, office, make_course, sign_in, told):
    course = make_course()
    sign_in(office["hr"])
    data = form_data(client, course, scope="job_role", job_role_id=office["clerk"].id, due_kind="within_days")
    assert client.post("/assignments/new", data=data | {"due_days": "10", "due_date": ""}).status_code == 302
    person = form_data(client, make_course(), scope="person", user_id=office["y"].id)
    assert client.post("/assignments/new", data=person).status_code == 302
    by_user = {a.user_id: a for a in db.session.execute(select(Assignment)).scalars()}
    assert {office["a"].id, office["x"].id, office["y"].id} == set(by_user)
    assert by_user[office["a"].id].due_on == today() + timedelta(days=10)
    person_entry = audit(AuditAction.ASSIGN_COURSE)[-1]
    assert person_entry.subject_id == office["y"].id  # a rule for one person is about that person


@pytest.mark.parametrize(
    "fields, field, message",
    [
        ({"due_date": "2020-01-01"}, "due_date", "in the past"),
        ({"due_date": ""}, "due_date", "Enter the due date"),
        ({"due_date": "morgen"}, "due_date", "Not a valid date value"),
        ({"due_kind": "within_days", "due_days": "0"}, "due_days", "from 1 to"),
        ({"due_kind": "within_days", "due_days": "viele"}, "due_days", "Not a valid integer value"),
        ({"scope": ""}, "scope", "Choose whom"),
        ({"department_id": ""}, "department_id", "Choose an active"),
        ({"course_id": ""}, "course_id", "Choose a published course"),
        ({"reason": "Grund\u202e"}, "reason", "text-direction characters"),
    ],
)
def test_mistakes_are_shown_next_to_their_field_and_nothing_is_stored(
    client, office, make_course, sign_in, told, fields, field, message
):
    course = make_course()
    sign_in(office["hr"])
    data = form_data(client, course, department_id=office["fb3"].id) | fields
    response = client.post("/assignments/new", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert message in error_of(html, field)
    assert 'id="error-summary"' in html
    assert db.session.scalar(select(func.count()).select_from(AssignmentRule)) == 0
    assert db.session.scalar(select(func.count()).select_from(Assignment)) == 0
    assert audit(AuditAction.ASSIGN_COURSE) == [] and told == []


def test_an_empty_department_is_refused_next_to_the_field(client, office, make_course, sign_in):
    sign_in(office["hr"])
    data = form_data(client, make_course(), department_id=office["empty"].id)
    html = client.post("/assignments/new", data=data).get_data(as_text=True)
    assert "no one to assign" in error_of(html, "department_id")
    assert db.session.scalar(select(func.count()).select_from(AssignmentRule)) == 0


def test_a_manager_is_offered_and_may_use_only_their_departments(client, office, make_course, sign_in, told):
    course = make_course()
    sign_in(office["manager"])
    form = client.get("/assignments/new").get_data(as_text=True)
    assert 'value="job_role"' not in form and 'id="job_role_id"' not in form
    departments = section(form, 'id="department_id"', "</select>")
    assert "33.1" in departments and "FB3" in departments and "FB2" not in departments
    people = section(form, 'id="user_id"', "</select>")
    assert "Adler" in people and "Xaver" not in people

    refused = client.post("/assignments/new", data=form_data(client, course, department_id=office["fb2"].id))
    assert "departments you head" in error_of(refused.get_data(as_text=True), "department_id")
    person = form_data(client, course, scope="person", user_id=office["x"].id)
    assert "departments you head" in error_of(
        client.post("/assignments/new", data=person).get_data(as_text=True), "user_id"
    )
    job_role = form_data(client, course, scope="job_role", job_role_id=office["clerk"].id)
    assert "Not a valid choice" in error_of(
        client.post("/assignments/new", data=job_role).get_data(as_text=True), "scope"
    )
    assert db.session.scalar(select(func.count()).select_from(AssignmentRule)) == 0

    assert (
        client.post("/assignments/new", data=form_data(client, course, department_id=office["sub"].id)).status_code
        == 302
    )
    assert {a.user_id for a in db.session.execute(select(Assignment)).scalars()} == {office["a"].id, office["b"].id}


# --- the list and a rule's page -----------------------------------------------------------------


def test_the_list_shows_each_rule_with_its_figures(client, office, make_course, sign_in):
    course = make_course(title="Sicher im Netz")
    rule = make_rule(office["hr"], course, department_id=office["fb3"].id, reason="Pflicht für alle")
    by_user = {a.user_id: a for a in db.session.execute(select(Assignment)).scalars()}
    by_user[office["a"].id].due_on = today() - timedelta(days=1)  # overdue
    by_user[office["b"].id].completed_at, by_user[office["b"].id].open_key = utcnow(), None
    db.session.commit()
    ended = make_rule(office["hr"], make_course(title="Alt"), scope=AssignmentScope.PERSON, user_id=office["y"].id)
    services.end_rule(ended)
    db.session.commit()
    sign_in(office["hr"])
    html = client.get("/assignments/").get_data(as_text=True)
    row = section(html, f'id="rule-{rule.id}"', "</tr>")
    assert "Sicher im Netz" in row and "Department: FB3 Bürgerdienste" in row and "within 30 days" in row
    assert "Pflicht für alle" in row and "active" in row
    assert 'data-people="4"' in row and 'data-completed="1"' in row and 'data-overdue="1"' in row
    ended_row = section(html, f'id="rule-{ended.id}"', "</tr>")
    assert "ended" in ended_row and "Person: " in ended_row
    assert html.index(f'id="rule-{rule.id}"') < html.index(f'id="rule-{ended.id}"')  # active first


def test_a_manager_sees_the_rules_of_their_departments_and_their_people_only(client, office, make_course, sign_in):
    mine = make_rule(office["manager"], make_course(), scope=AssignmentScope.PERSON, user_id=office["a"].id)
    for_fb3 = make_rule(office["hr"], make_course(), department_id=office["fb3"].id)
    for_fb2 = make_rule(office["hr"], make_course(), department_id=office["fb2"].id)
    by_role = make_rule(office["hr"], make_course(), scope=AssignmentScope.JOB_ROLE, job_role_id=office["clerk"].id)
    sign_in(office["manager"])
    html = client.get("/assignments/").get_data(as_text=True)
    assert f'id="rule-{mine.id}"' in html and f'id="rule-{for_fb3.id}"' in html
    assert f'id="rule-{for_fb2.id}"' not in html and f'id="rule-{by_role.id}"' not in html
    for hidden in (for_fb2, by_role):
        assert client.get(f"/assignments/rules/{hidden.id}").status_code == 404
    assert client.get("/assignments/rules/999999").status_code == 404
    denied = audit(AuditAction.DENIED)
    assert [entry.context["assignment_rule"] for entry in denied] == [for_fb2.id, by_role.id]

    page = client.get(f"/assignments/rules/{for_fb3.id}").get_data(as_text=True)
    people = section(page, 'id="rule-people"', "</table>")
    assert all(office[k].family_name in people for k in ("a", "b", "c"))
    assert 'name="exempt-' not in page  # exemptions are HR's
    assert "End this assignment" not in page  # HR's rule: the manager cannot end it


def test_the_rule_page_lists_people_with_status_as_text_and_records_the_look(client, office, make_course, sign_in):
    rule = make_rule(office["hr"], make_course(), department_id=office["fb3"].id)
    by_user = {a.user_id: a for a in db.session.execute(select(Assignment)).scalars()}
    by_user[office["a"].id].due_on = today() - timedelta(days=2)
    db.session.add(Enrollment(user_id=office["b"].id, course_id=rule.course_id))
    db.session.commit()
    sign_in(office["hr"])
    html = client.get(f"/assignments/rules/{rule.id}").get_data(as_text=True)
    rows = {k: section(html, f'id="assignment-{by_user[office[k].id].id}"', "</tr>") for k in ("a", "b", "c")}
    assert "overdue" in rows["a"] and "kern-icon--warning" in rows["a"]
    assert "in progress" in rows["b"] and "open" in rows["c"]
    entries = audit(AuditAction.VIEW_COMPLIANCE)
    shown = {office[k].id for k in ("a", "b", "c", "manager")}
    assert {entry.subject_id for entry in entries} == shown and len(entries) == 4
    assert all(e.actor_id == office["hr"].id and e.context == {"assignment_rule": rule.id} for e in entries)


# --- ending and exempting -----------------------------------------------------------------------


def test_hr_ends_a_rule_and_the_open_assignments_are_withdrawn(client, office, make_course, sign_in):
    rule = make_rule(office["hr"], make_course(), department_id=office["sub"].id)
    sign_in(office["hr"])
    page = client.get(f"/assignments/rules/{rule.id}")
    response = client.post(f"/assignments/rules/{rule.id}/end", data={"csrf_token": csrf_token(page)})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(AssignmentRule, rule.id).active is False
    assert all(a.withdrawn_at is not None for a in db.session.execute(select(Assignment)).scalars())
    [entry] = audit(AuditAction.END_ASSIGNMENT_RULE)
    assert entry.context["assignment_rule"] == rule.id and entry.context["people"] == 2
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "2 open assignments were withdrawn" in html and "End this assignment" not in html


def test_a_manager_ends_only_the_rules_they_created(client, office, make_course, sign_in):
    own = make_rule(office["manager"], make_course(), department_id=office["sub"].id)
    hr_rule = make_rule(office["hr"], make_course(), department_id=office["sub"].id)
    sign_in(office["manager"])
    token = csrf_token(client.get(f"/assignments/rules/{own.id}"))
    assert client.post(f"/assignments/rules/{hr_rule.id}/end", data={"csrf_token": token}).status_code == 403
    assert client.post(f"/assignments/rules/{own.id}/end", data={"csrf_token": token}).status_code == 302
    db.session.expire_all()
    assert (db.session.get(AssignmentRule, own.id).active, db.session.get(AssignmentRule, hr_rule.id).active) == (
        False,
        True,
    )


def test_only_hr_exempts_and_a_reason_is_required(client, office, make_course, sign_in):
    rule = make_rule(office["manager"], make_course(), department_id=office["sub"].id)
    assignment = db.session.execute(select(Assignment).where(Assignment.user_id == office["a"].id)).scalar_one()
    url = f"/assignments/rules/{rule.id}/assignments/{assignment.id}/exempt"
    field = f"exempt-{assignment.id}-reason"

    sign_in(office["manager"])
    token = csrf_token(client.get(f"/assignments/rules/{rule.id}"))
    assert client.post(url, data={"csrf_token": token, field: "Elternzeit"}).status_code == 403

    switch_to(client, sign_in, office["hr"])
    page = client.get(f"/assignments/rules/{rule.id}")
    assert f'id="{field}"' in page.get_data(as_text=True)
    refused = client.post(url, data={"csrf_token": csrf_token(page), field: "  "})
    assert refused.status_code == 200
    assert "why the person is exempted" in error_of(refused.get_data(as_text=True), field)
    assert audit(AuditAction.EXEMPT) == []

    done = client.post(url, data={"csrf_token": csrf_token(page), field: "Elternzeit"})
    assert done.status_code == 302
    db.session.expire_all()
    exempted = db.session.get(Assignment, assignment.id)
    assert exempted.exempted_at is not None and exempted.exemption_reason == "Elternzeit" and exempted.closed
    [entry] = audit(AuditAction.EXEMPT)
    assert (entry.actor_id, entry.subject_id) == (office["hr"].id, office["a"].id)
    assert entry.context == {"course": rule.course.slug, "assignment_rule": rule.id}
    html = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "is exempted from this assignment" in html
    assert "exempted" in section(html, f'id="assignment-{assignment.id}"', "</tr>")
    assert client.post(url, data={"csrf_token": csrf_token(page), field: "nochmal"}).status_code == 200  # closed


def test_an_assignment_of_another_rule_is_not_found(client, office, make_course, sign_in):
    first = make_rule(office["hr"], make_course(), department_id=office["sub"].id)
    make_rule(office["hr"], make_course(), department_id=office["fb2"].id)
    other = db.session.execute(select(Assignment).where(Assignment.user_id == office["x"].id)).scalar_one()
    sign_in(office["hr"])
    token = csrf_token(client.get(f"/assignments/rules/{first.id}"))
    url = f"/assignments/rules/{first.id}/assignments/{other.id}/exempt"
    assert client.post(url, data={"csrf_token": token, f"exempt-{other.id}-reason": "x"}).status_code == 404


# --- My learning ------------------------------------------------------------------------------


def test_my_learning_shows_the_assignments_first_by_due_date(client, office, make_course, sign_in):
    late = make_course(title="Überfällig")
    soon = make_course(title="Bald fällig")
    later = make_course(title="Später fällig")
    make_rule(office["hr"], later, scope=AssignmentScope.PERSON, user_id=office["a"].id, due_days=60, mandatory=False)
    make_rule(office["hr"], soon, scope=AssignmentScope.PERSON, user_id=office["a"].id, due_days=5, reason="Neu")
    make_rule(office["hr"], late, scope=AssignmentScope.PERSON, user_id=office["a"].id)
    overdue = db.session.execute(select(Assignment).where(Assignment.course_id == late.id)).scalar_one()
    overdue.due_on = today() - timedelta(days=3)
    db.session.commit()
    sign_in(office["a"])
    html = client.get("/learning/").get_data(as_text=True)
    assert html.index('id="assignments-heading"') < html.index('id="in-progress-heading"')
    mine = section(html, 'id="assignments-heading"', "</section>")
    assert mine.index("Überfällig") < mine.index("Bald fällig") < mine.index("Später fällig")
    first = section(mine, f'id="my-assignment-{overdue.id}"', "</tr>")
    assert "overdue" in first and "kern-icon--warning" in first and "mandatory" in first
    assert f'href="/courses/{late.slug}/"' in first
    soon_row = section(mine, "Bald fällig", "</tr>")
    assert "Neu" in soon_row and "open" in soon_row
    assert "optional" in section(mine, "Später fällig", "</tr>")


def test_my_learning_without_assignments_shows_no_assignment_section(client, office, sign_in):
    sign_in(office["a"])
    assert 'id="assignments-heading"' not in client.get("/learning/").get_data(as_text=True)


# --- statements per page: a fixed number, however many rules, people and assignments ----------------


def statements(client, count_queries, url: str) -> int:
    with count_queries() as counter:
        assert client.get(url).status_code == 200
    return counter.count


def test_my_learning_takes_one_statement_for_the_assignments(client, office, make_course, sign_in, count_queries):
    sign_in(office["a"])
    statements(client, count_queries, "/learning/")
    without = statements(client, count_queries, "/learning/")
    courses = [make_course() for _ in range(4)]
    for course in courses:
        make_rule(office["hr"], course, scope=AssignmentScope.PERSON, user_id=office["a"].id)
    db.session.add(Enrollment(user_id=office["a"].id, course_id=courses[0].id))
    db.session.commit()
    statements(client, count_queries, "/learning/")  # course versions seen for the first time
    with count_queries() as counter:
        html = client.get("/learning/").get_data(as_text=True)
    assert html.count('id="my-assignment-') == 4
    assert counter.count == without
    assigned = [s for s in counter.statements if "FROM assignments" in s]
    assert len(assigned) == 1  # the assignments with their courses and whether they are started


@pytest.mark.parametrize("who", ["hr", "manager"])
def test_the_list_and_a_rule_page_take_a_fixed_number_of_statements(
    client, office, make_course, make_user, sign_in, count_queries, who
):
    small = make_rule(office["manager"], make_course(), scope=AssignmentScope.PERSON, user_id=office["a"].id)
    sign_in(office[who])
    statements(client, count_queries, "/assignments/")
    list_one = statements(client, count_queries, "/assignments/")
    rule_one = statements(client, count_queries, f"/assignments/rules/{small.id}")
    for _ in range(6):
        make_user(department=office["sub"])
    big = make_rule(office["hr"], make_course(), department_id=office["fb3"].id)
    for _ in range(3):
        make_rule(office["manager"], make_course(), department_id=office["sub"].id)
    assert statements(client, count_queries, "/assignments/") == list_one
    assert statements(client, count_queries, f"/assignments/rules/{big.id}") == rule_one
