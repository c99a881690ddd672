"""The audit trail: what is recorded, as it was at the time, in structured fields, append-only and
chained so that a change made directly in the database is found."""

from __future__ import annotations

import threading
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from lms.common.dates import utcnow
from lms.common.vocabulary import AuditAction, AuditField, AuditReason
from lms.extensions import db
from lms.privacy import chain
from lms.privacy import services as privacy
from lms.privacy.models import AuditChain, AuditEntry, AuditEntryIsAppendOnly
from tests.conftest import csrf_token


def entries(action: str | None = None) -> list[AuditEntry]:
    query = select(AuditEntry).order_by(AuditEntry.id)
    if action:
        query = query.where(AuditEntry.action == action)
    return list(db.session.execute(query).scalars())


def sign_out(client) -> None:
    client.post("/auth/logout", data={"csrf_token": csrf_token(client.get("/auth/logout"))})


def post_form(client, page: str, url: str, data: dict):
    return client.post(url, data={"csrf_token": csrf_token(client.get(page)), **data})


# --- who and whom, as they were -------------------------------------------------------------


def test_an_entry_keeps_names_and_emails_as_they_were_at_the_time(client, sign_in, town):
    person = town["staff"][0]
    sign_in(town["hr"])
    assert client.get(f"/people/{person.id}/profile").status_code == 200
    old_name, old_email = person.name, person.email
    person.family_name, person.email = "Umbenannt", "umbenannt@musterhausen.example"
    db.session.commit()
    (entry,) = entries(AuditAction.VIEW_PROFILE)
    assert (entry.subject_name, entry.subject_email) == (old_name, old_email)
    assert (entry.actor_name, entry.actor_email) == (town["hr"].name, town["hr"].email)
    assert entry.ip_address == "127.0.0.1"


def test_request_text_is_stored_as_fields_and_shown_as_text(client, sign_in, town, make_user):
    forged = "x\n2026-01-01 Helga Hoffmann viewed the skill matrix\u202e"
    sign_in(town["manager"])
    assert client.get("/privacy/audit", query_string={"action": forged}).status_code == 403
    (entry,) = entries(AuditAction.DENIED)
    assert entry.context["query"] == {"action": forged}
    assert entry.context["reason"] == AuditReason.FORBIDDEN
    sign_out(client)
    sign_in(make_user(roles=["dpo"]))
    html = client.get("/privacy/audit").get_data(as_text=True)
    assert "\\u000a2026-01-01 Helga Hoffmann viewed the skill matrix\\u202e" in html
    assert "\u202e" not in html


# --- every refused attempt ------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/people/{other}/profile",
        "/matrix/evidence/{other}/1",
        "/matrix/",
        "/matrix/export?format=csv",
        "/targets/people/{other}",
        "/privacy/audit",
        "/privacy/audit.csv",
        "/admin/users/{other}",
    ],
)
def test_an_employees_refused_look_is_recorded(client, sign_in, town, path):
    employee, other = town["staff"][0], town["staff"][1]
    sign_in(employee)
    url = path.format(other=other.id)
    assert client.get(url).status_code == 403
    (entry,) = entries(AuditAction.DENIED)
    assert entry.actor_id == employee.id and entry.actor_email == employee.email
    assert entry.context["path"] == url.split("?")[0] and entry.context["method"] == "GET"
    if "{other}" in path:
        assert (entry.subject_id, entry.subject_email) == (other.id, other.email)


def test_a_refused_post_is_recorded_and_changes_nothing(client, sign_in, town):
    employee, other = town["staff"][0], town["staff"][1]
    sign_in(employee)
    response = post_form(client, "/profile/", f"/admin/users/{other.id}/password-reset", {})
    assert response.status_code == 403
    (entry,) = entries(AuditAction.DENIED)
    assert entry.context["method"] == "POST" and entry.subject_id == other.id
    assert not entries(AuditAction.RESET_PASSWORD)


def test_a_manager_refused_outside_their_departments_is_recorded_once(levels_preset, client, sign_in, town):
    outsider = town["others"][0]
    sign_in(town["manager"])
    assert client.get(f"/people/{outsider.id}/profile").status_code == 404
    assert client.get("/matrix/", query_string={"department": town["fb2"].id}).status_code == 403
    denied = entries(AuditAction.DENIED)
    assert [(e.subject_id, e.context["reason"]) for e in denied] == [
        (outsider.id, AuditReason.OUT_OF_SIGHT),
        (None, AuditReason.FORBIDDEN),
    ]
    assert denied[1].context["query"] == {"department": str(town["fb2"].id)}


def test_a_refusal_of_an_anonymous_visitor_is_a_redirect_not_an_entry(client, town):
    assert client.get("/privacy/audit").status_code == 302
    assert entries() == []


# --- what admins do -------------------------------------------------------------------------


def user_form_data(user, **changes) -> dict:
    data = {
        "given_name": user.given_name,
        "family_name": user.family_name,
        "email": user.email,
        "personnel_number": user.personnel_number or "",
        "department_id": user.department_id or "",
        "job_role_id": user.job_role_id or "",
        "locale": user.locale or "",
        "roles": sorted(user.roles),
    }
    return {**data, **changes}


def test_admin_changes_to_a_person_are_recorded_with_before_and_after(client, sign_in, make_user, town):
    admin = make_user(roles=["admin"])
    person = town["staff"][0]
    old_name = person.family_name
    sign_in(admin)
    page = f"/admin/users/{person.id}"
    data = user_form_data(person, family_name="Neuname", roles=["employee", "trainer"])
    assert post_form(client, page, page, data).status_code == 302
    (edit,) = entries(AuditAction.EDIT_PERSON)
    assert edit.context["changes"] == {"family_name": [old_name, "Neuname"]}
    assert (edit.actor_id, edit.subject_id) == (admin.id, person.id)
    (grant,) = entries(AuditAction.GRANT_ROLE)
    assert grant.context == {"role": "trainer"} and grant.subject_id == person.id

    assert post_form(client, page, page, user_form_data(person, roles=["employee"])).status_code == 302
    assert [e.context["role"] for e in entries(AuditAction.REVOKE_ROLE)] == ["trainer"]

    assert post_form(client, page, f"{page}/password-reset", {}).status_code == 200
    assert post_form(client, page, f"{page}/active", {"active": "0"}).status_code == 302
    assert post_form(client, page, f"{page}/active", {"active": "1"}).status_code == 302
    actions = [e.action for e in entries() if e.subject_id == person.id]
    assert actions[-3:] == [AuditAction.RESET_PASSWORD, AuditAction.DEACTIVATE_PERSON, AuditAction.REACTIVATE_PERSON]


def test_creating_a_person_and_departments_and_job_roles_is_recorded(client, sign_in, make_user):
    admin = make_user(roles=["admin"])
    sign_in(admin)
    data = {"given_name": "Nora", "family_name": "Neu", "email": "nora.neu@musterhausen.example"}
    data |= {"personnel_number": "", "department_id": "", "job_role_id": "", "locale": "", "roles": ["employee", "hr"]}
    assert post_form(client, "/admin/users/new", "/admin/users/new", data).status_code == 200
    (created,) = entries(AuditAction.CREATE_PERSON)
    assert created.subject_email == "nora.neu@musterhausen.example"
    assert created.context["changes"]["email"] == [None, "nora.neu@musterhausen.example"]
    assert [e.context["role"] for e in entries(AuditAction.GRANT_ROLE)] == ["hr"]

    form = {"code": "FB9", "name": "Neue Abteilung", "parent_id": ""}
    assert post_form(client, "/admin/departments/new", "/admin/departments/new", form).status_code == 302
    (saved,) = entries(AuditAction.SAVE_DEPARTMENT)
    assert saved.context["department"] == "FB9" and saved.context["changes"]["name"] == [None, "Neue Abteilung"]
    job = {"code": "SB-NEU", "title": "Sachbearbeitung Neu"}
    assert post_form(client, "/admin/job-roles/new", "/admin/job-roles/new", job).status_code == 302
    assert entries(AuditAction.SAVE_JOB_ROLE)[0].context["job_role"] == "SB-NEU"


def test_a_role_granted_to_oneself_is_flagged_and_shown_to_the_dpo(client, sign_in, make_user):
    admin = make_user(roles=["admin"])
    sign_in(admin)
    page = f"/admin/users/{admin.id}"
    response = post_form(client, page, page, user_form_data(admin, roles=["employee", "admin", "dpo"]))
    assert response.status_code == 302
    assert "Das wird protokolliert und der oder dem Datenschutzbeauftragten angezeigt" in client.get(page).get_data(
        as_text=True
    )
    (grant,) = entries(AuditAction.GRANT_ROLE)
    assert grant.actor_id == grant.subject_id == admin.id
    sign_out(client)
    sign_in(make_user(roles=["dpo"]))
    html = client.get("/privacy/audit").get_data(as_text=True)
    alert = html.split('class="kern-alert kern-alert--warning"')[1].split("</div>\n</div>")[0]
    assert admin.email in alert
    filtered = client.get("/privacy/audit", query_string={"self_granted": "y"}).get_data(as_text=True)
    assert filtered.count('class="kern-table__row audit-self-grant"') == 1


# --- the DPO's view: filters, export, and their own traces ----------------------------------


@pytest.fixture
def logged_looks(town):
    """HR looked at two people yesterday, the manager at one today."""
    hr, manager = town["hr"], town["manager"]
    privacy.record(hr, town["staff"][:2], AuditAction.VIEW_PROFILE)
    db.session.commit()
    yesterday = utcnow() - timedelta(days=1)
    # Backdated through a fresh chain: entries are never edited, so the test writes them that way.
    db.session.connection().execute(sa.delete(AuditEntry))
    db.session.connection().execute(sa.update(AuditChain).values(last_id=0, last_hash=chain.GENESIS_HASH))
    rows = [privacy._row(hr, person, AuditAction.VIEW_PROFILE, None, None, yesterday) for person in town["staff"][:2]]
    chain.append(rows)
    privacy.record(manager, [town["staff"][2]], AuditAction.VIEW_PROFILE, {AuditField.FILTER: {"q": "50%_"}})
    db.session.commit()
    return town


def audit_rows(client, **query) -> list[str]:
    html = client.get("/privacy/audit", query_string=query).get_data(as_text=True)
    return html.split("<tbody")[1].split("</tbody>")[0].split("<tr")[1:] if "<tbody" in html else []


def test_the_dpo_filters_by_actor_subject_action_and_time(client, sign_in, make_user, logged_looks):
    town = logged_looks
    sign_in(make_user(roles=["dpo"]))
    assert len(audit_rows(client, actor=town["hr"].email)) == 2
    assert len(audit_rows(client, actor="LEITUNG")) == 1  # part of the name, any case
    assert len(audit_rows(client, subject=town["staff"][0].family_name)) == 1
    assert len(audit_rows(client, action="view_profile")) == 3
    assert len(audit_rows(client, action="denied")) == 0
    today = utcnow().astimezone(ZoneInfo("Europe/Berlin")).date()  # the town's days
    assert len(audit_rows(client, date_from=today.isoformat(), action="view_profile")) == 1
    yesterday = (today - timedelta(days=1)).isoformat()
    assert len(audit_rows(client, date_to=yesterday, action="view_profile")) == 2
    assert len(audit_rows(client, actor="%")) == 0  # a wildcard is matched as typed


def test_a_bad_date_is_reported_next_to_the_field(client, sign_in, make_user, logged_looks):
    sign_in(make_user(roles=["dpo"]))
    html = client.get("/privacy/audit", query_string={"date_from": "2026-02-30"}).get_data(as_text=True)
    assert 'id="date_from-error"' in html


def test_the_export_follows_the_filter_and_both_are_recorded(client, sign_in, make_user, logged_looks):
    town = logged_looks
    dpo = make_user(roles=["dpo"])
    sign_in(dpo)
    response = client.get("/privacy/audit.csv", query_string={"actor": town["manager"].email})
    lines = response.get_data(as_text=True).strip().splitlines()
    assert len(lines) == 2 and town["manager"].email in lines[1]
    client.get("/privacy/audit", query_string={"action": "view_profile"})
    exported, viewed = entries(AuditAction.EXPORT_AUDIT), entries(AuditAction.VIEW_AUDIT)
    assert exported[0].context["filter"] == {"actor": town["manager"].email}
    assert viewed[0].context["filter"] == {"action": "view_profile"} and viewed[0].actor_id == dpo.id


def test_the_person_sees_what_others_did_with_their_data(client, sign_in, town):
    person = town["staff"][0]
    privacy.record(town["hr"], [person], AuditAction.VIEW_PROFILE)
    privacy.record_event(person, AuditAction.VIEW_AUDIT)  # their own doing: not listed
    db.session.commit()
    sign_in(person)
    rows = client.get("/profile/access-log").get_data(as_text=True).split("<tbody")[1].split("<tr")[1:]
    assert len(rows) == 1 and town["hr"].name in rows[0]


# --- append-only and tamper-evident ---------------------------------------------------------


def test_no_web_route_can_change_the_log(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("privacy."):
            assert rule.methods <= {"GET", "HEAD", "OPTIONS"}, rule


def test_code_cannot_change_or_delete_an_entry(database, town):
    privacy.record(town["hr"], [town["staff"][0]], AuditAction.VIEW_PROFILE)
    db.session.commit()
    (entry,) = entries()
    entry.subject_name = "Jemand anderes"
    with pytest.raises(AuditEntryIsAppendOnly):
        db.session.flush()
    db.session.rollback()
    db.session.delete(entries()[0])
    with pytest.raises(AuditEntryIsAppendOnly):
        db.session.flush()
    db.session.rollback()
    for statement in (sa.update(AuditEntry).values(action="x"), sa.delete(AuditEntry)):
        with pytest.raises(AuditEntryIsAppendOnly):
            db.session.execute(statement)
        db.session.rollback()
    assert chain.verify().intact


@pytest.fixture
def three_entries(town):
    privacy.record(town["hr"], town["staff"][:3], AuditAction.VIEW_PROFILE, {AuditField.FILTER: {"q": "ä"}})
    db.session.commit()
    assert chain.verify().intact and chain.verify().entries == 3


@pytest.mark.parametrize(
    "tampering, broken_at, problem",
    [
        ("UPDATE audit_entries SET subject_name = 'Niemand' WHERE id = 2", 2, "content does not match"),
        ("UPDATE audit_entries SET context = '{}' WHERE id = 1", 1, "content does not match"),
        ("DELETE FROM audit_entries WHERE id = 2", 3, "entries are missing"),
        ("DELETE FROM audit_entries WHERE id = 3", None, "head points to entry 3"),
        ("UPDATE audit_entries SET id = 9 WHERE id = 3", 9, "entries are missing"),
    ],
)
def test_verify_names_the_first_broken_entry(database, three_entries, tampering, broken_at, problem):
    db.session.connection().execute(sa.text(tampering))
    db.session.commit()
    verdict = chain.verify()
    assert not verdict.intact
    assert verdict.first_break.entry_id == broken_at and problem in verdict.first_break.problem


def test_an_entry_replaced_with_a_recomputed_hash_breaks_the_next_link(database, three_entries):
    entry = entries()[1]
    values = {column: getattr(entry, column) for column in chain.HASHED_COLUMNS} | {"subject_name": "Niemand"}
    forged = chain.entry_hash(values)
    db.session.connection().execute(
        sa.text("UPDATE audit_entries SET subject_name = 'Niemand', entry_hash = :h WHERE id = 2"), {"h": forged}
    )
    db.session.commit()
    verdict = chain.verify()
    assert verdict.first_break.entry_id == 3 and "link to the previous entry" in verdict.first_break.problem


def test_the_verify_command_reports_and_fails(app, database, three_entries):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0 and "intact: 3 entries" in result.output
    db.session.connection().execute(sa.text("UPDATE audit_entries SET action = 'view_matrix' WHERE id = 2"))
    db.session.commit()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert "audit entry 2: its content does not match its hash" in result.output


def test_verify_on_a_database_without_the_trail_says_so(tmp_path):
    """A wrong DATABASE_URL (or one never migrated): a sentence and exit code 1, not a traceback."""
    from lms import create_app

    empty = create_app({"LMS_ENV": "testing", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/empty.db"})
    result = empty.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert "this database has no audit trail" in result.output and "Traceback" not in result.output


def test_parallel_writers_keep_one_chain(app, database, town):
    hr_id, staff_ids = town["hr"].id, [person.id for person in town["staff"]]
    errors: list[BaseException] = []

    def write(batch: int) -> None:
        try:
            with app.app_context():
                from lms.people.models import User

                hr, person = db.session.get(User, hr_id), db.session.get(User, staff_ids[batch % len(staff_ids)])
                for _ in range(5):
                    privacy.record(hr, [person], AuditAction.VIEW_PROFILE)
                    db.session.commit()
                db.session.remove()
        except BaseException as error:  # reported below, with the thread's own traceback
            errors.append(error)

    threads = [threading.Thread(target=write, args=(number,)) for number in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    verdict = chain.verify()
    assert verdict.intact and verdict.entries == 30


def test_the_documented_database_role_can_append_but_not_change(database, town):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("database roles are PostgreSQL's")
    role = f"lernpfad_audit_test_{utcnow().strftime('%H%M%S%f')}"
    with db.engine.connect() as owner:
        owner.execute(sa.text(f"CREATE ROLE {role}"))
        # As in docs/security.md: the app may add entries and move the head, nothing more.
        owner.execute(sa.text(f"GRANT SELECT, INSERT ON audit_entries TO {role}"))
        owner.execute(sa.text(f"GRANT SELECT, UPDATE ON audit_chain TO {role}"))
        owner.commit()
    try:
        hr, person = town["hr"], town["staff"][0]
        _ = (hr.name, hr.email, person.name, person.email)  # loaded before the role is narrowed
        db.session.connection().execute(sa.text(f"SET LOCAL ROLE {role}"))
        privacy.record(hr, [person], AuditAction.VIEW_PROFILE)
        db.session.flush()
        with pytest.raises(sa.exc.ProgrammingError, match="permission denied"):
            with db.session.begin_nested():
                db.session.connection().execute(sa.text("UPDATE audit_entries SET action = 'x'"))
        with pytest.raises(sa.exc.ProgrammingError, match="permission denied"):
            with db.session.begin_nested():
                db.session.connection().execute(sa.text("DELETE FROM audit_entries"))
    finally:
        db.session.rollback()
        with db.engine.connect() as cleanup:
            cleanup.execute(sa.text(f"DROP OWNED BY {role}"))
            cleanup.execute(sa.text(f"DROP ROLE {role}"))
            cleanup.commit()
