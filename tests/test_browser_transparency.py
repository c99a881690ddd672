"""Issue 13 in a real browser: an employee objects to a confirmed level; the DPO and the staff
council read the settings, the privacy notice and the annex; every page passes axe."""

import pytest
from sqlalchemy import select

from lms.extensions import db
from lms.frameworks.models import Competence
from lms.notifications.models import Notification
from lms.skills.models import Assessment
from tests.browser import assert_accessible
from tests.browser import sign_in as browser_sign_in
from tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.browser


def test_an_employee_objects_to_a_confirmed_level(page, make_user, make_department, digcomp):
    office = make_department(code="33.1")
    manager = make_user(roles=["manager"], heads=[office], family_name="Leitung")
    dpo = make_user(roles=["dpo"], family_name="Datenschutz")
    person = make_user(department=office, email="erika.widerspruch@musterhausen.example")
    competence = db.session.execute(select(Competence).where(Competence.code == "4.1")).scalar_one()
    confirmation = Assessment(
        user_id=person.id,
        competence_id=competence.id,
        level=4,
        evidence_type="work_sample",
        note="Schulung der Kolleginnen",
        assessed_by_id=manager.id,
    )
    db.session.add(confirmation)
    db.session.commit()

    browser_sign_in(page, person.email, DEFAULT_PASSWORD)
    page.goto("/profile/")
    section = page.locator(f"#confirmation-{confirmation.id}")
    assert "Schulung der Kolleginnen" in section.inner_text() and manager.family_name in section.inner_text()
    assert_accessible(page)
    objection = section.locator("form[action$='/objection'] textarea, form[action$='/objection'] input[type=text]")
    objection.fill("Die Arbeitsprobe war von einer Kollegin.")
    section.locator("form[action$='/objection'] button[type=submit]").click()
    page.wait_for_load_state()
    assert "Die Arbeitsprobe war von einer Kollegin." in page.locator(f"#confirmation-{confirmation.id}").inner_text()
    assert_accessible(page)
    db.session.expire_all()
    told = db.session.execute(select(Notification.user_id).where(Notification.kind == "objection")).scalars().all()
    assert dpo.id in told


@pytest.mark.parametrize("role", ["dpo", "staff_council"])
def test_the_settings_notice_and_annex_are_accessible(page, make_user, digcomp, role):
    reader = make_user(roles=[role])
    browser_sign_in(page, reader.email, DEFAULT_PASSWORD)
    for path, heading in (
        ("/privacy/settings", "Datenschutz-Einstellungen"),
        ("/privacy/notice", "Datenschutzhinweise"),
        ("/admin/annex", "Anlage"),
    ):
        page.goto(path)
        assert heading in page.get_by_role("heading", level=1).inner_text(), path
        assert_accessible(page)
