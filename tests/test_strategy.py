"""The strategy's targets (issue 14): all active people at or above a level, per competence and
optionally per department; protected figures, monthly snapshots, the pace, HR's page."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from lms.common.errors import ValidationFailed
from lms.extensions import db
from lms.gaps.services import current_month
from lms.people.services import town_today
from lms.skills.models import Assessment, SelfAssessment
from lms.strategy import services as strategy
from lms.strategy.models import StrategySnapshot, StrategyTarget
from tests.conftest import csrf_token
from tests.factories import competence

NEXT_YEAR = date.today().replace(month=12, day=31) + timedelta(days=366)


def assess(person, code: str, level: int) -> None:
    db.session.add(Assessment(user_id=person.id, competence_id=competence(code).id, level=level, note="beobachtet"))


def add_target(level=3, share=80, deadline=NEXT_YEAR, department=None, code="4.1") -> StrategyTarget:
    target = StrategyTarget(
        competence_id=competence(code).id,
        level=level,
        share_percent=share,
        deadline=deadline,
        department_id=department.id if department else None,
    )
    db.session.add(target)
    db.session.commit()
    return target


@pytest.fixture
def exact(app, monkeypatch):
    """Exact shares from five people on, so that small test groups show numbers."""
    monkeypatch.setitem(app.config, "PRIVACY_EXACT_SHARE_FROM", 5)


@pytest.fixture
def town(digcomp, make_department, make_user):
    """FB3 with 33.1 below it (seven people), FB2 (three people), one who left, and HR."""
    fb3 = make_department(code="FB3", name="Bürgerdienste")
    office = make_department(code="33.1", name="Bürgerbüro", parent=fb3)
    fb2 = make_department(code="FB2", name="Finanzen")
    office_staff = [make_user(department=office) for _ in range(5)]
    fb3_staff = [make_user(department=fb3) for _ in range(2)]
    fb2_staff = [make_user(department=fb2) for _ in range(3)]
    left = make_user(department=office, active=False)
    # Verified levels in 4.1: 33.1: 3, 4, 2, –, 5 (self-assessed only); FB3: 3; FB2: 6, –, –.
    for person, level in zip(office_staff[:3] + fb3_staff[:1] + fb2_staff[:1], [3, 4, 2, 3, 6], strict=True):
        assess(person, "4.1", level)
    db.session.add(SelfAssessment(user_id=office_staff[4].id, competence_id=competence("4.1").id, level=5, shared=True))
    assess(left, "4.1", 5)
    db.session.commit()
    hr = make_user(roles=["hr"], locale="en", department=None)
    return {"fb3": fb3, "office": office, "fb2": fb2, "hr": hr}


# --- validation --------------------------------------------------------------------------------


def form_data(page, **fields):
    data = {
        "csrf_token": csrf_token(page),
        "competence_id": str(competence("4.1").id),
        "level": "3",
        "share_percent": "80",
        "deadline": NEXT_YEAR.isoformat(),
        "department_id": "",
    }
    return data | fields


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("level", "9", "Please choose a level from 1 to 8."),
        ("level", "0", "Please choose a level from 1 to 8."),
        ("share_percent", "0", "Please enter a share from 1 to 100 percent"),
        ("share_percent", "101", "Please enter a share from 1 to 100 percent"),
        ("share_percent", "80,5", "Please enter a share from 1 to 100 percent"),
        ("deadline", (date.today() - timedelta(days=1)).isoformat(), "The deadline must lie in the future."),
        ("deadline", "31.02.2030", "Please enter the deadline as a date"),
        ("competence_id", "987654", "Please choose a competence of the framework."),
        ("department_id", "987654", "Please choose a department from the list"),
    ],
)
def test_a_target_that_breaks_a_rule_is_refused_next_to_the_field(client, sign_in, town, field, value, message):
    sign_in(town["hr"])
    response = client.post("/strategy/", data=form_data(client.get("/strategy/"), **{field: value}))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'id="{field}-error"' in html and message in html
    assert f'aria-describedby="{field}-hint {field}-error"' in html or f'aria-describedby="{field}-error"' in html
    assert db.session.scalar(select(func.count()).select_from(StrategyTarget)) == 0


def test_hr_adds_changes_and_deletes_a_target(client, sign_in, town):
    sign_in(town["hr"])
    response = client.post(
        "/strategy/", data=form_data(client.get("/strategy/"), deadline="31.12.2040", department_id=str(town["fb3"].id))
    )
    assert response.status_code == 302
    target = db.session.execute(select(StrategyTarget)).scalar_one()
    assert (target.level, target.share_percent, target.deadline, target.department_id) == (
        3,
        80,
        date(2040, 12, 31),
        town["fb3"].id,
    )
    html = client.get("/strategy/").get_data(as_text=True)
    assert "80 % at level 3 or above in 4.1" in html and "FB3 Bürgerdienste, with its sub-departments" in html

    strategy.take_snapshot("2025-01")
    db.session.commit()
    page = client.get(f"/strategy/{target.id}")
    assert 'value="2040-12-31"' in page.get_data(as_text=True)
    same = {"deadline": "2040-12-31", "department_id": str(town["fb3"].id)}
    client.post(f"/strategy/{target.id}", data=form_data(page, share_percent="90", **same))
    assert db.session.scalar(select(func.count()).select_from(StrategySnapshot)) == 1  # the trend stays
    response = client.post(f"/strategy/{target.id}", data=form_data(page, level="4", share_percent="90", **same))
    assert "its earlier monthly figures were removed" in client.get(response.headers["Location"]).get_data(as_text=True)
    db.session.expire_all()
    assert (
        db.session.get(StrategyTarget, target.id).level,
        db.session.get(StrategyTarget, target.id).share_percent,
    ) == (
        4,
        90,
    )
    assert db.session.scalar(select(func.count()).select_from(StrategySnapshot)) == 0  # it counted level 3

    client.post(f"/strategy/{target.id}/delete", data={"csrf_token": csrf_token(page)})
    assert db.session.scalar(select(func.count()).select_from(StrategyTarget)) == 0


def test_a_past_deadline_may_stay_when_other_fields_change(database, town):
    target = add_target(deadline=date(2020, 12, 31))
    strategy.save_target(target, strategy.TargetInput(target.competence_id, 3, 90, "2020-12-31"))
    assert target.share_percent == 90
    with pytest.raises(ValidationFailed) as failed:
        strategy.save_target(target, strategy.TargetInput(target.competence_id, 3, 90, "2021-12-31"))
    assert set(failed.value.errors) == {"deadline"}


# --- today's figure ----------------------------------------------------------------------------


def test_the_figure_counts_all_active_people_at_or_above_the_level_by_verified_levels(database, town, exact):
    everyone, level_four = add_target(level=3), add_target(level=4)
    figures = strategy.current_figures([everyone, level_four])
    # 11 active (10 staff and HR); at 3 or above: 3, 4, 3, 6 — not the self-assessed 5, not the one who left.
    assert (figures[everyone.id].people, figures[everyone.id].at_level) == (11, 4)
    assert (figures[level_four.id].people, figures[level_four.id].at_level) == (11, 2)
    assert figures[everyone.id].percent == 36


def test_a_department_counts_its_sub_departments(database, town, exact):
    fb3 = add_target(level=3, department=town["fb3"])
    figure = strategy.current_figures([fb3])[fb3.id]
    assert (figure.people, figure.at_level, figure.percent) == (7, 3, 42)


def test_a_small_department_shows_nothing_and_a_subtraction_is_withheld(client, sign_in, town, exact):
    fb2 = add_target(level=3, department=town["fb2"])  # three people
    figures = strategy.current_figures([fb2])
    assert figures[fb2.id].view.state == "small" and figures[fb2.id].percent is None
    # The whole administration (11) and FB3 (7) together would give the other four by subtraction.
    everyone, fb3 = add_target(level=3), add_target(level=3, department=town["fb3"])
    figures = strategy.current_figures([everyone, fb3])
    assert [figures[t.id].view.state for t in (everyone, fb3)] == ["exact", "withheld"]

    sign_in(town["hr"])
    html = client.get("/strategy/").get_data(as_text=True)
    today = html.split(f'id="target-{fb2.id}-today"')[1].split("</dd>")[0]
    assert "fewer than 5 people" in today and "%" not in today
    assert 'data-state="withheld"' in html


def test_groups_under_the_exact_share_size_show_a_band(database, town):
    fb3 = add_target(level=3, department=town["fb3"])  # seven people: under 20
    figure = strategy.current_figures([fb3])[fb3.id]
    assert figure.view.state == "band" and figure.view.band == 1 and figure.percent is None


# --- snapshots ---------------------------------------------------------------------------------


def test_a_snapshot_is_stored_protected_and_idempotent_per_month(app, database, town, exact):
    everyone, fb2 = add_target(level=3), add_target(level=3, department=town["fb2"])
    assert strategy.take_snapshot("2025-03").rows == 2
    db.session.commit()
    stored = {
        row.target_id: (row.people, row.at_level) for row in db.session.execute(select(StrategySnapshot)).scalars()
    }
    assert stored == {everyone.id: (11, 4), fb2.id: (None, None)}  # the small group without counts

    assess(town["hr"], "4.1", 3)
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["strategy", "snapshot", "--month", "2025-03"])
    assert result.exit_code == 0, result.output
    rows = db.session.execute(select(StrategySnapshot).where(StrategySnapshot.target_id == everyone.id)).scalars().all()
    assert [(row.month, row.people, row.at_level) for row in rows] == [("2025-03", 11, 5)]  # replaced, not added

    result = app.test_cli_runner().invoke(args=["strategy", "snapshot", "--month", "2025-13"])
    assert result.exit_code != 0 and "YYYY-MM" in result.output
    future = f"{int(current_month()[:4]) + 1}-01"
    assert app.test_cli_runner().invoke(args=["strategy", "snapshot", "--month", future]).exit_code != 0


def test_the_scheduled_job_takes_the_month_once(app, database, town):
    from lms.strategy import tasks

    add_target()
    assert tasks.snapshot_catch_up(app).rows == 1
    assert tasks.snapshot_catch_up(app) is None  # the month has its figures
    assert db.session.scalar(select(StrategySnapshot.month)) == current_month()


def test_the_trend_withholds_a_month_whose_group_moved_by_a_few(database, town, exact):
    target = add_target()
    for month, people, at_level in [("2025-01", 40, 10), ("2025-02", 42, 12), ("2025-04", 46, 20)]:
        db.session.add(StrategySnapshot(month=month, target_id=target.id, people=people, at_level=at_level))
    db.session.commit()
    trend = strategy.trends([target])[target.id]
    assert trend.months == ["2025-01", "2025-02", "2025-03", "2025-04"]
    states = [figure.view.state if figure else None for figure in trend.figures]
    assert states == ["exact", "withheld", None, "exact"]


# --- the pace ------------------------------------------------------------------------------------


def test_the_pace_from_explicit_dates():
    deadline = date(2027, 12, 31)
    behind = strategy.pace([(date(2026, 1, 1), 0.30), (date(2026, 7, 1), 0.35)], deadline, 80)
    assert behind.status == "behind" and behind.projected_percent == 50
    on_track = strategy.pace([(date(2026, 1, 1), 0.30), (date(2026, 7, 1), 0.60)], deadline, 80)
    assert on_track.status == "on_track" and on_track.projected_percent == 100  # never beyond everyone
    assert strategy.pace([(date(2026, 1, 1), 0.3), (date(2026, 1, 20), 0.5)], deadline, 80).status == "not_enough_data"
    assert strategy.pace([(date(2026, 7, 1), 0.9)], deadline, 80).status == "not_enough_data"
    assert strategy.pace([], deadline, 80).status == "not_enough_data"
    # The deadline has passed: where the share stands today decides.
    assert strategy.pace([(date(2026, 1, 1), 0.5), (date(2028, 3, 1), 0.8)], deadline, 80).status == "on_track"


def test_the_pace_of_a_target_uses_its_snapshots_and_todays_figure(client, sign_in, database, town, exact):
    target = add_target(level=3, share=80, deadline=date(2026, 12, 31))
    db.session.add(StrategySnapshot(month="2026-01", target_id=target.id, people=10, at_level=2))
    db.session.commit()
    trend = strategy.trends([target])[target.id]
    today = strategy.Figure(10, 4, 5, 5)
    assert strategy.pace_of(target, trend, today, date(2026, 1, 20)).status == "not_enough_data"
    pace = strategy.pace_of(target, trend, today, date(2026, 7, 1))
    assert pace.status == "behind" and pace.projected_percent == 60  # 20 % → 40 % in half a year
    assert strategy.pace_of(target, trend, strategy.Figure(10, 5, 5, 5), date(2026, 7, 1)).status == "on_track"
    banded = strategy.Figure(10, 5, 5, 20)  # a range is no ground for a straight line
    assert strategy.pace_of(target, trend, banded, date(2026, 7, 1)).status == "not_enough_data"


def test_the_page_says_the_pace_in_words(client, sign_in, town, exact):
    target = add_target(level=3, share=20, deadline=NEXT_YEAR)
    first = f"{town_today().year - 1}-01"
    db.session.add(StrategySnapshot(month=first, target_id=target.id, people=11, at_level=1))
    db.session.commit()
    sign_in(town["hr"])
    html = client.get("/strategy/").get_data(as_text=True)
    pace = html.split(f'id="target-{target.id}-pace"')[1].split("</dd>")[0]
    assert 'data-pace="on_track"' in html and "On track" in pace and "by the deadline" in pace
    assert f'data-month="{first}" data-state="exact"' in html and "9 % (1 of 11 people)" in html


# --- access and statements -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "roles, status", [(["hr"], 200), (["change"], 200), ([], 403), (["manager"], 403), (["admin"], 403)]
)
def test_only_hr_and_change_management_reach_the_strategy(client, sign_in, make_user, digcomp, roles, status):
    target = add_target()
    sign_in(make_user(roles=roles))
    assert client.get("/strategy/").status_code == status
    assert client.get(f"/strategy/{target.id}").status_code == status
    token = csrf_token(client.get("/profile/"))
    assert client.post(f"/strategy/{target.id}/delete", data={"csrf_token": token}).status_code in (status, 302)
    assert db.session.get(StrategyTarget, target.id) is not None or status == 200


def test_an_unknown_target_is_not_found(client, sign_in, town):
    sign_in(town["hr"])
    assert client.get("/strategy/987654").status_code == 404


def statements(client, count_queries) -> int:
    with count_queries() as counter:
        assert client.get("/strategy/").status_code == 200
    return counter.count


def test_the_page_takes_a_fixed_number_of_statements(client, sign_in, make_user, town, count_queries):
    add_target()
    strategy.take_snapshot("2025-01")
    db.session.commit()
    sign_in(town["hr"])
    statements(client, count_queries)
    before = statements(client, count_queries)
    for code in ("1.1", "2.1", "3.1"):
        add_target(code=code, department=town["fb3"])
    for _ in range(6):
        person = make_user(department=town["office"])
        assess(person, "2.1", 4)
    db.session.commit()
    strategy.take_snapshot("2025-02")
    db.session.commit()
    assert statements(client, count_queries) == before
