"""A self-assessment is the employee's own (issue 13): only the latest value is kept, others see
it only for the competences the employee shares (revocable), and the employee can delete it."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from lms.extensions import db
from lms.skills.matrix import MatrixFilter, build_matrix
from lms.skills.models import SelfAssessment
from lms.skills.profiles import profile_of
from tests.conftest import csrf_token
from tests.factories import competence


def own_estimate_cell(html: str, competence_id: int) -> str:
    row = html.split(f'id="competence-{competence_id}"')[1]
    return re.findall(r'kern-table__cell--numeric">\s*([^<\s]+)', row)[2]


def estimate(client, level: str, code: str = "4.1"):
    page = client.get("/profile/")
    return client.post(
        "/profile/self-assessment",
        data={"csrf_token": csrf_token(page), "competence_id": competence(code).id, "level": level},
    )


def share(client, shared: bool, code: str = "4.1"):
    page = client.get("/profile/")
    return client.post(
        "/profile/self-assessment/share",
        data={"csrf_token": csrf_token(page), "competence_id": competence(code).id, "shared": "1" if shared else "0"},
    )


def seen_by(viewer, person, code: str = "4.1") -> int | None:
    db.session.expire_all()
    profile = profile_of(person, viewer_id=viewer.id)
    return next(row.cell.self_level for _area, rows in profile.areas for row in rows if row.competence.code == code)


@pytest.fixture
def employee(town, client, sign_in):
    person = town["staff"][4]
    sign_in(person)
    return person


def test_only_the_latest_estimate_is_kept(client, employee):
    estimate(client, "3")
    estimate(client, "6")
    rows = db.session.execute(select(SelfAssessment).where(SelfAssessment.user_id == employee.id)).scalars().all()
    assert [(row.competence_id, row.level) for row in rows] == [(competence("4.1").id, 6)]


def test_the_manager_and_hr_see_an_estimate_only_while_it_is_shared(client, employee, town):
    manager, hr = town["manager"], town["hr"]
    estimate(client, "6")
    assert seen_by(employee, employee) == 6
    assert seen_by(manager, employee) is None and seen_by(hr, employee) is None
    share(client, True)
    assert seen_by(manager, employee) == 6 and seen_by(hr, employee) == 6
    share(client, False)
    assert seen_by(manager, employee) is None


def test_the_managers_pages_show_an_estimate_only_once_shared(levels_preset, client, employee, town, sign_in):
    shown = "Eigene Einschätzung (nicht bestätigt)"
    estimate(client, "7")

    def as_manager():
        client.post("/auth/logout", data={"csrf_token": csrf_token(client.get("/profile/"))})
        sign_in(town["manager"])
        profile = client.get(f"/people/{employee.id}/profile").get_data(as_text=True)
        evidence = client.get(f"/matrix/evidence/{employee.id}/{competence('4.1').id}").get_data(as_text=True)
        client.post("/auth/logout", data={"csrf_token": csrf_token(client.get("/profile/"))})
        sign_in(employee)
        return own_estimate_cell(profile, competence("4.1").id), shown in evidence

    assert as_manager() == ("–", False)
    assert build_matrix(town["manager"], MatrixFilter()).cells[employee.id][competence("4.1").id].self_level is None
    share(client, True)
    assert as_manager() == ("7", True)


def test_the_employee_deletes_an_estimate(client, employee):
    estimate(client, "5")
    page = client.get("/profile/")
    response = client.post(
        "/profile/self-assessment/delete", data={"csrf_token": csrf_token(page), "competence_id": competence("4.1").id}
    )
    assert response.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(SelfAssessment)) == 0
    assert own_estimate_cell(client.get("/profile/").get_data(as_text=True), competence("4.1").id) == "–"


def test_sharing_what_was_never_estimated_is_refused_with_a_message(client, employee):
    response = share(client, True, code="1.1")
    assert response.status_code == 303
    assert db.session.scalar(select(func.count()).select_from(SelfAssessment)) == 0


def test_voluntary_learning_is_private_but_levels_and_mandatory_evidence_are_not(town, make_course):
    """Others see a person's levels, and the evidence behind a target or a mandatory course."""
    from datetime import date

    from lms.assignments.models import Assignment
    from lms.learning.models import Completion

    person, manager = town["staff"][4], town["manager"]
    voluntary = make_course(title="Freiwillig: Tabellen", competences=(("5.1", 4),))
    mandatory = make_course(title="Pflicht: Datenschutz", competences=(("5.2", 2),))
    db.session.add_all(
        [
            Completion(user_id=person.id, course_id=voluntary.id, course_version=1, score_percent=90),
            Completion(user_id=person.id, course_id=mandatory.id, course_version=1, score_percent=90),
            Assignment(user_id=person.id, course_id=mandatory.id, due_on=date(2026, 12, 31), mandatory=True),
        ]
    )
    db.session.commit()

    def seen(viewer):
        db.session.expire_all()
        profile = profile_of(person, viewer_id=viewer.id)
        levels = {row.competence.code: row.cell.current for _area, rows in profile.areas for row in rows}
        return levels["5.1"], levels["5.2"], sorted(item.label for item in profile.history)

    assert seen(person) == (4, 2, ["Freiwillig: Tabellen", "Pflicht: Datenschutz"])
    assert seen(manager) == (4, 2, ["Pflicht: Datenschutz"])
