"""Target profiles: the service rules, HR's pages, and `flask skills targets import`."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from lms.common.errors import ValidationFailed
from lms.common.vocabulary import Role
from lms.extensions import db
from lms.frameworks.models import Competence, CompetenceArea, Framework
from lms.people.models import JobRole, User
from lms.targets import importer as target_import
from lms.targets import services as targets
from lms.targets.models import JobRoleTarget, PersonalTarget
from lms.targets.services import Target, targets_for
from tests.browser import assert_accessible
from tests.conftest import csrf_token
from tests.factories import DEFAULT_PASSWORD

# --- helpers ----------------------------------------------------------------------------------


def competence(digcomp, code: str) -> Competence:
    return db.session.execute(
        select(Competence).where(Competence.framework_id == digcomp.id, Competence.code == code)
    ).scalar_one()


def role_targets(job_role) -> dict[str, tuple[int, int | None]]:
    db.session.expire_all()
    return {
        row.competence.code: (row.level, row.recert_months)
        for row in db.session.execute(select(JobRoleTarget).where(JobRoleTarget.job_role_id == job_role.id)).scalars()
    }


def own_targets(user) -> dict[str, tuple[int, int | None, str]]:
    db.session.expire_all()
    return {
        row.competence.code: (row.level, row.recert_months, row.note)
        for row in db.session.execute(select(PersonalTarget).where(PersonalTarget.user_id == user.id)).scalars()
    }


def all_target_rows() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(JobRoleTarget)) + db.session.scalar(
        select(func.count()).select_from(PersonalTarget)
    )


@pytest.fixture
def other_framework(database):
    """A second framework (the town's own) with one competence: targets must not use it."""
    framework = Framework(
        key="musterhausen", version="1", title_de="Eigener Rahmen", title_en="Own framework", content_hash="0" * 64
    )
    area = CompetenceArea(framework=framework, code="M", title_de="Eigenes", title_en="Own", position=0)
    own = Competence(
        framework=framework, area=area, code="1.1", title_de="Eigene Kompetenz", title_en="Own competence", position=0
    )
    db.session.add_all([framework, area, own])
    db.session.commit()
    return own


# --- the service ------------------------------------------------------------------------------


def test_a_profile_is_saved_at_once_and_level_zero_removes(digcomp, make_job_role):
    job_role = make_job_role(code="SB-BB")
    c11, c12, c41 = (competence(digcomp, code) for code in ("1.1", "1.2", "4.1"))
    changes = targets.save_job_role_profile(job_role, {c11.id: (3, 24), c12.id: ("5", ""), c41.id: (0, None)})
    db.session.commit()
    assert (changes.added, changes.changed, changes.removed, changes.unchanged) == (2, 0, 0, 1)
    assert role_targets(job_role) == {"1.1": (3, 24), "1.2": (5, None)}

    changes = targets.save_job_role_profile(job_role, {c11.id: ("4", "24"), c12.id: ("0", "12"), c41.id: ("", "")})
    db.session.commit()
    assert (changes.added, changes.changed, changes.removed, changes.unchanged) == (0, 1, 1, 1)
    assert role_targets(job_role) == {"1.1": (4, 24)}
    assert targets.job_role_targets(job_role)[c11.id].competence.code == "1.1"


def test_competences_left_out_keep_their_target(digcomp, make_job_role):
    job_role = make_job_role()
    c11, c12 = competence(digcomp, "1.1"), competence(digcomp, "1.2")
    targets.save_job_role_profile(job_role, {c11.id: (3, None), c12.id: (2, None)})
    targets.save_job_role_profile(job_role, {c11.id: (4, None)})
    db.session.commit()
    assert role_targets(job_role) == {"1.1": (4, None), "1.2": (2, None)}


@pytest.mark.parametrize("level", [9, -1, "abc", "2.5", "８", True])
def test_a_level_outside_the_framework_is_refused_and_nothing_is_written(digcomp, make_job_role, level):
    job_role = make_job_role()
    c11, c12 = competence(digcomp, "1.1"), competence(digcomp, "1.2")
    with pytest.raises(ValidationFailed) as failed:
        targets.save_job_role_profile(job_role, {c11.id: (3, None), c12.id: (level, None)})
    db.session.rollback()
    assert list(failed.value.errors) == [f"level_{c12.id}"]
    assert "8" in failed.value.errors[f"level_{c12.id}"]
    assert role_targets(job_role) == {}


@pytest.mark.parametrize("months", [0, -3, "x", "1.5", "241", 10**12])
def test_recert_months_must_be_a_positive_whole_number(digcomp, make_job_role, months):
    job_role = make_job_role()
    c11 = competence(digcomp, "1.1")
    with pytest.raises(ValidationFailed) as failed:
        targets.save_job_role_profile(job_role, {c11.id: (3, months)})
    assert list(failed.value.errors) == [f"recert_months_{c11.id}"]


@pytest.mark.parametrize("months, stored", [("", None), (None, None), ("12", 12), (" 36 ", 36), (240, 240)])
def test_recert_months_may_be_empty(digcomp, make_job_role, months, stored):
    job_role = make_job_role()
    targets.save_job_role_profile(job_role, {competence(digcomp, "1.1").id: (2, months)})
    db.session.commit()
    assert role_targets(job_role) == {"1.1": (2, stored)}


def test_every_wrong_field_is_named_at_once(digcomp, make_job_role):
    job_role = make_job_role()
    c11, c12 = competence(digcomp, "1.1"), competence(digcomp, "1.2")
    with pytest.raises(ValidationFailed) as failed:
        targets.save_job_role_profile(job_role, {c11.id: (12, None), c12.id: (2, "zwölf")})
    assert set(failed.value.errors) == {f"level_{c11.id}", f"recert_months_{c12.id}"}


def test_a_competence_of_another_framework_gets_no_target(digcomp, make_job_role, make_user, other_framework):
    job_role = make_job_role()
    with pytest.raises(ValidationFailed) as failed:
        targets.save_job_role_profile(job_role, {other_framework.id: (3, None)})
    assert list(failed.value.errors) == [f"level_{other_framework.id}"]
    with pytest.raises(ValidationFailed) as failed:
        targets.set_personal_target(make_user(), other_framework.id, 3)
    assert list(failed.value.errors) == ["competence_id"]
    assert all_target_rows() == 0


def test_unknown_competences_are_refused(digcomp, make_job_role, make_user):
    with pytest.raises(ValidationFailed) as failed:
        targets.save_job_role_profile(make_job_role(), {999999: (3, None)})
    assert list(failed.value.errors) == ["level_999999"]
    with pytest.raises(ValidationFailed) as failed:
        targets.set_personal_target(make_user(), "nonsense", 3)
    assert list(failed.value.errors) == ["competence_id"]


def test_a_retired_competence_gets_no_new_target_but_an_old_one_can_be_removed(digcomp, make_job_role, make_user):
    job_role, person = make_job_role(), make_user()
    c11 = competence(digcomp, "1.1")
    targets.save_job_role_profile(job_role, {c11.id: (3, None)})
    targets.set_personal_target(person, c11.id, 4)
    c11.retired = True
    db.session.commit()
    with pytest.raises(ValidationFailed):
        targets.save_job_role_profile(job_role, {c11.id: (4, None)})
    with pytest.raises(ValidationFailed):
        targets.set_personal_target(person, c11.id, 5)
    targets.save_job_role_profile(job_role, {c11.id: (0, None)})
    assert targets.remove_personal_target(person, c11.id) is True
    db.session.commit()
    assert role_targets(job_role) == {} and own_targets(person) == {}


def test_no_target_can_be_set_before_a_framework_is_loaded(database, make_job_role):
    with pytest.raises(ValidationFailed) as failed:
        targets.save_job_role_profile(make_job_role(), {1: (3, None)})
    assert list(failed.value.errors) == ["level_1"]


def test_personal_targets_are_added_changed_and_removed(digcomp, make_user):
    person, hr = make_user(), make_user(roles=["hr"])
    c41 = competence(digcomp, "4.1")
    assert targets.set_personal_target(person, c41.id, 5, 12, "  Im Jahresgespräch vereinbart ", set_by=hr) == "added"
    db.session.commit()
    row = db.session.get(PersonalTarget, (person.id, c41.id))
    assert (row.level, row.recert_months, row.note, row.set_by_id) == (5, 12, "Im Jahresgespräch vereinbart", hr.id)
    assert targets.set_personal_target(person, c41.id, "5", "12", "Im Jahresgespräch vereinbart", hr) == "unchanged"
    assert targets.set_personal_target(person, str(c41.id), "6", "", "Neu vereinbart", hr) == "changed"
    db.session.commit()
    assert own_targets(person) == {"4.1": (6, None, "Neu vereinbart")}
    assert targets.set_personal_target(person, c41.id, 0) == "removed"
    assert targets.set_personal_target(person, c41.id, 0) == "unchanged"
    db.session.commit()
    assert own_targets(person) == {}


@pytest.mark.parametrize(
    "level, months, note, field",
    [
        (9, None, "", "level"),
        ("x", None, "", "level"),
        (3, "0", "", "recert_months"),
        (3, None, "x" * 501, "note"),
        (None, None, "", None),
    ],
)
def test_personal_target_rules(digcomp, make_user, level, months, note, field):
    person = make_user()
    if field is None:  # no level: nothing to add
        assert targets.set_personal_target(person, competence(digcomp, "1.1").id, level, months, note) == "unchanged"
        return
    with pytest.raises(ValidationFailed) as failed:
        targets.set_personal_target(person, competence(digcomp, "1.1").id, level, months, note)
    assert list(failed.value.errors) == [field]
    assert own_targets(person) == {}


def test_job_role_and_individual_targets_combine(digcomp, make_job_role, make_user):
    job_role = make_job_role()
    person = make_user(job_role=job_role)
    c11, c41 = competence(digcomp, "1.1"), competence(digcomp, "4.1")
    targets.save_job_role_profile(job_role, {c11.id: (3, 24), c41.id: (4, None)})
    targets.set_personal_target(person, c11.id, 5, 12)
    db.session.commit()
    combined = targets_for([person])[person.id]
    assert combined[c11.id] == Target(5, 12, personal=True)
    assert combined[c41.id] == Target(4, None)


def test_job_roles_are_listed_with_their_number_of_targets(digcomp, make_job_role):
    empty, busy = make_job_role(title="A leer"), make_job_role(title="B voll")
    targets.save_job_role_profile(busy, {competence(digcomp, code).id: (2, None) for code in ("1.1", "2.1", "3.1")})
    db.session.commit()
    assert [(role.id, count) for role, count in targets.job_roles_with_target_counts()] == [(empty.id, 0), (busy.id, 3)]


# --- the pages --------------------------------------------------------------------------------

PAGES = ["/targets/", "/targets/job-roles/{job_role}", "/targets/people/{person}"]


@pytest.fixture
def page_ids(digcomp, make_job_role, make_user):
    job_role = make_job_role(code="SB-BB", title="Sachbearbeitung Bürgerbüro")
    person = make_user(job_role=job_role, given_name="Jana", family_name="Yılmaz", personnel_number="100777")
    return {"job_role": job_role.id, "person": person.id}


@pytest.fixture
def hr_client(client, make_user, sign_in):
    sign_in(make_user(roles=["hr"], email="hr@musterhausen.example", locale="en"))
    return client


def post_form(client, url, data):
    token = csrf_token(client.get(url))
    return client.post(url, data={"csrf_token": token, **data})


@pytest.mark.parametrize("url", PAGES)
def test_anonymous_users_are_sent_to_sign_in(client, page_ids, url):
    response = client.get(url.format(**page_ids))
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


@pytest.mark.parametrize("role", [role for role in Role if role != Role.HR])
def test_only_hr_may_see_and_change_targets(client, make_user, sign_in, page_ids, role):
    sign_in(make_user(roles=[role]))
    for url in PAGES:
        assert client.get(url.format(**page_ids)).status_code == 403, url
    token = csrf_token(client.get("/learning/"))
    for url in PAGES[1:]:
        assert client.post(url.format(**page_ids), data={"csrf_token": token}).status_code == 403, url
    assert all_target_rows() == 0


def test_hr_reaches_every_page_and_unknown_ids_are_not_found(hr_client, page_ids):
    for url in PAGES:
        assert hr_client.get(url.format(**page_ids)).status_code == 200, url
    assert hr_client.get("/targets/job-roles/999999").status_code == 404
    assert hr_client.get("/targets/people/999999").status_code == 404


def test_the_overview_lists_job_roles_with_their_number_of_targets_and_finds_people(hr_client, page_ids, digcomp):
    job_role_id = page_ids["job_role"]
    db.session.add(JobRoleTarget(job_role_id=job_role_id, competence_id=competence(digcomp, "1.1").id, level=2))
    db.session.commit()
    html = hr_client.get("/targets/").get_data(as_text=True)
    assert f'href="/targets/job-roles/{job_role_id}"' in html and 'data-targets="1"' in html
    assert "<caption" in html and 'scope="col"' in html
    html = hr_client.get("/targets/?q=100777").get_data(as_text=True)
    assert f'href="/targets/people/{page_ids["person"]}"' in html


def test_the_profile_form_has_a_labelled_level_and_months_field_per_competence(hr_client, page_ids, digcomp):
    html = hr_client.get(f"/targets/job-roles/{page_ids['job_role']}").get_data(as_text=True)
    active = db.session.scalars(
        select(Competence).where(Competence.framework_id == digcomp.id, Competence.retired.is_(False))
    ).all()
    assert len(active) == 21
    for item in active:
        for name in (f"level_{item.id}", f"recert_months_{item.id}"):
            assert f'<label class="kern-label kern-sr-only" for="{name}">' in html, name
            assert f'id="{name}"' in html
    assert html.count("<caption") == 5  # one table per competence area
    assert 'type="number"' in html and 'name="csrf_token"' in html
    assert "Foundation" in html and "Highly specialised" in html  # the level bands, in the user's language
    assert "<script" not in html and "style=" not in html


def test_saving_the_profile_writes_every_row_at_once(hr_client, page_ids, digcomp):
    job_role_id = page_ids["job_role"]
    c11, c41, c51 = competence(digcomp, "1.1"), competence(digcomp, "4.1"), competence(digcomp, "5.1")
    db.session.add(JobRoleTarget(job_role_id=job_role_id, competence_id=c51.id, level=2))
    db.session.commit()
    response = post_form(
        hr_client,
        f"/targets/job-roles/{job_role_id}",
        {
            f"level_{c11.id}": "3",
            f"recert_months_{c11.id}": "",
            f"level_{c41.id}": "4",
            f"recert_months_{c41.id}": "12",
            f"level_{c51.id}": "0",
            f"recert_months_{c51.id}": "",
        },
    )
    assert response.status_code == 302
    assert role_targets(db.session.get(JobRole, job_role_id)) == {"1.1": (3, None), "4.1": (4, 12)}
    assert "2 added, 0 changed, 1 removed" in hr_client.get(response.headers["Location"]).get_data(as_text=True)


@pytest.mark.parametrize("level", ["9", "abc"])
def test_an_invalid_level_is_shown_next_to_its_field_and_nothing_changes(hr_client, page_ids, digcomp, level):
    job_role_id = page_ids["job_role"]
    c11, c12 = competence(digcomp, "1.1"), competence(digcomp, "1.2")
    db.session.add(JobRoleTarget(job_role_id=job_role_id, competence_id=c11.id, level=2))
    db.session.commit()
    response = post_form(
        hr_client, f"/targets/job-roles/{job_role_id}", {f"level_{c11.id}": "5", f"level_{c12.id}": level}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'id="level_{c12.id}-error"' in html
    assert re.search(
        rf'<select[^>]*aria-describedby="level_{c12.id}-error"[^>]*aria-invalid="true"', html
    ) or re.search(rf'<select[^>]*aria-invalid="true"[^>]*aria-describedby="level_{c12.id}-error"', html)
    assert "Choose a level from 1 to 8" in html  # in the user's language (English here)
    assert 'id="error-summary"' in html and f'href="#level_{c12.id}"' in html
    assert re.search(rf'id="level_{c11.id}"[^>]*>(<option[^>]*>[^<]*</option>)*?<option selected value="5">', html)
    assert role_targets(db.session.get(JobRole, job_role_id)) == {"1.1": (2, None)}


def test_an_invalid_months_value_is_shown_next_to_its_field(hr_client, page_ids, digcomp):
    c11 = competence(digcomp, "1.1")
    response = post_form(
        hr_client,
        f"/targets/job-roles/{page_ids['job_role']}",
        {f"level_{c11.id}": "3", f"recert_months_{c11.id}": "0"},
    )
    html = response.get_data(as_text=True)
    assert f'id="recert_months_{c11.id}-error"' in html and 'value="0"' in html
    assert all_target_rows() == 0


def test_saving_without_the_csrf_token_is_refused(hr_client, page_ids, digcomp):
    response = hr_client.post(
        f"/targets/job-roles/{page_ids['job_role']}", data={f"level_{competence(digcomp, '1.1').id}": "3"}
    )
    assert response.status_code == 400
    assert all_target_rows() == 0


def test_the_profile_page_needs_a_fixed_number_of_queries(hr_client, page_ids, digcomp, count_queries):
    url = f"/targets/job-roles/{page_ids['job_role']}"
    hr_client.get(url)  # warm up: the session row, the user
    with count_queries() as without_targets:
        assert hr_client.get(url).status_code == 200
    for item in db.session.scalars(select(Competence).where(Competence.framework_id == digcomp.id)):
        db.session.add(
            JobRoleTarget(job_role_id=page_ids["job_role"], competence_id=item.id, level=3, recert_months=12)
        )
    db.session.commit()
    with count_queries() as with_targets:
        assert hr_client.get(url).status_code == 200
    assert with_targets.count == without_targets.count, with_targets.statements


def test_the_overview_needs_a_fixed_number_of_queries(hr_client, digcomp, make_job_role, count_queries):
    make_job_role()
    hr_client.get("/targets/")
    with count_queries() as few:
        hr_client.get("/targets/")
    for _ in range(5):
        role = make_job_role()
        db.session.add(JobRoleTarget(job_role_id=role.id, competence_id=competence(digcomp, "1.1").id, level=2))
    db.session.commit()
    with count_queries() as many:
        hr_client.get("/targets/")
    assert many.count == few.count


def test_the_person_page_needs_a_fixed_number_of_queries(hr_client, page_ids, digcomp, make_user, count_queries):
    url = f"/targets/people/{page_ids['person']}"
    codes = ["1.1", "1.2", "2.1", "3.1", "4.1", "5.1"]
    db.session.add(
        PersonalTarget(
            user_id=page_ids["person"],
            competence_id=competence(digcomp, "1.1").id,
            level=2,
            set_by_id=make_user(roles=["hr"]).id,
        )
    )
    db.session.commit()
    hr_client.get(url)
    with count_queries() as one:
        assert hr_client.get(url).status_code == 200
    for code in codes[1:]:
        db.session.add(
            PersonalTarget(
                user_id=page_ids["person"],
                competence_id=competence(digcomp, code).id,
                level=3,
                set_by_id=make_user(roles=["hr"]).id,
            )
        )
        db.session.add(
            JobRoleTarget(job_role_id=page_ids["job_role"], competence_id=competence(digcomp, code).id, level=2)
        )
    db.session.commit()
    with count_queries() as many:
        assert hr_client.get(url).status_code == 200
    assert many.count == one.count, many.statements


def test_hr_adds_changes_and_removes_an_individual_target(hr_client, page_ids, digcomp):
    person_id, url = page_ids["person"], f"/targets/people/{page_ids['person']}"
    c41 = competence(digcomp, "4.1")
    response = post_form(
        hr_client, url, {"competence_id": c41.id, "level": "5", "recert_months": "12", "note": "Jahresgespräch 2026"}
    )
    assert response.status_code == 302
    person = db.session.get(User, person_id)
    assert own_targets(person) == {"4.1": (5, 12, "Jahresgespräch 2026")}
    html = hr_client.get(url).get_data(as_text=True)
    assert 'id="individual-targets"' in html and "Jahresgespräch 2026" in html
    assert f'name="competence_id" value="{c41.id}"' in html and 'name="level" value="0"' in html  # Remove

    edit = hr_client.get(f"{url}?competence={c41.id}").get_data(as_text=True)
    assert re.search(r'<option selected value="5">', edit) and 'value="12"' in edit

    post_form(hr_client, url, {"competence_id": c41.id, "level": "6", "recert_months": "", "note": "mehr"})
    assert own_targets(person) == {"4.1": (6, None, "mehr")}

    token = csrf_token(hr_client.get(url))
    response = hr_client.post(url, data={"csrf_token": token, "competence_id": c41.id, "level": "0"})
    assert response.status_code == 302
    assert own_targets(person) == {}


def test_an_invalid_individual_target_is_shown_next_to_the_field(hr_client, page_ids, digcomp):
    url = f"/targets/people/{page_ids['person']}"
    response = post_form(
        hr_client, url, {"competence_id": competence(digcomp, "4.1").id, "level": "3", "recert_months": "-1"}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and 'id="recert_months-error"' in html
    assert 'aria-describedby="recert_months-hint recert_months-error"' in html
    response = post_form(hr_client, url, {"competence_id": "", "level": "3"})
    assert 'id="competence_id-error"' in response.get_data(as_text=True)
    assert all_target_rows() == 0


def test_the_person_page_shows_the_job_role_targets_read_only(hr_client, page_ids, digcomp):
    c11, c41 = competence(digcomp, "1.1"), competence(digcomp, "4.1")
    db.session.add_all(
        [
            JobRoleTarget(job_role_id=page_ids["job_role"], competence_id=c11.id, level=3, recert_months=24),
            JobRoleTarget(job_role_id=page_ids["job_role"], competence_id=c41.id, level=2),
            PersonalTarget(user_id=page_ids["person"], competence_id=c41.id, level=5, note=""),
        ]
    )
    db.session.commit()
    html = hr_client.get(f"/targets/people/{page_ids['person']}").get_data(as_text=True)
    inherited = html[html.index('id="inherited-targets"') :]
    inherited = inherited[: inherited.index("</table>")]
    assert "<input" not in inherited and "<select" not in inherited and "<form" not in inherited
    assert "1.1 " in inherited and "every 24 months" in inherited
    assert "5 – Advanced" in inherited  # 4.1: the individual target raises the job role's level


def test_hr_sees_people_of_any_department(hr_client, make_user, make_department, digcomp):
    stranger = make_user(department=make_department(code="FB9"), active=False)
    assert hr_client.get(f"/targets/people/{stranger.id}").status_code == 200


# --- the CSV import ---------------------------------------------------------------------------

HEADER = "type,code,competence,level,recert_months,note\n"


@pytest.fixture
def town(digcomp, make_job_role, make_user):
    job_role = make_job_role(code="SB-BB")
    person = make_user(personnel_number="100777", job_role=job_role)
    return {"job_role": job_role, "person": person}


def run_import(app, path, *options):
    return app.test_cli_runner().invoke(args=["skills", "targets", "import", str(path), *options])


def write(tmp_path, text: str, name="targets.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_a_dry_run_shows_the_changes_and_writes_nothing(app, tmp_path, town):
    path = write(tmp_path, HEADER + "job_role,SB-BB,1.1,3,24,\nperson,100777,4.1,5,,Jahresgespräch\n")
    result = run_import(app, path)
    assert result.exit_code == 0, result.output
    assert "+ job_role SB-BB 1.1: level 3, every 24 months" in result.stdout
    assert "+ person 100777 4.1: level 5" in result.stdout
    assert "2 to add, 0 to change, 0 to remove, 0 unchanged" in result.stdout
    assert all_target_rows() == 0


def test_apply_writes_and_a_second_run_changes_nothing(app, tmp_path, town):
    path = write(tmp_path, HEADER + "job_role,SB-BB,1.1,3,24,\nperson,100777,4.1,5,,Jahresgespräch\n")
    result = run_import(app, path, "--apply")
    assert result.exit_code == 0, result.output
    assert "2 added, 0 changed, 0 removed, 0 unchanged" in result.stdout
    assert role_targets(town["job_role"]) == {"1.1": (3, 24)}
    assert own_targets(town["person"]) == {"4.1": (5, None, "Jahresgespräch")}
    again = run_import(app, path)
    assert "0 to add, 0 to change, 0 to remove, 2 unchanged" in again.stdout


def test_changes_and_level_zero_removals(app, tmp_path, town):
    run_import(
        app,
        write(tmp_path, HEADER + "job_role,SB-BB,1.1,3,24,\njob_role,SB-BB,2.1,2,,\nperson,100777,4.1,5,,alt\n"),
        "--apply",
    )
    path = write(
        tmp_path,
        HEADER + "job_role,SB-BB,1.1,4,24,\njob_role,SB-BB,2.1,0,,\nperson,100777,4.1,5,,neu\njob_role,sb-bb,3.1,0,,\n",
        name="second.csv",
    )
    dry = run_import(app, path)
    assert "~ job_role SB-BB 1.1: level 3, every 24 months -> level 4, every 24 months" in dry.stdout
    assert "- job_role SB-BB 2.1: was level 2" in dry.stdout
    assert "~ person 100777 4.1: note changed" in dry.stdout
    assert "0 to add, 2 to change, 1 to remove, 1 unchanged" in dry.stdout
    result = run_import(app, path, "--apply")
    assert "0 added, 2 changed, 1 removed, 1 unchanged" in result.stdout
    assert role_targets(town["job_role"]) == {"1.1": (4, 24)}
    assert own_targets(town["person"]) == {"4.1": (5, None, "neu")}
    removed = run_import(app, write(tmp_path, HEADER + "person,100777,4.1,0,,\n", name="third.csv"), "--apply")
    assert "0 added, 0 changed, 1 removed, 0 unchanged" in removed.stdout
    assert own_targets(town["person"]) == {}


def test_a_semicolon_file_from_german_excel(app, tmp_path, town):
    text = (
        "type;code;competence;level;recert_months;note\r\n"
        "job_role;SB-BB;1.1;3;24;\r\n"
        'person;100777;4.1;5;;"Vereinbart; mit Frau Müller"\r\n'
    )
    path = write(tmp_path, "\ufeff" + text)
    result = run_import(app, path, "--apply")
    assert result.exit_code == 0, result.output
    assert role_targets(town["job_role"]) == {"1.1": (3, 24)}
    assert own_targets(town["person"]) == {"4.1": (5, None, "Vereinbart; mit Frau Müller")}


BAD_INPUT = {
    "unknown job role code": ("job_role,XX-99,1.1,3,,\n", 3, "unknown job role code 'XX-99'"),
    "unknown personnel number": ("person,999999,1.1,3,,\n", 3, "unknown personnel number '999999'"),
    "unknown competence": ("job_role,SB-BB,9.9,3,,\n", 3, "unknown competence '9.9'"),
    "level too high": ("job_role,SB-BB,1.1,9,,\n", 3, "level must be a whole number from 0 to 8"),
    "level negative": ("job_role,SB-BB,1.1,-1,,\n", 3, "level must be a whole number from 0 to 8"),
    "level not a number": (
        "job_role,SB-BB,1.1,drei,,\n",
        3,
        "level must be a whole number from 0 to 8 (0 removes the target), not 'drei'",
    ),
    "level missing": ("job_role,SB-BB,1.1,,,\n", 3, "level must be a whole number"),
    "recert_months zero": ("job_role,SB-BB,1.1,3,0,\n", 3, "recert_months must be empty or a whole number"),
    "recert_months text": (
        "job_role,SB-BB,1.1,3,ein Jahr,\n",
        3,
        "recert_months must be empty or a whole number of months from 1 to 240, not 'ein Jahr'",
    ),
    "unknown type": ("team,SB-BB,1.1,3,,\n", 3, "type must be 'job_role' or 'person'"),
    "too few fields": ("job_role,SB-BB,1.1\n", 3, "expected 6 fields, found 3"),
    "duplicate": ("job_role,SB-BB,2.1,4,,\n", 3, "duplicate row: line 2 already sets job_role SB-BB 2.1"),
}


@pytest.mark.parametrize("case", BAD_INPUT)
def test_bad_input_is_reported_at_its_line_and_nothing_is_imported(app, tmp_path, town, case):
    line_text, line, message = BAD_INPUT[case]
    path = write(tmp_path, HEADER + "job_role,SB-BB,2.1,3,,\n" + line_text + "person,100777,4.1,5,,\n")
    for options in ((), ("--apply",)):
        result = run_import(app, path, *options)
        assert result.exit_code == 1, result.output
        assert f"{path}:{line}: {message}" in result.stderr, result.stderr
        assert "Nothing was imported" in result.stderr
        assert "to add" not in result.stdout and "added" not in result.stdout
    assert all_target_rows() == 0


def test_every_error_of_the_file_is_reported(app, tmp_path, town):
    path = write(tmp_path, HEADER + "job_role,XX,1.1,3,,\n\nperson,100777,9.9,12,x,\n")
    result = run_import(app, path, "--apply")
    assert result.exit_code == 1
    assert f"{path}:2: unknown job role code 'XX'" in result.stderr
    for message in ("unknown competence '9.9'", "level must be", "recert_months must be"):
        assert f"{path}:4: {message}" in result.stderr
    assert "Nothing was imported: 4 errors." in result.stderr


@pytest.mark.parametrize(
    "header",
    [
        "typ,code,competence,level,recert_months,note\n",
        "type,code,competence,level\n",
        "type,code,competence,level,recert_months,note,extra\n",
        "\n",
    ],
)
def test_a_wrong_header_is_an_error_on_line_one(app, tmp_path, town, header):
    path = write(tmp_path, header + "job_role,SB-BB,1.1,3,,\n")
    result = run_import(app, path, "--apply")
    assert result.exit_code == 1
    assert f"{path}:1: " in result.stderr and "type,code,competence,level,recert_months,note" in result.stderr
    assert all_target_rows() == 0


def test_columns_may_come_in_any_order_and_in_capitals(app, tmp_path, town):
    path = write(tmp_path, "Level,Type,Code,Competence,Note,Recert_Months\n3,job_role,SB-BB,1.1,,12\n")
    assert run_import(app, path, "--apply").exit_code == 0
    assert role_targets(town["job_role"]) == {"1.1": (3, 12)}


def test_a_file_that_is_not_utf8_is_refused_at_the_first_bad_line(app, tmp_path, town):
    path = write(tmp_path, HEADER + "job_role,SB-BB,1.1,3,,\nperson,100777,4.1,5,,Gespräch\n", encoding="cp1252")
    result = run_import(app, path)
    assert result.exit_code == 1 and f"{path}:3: not UTF-8 text" in result.stderr


def test_a_missing_file_is_reported(app, tmp_path, database):
    result = run_import(app, tmp_path / "missing.csv")
    assert result.exit_code == 1 and f"{tmp_path / 'missing.csv'}:1: file not found" in result.stderr


def test_a_retired_competence_can_only_lose_its_target(app, tmp_path, town, digcomp):
    c11 = competence(digcomp, "1.1")
    db.session.add(JobRoleTarget(job_role_id=town["job_role"].id, competence_id=c11.id, level=3))
    c11.retired = True
    db.session.commit()
    refused = run_import(app, write(tmp_path, HEADER + "job_role,SB-BB,1.1,4,,\n"), "--apply")
    assert refused.exit_code == 1 and ":2: competence 1.1 is retired" in refused.stderr
    removed = run_import(app, write(tmp_path, HEADER + "job_role,SB-BB,1.1,0,,\n", name="b.csv"), "--apply")
    assert removed.exit_code == 0 and role_targets(town["job_role"]) == {}


def test_warnings_do_not_stop_the_import(app, tmp_path, town, make_user):
    make_user(personnel_number="200200", active=False)
    path = write(tmp_path, HEADER + "job_role,SB-BB,1.1,3,,a note\nperson,200200,1.1,2,,\n")
    result = run_import(app, path, "--apply")
    assert result.exit_code == 0, result.output
    assert f"{path}:2: warning: a note is kept only for person rows" in result.stderr
    assert f"{path}:3: warning: person with personnel number '200200' is deactivated" in result.stderr
    assert "2 added" in result.stdout


def test_the_import_has_help(app):
    runner = app.test_cli_runner()
    assert "Import targets from a CSV file" in runner.invoke(args=["skills", "targets", "--help"]).output
    text = runner.invoke(args=["skills", "targets", "import", "--help"]).output
    assert "--apply" in text and "type,code,competence,level,recert_months,note" in text


def test_parse_and_apply_as_functions(town, tmp_path):
    rows, problems = target_import.parse_targets_csv(write(tmp_path, HEADER + "job_role,SB-BB,1.1,3,12,\n"))
    assert not problems and [(r.line, r.kind, r.code, r.competence_code, r.level, r.recert_months) for r in rows] == [
        (2, "job_role", "SB-BB", "1.1", 3, 12)
    ]
    changes = target_import.apply_targets(rows)
    db.session.commit()
    assert [c.action for c in changes] == ["add"] and target_import.summary(changes, applied=True).startswith("1 added")
    assert role_targets(town["job_role"]) == {"1.1": (3, 12)}


# --- in a real browser ------------------------------------------------------------------------


@pytest.mark.browser
def test_the_target_pages_are_accessible(page, digcomp, make_job_role, make_user):
    job_role = make_job_role(code="SB-BB", title="Sachbearbeitung Bürgerbüro")
    person = make_user(job_role=job_role, personnel_number="100777")
    hr = make_user(roles=["hr"])
    c11 = competence(digcomp, "1.1")
    db.session.add_all(
        [
            JobRoleTarget(job_role_id=job_role.id, competence_id=c11.id, level=3, recert_months=24),
            PersonalTarget(user_id=person.id, competence_id=c11.id, level=5, note="Jahresgespräch"),
        ]
    )
    db.session.commit()
    page.goto("/auth/login")
    page.get_by_label("E-Mail-Adresse").fill(hr.email)
    page.get_by_label("Passwort").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    page.wait_for_url("**/hr/")
    for path in [
        "/targets/",
        "/targets/?q=100777",
        f"/targets/job-roles/{job_role.id}",
        f"/targets/people/{person.id}",
    ]:
        page.goto(path)
        assert_accessible(page)
    page.goto(f"/targets/job-roles/{job_role.id}")
    page.locator(f"#recert_months_{c11.id}").fill("0")
    page.locator("#target-profile button[type=submit]").click()
    assert page.locator(f"#recert_months_{c11.id}-error").is_visible()
    assert_accessible(page)
    page.goto(f"/targets/people/{person.id}")
    page.locator("#target-form button[type=submit]").click()
    assert page.locator("#competence_id-error").is_visible()
    assert_accessible(page)


def test_viewing_a_persons_individual_targets_is_logged(client, sign_in, make_user, digcomp):
    from sqlalchemy import select

    from lms.privacy.models import AuditEntry

    person = make_user()
    sign_in(make_user(roles=["hr"]))
    assert client.get(f"/targets/people/{person.id}").status_code == 200
    entry = db.session.execute(select(AuditEntry).where(AuditEntry.subject_id == person.id)).scalar_one()
    assert entry.action == "view_targets"
