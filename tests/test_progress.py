"""The progress report for the council and the staff council: large units only, bands only, no
person and no ranking, on the page, in the PDF and from the command line; who may read it, and
that the PDF's download is recorded. People here read English, so that the texts checked stay the
same whatever the German catalogue says."""

from __future__ import annotations

import io
import os
from datetime import timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from lms.catalog.models import Course
from lms.change import services as change
from lms.common import disclosure
from lms.common.dates import utcnow
from lms.common.vocabulary import AuditAction, AuditField
from lms.extensions import db
from lms.learning.models import Completion, CourseFeedback
from lms.people.models import Department, User, UserRole
from lms.privacy.models import AuditEntry
from lms.progress import cli as progress_cli
from lms.progress import services as progress
from lms.progress.pdf import printable
from lms.strategy.models import StrategyTarget
from tests.factories import competence

SIZES = {"10": 25, "20": 19, "30": 4}  # department code → active people


def add_people(department, count: int, prefix: str) -> list[User]:
    """Plain staff without passwords (they never sign in): quicker than the factory."""
    people = [
        User(
            email=f"{prefix.lower()}{index}@musterhausen.example",
            given_name="Quirin",
            family_name=f"{prefix}{index}",
            personnel_number=f"{prefix[-3:]}{index:04d}",
            department=department,
            role_rows=[UserRole(role="employee")],
        )
        for index in range(count)
    ]
    db.session.add_all(people)
    db.session.commit()
    return people


@pytest.fixture
def town(make_department, make_user, make_course):
    """Departments of 25, 19 and 4 people, two courses, HR, change, the staff council."""
    departments = {code: make_department(code=code, name=f"Amt {code}") for code in SIZES}
    staff = {code: add_people(departments[code], size, f"Zuname{code}x") for code, size in SIZES.items()}
    roles = {
        role: make_user(roles=[role], family_name=f"Rolle{role.title()}", locale="en")
        for role in ("hr", "change", "staff_council", "admin", "dpo")
    }
    courses = [make_course(title="Sicher im Netz"), make_course(title="Die E-Akte")]
    return {"departments": departments, "staff": staff, "courses": courses, "employee": staff["10"][0]} | roles


def complete(people, course, months_ago: int = 0) -> None:
    moment = utcnow() - timedelta(days=30 * months_ago)
    db.session.add_all(
        Completion(user_id=p.id, course_id=course.id, course_version=1, score_percent=100, completed_at=moment)
        for p in people
    )
    db.session.commit()


def rate(course, ratings) -> None:
    db.session.add_all(
        CourseFeedback(course_id=course.id, helpful=helpful, length=length, month="2026-01")
        for helpful, length in ratings
    )
    db.session.commit()


def start_initiative(town, department_codes) -> None:
    data = change.InitiativeData(
        title="E-Akte überall",
        description="",
        lead_id=town["change"].id,
        go_live=progress.town_today() + timedelta(days=60),
        department_ids=[town["departments"][code].id for code in department_codes],
        job_role_ids=[],
        phases=[],
    )
    initiative = change.save_initiative(town["change"], None, data, progress.town_today())
    change.link_course(town["change"], initiative, town["courses"][0].id, 14, progress.town_today())
    change.start(town["change"], initiative, progress.town_today())
    db.session.commit()


def names_of(town) -> list[str]:
    people = [p for group in town["staff"].values() for p in group]
    return [p.family_name for p in people] + [p.email for p in people]


def unit_codes(report) -> list[str | None]:
    return [line.unit.department.code if line.unit.department else None for line in report.units]


def pdf_text(body: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)


# --- the figures -----------------------------------------------------------------------------


def test_only_the_whole_administration_and_units_of_at_least_20_people_appear(town):
    complete(town["staff"]["10"][:10] + town["staff"]["20"], town["courses"][0])
    report = progress.report()
    assert unit_codes(report) == [None, "10"]
    assert all(
        line.share.state in (disclosure.ShareState.BAND, disclosure.ShareState.WITHHELD) for line in report.units
    )
    department = report.units[1]
    assert department.share.state == disclosure.ShareState.BAND and department.share.band == 1  # 10 of 25


def test_every_share_is_a_band_even_for_large_groups(town):
    complete([p for group in town["staff"].values() for p in group], town["courses"][0])
    report = progress.report()
    uptake = report.uptake[[line.course.title for line in report.uptake].index("Sicher im Netz")]
    assert uptake.shown and uptake.people == 48
    assert uptake.share.state == disclosure.ShareState.BAND and uptake.share.percent is None


def test_a_course_taken_by_fewer_than_the_minimum_shows_no_number(town):
    complete(town["staff"]["10"][:3], town["courses"][1])
    complete(town["staff"]["10"][3:9], town["courses"][0], months_ago=13)  # longer ago than twelve months
    report = progress.report()
    by_title = {line.course.title: line for line in report.uptake}
    assert not by_title["Die E-Akte"].shown
    assert by_title["Sicher im Netz"].people == 0 and by_title["Sicher im Netz"].shown


@pytest.mark.parametrize("busy", ["10", "40"])
def test_departments_keep_their_code_order_whatever_their_figures(town, make_department, busy):
    extra = make_department(code="40", name="Amt 40")
    town["staff"]["40"] = add_people(extra, 22, "Zuname40x")
    complete(town["staff"][busy], town["courses"][0])
    assert unit_codes(progress.report()) == [None, "10", "40"]


def test_a_department_whose_difference_from_the_whole_is_small_is_withheld(database):
    """The whole (23 people) minus a unit of 20 would tell about 3 people: the unit's figure goes."""
    whole = progress.Unit(None, 0, frozenset(range(23)))
    unit = progress.Unit(Department(id=7, code="10", name="Amt 10"), 1, frozenset(range(20)))
    total, department = progress.unit_uptake([whole, unit], set(range(10)), 5)
    assert total.share.state == disclosure.ShareState.BAND
    assert department.share.state == disclosure.ShareState.WITHHELD


def test_feedback_shows_figures_only_from_the_minimum_of_answers(town):
    rate(town["courses"][0], [(5, "about_right")] * 4 + [(2, "too_long")] * 2)
    rate(town["courses"][1], [(5, "about_right")] * 4)
    by_title = {line.course.title: line for line in progress.report().feedback}
    shown, hidden = by_title["Sicher im Netz"], by_title["Die E-Akte"]
    assert shown.shown and shown.answers == 6 and shown.helpful.band == 2  # 4 of 6: 50 to under 75 %
    assert not hidden.shown and hidden.helpful is None and hidden.about_right is None


def test_readiness_shows_the_target_group_and_large_departments_only(town):
    start_initiative(town, ["10", "20", "30"])
    complete(town["staff"]["10"], town["courses"][0])
    (item,) = progress.report().initiatives
    assert [line.department.code if line.department else None for line in item.lines] == [None, "10"]
    assert all(line.completed.state != disclosure.ShareState.EXACT for line in item.lines)


def test_targets_of_small_units_are_left_out(town, digcomp):
    deadline = progress.town_today() + timedelta(days=400)
    for department in (None, town["departments"]["10"], town["departments"]["30"]):
        db.session.add(
            StrategyTarget(
                competence_id=competence("4.1").id,
                level=3,
                share_percent=80,
                deadline=deadline,
                department_id=department.id if department else None,
            )
        )
    db.session.commit()
    report = progress.report()
    assert [line.view.target.department_id for line in report.targets] == [None, town["departments"]["10"].id]
    assert report.small_targets == 1
    assert all(line.today.state != disclosure.ShareState.EXACT for line in report.targets)


# --- the page and the PDF --------------------------------------------------------------------


def full_town(town):
    start_initiative(town, ["10", "20"])
    complete(town["staff"]["10"][:12] + town["staff"]["20"][:8], town["courses"][0])
    rate(town["courses"][0], [(4, "about_right")] * 6)
    db.session.add(
        StrategyTarget(
            competence_id=competence("4.1").id,
            level=2,
            share_percent=60,
            deadline=progress.town_today() + timedelta(days=300),
        )
    )
    db.session.commit()


def test_the_page_shows_bands_and_names_no_person(client, sign_in, town):
    full_town(town)
    sign_in(town["hr"])
    html = client.get("/progress/").get_data(as_text=True)
    assert "Progress report of" in html and "Amt 10" in html
    assert "Amt 20" not in html and "Amt 30" not in html
    assert "25 to under 50 %" in html  # 12 of 25 in department 10
    assert "/progress/report.pdf" in html
    assert not [name for name in names_of(town) if name in html]


def test_the_pdf_opens_holds_the_sections_and_names_no_person(app, client, sign_in, town):
    full_town(town)
    sign_in(town["staff_council"])
    response = client.get("/progress/report.pdf")
    assert response.status_code == 200 and response.content_type == "application/pdf"
    assert response.data.startswith(b"%PDF")
    text = pdf_text(response.data)
    for heading in ("Strategy targets", "Initiatives and readiness", "Course uptake", "Course feedback"):
        assert heading in text
    assert app.config["TOWN_NAME"] in text and "Page 1" in text
    assert "Amt 10" in text and "Amt 20" not in text
    assert not [name for name in names_of(town) if name in text]


def test_the_download_is_recorded_without_people(client, sign_in, town):
    sign_in(town["change"])
    assert client.get("/progress/report.pdf").status_code == 200
    entry = db.session.execute(
        select(AuditEntry).where(AuditEntry.action == AuditAction.EXPORT_PROGRESS_REPORT)
    ).scalar_one()
    assert entry.actor_id == town["change"].id and entry.subject_id is None
    assert entry.context[AuditField.FORMAT] == "pdf"


def test_german_typography_survives_the_built_in_font():
    assert printable("„Vorhaben“ – 25 % … ≥ 20") == "„Vorhaben“ – 25 % … >= 20"
    assert printable("Ω") == "?"


@pytest.mark.parametrize(
    ("role", "status"), [("hr", 200), ("change", 200), ("staff_council", 200), ("admin", 200), ("dpo", 403)]
)
def test_who_may_read_the_report(client, sign_in, town, role, status):
    sign_in(town[role])
    assert client.get("/progress/").status_code == status
    assert client.get("/progress/report.pdf").status_code == status


def test_an_employee_is_refused(client, sign_in, make_user, town):
    sign_in(make_user(family_name="Nurbeschaeftigt"))
    assert client.get("/progress/").status_code == 403
    assert client.get("/progress/report.pdf").status_code == 403


def statements(client, count_queries) -> int:
    with count_queries() as counter:
        assert client.get("/progress/").status_code == 200
    return counter.count


def test_the_page_takes_a_fixed_number_of_statements(
    client, sign_in, town, make_course, make_department, count_queries
):
    full_town(town)
    sign_in(town["hr"])
    statements(client, count_queries)
    before = statements(client, count_queries)
    extra = make_department(code="50", name="Amt 50")
    complete(add_people(extra, 21, "Zuname50x"), make_course(title="Noch ein Kurs"))
    rate(town["courses"][1], [(3, "too_short")] * 7)
    assert statements(client, count_queries) == before


# --- the command line ------------------------------------------------------------------------


def test_the_command_writes_the_pdf(app, town, tmp_path):
    full_town(town)
    output = tmp_path / "fortschritt.pdf"
    result = app.test_cli_runner().invoke(args=["report", "progress", "--output", str(output)])
    assert result.exit_code == 0, result.output
    body = output.read_bytes()
    assert body.startswith(b"%PDF") and app.config["TOWN_NAME"] in pdf_text(body)
    assert sorted(os.listdir(tmp_path)) == ["fortschritt.pdf"]
    entry = db.session.execute(
        select(AuditEntry).where(AuditEntry.action == AuditAction.EXPORT_PROGRESS_REPORT)
    ).scalar_one()
    assert entry.actor_id is None and entry.context[AuditField.VIA] == "cli"


def test_a_missing_directory_fails_clearly_and_leaves_nothing(app, town, tmp_path):
    output = tmp_path / "fehlt" / "bericht.pdf"
    result = app.test_cli_runner().invoke(args=["report", "progress", "--output", str(output)])
    assert result.exit_code != 0
    assert "does not exist" in result.output
    assert list(tmp_path.iterdir()) == []


def test_a_directory_without_write_permission_fails_clearly_and_leaves_nothing(app, town, tmp_path, monkeypatch):
    # Root may write anywhere, so the refusal is the operating system's answer, given here.
    monkeypatch.setattr(progress_cli.os, "access", lambda path, mode: False)
    result = app.test_cli_runner().invoke(args=["report", "progress", "--output", str(tmp_path / "b.pdf")])
    assert result.exit_code != 0 and "not writable" in result.output
    assert list(tmp_path.iterdir()) == []


def test_a_failed_write_leaves_neither_the_file_nor_a_part(app, town, tmp_path, monkeypatch):
    def disk_full(source, target):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(progress_cli.os, "replace", disk_full)
    result = app.test_cli_runner().invoke(args=["report", "progress", "--output", str(tmp_path / "b.pdf")])
    assert result.exit_code != 0 and "No space left on device" in result.output
    assert list(tmp_path.iterdir()) == []
    assert not db.session.execute(select(AuditEntry)).first()


def test_the_command_explains_itself(app):
    result = app.test_cli_runner().invoke(args=["report", "progress", "--help"])
    assert result.exit_code == 0 and "--output" in result.output


def test_published_courses_only(town):
    town["courses"][1].archived = True
    db.session.commit()
    assert [line.course.title for line in progress.report().uptake] == ["Sicher im Netz"]
    assert db.session.get(Course, town["courses"][1].id).archived
