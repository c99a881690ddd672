"""The staff council's and the DPO's read-only page of the data-protection settings in force."""

from __future__ import annotations

import pytest

from lms.common.vocabulary import AuditAction, ManagerVisibility
from lms.privacy import services as privacy


@pytest.fixture
def council(make_user, sign_in):
    member = make_user(roles=["staff_council"], given_name="Paula", family_name="Rat")
    sign_in(member)
    return member


def page(client) -> str:
    response = client.get("/privacy/settings")
    assert response.status_code == 200
    return response.get_data(as_text=True).split("<main", 1)[1]


def test_the_page_changes_when_a_setting_changes(app, client, council, monkeypatch):
    html = page(client)
    assert "„compliance-only“" in html and "weniger als 5 Personen" in html
    monkeypatch.setitem(app.config, "MANAGER_VISIBILITY", ManagerVisibility.LEVELS)
    monkeypatch.setitem(app.config, "PRIVACY_MIN_GROUP_SIZE", 8)
    monkeypatch.setitem(app.config, "RETENTION_DAYS", {**app.config["RETENTION_DAYS"], "quiz_answers": 180})
    html = page(client)
    assert "„levels“" in html and "weniger als 8 Personen" in html and ">180<" in html


def test_it_names_role_holders_and_counts_looks_without_names(client, council, make_user):
    hr = make_user(roles=["hr"], given_name="Hanna", family_name="Personal")
    employee = make_user(given_name="Eva", family_name="Geheim")
    privacy.record(hr, [employee], AuditAction.VIEW_PROFILE)
    privacy.record(hr, [employee], AuditAction.EXPORT_MATRIX)
    from lms.extensions import db

    db.session.commit()
    html = page(client)
    assert "Hanna Personal" in html and "Paula Rat" in html
    assert "Eva Geheim" not in html  # whose data was looked at is not shown
    rows = html.split('id="accesses-caption"')[1]
    assert "Personalabteilung" in rows and ">1<" in rows


def test_others_may_not_read_it(client, make_user, sign_in):
    sign_in(make_user(roles=["hr"]))
    assert client.get("/privacy/settings").status_code == 403


def test_looks_older_than_twelve_months_are_not_counted(client, council, make_user):
    from datetime import timedelta

    from lms.common.dates import utcnow
    from lms.extensions import db
    from lms.privacy.settings import current_settings

    privacy.record(make_user(roles=["hr"]), [make_user()], AuditAction.VIEW_PROFILE)
    db.session.commit()
    assert list(current_settings().accesses.values()) == [{"hr": (1, 0)}]
    assert current_settings(now=utcnow() + timedelta(days=370)).accesses == {}


def test_reading_the_page_records_nothing(client, council):
    """Recording is the scheduler's and the command line's: a GET writes nothing."""
    from sqlalchemy import func, select

    from lms.extensions import db
    from lms.privacy.settings import RecordedSetting

    page(client)
    assert db.session.scalar(select(func.count()).select_from(RecordedSetting)) == 0


def test_it_lists_every_module_and_which_are_switched_off(app, client, council, monkeypatch):
    from lms.common.vocabulary import Module

    monkeypatch.setitem(app.config, "MODULES_OFF", frozenset({Module.TRAINER_FIGURES}))
    html = page(client)
    assert html.count("data-module=") == len(Module)
    state = {module: html.split(f'data-module="{module}"')[1].split("</dd>")[0].rsplit(">", 1)[1] for module in Module}
    assert state[Module.TRAINER_FIGURES] != state[Module.SKILLS] == state[Module.GAPS]


def test_the_page_loads_in_a_fixed_number_of_statements(app, client, council, make_user, count_queries, monkeypatch):
    from lms.extensions import db
    from lms.privacy.settings import record_settings_in_force

    record_settings_in_force()
    db.session.commit()
    with count_queries() as few:
        page(client)
    for size in (6, 7, 8):
        monkeypatch.setitem(app.config, "PRIVACY_MIN_GROUP_SIZE", size)
        record_settings_in_force()
        make_user(roles=["hr"])
    db.session.commit()
    with count_queries() as more:
        html = page(client)
    assert more.count == few.count
    assert html.split('id="settings-changes"')[1].count("<li>") == 4  # the first recording and three changes
