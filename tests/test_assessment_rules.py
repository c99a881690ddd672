"""Who may confirm a level, how a person id outside one's sight answers, and text that may be stored.

- Nobody confirms their own level; a confirmation needs the right to see the person's levels; every
  confirmation is audited with competence and level, every refused one as denied.
- A person whose data the viewer may not see answers exactly like an id nobody has (404), and the
  refused look is still logged.
- Notes refuse control characters and bidi overrides (one kernel helper).
"""

import re

import pytest
from sqlalchemy import func, select

from lms.common.text import has_control_characters
from lms.extensions import db
from lms.privacy.models import AuditEntry
from lms.skills.models import Assessment
from lms.targets.models import PersonalTarget
from tests.conftest import csrf_token
from tests.factories import competence

MISSING_ID = 2_000_000_000
CSRF_VALUE = re.compile(r'name="csrf_token" (?:type="hidden" )?value="[^"]+"')

# Confirming levels is a manager's task under the `levels` preset (tests that need another set it).
pytestmark = pytest.mark.usefixtures("levels_preset")


def assessments_of(person) -> list[Assessment]:
    return list(db.session.execute(select(Assessment).where(Assessment.user_id == person.id)).scalars())


def entries(action: str) -> list[AuditEntry]:
    return list(db.session.execute(select(AuditEntry).where(AuditEntry.action == action)).scalars())


def confirm(client, person_id: int, note: str = "Im Arbeitsalltag beobachtet", level: str = "2", page_url=None):
    token = csrf_token(client.get(page_url or "/profile/"))
    data = {"csrf_token": token, "competence_id": competence("4.2").id, "level": level, "note": note}
    return client.post(f"/people/{person_id}/assessments", data={**data, "evidence_type": "observed_at_work"})


def same_page(response) -> str:
    """The body without the per-request CSRF token (the only part that differs between any two pages)."""
    return CSRF_VALUE.sub('name="csrf_token" value=""', response.get_data(as_text=True))


@pytest.fixture
def manager_in_own_department(town, make_user):
    """A manager who heads FB3 and belongs to it: the case in which they could confirm themselves."""
    return make_user(roles=["manager"], heads=[town["fb3"]], department=town["fb3"], family_name="Selbst")


# --- 1. who may confirm ---------------------------------------------------------------------


@pytest.mark.parametrize("preset", ["levels", "compliance-only"])
def test_a_manager_cannot_confirm_their_own_level(
    client, sign_in, town, app, monkeypatch, manager_in_own_department, preset
):
    monkeypatch.setitem(app.config, "MANAGER_VISIBILITY", preset)
    manager = manager_in_own_department
    sign_in(manager)
    response = confirm(client, manager.id)
    assert response.status_code == 403
    assert "Niemand kann das eigene Niveau bestätigen" in response.get_data(as_text=True)
    assert assessments_of(manager) == []
    denied = entries("denied")
    assert [(d.actor_id, d.subject_id) for d in denied] == [(manager.id, manager.id)]
    assert entries("assess") == []


def test_the_service_refuses_self_confirmation_whoever_calls_it(town, manager_in_own_department):
    from lms.skills import services

    manager = manager_in_own_department
    with pytest.raises(services.AssessmentRefused):
        services.record_assessment(manager, manager, competence("4.2").id, 2, "other", "selbst")
    assert services.assessment_refusal(town["manager"], town["staff"][0]) is None
    with pytest.raises(services.AssessmentRefused):  # outside the manager's departments
        services.record_assessment(town["manager"], town["others"][0], competence("4.2").id, 2, "other", "x")


def test_no_confirmation_under_compliance_only_and_the_attempt_is_logged(client, sign_in, town, app, monkeypatch):
    monkeypatch.setitem(app.config, "MANAGER_VISIBILITY", "compliance-only")
    person = town["staff"][4]
    sign_in(town["manager"])
    assert confirm(client, person.id).status_code == 403
    assert assessments_of(person) == []
    assert [d.subject_id for d in entries("denied")] == [person.id]


def test_own_profile_page_offers_no_confirmation_form(client, sign_in, manager_in_own_department):
    manager = manager_in_own_department
    sign_in(manager)
    html = client.get(f"/people/{manager.id}/profile").get_data(as_text=True)
    assert 'id="assess-heading"' not in html


def test_every_confirmation_is_audited_with_competence_and_level(client, sign_in, town):
    person = town["staff"][4]
    sign_in(town["manager"])
    response = confirm(client, person.id, level="3", page_url=f"/people/{person.id}/profile")
    assert response.status_code == 302
    assert [a.level for a in assessments_of(person)] == [3]
    (entry,) = entries("assess")
    assert (entry.actor_id, entry.subject_id) == (town["manager"].id, person.id)
    assert entry.context == {"competence": "4.2", "level": 3, "evidence_type": "observed_at_work"}
    assert (entry.actor_email, entry.subject_email) == (town["manager"].email, person.email)


# --- 2. ids outside one's sight answer like missing ids -------------------------------------


@pytest.mark.parametrize(
    "method, path",
    [
        ("get", "/people/{id}/profile"),
        ("get", "/matrix/evidence/{id}/{competence}"),
        ("post", "/people/{id}/assessments"),
    ],
)
def test_a_person_outside_ones_departments_looks_like_a_missing_id(client, sign_in, town, method, path):
    outsider = town["others"][0]
    sign_in(town["manager"])
    token = csrf_token(client.get("/profile/"))

    def ask(person_id):
        url = path.format(id=person_id, competence=competence("4.1").id)
        if method == "get":
            return client.get(url)
        data = {"csrf_token": token, "competence_id": competence("4.2").id, "level": "2", "note": "x"}
        return client.post(url, data={**data, "evidence_type": "other"})

    existing, missing = ask(outsider.id), ask(MISSING_ID)
    assert existing.status_code == missing.status_code == 404
    assert same_page(existing) == same_page(missing)
    assert [(d.actor_id, d.subject_id) for d in entries("denied")] == [(town["manager"].id, outsider.id)]
    assert assessments_of(outsider) == []


@pytest.mark.parametrize("path", ["/people/{id}/profile", "/matrix/evidence/{id}/{competence}"])
def test_under_compliance_only_every_id_is_refused_alike(client, sign_in, town, app, monkeypatch, path):
    monkeypatch.setitem(app.config, "MANAGER_VISIBILITY", "compliance-only")
    sign_in(town["manager"])
    answers = [
        client.get(path.format(id=person_id, competence=competence("4.1").id))
        for person_id in (town["staff"][0].id, town["others"][0].id, MISSING_ID)
    ]
    assert {a.status_code for a in answers} == {403}
    assert len({same_page(a) for a in answers}) == 1
    assert len(entries("denied")) == 3


def test_targets_of_a_person_answer_non_hr_alike_and_hr_404_for_missing(client, sign_in, town, make_user):
    sign_in(town["manager"])
    inside, outside, missing = (
        client.get(f"/targets/people/{person_id}")
        for person_id in (town["staff"][0].id, town["others"][0].id, MISSING_ID)
    )
    assert inside.status_code == outside.status_code == missing.status_code == 403
    assert same_page(outside) == same_page(missing)


# --- 3. control characters in notes ---------------------------------------------------------

BAD_NOTES = ["Beobachtet\x00", "Beob\u202eachtet", "Beob\x1b[31machtet", "Beob\x85achtet", "Beob\u2066achtet"]


@pytest.mark.parametrize("note", BAD_NOTES)
def test_an_assessment_note_with_control_characters_is_refused(client, sign_in, town, note):
    person = town["staff"][4]
    sign_in(town["manager"])
    response = confirm(client, person.id, note=note, page_url=f"/people/{person.id}/profile")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="note-error"' in html and "Steuer" in html
    assert assessments_of(person) == []
    assert entries("assess") == []


def test_an_assessment_note_may_have_line_breaks(client, sign_in, town):
    person = town["staff"][4]
    sign_in(town["manager"])
    response = confirm(client, person.id, note="Zeile eins\r\nZeile zwei", page_url=f"/people/{person.id}/profile")
    assert response.status_code == 302
    assert assessments_of(person)[0].note.splitlines() == ["Zeile eins", "Zeile zwei"]


@pytest.mark.parametrize("note", BAD_NOTES)
def test_a_personal_target_note_with_control_characters_is_refused(client, sign_in, town, note):
    person = town["staff"][0]
    sign_in(town["hr"])
    url = f"/targets/people/{person.id}"
    token = csrf_token(client.get(url))
    response = client.post(
        url, data={"csrf_token": token, "competence_id": competence("4.1").id, "level": "5", "note": note}
    )
    html = response.get_data(as_text=True)
    assert 'id="note-error"' in html and "Steuer" in html
    assert db.session.scalar(select(func.count()).select_from(PersonalTarget)) == 0


def test_the_target_service_refuses_control_characters_too(town):
    from lms.common.errors import ValidationFailed
    from lms.targets import services as targets

    with pytest.raises(ValidationFailed) as failed:
        targets.set_personal_target(town["staff"][0], competence("4.1").id, 5, note="a\u202eb")
    assert set(failed.value.errors) == {"note"}


@pytest.mark.parametrize(
    "text, multiline, expected",
    [
        ("Müller-Lüdenscheidt", False, False),
        ("Zeile\nzwei\r\n", True, False),
        ("Zeile\nzwei", False, True),
        ("Tab\there", True, True),
        ("NUL\x00", True, True),
        ("DEL\x7f", True, True),
        ("C1\x9b", True, True),
        ("rtl\u202e", True, True),
        ("lre\u202a", True, True),
        ("isolate\u2069", True, True),
        ("Arabic العربية and emoji 👩‍💻", False, False),  # ZWJ is not a control character
        ("", False, False),
        (None, False, False),
    ],
)
def test_has_control_characters(text, multiline, expected):
    assert has_control_characters(text, multiline=multiline) is expected
