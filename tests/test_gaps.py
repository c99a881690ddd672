"""The gap overview: group figures, privacy suppression, monthly snapshots, trend, CLI, scheduler, page."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import func, select

from lms.extensions import db
from lms.frameworks.models import Competence
from lms.frameworks.services import framework_outline
from lms.gaps import services as gaps
from lms.gaps.models import SkillSnapshot
from lms.skills.models import Assessment
from lms.skills.profiles import cells_for
from lms.targets.models import JobRoleTarget, PersonalTarget

BERLIN = ZoneInfo("Europe/Berlin")


def competence(code: str) -> Competence:
    return db.session.execute(select(Competence).where(Competence.code == code)).scalar_one()


def assess(person, code: str, level: int) -> None:
    db.session.add(Assessment(user_id=person.id, competence_id=competence(code).id, level=level, note="test"))


def figure_of(groups, scope: str, scope_id: int, code: str) -> gaps.Figure:
    group = next(g for g in groups if (g.scope, g.scope_id) == (scope, scope_id))
    return group.figures[competence(code).id]


def counts(figure: gaps.Figure) -> tuple[int, int]:
    return figure.people_with_target, figure.people_at_target


def snapshot_rows(month: str | None = None) -> int:
    query = select(func.count(SkillSnapshot.id))
    if month:
        query = query.where(SkillSnapshot.month == month)
    return db.session.scalar(query)


@pytest.fixture
def town(digcomp, make_department, make_job_role, make_user):
    """FB3 (with sub-department 33.1) and FB2; clerks need 4.1 ≥ 3 and 4.2 ≥ 2, IT staff 4.1 ≥ 5.

    33.1: six clerks, 4.1 levels 3 3 1 4 0 2 (three reach 3), 4.2 levels 2 2 1 0 0 0 (two reach 2).
    FB3 itself: two IT staff, 4.1 levels 5 and 4 (one reaches 5).
    FB2: three clerks, 4.1 levels 3 0 0; one of them has a personal target 1.1 ≥ 2.
    Not counted: a deactivated clerk in 33.1 who would reach everything.
    """
    fb3 = make_department(code="FB3", name="Bürgerdienste")
    office = make_department(code="33.1", name="Bürgerbüro", parent=fb3)
    fb2 = make_department(code="FB2", name="Finanzen")
    clerk = make_job_role(code="SB", title="Sachbearbeitung")
    it = make_job_role(code="IT", title="IT-Betreuung")
    db.session.add_all(
        [
            JobRoleTarget(job_role_id=clerk.id, competence_id=competence("4.1").id, level=3),
            JobRoleTarget(job_role_id=clerk.id, competence_id=competence("4.2").id, level=2),
            JobRoleTarget(job_role_id=it.id, competence_id=competence("4.1").id, level=5),
        ]
    )
    db.session.commit()
    office_staff = [make_user(family_name=f"Buero{i}", department=office, job_role=clerk) for i in range(6)]
    it_staff = [make_user(family_name=f"Technik{i}", department=fb3, job_role=it) for i in range(2)]
    finance = [make_user(family_name=f"Kasse{i}", department=fb2, job_role=clerk) for i in range(3)]
    gone = make_user(family_name="Ehemalig", department=office, job_role=clerk, active=False)
    hr = make_user(roles=["hr"], family_name="Personal")
    for person, level in zip(office_staff, [3, 3, 1, 4, 0, 2], strict=True):
        if level:
            assess(person, "4.1", level)
    for person, level in zip(office_staff, [2, 2, 1], strict=False):
        assess(person, "4.2", level)
    assess(it_staff[0], "4.1", 5)
    assess(it_staff[1], "4.1", 4)
    assess(finance[0], "4.1", 3)
    assess(gone, "4.1", 8)
    assess(gone, "4.2", 8)
    db.session.add(PersonalTarget(user_id=finance[1].id, competence_id=competence("1.1").id, level=2))
    db.session.commit()
    return {
        "fb3": fb3,
        "office": office,
        "fb2": fb2,
        "clerk": clerk,
        "it": it,
        "office_staff": office_staff,
        "it_staff": it_staff,
        "finance": finance,
        "hr": hr,
        "people": office_staff + it_staff + finance,
    }


def all_competences() -> list[Competence]:
    return [c for area in framework_outline() for c in area.active_competences]


# --- group figures -----------------------------------------------------------------------------


def test_group_figures_on_a_small_town(town):
    groups = gaps.group_figures(all_competences())
    office, fb3, fb2 = town["office"].id, town["fb3"].id, town["fb2"].id
    clerk, it = town["clerk"].id, town["it"].id

    assert counts(figure_of(groups, "all", 0, "4.1")) == (11, 5)
    assert counts(figure_of(groups, "all", 0, "4.2")) == (9, 2)
    assert counts(figure_of(groups, "department", office, "4.1")) == (6, 3)
    assert counts(figure_of(groups, "department", office, "4.2")) == (6, 2)
    # A department's group includes its sub-departments: FB3 = 33.1's six clerks + its own two IT staff.
    assert counts(figure_of(groups, "department", fb3, "4.1")) == (8, 4)
    assert counts(figure_of(groups, "department", fb3, "4.2")) == (6, 2)
    assert counts(figure_of(groups, "department", fb2, "4.1")) == (3, 1)
    assert counts(figure_of(groups, "job_role", clerk, "4.1")) == (9, 4)
    assert counts(figure_of(groups, "job_role", it, "4.1")) == (2, 1)
    assert counts(figure_of(groups, "all", 0, "1.1")) == (1, 0)  # a personal target counts too
    assert counts(figure_of(groups, "all", 0, "5.1")) == (0, 0)
    people = {(g.scope, g.scope_id): g.people for g in groups}
    assert people[("all", 0)] == 12  # eleven staff and HR; the deactivated clerk is not counted
    assert people[("department", fb3)] == 8 and people[("department", office)] == 6
    # Departments in tree order, then job roles by title.
    assert [(g.scope, g.scope_id) for g in groups] == [
        ("all", 0),
        ("department", fb2),
        ("department", fb3),
        ("department", office),
        ("job_role", it),
        ("job_role", clerk),
    ]


def test_group_figures_agree_with_the_cells_of_the_matrix(town):
    competences = all_competences()
    cells = cells_for(town["people"], competences, viewer_id=None)
    groups = gaps.group_figures(competences, scopes=["all"])
    for item in competences:
        row = [cells[p.id][item.id] for p in town["people"]]
        expected = (sum(c.target is not None for c in row), sum(bool(c.meets_target) for c in row))
        assert counts(groups[0].figures[item.id]) == expected, item.code


def test_share_percent_and_heat_map_steps():
    assert gaps.Figure(20, 10, 5).share == 0.5 and gaps.Figure(20, 10, 5).percent == 50
    assert gaps.Figure(30, 10, 5).percent == 33  # rounded down: 100 % only when everyone reaches it
    assert gaps.Figure(200, 199, 5).percent == 99 and gaps.Figure(200, 199, 5).step == 3
    assert [gaps.Figure(100, n, 5).step for n in (0, 24, 25, 49, 50, 74, 75, 99, 100)] == [0, 0, 1, 1, 2, 2, 3, 3, 4]
    empty, small = gaps.Figure(0, 0, 5), gaps.Figure(4, 4, 5)
    assert empty.empty and not empty.suppressed and empty.share is None
    assert small.suppressed and small.share is None and small.percent is None and small.step is None
    # A group under 20 shows a quarter, never 0 % or 100 %: those would tell each member's status.
    for part, band in ((0, 0), (1, 0), (2, 1), (4, 2), (6, 3), (8, 3)):
        banded = gaps.Figure(8, part, 5)
        assert banded.banded and banded.shown and banded.percent is None and banded.step == band
    assert not gaps.Figure(8, 8, 5, exact_from=8).banded and gaps.Figure(8, 8, 5, exact_from=8).percent == 100
    withheld = gaps.Figure(40, 20, 5, withheld=True)
    assert withheld.suppressed and not withheld.small and withheld.percent is None and not withheld.shown


def test_groups_with_fewer_than_the_minimum_are_suppressed(town, app, monkeypatch):
    monkeypatch.setitem(app.config, "PRIVACY_EXACT_SHARE_FROM", 5)
    groups = gaps.group_figures(all_competences())
    assert figure_of(groups, "department", town["fb2"].id, "4.1").small  # 3 people with a target
    assert figure_of(groups, "job_role", town["it"].id, "4.1").small  # 2
    assert figure_of(groups, "all", 0, "1.1").small  # 1
    assert figure_of(groups, "department", town["office"].id, "4.1").percent == 50  # 6

    monkeypatch.setitem(app.config, "PRIVACY_MIN_GROUP_SIZE", 3)
    groups = gaps.group_figures(all_competences())
    assert figure_of(groups, "department", town["fb2"].id, "4.2").shown  # 3 are enough now
    assert figure_of(groups, "job_role", town["it"].id, "4.1").small

    monkeypatch.setitem(app.config, "PRIVACY_MIN_GROUP_SIZE", 7)
    groups = gaps.group_figures(all_competences())
    assert figure_of(groups, "department", town["office"].id, "4.1").small


def test_no_subtraction_reveals_a_small_group(town, app, monkeypatch):
    """The issue's example: FB3 (8 with a target for 4.1) minus 33.1 (6) would give FB3's own two
    IT staff; the whole administration (11) minus the clerks (9) would give them too."""
    monkeypatch.setitem(app.config, "PRIVACY_EXACT_SHARE_FROM", 5)
    groups = gaps.group_figures(all_competences())
    fb3 = figure_of(groups, "department", town["fb3"].id, "4.1")
    clerks = figure_of(groups, "job_role", town["clerk"].id, "4.1")
    assert fb3.suppressed and not fb3.small  # withheld, though 8 ≥ 5
    assert clerks.suppressed and not clerks.small
    assert figure_of(groups, "all", 0, "4.1").percent == 45  # the total stays
    assert figure_of(groups, "department", town["office"].id, "4.1").percent == 50
    # For 4.2 the whole administration (9) minus FB3 (6) would give FB2's three.
    assert figure_of(groups, "department", town["fb3"].id, "4.2").suppressed
    assert figure_of(groups, "department", town["office"].id, "4.2").suppressed  # the same six people
    assert figure_of(groups, "job_role", town["clerk"].id, "4.2").percent == 22  # all nine: nothing to subtract


def test_group_figures_take_a_fixed_number_of_statements(
    digcomp, make_department, make_job_role, make_user, count_queries
):
    parent = make_department(code="P")
    child = make_department(code="C", parent=parent)
    role = make_job_role()
    db.session.add(JobRoleTarget(job_role_id=role.id, competence_id=competence("4.1").id, level=2))
    db.session.commit()

    def add_people(n):
        for i in range(n):
            person = make_user(department=child if i % 2 else parent, job_role=role)
            assess(person, "4.1", i % 4)
            db.session.add(PersonalTarget(user_id=person.id, competence_id=competence("1.1").id, level=1))
        db.session.commit()

    def statements():
        db.session.expire_all()
        with count_queries() as counter:
            gaps.group_figures(all_competences())
        return counter.count

    add_people(5)
    few = statements()
    add_people(35)
    assert statements() == few
    assert few <= 12


# --- months and snapshots ------------------------------------------------------------------------


def test_months_are_checked_and_counted_in_town_time(app, database):
    assert gaps.parse_month("2026-11") == "2026-11"
    for bad in ("2026-13", "2026-00", "26-11", "2026/11", "november", "", "1999-12"):
        with pytest.raises(ValueError):
            gaps.parse_month(bad)
    # 23:30 UTC on 31 October is already November in Berlin.
    assert gaps.current_month(datetime(2026, 10, 31, 23, 30, tzinfo=UTC)) == "2026-11"
    assert gaps.month_range("2025-11", "2026-02") == ["2025-11", "2025-12", "2026-01", "2026-02"]


def test_snapshot_is_idempotent_per_month(town):
    expected_rows = (1 + 3 + 2) * len(all_competences())  # all, three departments, two job roles
    first = gaps.take_snapshot("2025-01")
    db.session.commit()
    assert first == gaps.SnapshotResult("2025-01", expected_rows)
    assert snapshot_rows("2025-01") == expected_rows

    assess(town["finance"][1], "4.1", 3)  # one more clerk reaches the target
    db.session.commit()
    again = gaps.take_snapshot("2025-01")
    db.session.commit()
    assert again.rows == expected_rows and snapshot_rows() == expected_rows  # replaced, not added
    row = db.session.execute(
        select(SkillSnapshot).where(
            SkillSnapshot.month == "2025-01",
            SkillSnapshot.scope == "all",
            SkillSnapshot.competence_id == competence("4.1").id,
        )
    ).scalar_one()
    assert (row.people_with_target, row.people_at_target) == (11, 6)

    gaps.take_snapshot("2025-02")
    db.session.commit()
    assert snapshot_rows() == 2 * expected_rows


def test_snapshot_is_stored_protected_and_without_a_person(town):
    gaps.take_snapshot()
    db.session.commit()
    month = gaps.current_month()

    def stored(scope, scope_id, code):
        row = db.session.execute(
            select(SkillSnapshot).where(
                SkillSnapshot.month == month,
                SkillSnapshot.scope == scope,
                SkillSnapshot.scope_id == scope_id,
                SkillSnapshot.competence_id == competence(code).id,
            )
        ).scalar_one()
        return row.people_with_target, row.people_at_target

    assert stored("department", town["fb2"].id, "4.1") == (None, None)  # three: too small
    assert stored("department", town["fb3"].id, "4.1") == (None, None)  # withheld: FB3 − 33.1 = two
    assert stored("department", town["office"].id, "4.1") == (6, 3)
    assert stored("all", 0, "4.1") == (11, 5)
    assert {c.name for c in SkillSnapshot.__table__.columns}.isdisjoint({"user_id", "person_id"})


def test_snapshot_rejects_a_future_month(town):
    with pytest.raises(ValueError, match="future"):
        gaps.take_snapshot("2999-01")
    assert snapshot_rows() == 0


def test_trend_reads_the_snapshots_month_by_month(town, app, monkeypatch):
    gaps.take_snapshot("2025-01")
    db.session.commit()
    for person, code in ((town["finance"][1], "4.1"), (town["finance"][2], "4.1"), (town["office_staff"][3], "4.2")):
        assess(person, code, 3)
    db.session.commit()
    gaps.take_snapshot("2025-03")
    db.session.commit()

    monkeypatch.setitem(app.config, "PRIVACY_EXACT_SHARE_FROM", 5)
    ids = [competence(code).id for code in ("4.1", "4.2", "1.1", "5.1")]
    series = gaps.trend("all", 0, ids)
    assert series.months == ["2025-01", "2025-02", "2025-03"]
    first, missing, last = series.series[ids[0]]
    assert missing is None  # no snapshot in February
    assert (counts(first), first.percent) == ((11, 5), 45)
    assert (counts(last), last.percent) == ((11, 7), 63)
    assert [f.percent for f in series.series[ids[1]] if f] == [22, 33]
    assert all(f.suppressed for f in series.series[ids[2]] if f)
    assert all(f.empty for f in series.series[ids[3]] if f)

    office = gaps.trend("department", town["office"].id, ids[:1])
    assert [counts(f) for f in office.series[ids[0]] if f] == [(6, 3), (6, 3)]
    fb2 = gaps.trend("department", town["fb2"].id, ids[:1])
    assert all(f.suppressed for f in fb2.series[ids[0]] if f)  # stored without counts: no minimum brings them back
    assert gaps.trend("all", 0, []).months == []
    with pytest.raises(ValueError):
        gaps.trend("person", 1, ids)


# --- CLI -----------------------------------------------------------------------------------------


def test_cli_takes_a_snapshot(app, town):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["skills", "snapshot", "--month", "2025-06"])
    assert result.exit_code == 0, result.output
    expected = (1 + 3 + 2) * len(all_competences())
    assert f"snapshot 2025-06: {expected} rows" in result.output
    assert snapshot_rows("2025-06") == expected

    again = runner.invoke(args=["skills", "snapshot", "--month", "2025-06"])
    assert again.exit_code == 0 and snapshot_rows() == expected

    now = runner.invoke(args=["skills", "snapshot"])
    assert now.exit_code == 0 and f"snapshot {gaps.current_month()}: {expected} rows" in now.output
    assert snapshot_rows() == 2 * expected


@pytest.mark.parametrize("month, message", [("2025-13", "YYYY-MM"), ("Juni", "YYYY-MM"), ("2999-01", "future")])
def test_cli_refuses_a_bad_month(app, town, month, message):
    result = app.test_cli_runner().invoke(args=["skills", "snapshot", "--month", month])
    assert result.exit_code != 0
    assert message in result.output and "--month" in result.output
    assert snapshot_rows() == 0


# --- scheduler -----------------------------------------------------------------------------------


# Every domain's jobs, and the scheduler's own heartbeat that keeps its lease.
ALL_JOBS = {
    "skills.monthly_snapshot",
    "skills.snapshot_catch_up",
    "assignments.daily_reminders",
    "sessions.reminders",
    "notifications.deliver_mail",
    "privacy.purge_expired",
    "privacy.record_settings",
    "strategy.monthly_snapshot",
    "strategy.snapshot_catch_up",
    "change.tell_announcements",
    "change.close_surveys",
    "change.readiness_snapshot",
    "people.deactivate_leavers",
    "scheduler.heartbeat",
}


def test_scheduler_registers_the_snapshot_jobs_without_starting(app, database):
    from lms.scheduler import create_scheduler

    scheduler = create_scheduler(app)
    assert isinstance(scheduler, BackgroundScheduler) and not scheduler.running
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == ALL_JOBS

    monthly = jobs["skills.monthly_snapshot"]
    assert monthly.args == (app,) and monthly.trigger.timezone == BERLIN
    assert monthly.trigger.get_next_fire_time(None, datetime(2026, 1, 15, 12, tzinfo=BERLIN)) == datetime(
        2026, 2, 1, 2, 30, tzinfo=BERLIN
    )
    assert monthly.trigger.get_next_fire_time(None, datetime(2026, 6, 30, 23, tzinfo=BERLIN)) == datetime(
        2026, 7, 1, 2, 30, tzinfo=BERLIN
    )

    daily = jobs["skills.snapshot_catch_up"]
    assert daily.trigger.get_next_fire_time(None, datetime(2026, 3, 10, 12, tzinfo=BERLIN)) == datetime(
        2026, 3, 11, 3, 30, tzinfo=BERLIN
    )
    assert daily.next_run_time is not None  # also once at start


def test_scheduled_jobs_take_the_snapshot(app, town):
    from lms.scheduler import create_scheduler

    jobs = {job.id: job for job in create_scheduler(app).get_jobs()}
    month = gaps.current_month()
    expected = (1 + 3 + 2) * len(all_competences())

    result = jobs["skills.monthly_snapshot"].func(*jobs["skills.monthly_snapshot"].args)
    assert result == gaps.SnapshotResult(month, expected)
    assert snapshot_rows(month) == expected  # committed by the job in its own session

    assert jobs["skills.snapshot_catch_up"].func(app) is None  # the month has its snapshot already
    db.session.execute(SkillSnapshot.__table__.delete())
    db.session.commit()
    assert jobs["skills.snapshot_catch_up"].func(app).rows == expected
    assert snapshot_rows(month) == expected


def test_scheduler_run_uses_a_blocking_scheduler_with_the_same_jobs(app, database, monkeypatch):
    from apscheduler.schedulers.blocking import BlockingScheduler

    from lms import scheduler as module

    started = []

    def fake_start(self, *args, **kwargs):
        started.append((type(self), sorted(job.id for job in self.get_jobs())))
        raise KeyboardInterrupt

    monkeypatch.setattr(BlockingScheduler, "start", fake_start)
    monkeypatch.setattr(module.signal, "signal", lambda *args: None)
    result = app.test_cli_runner().invoke(module.scheduler_cli, ["run"])
    assert result.exit_code == 0, result.output
    assert started == [(BlockingScheduler, sorted(ALL_JOBS))]
    assert "skills.monthly_snapshot" in result.output and "scheduler stopped" in result.output


def test_create_app_starts_no_scheduler(app):
    import threading

    assert not any("APScheduler" in thread.name for thread in threading.enumerate())


# --- the page ------------------------------------------------------------------------------------


def row_cells(html: str, row_id: str) -> dict[str, tuple[str, str | None, str]]:
    """competence code → (state class, percent or None, cell text) for one table row."""
    row = re.search(rf'<tr[^>]*id="{row_id}">(.*?)</tr>', html, re.S)
    assert row, f"no row {row_id}"
    cells = re.findall(
        r'<td class="kern-table__cell gap-cell ([\w -]+)" data-competence="([\d.]+)"'
        r'(?: data-percent="(\d+)")?(?: data-band="\d")?>(.*?)</td>',
        row.group(1),
        re.S,
    )
    return {
        code: (state, percent or None, re.sub(r"<[^>]+>|\s+", " ", text).strip())
        for state, code, percent, text in cells
    }


def test_anonymous_users_are_sent_to_sign_in(client):
    response = client.get("/gaps/")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


@pytest.mark.parametrize("role", ["employee", "manager", "trainer", "admin", "dpo"])
def test_only_hr_may_see_the_gap_overview(client, make_user, sign_in, role):
    sign_in(make_user(roles=[role]))
    assert client.get("/gaps/").status_code == 403


@pytest.fixture
def exact_shares(app, monkeypatch):
    """Exact shares from five people on, so that the small town's figures are readable."""
    monkeypatch.setitem(app.config, "PRIVACY_EXACT_SHARE_FROM", 5)


def test_heat_map_by_department(client, sign_in, town, exact_shares):
    sign_in(town["hr"])
    response = client.get("/gaps/?by=department&area=4")
    assert response.status_code == 200
    html = response.get_data(as_text=True)

    total = row_cells(html, "gap-row-all-0")
    assert set(total) == {"4.1", "4.2", "4.3", "4.4"}  # the chosen area only
    assert total["4.1"][:2] == ("gap-step-1", "45") and "5" in total["4.1"][2] and "11" in total["4.1"][2]
    assert total["4.2"][:2] == ("gap-step-0", "22")
    assert total["4.3"][0] == "gap-none" and "–" in total["4.3"][2]
    office = row_cells(html, f"gap-row-department-{town['office'].id}")
    assert office["4.1"][:2] == ("gap-step-2", "50")
    assert office["4.2"][0] == "gap-suppressed gap-withheld"  # the whole administration minus 33.1 = FB2
    assert "nicht gezeigt, damit keine kleinere Gruppe errechnet werden kann" in office["4.2"][2]
    fb2 = row_cells(html, f"gap-row-department-{town['fb2'].id}")
    assert fb2["4.1"][0] == "gap-suppressed" and fb2["4.1"][1] is None
    assert "5" in fb2["4.1"][2] and "3" not in fb2["4.1"][2] and "33" not in fb2["4.1"][2]
    # Tree order: FB2, FB3, then its sub-department 33.1.
    positions = [html.index(f'id="gap-row-department-{town[key].id}"') for key in ("fb2", "fb3", "office")]
    assert positions == sorted(positions)
    # Aggregates only: nobody is named, and the page holds no inline style or script.
    for person in town["people"]:
        assert person.family_name not in html.replace(town["hr"].family_name, "")
    assert " style=" not in html and "<script" not in html and "<caption" in html and 'scope="row"' in html


def test_heat_map_by_job_role_and_configurable_minimum(client, sign_in, town, app, monkeypatch, exact_shares):
    sign_in(town["hr"])
    html = client.get("/gaps/?by=job_role").get_data(as_text=True)
    assert 'id="gap-row-department-' not in html
    clerk = row_cells(html, f"gap-row-job_role-{town['clerk'].id}")
    assert clerk["4.2"][:2] == ("gap-step-0", "22") and len(clerk) == len(all_competences())
    assert clerk["4.1"][0] == "gap-suppressed gap-withheld"  # the whole administration minus the clerks = IT
    assert row_cells(html, f"gap-row-job_role-{town['it'].id}")["4.1"][0] == "gap-suppressed"

    monkeypatch.setitem(app.config, "PRIVACY_MIN_GROUP_SIZE", 2)
    monkeypatch.setitem(app.config, "PRIVACY_EXACT_SHARE_FROM", 2)
    html = client.get("/gaps/?by=job_role").get_data(as_text=True)
    assert row_cells(html, f"gap-row-job_role-{town['it'].id}")["4.1"][:2] == ("gap-step-2", "50")


def test_unknown_parameters_fall_back_to_the_defaults(client, sign_in, town):
    sign_in(town["hr"])
    response = client.get("/gaps/?by=person&area=99")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f'id="gap-row-department-{town["office"].id}"' in html
    assert len(row_cells(html, "gap-row-all-0")) == len(all_competences())


def test_small_groups_show_bands(client, sign_in, town):
    sign_in(town["hr"])
    html = client.get("/gaps/?area=4").get_data(as_text=True)
    total = row_cells(html, "gap-row-all-0")  # eleven people with a target: under 20
    assert total["4.1"][:2] == ("gap-step-1", None)
    assert " ".join(total["4.1"][2].split()) == "◔ 25 bis unter 50 % 11 Personen mit Ziel"
    assert 'data-percent="' not in html.split('id="gap-map"')[1].split("</table>")[0]


def test_trend_section_shows_the_snapshots(client, sign_in, town, exact_shares):
    sign_in(town["hr"])
    html = client.get("/gaps/?area=4").get_data(as_text=True)
    assert 'id="trend-empty"' in html and "<svg" not in html

    gaps.take_snapshot("2025-01")
    assess(town["finance"][1], "4.1", 3)
    assess(town["finance"][2], "4.1", 3)
    db.session.commit()
    gaps.take_snapshot("2025-03")
    db.session.commit()
    html = client.get("/gaps/?area=4").get_data(as_text=True)
    trend_table = html[html.index('id="gap-trend"') :]
    assert re.findall(r'<time datetime="([\d-]+)"', trend_table) == ["2025-01", "2025-02", "2025-03"]
    row = re.search(r'id="trend-row-4.1">(.*?)</tr>', trend_table, re.S).group(1)
    assert re.findall(r'gap-cell ([\w-]+)" data-competence="4.1"(?: data-percent="(\d+)")?', row) == [
        ("gap-step-1", "45"),
        ("gap-missing", ""),
        ("gap-step-2", "63"),
    ]
    # The chart: an accessible SVG with the same numbers as the table.
    svg = html[html.index("<svg") : html.index("</svg>")]
    assert 'role="img"' in svg and '<title id="trend-chart-title">' in svg and "<desc" in svg
    assert "4.1" in svg and "45 %" in svg and "63 %" in svg

    html = client.get("/gaps/").get_data(as_text=True)  # every area: the table only
    assert "<svg" not in html and 'id="trend-row-1.1"' in html


def test_page_takes_a_fixed_number_of_queries(
    client, sign_in, digcomp, make_department, make_job_role, make_user, count_queries
):
    parent = make_department(code="P")
    child = make_department(code="C", parent=parent)
    roles = [make_job_role(), make_job_role()]
    for role in roles:
        db.session.add(JobRoleTarget(job_role_id=role.id, competence_id=competence("4.1").id, level=2))
    db.session.commit()
    hr = make_user(roles=["hr"])

    def add_people(n):
        for i in range(n):
            person = make_user(department=child if i % 2 else parent, job_role=roles[i % 2])
            assess(person, "4.1", i % 4)
        db.session.commit()

    def queries(url):
        with count_queries() as counter:
            assert client.get(url).status_code == 200
        return counter.count

    sign_in(hr)
    add_people(5)
    gaps.take_snapshot("2025-01")
    db.session.commit()
    few = {url: queries(url) for url in ("/gaps/", "/gaps/?by=job_role&area=4")}
    add_people(35)
    gaps.take_snapshot("2025-02")
    db.session.commit()
    many = {url: queries(url) for url in few}
    assert many == few


@pytest.mark.browser
def test_gap_overview_is_accessible_in_a_browser(page, town):
    from tests.browser import assert_accessible
    from tests.factories import DEFAULT_PASSWORD

    gaps.take_snapshot("2025-01")
    assess(town["finance"][1], "4.1", 3)
    db.session.commit()
    gaps.take_snapshot("2025-03")
    db.session.commit()
    page.goto("/auth/login")
    page.get_by_label("E-Mail-Adresse").fill(town["hr"].email)
    page.get_by_label("Passwort").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    page.wait_for_url("**/hr/")
    page.goto("/gaps/?area=4")
    page.add_style_tag(url="/static/css/skills.css")  # harmless once base.html links it
    assert page.locator("#gap-map caption").count() == 1
    assert page.locator("#gap-trend td[data-band]").count() == 4  # eleven and nine people: bands
    assert_accessible(page)
    page.select_option("#by", "job_role")  # works without JavaScript: a plain GET form
    page.locator("form.filter-bar button[type=submit]").click()
    page.wait_for_url("**by=job_role**")
    assert page.locator(f"#gap-row-job_role-{town['clerk'].id}").count() == 1
    assert_accessible(page)
