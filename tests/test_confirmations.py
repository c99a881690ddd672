"""Confirmed levels are evidence the employee controls (issue 13): a manager chooses the evidence
type from a list, may add a short note, can only raise a level and never their own; the level
counts for LMS_CONFIRMATION_VALID_MONTHS; the employee is told, sees who confirmed it and when,
can comment and object (the objection goes to HR and the DPO), and HR can withdraw it."""

from __future__ import annotations

import re
from datetime import date

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade
from sqlalchemy import func, select

from lms import create_app
from lms.assignments.services import town_today
from lms.common.dates import add_months
from lms.config import ConfigError, load_config
from lms.extensions import db
from lms.frameworks.loader import DEFAULT_FRAMEWORK_FILE, load_framework_file
from lms.notifications.models import Notification, OutboxMessage
from lms.privacy.models import AuditEntry
from lms.skills import confirmations, services
from lms.skills.models import Assessment
from lms.skills.profiles import cells_for
from tests.conftest import csrf_token
from tests.factories import DEFAULT_PASSWORD, competence
from tests.test_migrations import empty_database_url  # noqa: F401  (a fixture)

pytestmark = pytest.mark.usefixtures("levels_preset")  # managers see (and confirm) their people's levels


def confirm(client, person, level="2", evidence_type="observed_at_work", note="", code="4.2"):
    page = client.get(f"/people/{person.id}/profile")
    data = {"csrf_token": csrf_token(page), "competence_id": competence(code).id, "level": level, "note": note}
    if evidence_type is not None:
        data["evidence_type"] = evidence_type
    return client.post(f"/people/{person.id}/assessments", data=data)


def confirmations_of(person) -> list[Assessment]:
    return list(db.session.scalars(select(Assessment).where(Assessment.user_id == person.id).order_by(Assessment.id)))


def audited(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def confirmed(person, level=3, code="4.2", on: date | None = None, **fields) -> Assessment:
    """A level confirmed directly in the database (the HTTP path has its own tests)."""
    entry = Assessment(
        user_id=person.id,
        competence_id=competence(code).id,
        level=level,
        assessed_on=on or town_today(),
        **fields,
    )
    db.session.add(entry)
    db.session.commit()
    return entry


def english(*people) -> None:
    for person in people:
        person.locale = "en"
    db.session.commit()


def current(person, code: str) -> int:
    return cells_for([person], [competence(code)], viewer_id=None)[person.id][competence(code).id].current


@pytest.fixture
def client_of(app):
    """A second browser, signed in as `person` (the first keeps its own session)."""

    def signed_in(person):
        other = app.test_client()
        token = csrf_token(other.get("/auth/login"))
        data = {"csrf_token": token, "email": person.email, "password": DEFAULT_PASSWORD}
        assert other.post("/auth/login", data=data).status_code == 302
        return other

    return signed_in


@pytest.fixture
def answer(client, sign_in):
    """The employee's POST of an answer to one of their confirmations, with the page's CSRF token."""

    def post(entry_id: int, action: str, **data):
        token = csrf_token(client.get("/profile/"))
        return client.post(f"/profile/confirmations/{entry_id}/{action}", data={"csrf_token": token, **data})

    return post


# --- the manager's form -----------------------------------------------------------------------


@pytest.mark.parametrize("evidence_type", [None, "", "hearsay"])
def test_the_evidence_type_is_required_and_from_the_list(client, sign_in, town, evidence_type):
    person = town["staff"][4]
    sign_in(town["manager"])
    response = confirm(client, person, evidence_type=evidence_type)
    assert response.status_code == 422
    assert 'id="evidence_type-error"' in response.get_data(as_text=True)
    assert confirmations_of(person) == [] and audited("assess") == []


def test_the_note_is_optional_and_the_type_is_stored(client, sign_in, town):
    person = town["staff"][4]
    sign_in(town["manager"])
    assert confirm(client, person, evidence_type="certificate", note="").status_code == 302
    [entry] = confirmations_of(person)
    assert (entry.evidence_type, entry.note, entry.level, entry.assessed_on) == ("certificate", "", 2, town_today())
    assert entry.assessed_by_id == town["manager"].id
    [audit] = audited("assess")
    assert audit.context == {"competence": "4.2", "level": 2, "evidence_type": "certificate"}


def test_a_note_longer_than_500_characters_is_refused_next_to_the_field(client, sign_in, town):
    person = town["staff"][4]
    sign_in(town["manager"])
    response = confirm(client, person, note="x" * 501)
    assert response.status_code == 422 and 'id="note-error"' in response.get_data(as_text=True)
    assert confirmations_of(person) == []


@pytest.mark.parametrize("level, accepted", [("2", False), ("3", False), ("4", True)])
def test_a_confirmation_only_raises_the_verified_level(client, sign_in, town, level, accepted):
    person = town["staff"][0]  # 4.1 confirmed at level 3 by the fixture
    english(town["manager"])
    sign_in(town["manager"])
    response = confirm(client, person, level=level, code="4.1")
    if accepted:
        assert response.status_code == 302 and current(person, "4.1") == 4
        return
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    error = re.search(r'id="level-error".*?</p>', html, re.S).group(0)
    assert "Level 3 is already verified in this competence" in error and "only raise" in error
    assert len(confirmations_of(person)) == 1 and audited("assess") == []


def test_a_valid_completion_counts_for_the_raise_only_rule(client, sign_in, town, make_course):
    from lms.learning.models import Completion

    person = town["staff"][4]  # no evidence for 4.2
    course = make_course(competences=(("4.2", 3),))
    db.session.add(Completion(user_id=person.id, course_id=course.id, course_version=1, score_percent=100))
    db.session.commit()
    sign_in(town["manager"])
    assert confirm(client, person, level="3").status_code == 422
    assert confirm(client, person, level="4").status_code == 302


def test_nobody_confirms_their_own_level(town, make_user):
    manager = make_user(roles=["manager"], heads=[town["fb3"]], department=town["fb3"])
    with pytest.raises(services.AssessmentRefused):
        services.record_assessment(manager, manager, competence("4.2").id, 2, "certificate")
    assert confirmations_of(manager) == []


# --- expiry -----------------------------------------------------------------------------------


def test_a_confirmation_older_than_the_period_no_longer_counts(database, town, app, monkeypatch):
    person = town["others"][0]  # no evidence of its own
    today = town_today()
    confirmed(person, level=5, code="4.3", on=add_months(today, -36))  # expires today
    confirmed(person, level=4, code="4.4", on=add_months(today, -35))
    assert (current(person, "4.3"), current(person, "4.4")) == (0, 4)
    assert services.verified_level(person, competence("4.3").id) == 0
    monkeypatch.setitem(app.config, "CONFIRMATION_VALID_MONTHS", 48)  # the period applies to every confirmation
    assert current(person, "4.3") == 5
    monkeypatch.setitem(app.config, "CONFIRMATION_VALID_MONTHS", 12)
    assert current(person, "4.4") == 0


def test_an_expired_confirmation_does_not_stand_in_the_way_of_a_new_one(client, sign_in, town):
    person = town["staff"][4]
    confirmed(person, level=4, on=date(2020, 1, 15))
    sign_in(town["manager"])
    assert confirm(client, person, level="2").status_code == 302
    assert current(person, "4.2") == 2


def test_the_employee_sees_an_expired_confirmation_as_expired(client, sign_in, town):
    person = town["others"][1]
    confirmed(person, level=4, on=date(2020, 1, 15))
    english(person)
    sign_in(person)
    html = client.get("/profile/").get_data(as_text=True)
    section = html.split('id="confirmations"')[1].split("</section>")[0]
    assert "expired on Jan 15, 2023: no longer counted" in section


@pytest.mark.parametrize("months, refused", [("5", True), ("6", False), ("120", False), ("121", True)])
def test_the_period_is_checked_at_start(monkeypatch, months, refused):
    monkeypatch.setenv("LMS_CONFIRMATION_VALID_MONTHS", months)
    if refused:
        with pytest.raises(ConfigError, match="LMS_CONFIRMATION_VALID_MONTHS must be from 6 to 120 months"):
            load_config({"LMS_ENV": "testing"})
    else:
        assert load_config({"LMS_ENV": "testing"})["CONFIRMATION_VALID_MONTHS"] == int(months)


def test_the_default_period_is_36_months(monkeypatch):
    monkeypatch.delenv("LMS_CONFIRMATION_VALID_MONTHS", raising=False)
    assert load_config({"LMS_ENV": "testing"})["CONFIRMATION_VALID_MONTHS"] == 36


# --- the employee is told and answers ---------------------------------------------------------


def test_the_employee_is_told_in_the_app_and_by_mail(client, sign_in, town):
    person = town["staff"][4]
    sign_in(town["manager"])
    confirm(client, person, level="2")
    [entry] = confirmations_of(person)
    [notice] = db.session.scalars(select(Notification).where(Notification.user_id == person.id))
    assert (notice.kind, notice.link) == ("confirmed", "/profile/#confirmations")
    assert notice.params["person"] == town["manager"].name and notice.params["level"] == 2
    assert notice.params["competence"].startswith("4.2 ")
    assert notice.dedupe_key == f"assessment:{entry.id}:confirmed"
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.user_id == person.id))


def test_the_notification_reads_who_confirmed_which_level(client, sign_in, town, client_of):
    person = town["staff"][4]
    english(person)
    sign_in(town["manager"])
    confirm(client, person, level="2")
    html = client_of(person).get("/notifications/").get_data(as_text=True)
    assert f"Your manager {town['manager'].name} confirmed level 2 in the competence 4.2" in html


def test_the_employee_sees_what_who_and_when(client, sign_in, town):
    person = town["others"][2]
    confirmed(
        person,
        level=3,
        on=date(2026, 3, 2),
        evidence_type="work_sample",
        note="Serienbrief selbst erstellt",
        assessed_by_id=town["manager"].id,
    )
    english(person)
    sign_in(person)
    html = client.get("/profile/").get_data(as_text=True)
    section = html.split('id="confirmations"')[1].split("</section>")[0]
    assert "4.2" in section and "level 3" in section
    assert "Work sample: Serienbrief selbst erstellt" in section
    assert f"{town['manager'].name}, Mar 2, 2026" in section
    assert "counts until Mar 2, 2029" in section
    assert "09:" not in section and "12:00" not in section  # a day, no time of day


def test_the_employee_comments_and_the_manager_reads_it(client, sign_in, town, answer, client_of):
    person = town["staff"][4]
    entry = confirmed(person, assessed_by_id=town["manager"].id)
    sign_in(person)
    response = answer(entry.id, "comment", **{f"c{entry.id}-comment": "Gern auch Stufe 4 nach der Fortbildung"})
    assert response.status_code == 302
    db.session.refresh(entry)
    assert entry.comment == "Gern auch Stufe 4 nach der Fortbildung"
    answer(entry.id, "comment", **{f"c{entry.id}-comment": "Geändert"})  # editable
    db.session.refresh(entry)
    assert entry.comment == "Geändert"
    assert "Geändert" in client_of(town["manager"]).get(f"/people/{person.id}/profile").get_data(as_text=True)


def test_a_comment_longer_than_500_characters_is_refused_next_to_the_field(client, sign_in, town, answer):
    person = town["staff"][4]
    entry = confirmed(person)
    sign_in(person)
    response = answer(entry.id, "comment", **{f"c{entry.id}-comment": "x" * 501})
    assert response.status_code == 422
    assert f'id="c{entry.id}-comment-error"' in response.get_data(as_text=True)
    db.session.refresh(entry)
    assert entry.comment == ""


def test_an_objection_needs_a_reason(client, sign_in, town, answer):
    person = town["staff"][4]
    entry = confirmed(person)
    sign_in(person)
    response = answer(entry.id, "objection", **{f"o{entry.id}-reason": "  "})
    assert response.status_code == 422
    assert f'id="o{entry.id}-reason-error"' in response.get_data(as_text=True)
    db.session.refresh(entry)
    assert not entry.objected and audited("object_confirmation") == []


def test_an_objection_goes_to_hr_and_the_dpo_and_can_be_withdrawn(client, sign_in, town, make_user, answer, client_of):
    person = town["staff"][4]
    dpo = make_user(roles=["dpo"])
    both = make_user(roles=["hr", "dpo"])
    make_user(roles=["hr"], active=False)  # left: told nothing
    entry = confirmed(person, level=3, assessed_by_id=town["manager"].id)
    sign_in(person)
    response = answer(entry.id, "objection", **{f"o{entry.id}-reason": "Nie beobachtet"})
    assert response.status_code == 302
    db.session.refresh(entry)
    assert (entry.objected_on, entry.objection) == (town_today(), "Nie beobachtet")
    notices = {n.user_id: n for n in db.session.scalars(select(Notification).where(Notification.kind == "objection"))}
    assert set(notices) == {town["hr"].id, dpo.id, both.id}
    assert notices[town["hr"].id].link == notices[both.id].link == f"/people/{person.id}/profile#confirmations"
    assert notices[dpo.id].link.startswith("/privacy/audit?")
    assert notices[dpo.id].params["person"] == person.name
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0  # in the app only
    [audit] = audited("object_confirmation")
    assert (audit.actor_id, audit.subject_id) == (person.id, person.id)
    assert audit.context == {"confirmation": entry.id, "competence": "4.2", "level": 3}
    assert current(person, "4.2") == 3  # it counts until HR withdraws it

    assert "Nie beobachtet" in client_of(town["hr"]).get(f"/people/{person.id}/profile").get_data(as_text=True)

    assert answer(entry.id, "objection/withdraw").status_code == 302
    db.session.refresh(entry)
    assert not entry.objected and entry.objection == ""
    assert len(audited("withdraw_objection")) == 1


def test_hr_withdraws_a_confirmation_and_it_no_longer_counts(client, sign_in, town, client_of):
    person = town["staff"][4]
    entry = confirmed(person, level=3)
    english(person)
    sign_in(town["hr"])
    token = csrf_token(client.get(f"/people/{person.id}/profile"))
    url = f"/people/{person.id}/confirmations/{entry.id}/withdraw"
    assert client.post(url, data={"csrf_token": token}).status_code == 302
    db.session.refresh(entry)
    assert entry.withdrawn_on == town_today() and entry.withdrawn_by_id == town["hr"].id
    assert current(person, "4.2") == 0
    [audit] = audited("withdraw_confirmation")
    assert (audit.actor_id, audit.subject_id) == (town["hr"].id, person.id)
    section = (
        client_of(person).get("/profile/").get_data(as_text=True).split('id="confirmations"')[1].split("</section>")[0]
    )
    assert (
        f"withdrawn by {town['hr'].name}" in section
        and f'action="/profile/confirmations/{entry.id}/objection"' not in section
    )


def test_only_hr_withdraws(client, sign_in, town):
    person = town["staff"][4]
    entry = confirmed(person)
    sign_in(town["manager"])
    token = csrf_token(client.get(f"/people/{person.id}/profile"))
    assert (
        client.post(f"/people/{person.id}/confirmations/{entry.id}/withdraw", data={"csrf_token": token}).status_code
        == 403
    )
    db.session.refresh(entry)
    assert not entry.withdrawn


@pytest.mark.parametrize("action", ["comment", "objection", "objection/withdraw"])
def test_nobody_answers_someone_elses_confirmation(client, sign_in, town, answer, action):
    owner, other = town["staff"][4], town["staff"][5]
    entry = (
        confirmed(owner, objected_on=town_today(), objection="Nein")
        if action.endswith("withdraw")
        else confirmed(owner)
    )
    sign_in(other)
    data = {f"c{entry.id}-comment": "Fremd", f"o{entry.id}-reason": "Fremd"}
    assert answer(entry.id, action, **data).status_code == 404
    db.session.refresh(entry)
    assert (
        entry.comment == ""
        and entry.objection in ("", "Nein")
        and (entry.objected_on is None) == (entry.objection == "")
    )
    assert (
        db.session.scalar(select(func.count()).select_from(Notification).where(Notification.kind == "objection")) == 0
    )


@pytest.mark.parametrize("action", ["comment", "objection", "objection/withdraw"])
def test_answers_need_the_csrf_token(client, sign_in, town, action):
    person = town["staff"][4]
    entry = (
        confirmed(person, objected_on=town_today(), objection="Nein")
        if action.endswith("withdraw")
        else confirmed(person)
    )
    sign_in(person)
    data = {f"c{entry.id}-comment": "Ohne Token", f"o{entry.id}-reason": "Ohne Token"}
    assert client.post(f"/profile/confirmations/{entry.id}/{action}", data=data).status_code == 400
    db.session.refresh(entry)
    assert entry.comment == "" and entry.objection == ("Nein" if action.endswith("withdraw") else "")


def test_the_own_profile_takes_a_fixed_number_of_statements(client, sign_in, town, make_user, count_queries):
    person = town["others"][0]
    confirmed(person, level=2, code="4.2", assessed_by_id=town["manager"].id)
    sign_in(person)

    def statements() -> int:
        with count_queries() as counter:
            assert client.get("/profile/").status_code == 200
        return counter.count

    few = statements()
    other_manager = make_user(roles=["manager"])
    for code in ("1.1", "2.1", "3.1", "5.1"):
        confirmed(person, level=3, code=code, assessed_by_id=other_manager.id, comment="ok", objection="x")
    confirmed(person, level=1, code="1.2", withdrawn_on=town_today(), withdrawn_by_id=town["hr"].id)
    assert statements() == few


def test_the_service_lists_confirmations_newest_first_with_names(database, town):
    person = town["others"][0]
    older = confirmed(person, level=2, on=date(2026, 1, 5), assessed_by_id=town["manager"].id)
    newer = confirmed(person, level=3, code="4.3", on=date(2026, 2, 5))
    listed = confirmations.confirmations_of(person)
    assert [item.assessment.id for item in listed] == [newer.id, older.id]
    assert (listed[1].assessed_by, listed[0].assessed_by) == (town["manager"].name, None)
    assert listed[1].expires_on == date(2029, 1, 5)


# --- the migration keeps earlier confirmations ------------------------------------------------


def test_earlier_confirmations_get_the_type_other_and_their_day(empty_database_url):  # noqa: F811
    app = create_app({"LMS_ENV": "testing", "SQLALCHEMY_DATABASE_URI": empty_database_url})
    with app.app_context():
        upgrade(revision="0013")
        load_framework_file(DEFAULT_FRAMEWORK_FILE)  # its tables are as they were at 0013
        db.session.commit()
        competence_id = db.session.scalar(sa.text("SELECT id FROM competences WHERE code = '4.2'"))
        with db.engine.begin() as connection:
            connection.execute(
                sa.text(
                    "INSERT INTO users (id, email, given_name, family_name, active, must_change_password)"
                    " VALUES (1, 'emil@musterhausen.example', 'Emil', 'Engel', true, false)"
                )
            )
            connection.execute(
                sa.text(
                    "INSERT INTO assessments (id, user_id, competence_id, level, note, assessed_by_id, assessed_at)"
                    " VALUES (7, 1, :competence, 3, 'beobachtet', NULL, '2026-03-01 23:30:00.000000')"
                ),
                {"competence": competence_id},
            )
        upgrade(revision="0014")
        row = db.session.execute(
            sa.text("SELECT evidence_type, note, assessed_on, comment, objection, objected_on FROM assessments")
        ).one()
        assert tuple(row[:2]) == ("other", "beobachtet")
        assert str(row.assessed_on) == "2026-03-02"  # 23:30 UTC is the next day in the town
        assert (row.comment, row.objection, row.objected_on) == ("", "", None)
        db.session.remove()
        db.engine.dispose()


def test_the_comment_form_as_the_page_renders_it_is_accepted(client, sign_in, town):
    person = town["staff"][4]
    entry = confirmed(person)
    sign_in(person)
    html = client.get("/profile/").get_data(as_text=True)
    token = re.search(rf'name="c{entry.id}-csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    data = {f"c{entry.id}-csrf_token": token, f"c{entry.id}-comment": "Passt"}
    assert client.post(f"/profile/confirmations/{entry.id}/comment", data=data).status_code == 302
    db.session.refresh(entry)
    assert entry.comment == "Passt"
