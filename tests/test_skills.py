"""Competence profiles, the skill matrix, exports, privacy presets and the audit trail."""

import csv
import io
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from lms.extensions import db
from lms.privacy.models import AuditEntry
from lms.skills.models import Assessment, SelfAssessment
from tests.conftest import csrf_token
from tests.factories import competence


def test_hr_sees_everyone_in_the_matrix_and_views_are_logged(client, sign_in, town):
    sign_in(town["hr"])
    html = client.get("/matrix/").get_data(as_text=True)
    for person in town["staff"] + town["others"]:
        assert person.family_name in html
    assert "3/3" in html and "1/3" in html and 'class="kern-table__cell matrix-cell cell-gap"' in html
    logged = db.session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "view_matrix"))
    assert logged >= len(town["staff"]) + len(town["others"])


def test_manager_sees_only_their_departments_and_nobody_else_exists_for_them(levels_preset, client, sign_in, town):
    sign_in(town["manager"])
    html = client.get("/matrix/").get_data(as_text=True)
    assert all(p.family_name in html for p in town["staff"])
    assert not any(p.family_name in html for p in town["others"])
    outsider = town["others"][0]
    assert client.get(f"/people/{outsider.id}/profile").status_code == 404  # as for a missing id
    assert client.get(f"/matrix/?department={town['fb2'].id}").status_code == 403
    denied = db.session.execute(select(AuditEntry).where(AuditEntry.action == "denied")).scalars().all()
    assert {d.subject_id for d in denied} >= {outsider.id} and len(denied) == 2
    assert client.get(f"/people/{town['staff'][0].id}/profile").status_code == 200


def test_csv_export_has_the_numbers_of_the_page(client, sign_in, town):
    sign_in(town["hr"])
    page = client.get("/matrix/?area=4").get_data(as_text=True)
    response = client.get("/matrix/export?format=csv&area=4")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    lines = response.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines[0] == "Lernpfad-Kompetenzmatrix" and lines[1].startswith("Exportiert am,")
    assert town["hr"].email in lines[2] and lines[3] == "Filter,area=4"
    rows = list(csv.DictReader(io.StringIO("\n".join(lines[5:]))))
    assert len(rows) == len(town["staff"]) + len(town["others"]) + 2  # and the manager and HR themselves
    for row in rows:
        person_cells = re.search(rf"{row['Nachname']}, {row['Vorname']}</a>.*?</tr>", page, re.S).group(0)
        shown = re.findall(
            r'data-competence="([\d.]+)">\s*<a[^>]*>\s*<span class="cell-value">(\d+)/([\d–]+)', person_cells
        )
        for code, current, target in shown:
            assert row[f"{code} aktuell"] == current
            assert row[f"{code} Ziel"] == ("" if target == "–" else target)
    assert (
        db.session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "export_matrix"))
        == len(rows) - 1
    )  # not for one's own row


def test_xlsx_export_holds_numbers_as_numbers(client, sign_in, town):
    sign_in(town["hr"])
    response = client.get(f"/matrix/export?format=xlsx&department={town['fb3'].id}")
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[5]
    assert header[0] == "Personalnummer" and "4.1 aktuell" in header
    people = rows[6:]
    assert len(people) == len(town["staff"])
    column = header.index("4.1 aktuell")
    assert all(isinstance(row[column], int) for row in people)
    assert sorted(row[column] for row in people) == [0, 1, 2, 3, 3, 4]


def test_gaps_only_filter(client, sign_in, town):
    sign_in(town["hr"])
    html = client.get(f"/matrix/?department={town['fb3'].id}&gaps=y").get_data(as_text=True)
    # Everyone lacks 4.2 (target 2, no evidence): all six have a gap.
    assert html.count('class="kern-link" href="/people/') == 6


def test_compliance_only_preset_shows_managers_totals_not_people(client, sign_in, town, app, monkeypatch):
    monkeypatch.setitem(app.config, "MANAGER_VISIBILITY", "compliance-only")
    sign_in(town["manager"])
    html = client.get("/matrix/").get_data(as_text=True)
    assert not any(p.family_name in html for p in town["staff"])
    assert 'id="totals-heading"' in html
    assert client.get("/matrix/export?format=csv").status_code == 403
    assert client.get(f"/people/{town['staff'][0].id}/profile").status_code == 403


def test_small_groups_read_fewer_than_five(client, sign_in, town, app, monkeypatch):
    sign_in(town["hr"])
    html = client.get(f"/matrix/?department={town['fb2'].id}").get_data(as_text=True)
    totals = html.split('id="totals-heading"')[1].split('class="site-footer"')[0]  # the footer names the minimum too
    assert "weniger als 5" in totals
    monkeypatch.setitem(app.config, "PRIVACY_MIN_GROUP_SIZE", 3)
    page = client.get(f"/matrix/?department={town['fb2'].id}").get_data(as_text=True)
    totals = page.split('id="totals-heading"')[1].split('class="site-footer"')[0]
    assert "weniger als" not in totals


def test_matrix_takes_a_fixed_number_of_queries(client, sign_in, town, make_user, count_queries):
    sign_in(town["hr"])

    def queries():
        with count_queries() as counter:
            assert client.get("/matrix/").status_code == 200
        return counter.count

    few = queries()
    for _ in range(12):
        make_user(department=town["fb3"], job_role=town["staff"][0].job_role)
    assert queries() == few


def test_employee_profile_shows_gaps_with_closing_courses(client, sign_in, town, make_course):
    make_course(title="Geräte schützen", competences=(("4.1", 3),))
    make_course(title="Zu leicht", competences=(("4.1", 1),))
    person = town["staff"][2]  # 4.1 at level 1, target 3
    sign_in(person)
    html = client.get("/profile/").get_data(as_text=True)
    gaps = html.split('id="gaps-heading"')[1].split("</section>")[0]
    assert "Geräte schützen" in gaps and "Zu leicht" not in gaps
    assert "<svg" in html and 'role="img"' in html


def test_self_assessment_is_shown_but_never_counted(client, sign_in, town):
    person = town["staff"][4]  # no evidence for 4.1
    sign_in(person)
    page = client.get("/profile/")
    response = client.post(
        "/profile/self-assessment",
        data={"csrf_token": csrf_token(page), "competence_id": competence("4.1").id, "level": "7"},
    )
    assert response.status_code == 302
    row = client.get("/profile/").get_data(as_text=True).split(f'id="competence-{competence("4.1").id}"')[1]
    cells = re.findall(r'kern-table__cell--numeric">\s*([^<\s]+)', row)
    assert cells[:3] == ["0", "3", "7"]


@pytest.mark.parametrize("level", ["9", "-1", "x"])
def test_self_assessment_out_of_range_is_refused(client, sign_in, town, level):
    sign_in(town["staff"][0])
    page = client.get("/profile/")
    client.post(
        "/profile/self-assessment",
        data={"csrf_token": csrf_token(page), "competence_id": competence("4.1").id, "level": level},
    )
    assert db.session.scalar(select(func.count()).select_from(SelfAssessment)) == 0


def test_self_assessment_of_another_frameworks_competence_is_refused(client, sign_in, town):
    sign_in(town["staff"][0])
    page = client.get("/profile/")
    client.post(
        "/profile/self-assessment", data={"csrf_token": csrf_token(page), "competence_id": 999999, "level": "3"}
    )
    assert db.session.scalar(select(func.count()).select_from(SelfAssessment)) == 0


def test_manager_confirms_a_level_and_the_person_sees_who_looked(levels_preset, client, sign_in, town, app):
    person = town["staff"][4]
    sign_in(town["manager"])
    page = client.get(f"/people/{person.id}/profile")
    response = client.post(
        f"/people/{person.id}/assessments",
        data={
            "csrf_token": csrf_token(page),
            "competence_id": competence("4.2").id,
            "level": "2",
            "evidence_type": "observed_at_work",
            "note": "Im Arbeitsalltag beobachtet",
        },
    )
    assert response.status_code == 302
    assert db.session.execute(select(Assessment).where(Assessment.user_id == person.id)).scalar_one().level == 2
    own = app.test_client()
    login = own.get("/auth/login")
    own.post(
        "/auth/login",
        data={"csrf_token": csrf_token(login), "email": person.email, "password": "Korrekt-Pferd-Batterie-42"},
    )
    log = own.get("/profile/access-log").get_data(as_text=True)
    assert town["manager"].name in log


def test_cell_evidence_shows_sources_but_no_scores(client, sign_in, town, make_course):
    from lms.learning.models import Completion

    person = town["staff"][0]
    course = make_course(title="Geräte schützen", competences=(("4.1", 4),))
    db.session.add(Completion(user_id=person.id, course_id=course.id, sequence=1, course_version=1, score_percent=87))
    db.session.commit()
    sign_in(town["hr"])
    html = client.get(f"/matrix/evidence/{person.id}/{competence('4.1').id}").get_data(as_text=True)
    assert "Geräte schützen" in html and "Bestätigte Einschätzung" in html
    visible_text = re.sub(r"<[^>]+>", " ", html)  # tags and attributes (tokens) removed
    assert not re.search(r"\b87\b", visible_text)


def test_dpo_reads_and_exports_the_audit_log(client, sign_in, town, make_user, app):
    viewer = app.test_client()
    login = viewer.get("/auth/login")
    viewer.post(
        "/auth/login",
        data={"csrf_token": csrf_token(login), "email": town["hr"].email, "password": "Korrekt-Pferd-Batterie-42"},
    )
    viewer.get(f"/people/{town['staff'][0].id}/profile")
    sign_in(make_user(roles=["dpo"]))
    html = client.get("/privacy/audit").get_data(as_text=True)
    assert town["hr"].name in html and town["staff"][0].name in html
    exported = client.get("/privacy/audit.csv").get_data(as_text=True)
    assert "view_profile" in exported and town["staff"][0].email in exported


def test_no_ranking_anywhere(client, sign_in, town):
    sign_in(town["hr"])
    html = client.get("/matrix/").get_data(as_text=True)
    names = re.findall(r'href="/people/\d+/profile">([^<]+)<', html)
    assert names == sorted(names, key=lambda n: (n.split(",")[0], n.split(",")[1]))  # alphabetical, not by level


def test_cli_matrix_export(app, database, town, tmp_path):
    output = tmp_path / "matrix.csv"
    result = app.test_cli_runner().invoke(
        args=["skills", "matrix", "--department", "FB3", "--format", "csv", "--output", str(output)]
    )
    assert result.exit_code == 0, result.output
    rows = output.read_text(encoding="utf-8-sig").splitlines()
    assert rows[3] == "Filter,department=FB3" and rows[5].startswith("Personalnummer,")
    assert len(rows) == 6 + len(town["staff"])
    bad = app.test_cli_runner().invoke(
        args=["skills", "matrix", "--department", "NOPE", "--format", "csv", "--output", str(output)]
    )
    assert bad.exit_code != 0 and "NOPE" in bad.output


@pytest.mark.parametrize("preset, linked", [("levels", True), ("compliance-only", False)])
def test_my_team_links_to_profiles_only_where_the_preset_allows(
    client, sign_in, town, app, monkeypatch, preset, linked
):
    monkeypatch.setitem(app.config, "MANAGER_VISIBILITY", preset)
    sign_in(town["manager"])
    html = client.get("/team/").get_data(as_text=True)
    assert (f"/people/{town['staff'][0].id}/profile" in html) is linked
    assert town["staff"][0].family_name in html
