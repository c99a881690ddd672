"""Mandatory trainings: a manager's overview of their people and HR's aggregate compliance report."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from lms.assignments import reports, services
from lms.assignments.models import Assignment
from lms.assignments.report_cli import report as report_command
from lms.common.dates import utcnow
from lms.common.vocabulary import AssignmentScope, AssignmentStatus, AuditAction, DueKind
from lms.extensions import db
from lms.learning.models import Completion
from lms.privacy.models import AuditEntry
from tests.browser import assert_accessible
from tests.browser import sign_in as browser_sign_in
from tests.factories import DEFAULT_PASSWORD


def rule(course, scope=AssignmentScope.DEPARTMENT, **fields) -> services.RuleData:
    data = {"due_kind": DueKind.WITHIN_DAYS, "due_days": 30, "mandatory": True, "reason": "Pflichtschulung"}
    return services.RuleData(course_id=course.id, scope=scope, **(data | fields))


def assignment_of(person, course) -> Assignment:
    return db.session.execute(
        select(Assignment).where(Assignment.user_id == person.id, Assignment.course_id == course.id)
    ).scalar_one()


def complete(person, course) -> None:
    """A completion earned now, which closes the open assignment it meets."""
    db.session.add(
        Completion(
            user_id=person.id,
            course_id=course.id,
            sequence=1,
            course_version=1,
            completed_at=utcnow(),
            score_percent=97,
        )
    )
    db.session.flush()
    services.close_met_assignments(user_id=person.id)


@pytest.fixture
def town(make_department, make_job_role, make_user, make_course):
    """FB3 with 33.1 (six clerks) and 33.2 (five clerks), FB2 with three clerks; a manager of FB3, HR.

    Course "datenschutz" (33.1 only): two completed, one open, one overdue, one exempted, one withdrawn.
    Course "it-sicherheit" (every clerk): open for all fourteen.
    Course "kasse" (FB2 only): three people, a group too small to show at all.
    """
    today = services.town_today()
    fb3 = make_department(code="FB3", name="Bürgerdienste")
    office = make_department(code="33.1", name="Bürgerbüro", parent=fb3)
    registry = make_department(code="33.2", name="Standesamt", parent=fb3)
    finance = make_department(code="FB2", name="Finanzen")
    clerk = make_job_role(code="SB")
    staff = [make_user(family_name=f"Buero{i}", department=office, job_role=clerk) for i in range(6)]
    registrars = [make_user(family_name=f"Standesamt{i}", department=registry, job_role=clerk) for i in range(5)]
    cashiers = [make_user(family_name=f"Kasse{i}", department=finance, job_role=clerk) for i in range(3)]
    manager = make_user(roles=["manager"], heads=[fb3], department=fb3, family_name="Leitung")
    hr = make_user(roles=["hr"], family_name="Personal")
    privacy_course = make_course(slug="datenschutz", title="Datenschutz im Amt")
    security_course = make_course(slug="it-sicherheit", title="IT-Sicherheit")
    cash_course = make_course(slug="kasse", title="Kassensicherheit")
    services.create_rule(hr, rule(privacy_course, department_id=office.id), today)
    services.create_rule(hr, rule(security_course, AssignmentScope.JOB_ROLE, job_role_id=clerk.id), today)
    services.create_rule(hr, rule(cash_course, department_id=finance.id), today)
    complete(staff[0], privacy_course)
    complete(staff[1], privacy_course)
    assignment_of(staff[3], privacy_course).due_on = today - timedelta(days=1)
    services.exempt(hr, assignment_of(staff[4], privacy_course), "Elternzeit")
    withdrawn = assignment_of(staff[5], privacy_course)
    withdrawn.withdrawn_at, withdrawn.open_key = utcnow(), None
    db.session.commit()
    return {
        "fb3": fb3,
        "office": office,
        "registry": registry,
        "finance": finance,
        "clerk": clerk,
        "staff": staff,
        "registrars": registrars,
        "cashiers": cashiers,
        "manager": manager,
        "hr": hr,
        "privacy": privacy_course,
        "security": security_course,
        "cash": cash_course,
        "today": today,
    }


def row_of(html: str, person) -> str:
    match = re.search(rf'<tr class="kern-table__row" data-person="{person.id}">(.*?)</tr>', html, re.S)
    assert match, f"{person.family_name} is not listed"
    return match.group(1)


def status_in(row: str, course) -> str | None:
    match = re.search(rf'data-course="{course.slug}" data-status="(\w+)"', row)
    return match.group(1) if match else None


# --- who may see what ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "role, team, report",
    [("employee", 403, 403), ("trainer", 403, 403), ("manager", 200, 403), ("hr", 403, 200), ("admin", 403, 403)],
)
def test_each_role_reaches_only_its_compliance_pages(client, sign_in, make_user, role, team, report):
    sign_in(make_user(roles=[role]))
    assert client.get("/compliance/team").status_code == team
    assert client.get("/compliance/report").status_code == report
    assert client.get("/compliance/report.csv").status_code == report
    assert client.get("/compliance/report.xlsx").status_code == report


@pytest.mark.parametrize("url", ["/compliance/team", "/compliance/report", "/compliance/report.csv"])
def test_anonymous_users_are_sent_to_sign_in(client, url):
    response = client.get(url)
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


# --- the manager's overview ----------------------------------------------------------------------


def test_a_manager_sees_the_status_of_their_people_only_sorted_by_name(client, sign_in, town):
    sign_in(town["manager"])
    response = client.get("/compliance/team")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert not any(person.family_name in html for person in town["cashiers"])
    shown = [*town["staff"], *town["registrars"], town["manager"]]
    positions = [html.index(f'data-person="{person.id}"') for person in sorted(shown, key=lambda p: p.family_name)]
    assert positions == sorted(positions)  # by name, never by how people are doing
    privacy_course, security = town["privacy"], town["security"]
    expected = ["completed", "completed", "open", "overdue", "exempted", None]  # the withdrawn one is gone
    assert [status_in(row_of(html, p), privacy_course) for p in town["staff"]] == expected
    assert all(status_in(row_of(html, p), security) == "open" for p in town["registrars"])
    assert status_in(row_of(html, town["manager"]), security) is None  # not a clerk: not assigned
    due = town["today"] + timedelta(days=30)
    assert due.strftime("%d.%m.%Y") in row_of(html, town["staff"][2])
    assert "erledigt am" in row_of(html, town["staff"][0]) or "done on" in row_of(html, town["staff"][0])
    assert "Kassensicherheit" not in html and "Elternzeit" not in html  # nor the reason of an exemption


def test_every_look_is_audited_with_the_people_and_the_filter(client, sign_in, town):
    sign_in(town["manager"])
    client.get("/compliance/team")
    entries = db.session.execute(select(AuditEntry).where(AuditEntry.action == AuditAction.VIEW_COMPLIANCE)).scalars()
    shown = [*town["staff"], *town["registrars"]]  # and the manager, who is not recorded looking at themselves
    assert sorted(e.subject_id for e in entries) == sorted(p.id for p in shown)
    client.get(f"/compliance/team?status=overdue&department={town['office'].id}")
    entries = db.session.execute(
        select(AuditEntry).where(AuditEntry.action == AuditAction.VIEW_COMPLIANCE).order_by(AuditEntry.id)
    ).scalars()
    newest = list(entries)[len(shown) :]
    assert [e.subject_id for e in newest] == [town["staff"][3].id]
    assert newest[0].actor_id == town["manager"].id and newest[0].ip_address
    assert newest[0].context == {"filter": {"department_id": town["office"].id, "status": "overdue"}}


def test_filters_by_department_and_status_and_refuses_other_departments(client, sign_in, town):
    sign_in(town["manager"])
    html = client.get(f"/compliance/team?department={town['registry'].id}").get_data(as_text=True)
    assert all(f'data-person="{p.id}"' in html for p in town["registrars"])
    assert not any(f'data-person="{p.id}"' in html for p in [*town["staff"], town["manager"]])
    html = client.get("/compliance/team?status=overdue").get_data(as_text=True)
    assert re.findall(r'data-person="(\d+)"', html) == [str(town["staff"][3].id)]
    html = client.get("/compliance/team?status=completed").get_data(as_text=True)
    assert re.findall(r'data-person="(\d+)"', html) == [str(town["staff"][0].id), str(town["staff"][1].id)]
    assert client.get("/compliance/team?status=nonsense").status_code == 200  # ignored, as no filter
    assert client.get(f"/compliance/team?department={town['finance'].id}").status_code == 403
    refused = db.session.execute(select(AuditEntry).where(AuditEntry.action == AuditAction.DENIED)).scalars().all()
    assert len(refused) == 1


def test_compliance_only_shows_no_profile_links_and_levels_does(client, sign_in, town, app, monkeypatch):
    sign_in(town["manager"])
    monkeypatch.setitem(app.config, "MANAGER_VISIBILITY", "compliance-only")
    html = client.get("/compliance/team").get_data(as_text=True)
    assert "/profile" not in html.split('id="compliance-team"')[1]
    assert all(status_in(row_of(html, p), town["security"]) == "open" for p in town["staff"])  # the same table
    monkeypatch.setitem(app.config, "MANAGER_VISIBILITY", "levels")
    html = client.get("/compliance/team").get_data(as_text=True)
    for person in town["staff"]:
        assert f'href="/people/{person.id}/profile"' in row_of(html, person)


def test_a_manager_heading_nothing_sees_nobody(client, sign_in, make_user, town):
    sign_in(make_user(roles=["manager"]))
    html = client.get("/compliance/team").get_data(as_text=True)
    assert "data-person" not in html


def test_the_overview_takes_a_fixed_number_of_queries(client, sign_in, town, make_user, count_queries):
    sign_in(town["manager"])

    def queries():
        with count_queries() as counter:
            assert client.get("/compliance/team").status_code == 200
        return counter.count

    few = queries()
    for number in range(8):
        make_user(family_name=f"Neu{number}", department=town["office"], job_role=town["clerk"])
    services.sync(town["today"])
    db.session.commit()
    assert queries() == few


# --- HR's report ---------------------------------------------------------------------------------


def test_the_report_counts_completed_open_overdue_exempted_and_leaves_out_the_withdrawn(town):
    report = reports.course_report(reports.ReportFilter(), town["today"])
    by_course = {block.course.slug: block for block in report.courses}
    assert list(by_course) == ["datenschutz", "it-sicherheit", "kasse"]  # by title
    (office,) = by_course["datenschutz"].rows
    assert office.department.code == "33.1" and office.shown
    assert office.figures == reports.Figures(assigned=5, completed=2, open=1, overdue=1, exempted=1)
    assert office.figures.percent == 50  # two of the four who must


def test_small_departments_are_hidden_and_so_is_what_would_reveal_them(town):
    report = reports.course_report(reports.ReportFilter(), town["today"])
    by_course = {block.course.slug: block for block in report.courses}
    security = by_course["it-sicherheit"]
    rows = {row.department.code: row for row in security.rows}
    assert rows["33.1"].shown and rows["33.1"].figures.open == 6
    assert rows["FB2"].hidden == reports.Hidden.SMALL  # three people
    assert rows["33.2"].hidden == reports.Hidden.COMPLEMENT  # else FB2 = total − 33.1 − 33.2
    assert not security.total_hidden and security.total.assigned == 14
    cash = by_course["kasse"]
    assert cash.total_hidden and cash.rows[0].hidden == reports.Hidden.SMALL


def test_every_department_filter_is_protected_together(client, sign_in, town):
    """Unfiltered, the total (14) minus 33.1 and 33.2 would give FB2's three; filtered by FB3, its
    total (11) subtracted from the unfiltered one would give them too: so the FB3 filter's total and
    33.2 stay hidden in every view (the attack tests in tests/test_disclosure_attack.py search all)."""
    security = town["security"].id
    everything = reports.course_report(reports.ReportFilter(course_id=security), town["today"]).courses[0]
    fb3 = reports.course_report(reports.ReportFilter(course_id=security, department_id=town["fb3"].id), town["today"])
    (block,) = fb3.courses
    assert not everything.total_hidden and everything.total.assigned == 14
    assert block.total_hidden  # 14 − 11 would be FB2's three
    assert {row.department.code: row.shown for row in block.rows} == {"33.1": True, "33.2": False}


def test_the_report_page_shows_fewer_than_five_and_a_note(client, sign_in, town):
    sign_in(town["hr"])
    html = client.get("/compliance/report").get_data(as_text=True)
    security = html.split(f'id="report-course-{town["security"].id}"')[1].split("</tbody>")[0]
    assert 'data-hidden="small">weniger als 5<' in security
    assert 'data-hidden="complement"' in security
    total = security.split(f'data-total="{town["security"].id}"')[1]
    assert '<td class="kern-table__cell kern-table__cell--numeric" data-figure="assigned">14</td>' in total
    privacy = html.split(f'id="report-course-{town["privacy"].id}"')[1].split("</tbody>")[0]
    assert 'data-figure="completed">2<' in privacy and 'data-figure="exempted">1<' in privacy
    assert 'id="report-note"' in html
    assert not any(p.family_name in html for p in town["staff"])  # aggregates only


def test_the_report_filters_by_course_and_by_department_with_sub_departments(client, sign_in, town):
    sign_in(town["hr"])
    html = client.get(f"/compliance/report?course={town['security'].id}").get_data(as_text=True)
    assert re.findall(r'id="report-course-(\d+)"', html) == [str(town["security"].id)]
    html = client.get(f"/compliance/report?department={town['fb3'].id}").get_data(as_text=True)
    assert str(town["cash"].id) not in re.findall(r'id="report-course-(\d+)"', html)
    assert 'data-department="FB2"' not in html and 'data-department="33.2"' in html


def test_the_report_takes_a_fixed_number_of_queries(client, sign_in, town, make_user, make_department, count_queries):
    sign_in(town["hr"])

    def queries():
        with count_queries() as counter:
            assert client.get("/compliance/report").status_code == 200
        return counter.count

    few = queries()
    extra = make_department(code="FB9", parent=town["fb3"])
    for number in range(6):
        make_user(family_name=f"Neu{number}", department=extra, job_role=town["clerk"])
    services.sync(town["today"])
    db.session.commit()
    assert queries() == few


# --- exports -------------------------------------------------------------------------------------


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"), newline="")))


def test_csv_export_has_the_figures_a_header_and_is_not_cached(client, sign_in, town):
    sign_in(town["hr"])
    response = client.get("/compliance/report.csv")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = csv_rows(response)
    assert rows[2][1].endswith(f"<{town['hr'].email}>") and rows[3][1] == "none"
    table = rows[6:]
    office = next(r for r in table if r[1] == "datenschutz" and r[2] == "33.1")
    assert office[4:10] == ["5", "2", "1", "1", "1", "50"]
    hidden = next(r for r in table if r[1] == "it-sicherheit" and r[2] == "33.2")
    assert hidden[4:10] == [""] * 6 and hidden[10]
    assert next(r for r in table if r[1] == "kasse" and r[2] == "FB2")[10] == "weniger als 5"
    assert not any(p.family_name in cell for p in town["staff"] for r in rows for cell in r)
    rows = csv_rows(client.get(f"/compliance/report.csv?department={town['fb3'].id}&course={town['security'].id}"))
    assert rows[3][1] == "course=it-sicherheit, department=FB3"
    assert [r[2] for r in rows[7:]] == ["33.1", "33.2", ""]
    assert rows[8][4] == "" and rows[9][4] == ""  # hidden in every filter: else 14 − 11 = FB2's three
    entries = db.session.execute(
        select(AuditEntry).where(AuditEntry.action == AuditAction.EXPORT_COMPLIANCE).order_by(AuditEntry.id)
    ).scalars()
    first, second = entries
    assert first.subject_id is None and first.actor_id == town["hr"].id
    assert first.context == {"format": "csv", "filter": {}}
    assert second.context == {
        "format": "csv",
        "filter": {"course_id": town["security"].id, "department_id": town["fb3"].id},
    }


def test_exports_neutralise_formulas(client, sign_in, town, make_course, make_department, make_user):
    evil_course = make_course(slug="evil", title='=HYPERLINK("http://x","klick")')
    evil_department = make_department(code="X1", name="-1+1")
    people = [make_user(department=evil_department) for _ in range(5)]
    services.create_rule(town["hr"], rule(evil_course, department_id=evil_department.id), town["today"])
    db.session.commit()
    sign_in(town["hr"])
    rows = csv_rows(client.get(f"/compliance/report.csv?course={evil_course.id}"))
    assert any(r[:1] == ["'" + evil_course.title] for r in rows)
    assert any(len(r) > 3 and r[3] == "'-1+1" for r in rows)
    assert not any(cell.startswith(("=", "-", "+", "@")) for r in rows for cell in r)
    response = client.get(f"/compliance/report.xlsx?course={evil_course.id}")
    assert response.headers["Cache-Control"] == "no-store"
    sheet = load_workbook(io.BytesIO(response.data)).active
    cells = [cell for row in sheet.iter_rows() for cell in row]
    assert all(cell.data_type != "f" for cell in cells)
    values = [cell.value for cell in cells]
    assert "'" + evil_course.title in values and "'-1+1" in values
    assert 5 in values  # numbers stay numbers
    assert len(people) == 5


# --- the command line ----------------------------------------------------------------------------


def test_the_command_writes_the_report(app, town, tmp_path):
    target = tmp_path / "report.csv"
    result = app.test_cli_runner().invoke(report_command, ["--format", "csv", "--output", str(target)])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"{target}: 8 rows"  # 1 + 3 + 1 department rows, and a total each
    lines = target.read_text(encoding="utf-8-sig").splitlines()
    assert lines[2].endswith("command line") and lines[3].endswith("none")
    workbook = tmp_path / "report.xlsx"
    result = app.test_cli_runner().invoke(
        report_command,
        ["--format", "xlsx", "--output", str(workbook), "--department", "33.1", "--course", "datenschutz"],
    )
    assert result.exit_code == 0 and result.output.strip() == f"{workbook}: 2 rows"
    rows = list(load_workbook(workbook).active.iter_rows(values_only=True))
    assert rows[3][1] == "course=datenschutz, department=33.1"
    assert rows[7][4:10] == (5, 2, 1, 1, 1, 50)
    entries = db.session.execute(select(AuditEntry).where(AuditEntry.action == AuditAction.EXPORT_COMPLIANCE))
    assert [(e.actor_id, e.context["via"]) for e in entries.scalars()] == [(None, "cli"), (None, "cli")]


@pytest.mark.parametrize(
    "option, message", [("--department", "no department with code"), ("--course", "no course with key")]
)
def test_the_command_refuses_unknown_codes(app, town, tmp_path, option, message):
    target = tmp_path / "report.csv"
    result = app.test_cli_runner().invoke(
        report_command, ["--format", "csv", "--output", str(target), option, "GIBT-ES-NICHT"]
    )
    assert result.exit_code != 0 and message in result.output
    assert not target.exists()
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 0


def test_the_command_refuses_an_unknown_format(app, tmp_path, database):
    result = app.test_cli_runner().invoke(report_command, ["--format", "pdf", "--output", str(tmp_path / "x")])
    assert result.exit_code != 0


def test_status_of_and_the_report_agree(town):
    """The page's statuses (status_of) and the report's counts (status_expression) tell the same."""
    today = town["today"]
    current = db.session.execute(
        select(Assignment).where(
            Assignment.id.in_(reports.current_mandatory()), Assignment.course_id == town["privacy"].id
        )
    ).scalars()
    statuses = sorted(services.status_of(a, today) for a in current)
    assert statuses == sorted(
        [AssignmentStatus.COMPLETED] * 2 + [AssignmentStatus.OPEN, AssignmentStatus.OVERDUE, AssignmentStatus.EXEMPTED]
    )


# --- in a real browser ---------------------------------------------------------------------------


@pytest.mark.browser
def test_the_managers_overview_is_accessible(page, town):
    browser_sign_in(page, town["manager"].email, DEFAULT_PASSWORD)
    page.goto("/compliance/team")
    assert page.locator("#compliance-team tbody tr").count() == 12
    assert_accessible(page)
    page.get_by_label("Status").select_option("overdue")
    page.get_by_role("button", name="Anzeigen").click()
    page.wait_for_load_state()
    assert page.locator("#compliance-team tbody tr").count() == 1
    assert_accessible(page)


@pytest.mark.browser
def test_the_report_is_accessible(page, town):
    browser_sign_in(page, town["hr"].email, DEFAULT_PASSWORD)
    page.goto("/compliance/report")
    assert page.locator("#compliance-report tbody").count() == 3
    assert_accessible(page)
