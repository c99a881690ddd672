"""Transparent by construction (issue 13): modules switched off, settings recorded and their changes
audited, the privacy notice and the agreement's annex generated from the settings and the code."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from lms.common.dates import utcnow
from lms.common.vocabulary import AuditAction, ManagerVisibility, Module
from lms.config import ConfigError, load_config
from lms.extensions import db
from lms.privacy.models import AuditEntry
from lms.privacy.settings import RecordedSetting, record_settings_in_force
from tests.conftest import csrf_token

# The pages are read in English (the msgids), so that these tests hold before and after the German
# catalogue is updated; tests/test_privacy_settings.py reads the settings page in German.
EN = {"Accept-Language": "en"}


def main_of(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True).split("<main", 1)[1].split('class="site-footer"')[0]


def menu_of(client) -> str:
    html = client.get("/learning/", headers=EN).get_data(as_text=True)
    return html.split('class="main-nav"', 1)[1].split("</nav>", 1)[0]


def settings_changes() -> int:
    return db.session.scalar(
        select(func.count()).select_from(AuditEntry).where(AuditEntry.action == AuditAction.CHANGE_SETTINGS)
    )


def switch_off(app, monkeypatch, *modules: Module) -> None:
    monkeypatch.setitem(app.config, "MODULES_OFF", frozenset(modules))


# --- modules switched off ----------------------------------------------------------------------------


def test_a_module_switched_off_answers_404_and_leaves_the_menu(app, client, make_user, sign_in, monkeypatch):
    sign_in(make_user(roles=["hr"], locale="en"))
    assert client.get("/gaps/").status_code == 200 and "Gap overview" in menu_of(client)
    switch_off(app, monkeypatch, Module.GAPS, Module.COMPLIANCE)
    assert client.get("/gaps/").status_code == 404
    assert client.get("/compliance/report").status_code == 404
    assert client.get("/compliance/report.csv").status_code == 404
    menu = menu_of(client)
    assert "Gap overview" not in menu and "Compliance report" not in menu
    assert "HR overview" in menu and client.get("/hr/").status_code == 200  # the rest stays


def test_pages_linking_to_a_module_switched_off_still_render(
    app, client, make_user, make_department, sign_in, levels_preset, monkeypatch
):
    """The pages stay registered: a manager's team page links to profiles, whose module is off."""
    department = make_department()
    manager = make_user(roles=["manager"], heads=[department], locale="en")
    person = make_user(department=department)
    sign_in(manager)
    switch_off(app, monkeypatch, Module.SKILLS)
    assert person.family_name in main_of(client.get("/team/"))
    assert client.get(f"/people/{person.id}/profile").status_code == 404
    assert client.get("/matrix/").status_code == 404 and "Skill matrix" not in menu_of(client)
    assert client.get("/profile/").status_code == 200  # one's own competences are not the module's


def test_every_module_names_pages_that_exist(app):
    for module in Module:
        assert module.endpoints and set(module.endpoints) <= set(app.view_functions), module


def test_an_unknown_module_name_is_refused_at_start(monkeypatch):
    monkeypatch.setenv("LMS_MODULES_OFF", "gaps, matrix")
    with pytest.raises(ConfigError, match=r"unknown modules \(matrix\); known are skills, gaps"):
        load_config({"LMS_ENV": "testing"})
    monkeypatch.setenv("LMS_MODULES_OFF", "gaps, team")
    assert load_config({"LMS_ENV": "testing"})["MODULES_OFF"] == {Module.GAPS, Module.TEAM}


# --- settings recorded, changes audited ------------------------------------------------------------


def test_a_change_of_the_settings_is_recorded_and_audited_once(app, database, monkeypatch):
    first = record_settings_in_force()
    db.session.commit()
    assert first["manager_visibility"] == [None, "compliance-only"] and first["min_group_size"] == [None, 5]
    assert settings_changes() == 1
    assert record_settings_in_force() == {}  # unchanged: nothing written
    db.session.commit()
    assert settings_changes() == 1

    later = utcnow() + timedelta(days=3)
    monkeypatch.setitem(app.config, "MANAGER_VISIBILITY", ManagerVisibility.LEVELS)
    switch_off(app, monkeypatch, Module.GAPS)
    changes = record_settings_in_force(now=later)
    db.session.commit()
    assert changes == {
        "manager_visibility": ["compliance-only", "levels"],
        "modules_on": [
            ["skills", "gaps", "compliance", "team", "trainer_figures"],
            ["skills", "compliance", "team", "trainer_figures"],
        ],
    }
    assert settings_changes() == 2
    entry = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert entry.context["changes"]["manager_visibility"] == ["compliance-only", "levels"]
    assert db.session.get(RecordedSetting, "manager_visibility").value == "levels"
    assert db.session.get(RecordedSetting, "min_group_size").since < db.session.get(RecordedSetting, "modules_on").since


def test_the_command_records_the_settings(app, database):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["privacy", "settings", "record"])
    assert result.exit_code == 0 and "settings changed" in result.output
    result = runner.invoke(args=["privacy", "settings", "record"])
    assert result.exit_code == 0 and result.output.strip() == "settings unchanged"
    assert settings_changes() == 1


def test_the_scheduler_records_the_settings_at_its_start(app, database):
    from lms.core import tasks

    job = next(job for job in tasks.JOBS if job.id == "privacy.record_settings")
    assert job.run_at_start
    assert job.func(app)["min_group_size"] == [None, 5]
    assert job.func(app) == {}


# --- the privacy notice ------------------------------------------------------------------------------


def test_the_notice_is_readable_without_signing_in_and_linked_from_the_sign_in_page(client):
    sign_in_page = client.get("/auth/login").get_data(as_text=True)
    assert 'href="/privacy/notice"' in sign_in_page.split('class="site-footer"')[1]
    html = main_of(client.get("/privacy/notice", headers=EN))
    assert "Privacy notice" in html and "Art. 6(1)(c) and (e) GDPR" in html and "Art. 77 GDPR" in html
    assert "I have read it" not in html  # nobody to confirm it


MANAGER_SEES_LEVELS = "Your competence levels and their evidence (if you work in a department they head)."


def test_the_notice_changes_when_a_setting_changes(app, client, monkeypatch):
    html = main_of(client.get("/privacy/notice", headers=EN))
    assert "fewer than 5 people" in html and MANAGER_SEES_LEVELS not in html
    assert "Totals of competence gaps" in html
    monkeypatch.setitem(app.config, "MANAGER_VISIBILITY", ManagerVisibility.LEVELS)
    monkeypatch.setitem(app.config, "PRIVACY_MIN_GROUP_SIZE", 8)
    monkeypatch.setitem(app.config, "RETENTION_DAYS", {**app.config["RETENTION_DAYS"], "quiz_answers": 180})
    monkeypatch.setitem(app.config, "DPO_CONTACT", "Datenschutz, Rathausplatz 1, datenschutz@musterhausen.example")
    switch_off(app, monkeypatch, Module.GAPS)
    html = main_of(client.get("/privacy/notice", headers=EN))
    assert "fewer than 8 people" in html and ">180<" in html
    assert MANAGER_SEES_LEVELS in html
    assert "Totals of competence gaps" not in html
    assert "datenschutz@musterhausen.example" in html


def test_first_sign_in_shows_the_notice_until_it_is_read(app, client, make_user, sign_in, monkeypatch):
    monkeypatch.setitem(app.config, "PRIVACY_NOTICE_AT_SIGN_IN", True)
    person = make_user(locale="en")
    response = sign_in(person)
    assert response.headers["Location"] == "/privacy/notice/after-sign-in?next=/"
    page = client.get("/privacy/notice/after-sign-in?next=/")
    assert "I have read it" in main_of(page)
    assert client.post("/privacy/notice/read", data={"next": "/"}).status_code == 400  # no CSRF token
    read = client.post("/privacy/notice/read", data={"csrf_token": csrf_token(page), "next": "/catalog/"})
    assert read.status_code == 302 and read.headers["Location"] == "/catalog/"
    db.session.refresh(person)
    assert person.privacy_notice_read and person.privacy_notice_read_at is not None
    # Read: sign-in passes by without stopping, and the notice shows no button any more.
    assert client.get("/privacy/notice/after-sign-in?next=/learning/").headers["Location"] == "/learning/"
    assert "I have read it" not in main_of(client.get("/privacy/notice"))
    # Never to another site.
    assert client.get("/privacy/notice/after-sign-in?next=//evil.example/").headers["Location"] == "/"
    # A change of the settings it describes: shown again.
    monkeypatch.setitem(app.config, "PRIVACY_MIN_GROUP_SIZE", 9)
    assert "I have read it" in main_of(client.get("/privacy/notice/after-sign-in?next=/"))


def test_the_footer_follows_the_preset_and_links_the_notice(app, client, make_user, sign_in, monkeypatch):
    sign_in(make_user(locale="en"))
    footer = client.get("/learning/").get_data(as_text=True).split('class="site-footer"')[1]
    assert "only whether you completed your mandatory trainings" in footer and 'href="/privacy/notice"' in footer
    assert "staff council" not in footer  # no claim about an agreement the software cannot know
    monkeypatch.setitem(app.config, "MANAGER_VISIBILITY", ManagerVisibility.LEVELS)
    footer = client.get("/learning/").get_data(as_text=True).split('class="site-footer"')[1]
    assert "your competence levels and your mandatory trainings" in footer


# --- the settings page ------------------------------------------------------------------------------


def test_the_settings_page_shows_modules_the_date_in_force_and_the_changes(
    app, client, make_user, sign_in, monkeypatch
):
    sign_in(make_user(roles=["staff_council"], locale="en"))
    html = main_of(client.get("/privacy/settings"))
    assert "have not been recorded yet" in html and 'data-module="gaps"' in html
    record_settings_in_force()
    db.session.commit()
    monkeypatch.setitem(app.config, "PRIVACY_MIN_GROUP_SIZE", 7)
    html = main_of(client.get("/privacy/settings"))
    assert "in force since" in html and "not recorded yet: Minimum group size." in html
    record_settings_in_force()
    switch_off(app, monkeypatch, Module.TEAM)
    db.session.commit()
    html = main_of(client.get("/privacy/settings"))
    changes = html.split('id="settings-changes"')[1].split("</ul>")[0]
    assert "Minimum group size: 5 → 7" in changes
    team = html.split('data-module="team"')[1].split("</div>")[0]
    assert "switched off" in team


# --- the annex ------------------------------------------------------------------------------------


def annex_page(client) -> str:
    return main_of(client.get("/admin/annex"))


def annex_table(html: str, title: str) -> str:
    return html.split(f">{title}</h2>", 1)[1].split("</table>", 1)[0]


@pytest.mark.parametrize("role", ["admin", "dpo", "staff_council"])
def test_the_annex_page_is_read_by_admin_dpo_and_staff_council(client, make_user, sign_in, role):
    sign_in(make_user(roles=[role], locale="en"))
    assert "Retention schedule" in annex_page(client)


def test_employees_and_hr_cannot_read_the_annex_page(client, make_user, sign_in):
    sign_in(make_user(roles=["hr"]))
    assert client.get("/admin/annex").status_code == 403


def test_the_annex_changes_when_a_setting_changes(app, client, make_user, sign_in, monkeypatch):
    sign_in(make_user(roles=["dpo"], locale="en"))
    html = annex_page(client)
    assert "„compliance-only“" in html and "fewer than 5 people" in html
    levels = annex_table(html, "Whose competence levels each role sees")
    assert "only their own" in levels.split(">Manager<")[1].split("</tr>")[0]
    monkeypatch.setitem(app.config, "MANAGER_VISIBILITY", ManagerVisibility.LEVELS)
    monkeypatch.setitem(app.config, "PRIVACY_MIN_GROUP_SIZE", 8)
    monkeypatch.setitem(app.config, "RETENTION_DAYS", {**app.config["RETENTION_DAYS"], "assignments": 400})
    switch_off(app, monkeypatch, Module.GAPS)
    html = annex_page(client)
    assert "„levels“" in html and "fewer than 8 people" in html and ">400<" in html
    levels = annex_table(html, "Whose competence levels each role sees")
    assert "those of the people of the departments they head" in levels.split(">Manager<")[1].split("</tr>")[0]
    gaps_row = annex_table(html, "Which role opens which page").split(">/gaps/<")[1].split("</tr>")[0]
    assert "switched off" in gaps_row


def test_the_annex_names_who_opens_a_page_from_its_role_check(client, make_user, sign_in):
    sign_in(make_user(roles=["staff_council"], locale="en"))
    html = annex_page(client)
    row = html.split(">/privacy/settings<")[1].split("</tr>")[0]
    assert "Data protection officer" in row and "Staff council" in row and "HR" not in row


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"), newline="")))


def test_the_annex_lists_the_columns_the_exports_write(client, make_user, sign_in, digcomp):
    sign_in(make_user(roles=["hr", "dpo"], locale="en"))
    report_columns = next(row for row in csv_rows(client.get("/compliance/report.csv")) if row[:1] == ["Course"])
    matrix_columns = next(
        row for row in csv_rows(client.get("/matrix/export?format=csv")) if row[:1] == ["Personnel number"]
    )
    audit_columns = csv_rows(client.get("/privacy/audit.csv"))[0]
    html = annex_page(client)
    exported = {
        line.split("</td>", 1)[0].rsplit(">", 1)[-1]: line for line in html.split('<tr class="kern-table__row">')[1:]
    }
    assert ", ".join(report_columns) in exported["Compliance report (CSV, XLSX)"]
    assert ", ".join(audit_columns) in exported["Audit log (CSV)"]
    matrix = exported["Skill matrix (CSV, XLSX)"]
    assert ", ".join(matrix_columns[:5]) in matrix
    assert matrix_columns[5].replace("1.1", "&lt;competence&gt;") in matrix  # "1.1 current", per competence


def test_the_annex_names_the_interfaces_and_what_they_read(app, client, make_user, sign_in, monkeypatch):
    """The HR import's column allowlist and the directory's attributes, from the code that reads them."""
    sign_in(make_user(roles=["dpo"], locale="en"))
    html = annex_page(client)
    assert "personnel_number, given_name, family_name, email, department, job_role, entry_date, exit_date" in html
    assert "switched off (LMS_LDAP_URL is not set)" in html
    monkeypatch.setitem(app.config, "LDAP_URLS", ("ldap://verzeichnis.rathaus.example",))
    monkeypatch.setitem(app.config, "LDAP_MATCH_BY", "personnel_number")
    monkeypatch.setitem(app.config, "LDAP_PERSONNEL_NUMBER_ATTRIBUTE", "employeeID")
    assert "employeeID, membership of the groups mapped to roles" in annex_page(client)


def test_the_annex_command_writes_a_file(app, database, tmp_path):
    target = tmp_path / "anlage.md"
    result = app.test_cli_runner().invoke(args=["privacy", "annex", "--output", str(target)])
    assert result.exit_code == 0, result.output
    text = target.read_text(encoding="utf-8")
    assert text.startswith("# ") and text.count("\n## ") == 8 and "| LMS_RETENTION_SESSIONS_DAYS |" in text
    failed = app.test_cli_runner().invoke(args=["privacy", "annex", "--output", str(tmp_path / "missing" / "a.md")])
    assert failed.exit_code != 0 and "missing" in failed.output


# --- the menu -------------------------------------------------------------------------------------


def test_an_employees_menu_about_their_own_learning_has_no_headings(client, make_user, sign_in):
    sign_in(make_user(locale="en"))
    menu = menu_of(client)
    assert "main-nav__heading" not in menu and "My learning" in menu and "Sessions" in menu


def test_the_menu_groups_hrs_pages_by_purpose(client, make_user, sign_in):
    """HR reaches many pages: they come in labelled groups (learning, staff, change)."""
    sign_in(make_user(roles=["hr"], locale="en"))
    menu = menu_of(client)
    headings = re.findall(r'class="main-nav__heading" id="menu-(\w+)">([^<]+)<', menu)
    assert [key for key, _label in headings] == ["learning", "staff", "change"]
    staff = menu.split('id="menu-staff"')[1].split("</ul>")[0]
    assert "Skill matrix" in staff and "Gap overview" in staff and "Initiatives" not in staff
    assert "Progress report" in menu.split('id="menu-change"')[1]
