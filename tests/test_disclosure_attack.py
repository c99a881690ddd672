"""The attack test of issue 13: for every aggregate page and export a role can reach, an attacker who
knows the organisation chart combines every figure shown — in every filter setting — and searches
for a group of fewer than the minimum (tests/disclosure_attack.py, written apart from the service).

On the demo town and on generated towns with small departments; and, with complementary
suppression switched off, the same attack finds what today's pages gave away.
"""

from __future__ import annotations

import csv
import io
import random
import re
from collections import defaultdict
from datetime import timedelta

import pytest
from sqlalchemy import select

from lms.assignments import reports
from lms.assignments import services as assignment_services
from lms.assignments.models import Assignment
from lms.common import disclosure
from lms.common.dates import utcnow
from lms.common.vocabulary import AssignmentScope, DueKind
from lms.extensions import db
from lms.frameworks.models import Competence
from lms.frameworks.services import framework_outline
from lms.gaps import services as gaps
from lms.people.models import Department, User
from lms.skills.models import Assessment
from lms.skills.profiles import cells_for
from lms.targets.models import JobRoleTarget
from tests.disclosure_attack import gap_cells, small_sets

MINIMUM = 5


def competences() -> list[Competence]:
    return [c for area in framework_outline() for c in area.active_competences]


def subtree_members(people: list[User]) -> dict[int, set[int]]:
    """Department id → the people working in it or below it (walked up from each person)."""
    parent_of = dict(db.session.execute(select(Department.id, Department.parent_id)).all())
    members: dict[int, set[int]] = defaultdict(set)
    for person in people:
        department_id, seen = person.department_id, set()
        while department_id is not None and department_id not in seen:
            seen.add(department_id)
            members[department_id].add(person.id)
            department_id = parent_of.get(department_id)
    return members


# --- the gap overview (HR) -------------------------------------------------------------------------


def gap_overview_groups(client) -> dict[str, list[frozenset[int]]]:
    """Competence code → every group whose figure HR can read on the gap overview, by department
    and by job role (the area filter only chooses columns)."""
    people = list(db.session.execute(select(User).where(User.active.is_(True))).scalars())
    all_competences = competences()
    cells = cells_for(people, all_competences, viewer_id=None)
    with_target = {c.code: {p.id for p in people if cells[p.id][c.id].target is not None} for c in all_competences}
    departments = subtree_members(people)
    job_roles: dict[int, set[int]] = defaultdict(set)
    for person in people:
        if person.job_role_id:
            job_roles[person.job_role_id].add(person.id)
    members = {("all", 0): {p.id for p in people}}
    members |= {("department", d): m for d, m in departments.items()}
    members |= {("job_role", r): m for r, m in job_roles.items()}
    published: dict[str, set[frozenset[int]]] = defaultdict(set)
    for by in ("department", "job_role"):
        response = client.get(f"/gaps/?by={by}")
        assert response.status_code == 200
        for row, by_code in gap_cells(response.get_data(as_text=True)).items():
            for code, state in by_code.items():
                if state != "hidden":
                    published[code].add(frozenset(members.get(row, set()) & with_target[code]))
    return {code: list(groups) for code, groups in published.items()}


def attack_gap_overview(client) -> list[tuple[str, frozenset[int]]]:
    return [
        (code, found) for code, groups in gap_overview_groups(client).items() for found in small_sets(groups, MINIMUM)
    ]


def hidden_gap_cells(client) -> int:
    html = client.get("/gaps/?by=department").get_data(as_text=True)
    return sum(state == "hidden" for row in gap_cells(html).values() for state in row.values())


# --- the compliance report and its export (HR) ------------------------------------------------------


def assigned_people() -> dict[int, dict[int, int | None]]:
    """Course id → person id → department id, for current mandatory assignments of active people."""
    rows = db.session.execute(
        select(Assignment.course_id, Assignment.user_id, User.department_id)
        .join(User, User.id == Assignment.user_id)
        .where(User.active.is_(True), Assignment.id.in_(reports.current_mandatory()))
    )
    result: dict[int, dict[int, int | None]] = defaultdict(dict)
    for course_id, user_id, department_id in rows:
        result[course_id][user_id] = department_id
    return result


def report_groups(client) -> dict[int, list[frozenset[int]]]:
    """Course id → every group whose figures HR can read in the report, in every department filter,
    on the page and in the CSV export."""
    assigned = assigned_people()
    codes = dict(db.session.execute(select(Department.code, Department.id)).all())
    slugs = {}
    people = list(db.session.execute(select(User).where(User.active.is_(True))).scalars())
    subtrees = subtree_members(people)
    published: dict[int, set[frozenset[int]]] = defaultdict(set)
    for department_id in [None, *codes.values()]:
        query = f"?department={department_id}" if department_id else ""
        html = client.get(f"/compliance/report{query}").get_data(as_text=True)
        for course_id, body in re.findall(r'id="report-course-(\d+)">(.*?)</tbody>', html, re.S):
            course_id = int(course_id)
            members = assigned[course_id]
            for code, cell in re.findall(r'data-department="([^"]*)">.*?</th>\s*<td([^>]*)>', body, re.S):
                if "data-hidden" not in cell:
                    department = codes.get(code)
                    published[course_id].add(frozenset(u for u, d in members.items() if d == department))
            total = body.split("data-total=")[1]
            if "data-hidden" not in total.split("</tr>")[0]:
                scope = subtrees.get(department_id, set()) if department_id else set(members)
                published[course_id].add(frozenset(u for u in members if u in scope))
        export = client.get(f"/compliance/report.csv{query}").get_data(as_text=True).lstrip("\ufeff")
        rows = list(csv.reader(io.StringIO(export)))
        header = next(i for i, row in enumerate(rows) if len(row) > 4 and row[4] and not row[4][0].isdigit())
        for row in rows[header + 1 :]:
            if len(row) < 5 or not row[4]:
                continue  # hidden
            course_id = slugs.get(row[1]) or _course_id(row[1])
            slugs[row[1]] = course_id
            members = assigned[course_id]
            if row[3] == "" and row[2] == "":  # the course's total
                scope = subtrees.get(department_id, set()) if department_id else set(members)
                published[course_id].add(frozenset(u for u in members if u in scope))
            else:
                department = codes.get(row[2])
                published[course_id].add(frozenset(u for u, d in members.items() if d == department))
    return {course_id: list(groups) for course_id, groups in published.items()}


def _course_id(slug: str) -> int:
    from lms.catalog.models import Course

    return db.session.execute(select(Course.id).where(Course.slug == slug)).scalar_one()


def attack_report(client) -> list[tuple[int, frozenset[int]]]:
    return [
        (course_id, found)
        for course_id, groups in report_groups(client).items()
        for found in small_sets(groups, MINIMUM)
    ]


# --- towns ----------------------------------------------------------------------------------------


@pytest.fixture
def generated_town(request, digcomp, make_department, make_job_role, make_user, make_course):
    """A town drawn at random (seeded): a tree of small departments, a few job roles with targets,
    people with confirmed levels, and two mandatory courses, one by job role and one by department."""
    rng = random.Random(request.param)
    departments: list[Department] = []
    for number in range(rng.randint(5, 9)):
        parent = rng.choice([None, *departments[-3:]]) if departments else None
        departments.append(make_department(code=f"G{number}", parent=parent))
    roles = [make_job_role(code=f"R{number}") for number in range(rng.randint(2, 4))]
    codes = [c.code for c in competences()][:6]
    by_code = {c.code: c for c in competences()}
    for role in roles:
        for code in rng.sample(codes, 2):
            db.session.add(JobRoleTarget(job_role_id=role.id, competence_id=by_code[code].id, level=rng.randint(2, 4)))
    db.session.commit()
    people = []
    for number in range(rng.randint(24, 38)):
        person = make_user(department=rng.choice(departments), job_role=rng.choice(roles), family_name=f"G{number}")
        people.append(person)
        for code in rng.sample(codes, 3):
            level = rng.randint(1, 5)
            db.session.add(Assessment(user_id=person.id, competence_id=by_code[code].id, level=level, note="test"))
    hr = make_user(roles=["hr"], family_name="Personal")
    today = assignment_services.town_today()
    for number, (scope, fields) in enumerate(
        [
            (AssignmentScope.JOB_ROLE, {"job_role_id": roles[0].id}),
            (AssignmentScope.DEPARTMENT, {"department_id": departments[0].id}),
        ]
    ):
        course = make_course(slug=f"pflicht-{number}", title=f"Pflicht {number}")
        data = {"due_kind": DueKind.WITHIN_DAYS, "due_days": 30, "mandatory": True, "reason": "Pflichtschulung"}
        assignment_services.create_rule(
            hr, assignment_services.RuleData(course_id=course.id, scope=scope, **(data | fields)), today
        )
    db.session.commit()
    return {"hr": hr, "people": people}


def unprotected(monkeypatch) -> None:
    """Today's pages before this issue: only groups under the minimum are hidden."""
    monkeypatch.setattr(gaps, "_withhold", lambda *args, **kwargs: None)
    monkeypatch.setattr(reports, "protected_cells", lambda *args, **kwargs: set())


@pytest.mark.parametrize("generated_town", [1, 2, 3, 4], indirect=True)
def test_no_subtraction_on_generated_towns_reveals_a_small_group(client, sign_in, generated_town, monkeypatch):
    sign_in(generated_town["hr"])
    assert attack_gap_overview(client) == []
    assert attack_report(client) == []


@pytest.mark.parametrize("generated_town", [1, 2, 3, 4], indirect=True)
def test_the_attack_finds_what_pages_without_complementary_suppression_gave_away(
    client, sign_in, generated_town, monkeypatch
):
    sign_in(generated_town["hr"])
    unprotected(monkeypatch)
    found = attack_gap_overview(client) + attack_report(client)
    assert found, "a generated town without a small group to find tests nothing"
    assert all(0 < len(people) < MINIMUM for _, people in found)


def test_the_demo_gap_overview_and_report_give_nothing_away(app, digcomp, client, sign_in, monkeypatch, capsys):
    assert app.test_cli_runner().invoke(args=["demo", "seed", "--password", "Rathaus-Demo-2026"]).exit_code == 0
    sign_in("hr@musterhausen.example", "Rathaus-Demo-2026")
    after_hidden = hidden_gap_cells(client)
    assert attack_gap_overview(client) == []
    assert attack_report(client) == []

    unprotected(monkeypatch)
    before_hidden = hidden_gap_cells(client)
    found = attack_gap_overview(client)
    assert found  # the demo's gap overview gave small groups away before this issue
    with capsys.disabled():
        print(
            f"\ndemo gap overview by department: {before_hidden} cells hidden before, {after_hidden} after; "
            f"{len(found)} small groups derivable before, none after"
        )
    assert after_hidden > before_hidden


# --- month against month ----------------------------------------------------------------------------


def test_month_against_month_gives_no_joiner_away(app, digcomp, make_department, make_job_role, make_user, monkeypatch):
    """Eight people in March, the same eight and two joiners in April: April minus March would be
    the two joiners, so April's figure is withheld until the group has moved by the minimum."""
    monkeypatch.setitem(app.config, "PRIVACY_EXACT_SHARE_FROM", 5)
    role = make_job_role(code="SB")
    code = competences()[0]
    db.session.add(JobRoleTarget(job_role_id=role.id, competence_id=code.id, level=1))
    db.session.commit()
    department = make_department(code="A")
    old = [make_user(department=department, job_role=role) for _ in range(8)]
    gaps.take_snapshot("2025-03")
    db.session.commit()
    joiners = [make_user(department=department, job_role=role) for _ in range(2)]
    gaps.take_snapshot("2025-04")
    db.session.commit()
    later = [make_user(department=department, job_role=role) for _ in range(3)]
    gaps.take_snapshot("2025-05")
    db.session.commit()
    months = [set(p.id for p in old), set(p.id for p in old + joiners), set(p.id for p in old + joiners + later)]

    def published() -> list[frozenset[int]]:
        series = gaps.trend("all", 0, [code.id]).series[code.id]
        return [frozenset(month) for month, figure in zip(months, series, strict=True) if figure and figure.shown]

    assert small_sets(published(), MINIMUM) == []
    assert len(published()) == 2  # March and May: five people apart
    monkeypatch.setattr(gaps, "_withhold_small_changes", lambda *args: None)
    assert frozenset(p.id for p in joiners) in small_sets(published(), MINIMUM)


# --- the service itself ------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(30))
def test_protect_leaves_nothing_for_the_attacker_on_random_set_systems(seed):
    """Random departments-and-roles tables: what `protect` leaves shown, the independent attacker
    cannot take apart; and `protect` hides every group under the minimum."""
    rng = random.Random(seed)
    people = range(rng.randint(10, 40))
    department = {p: rng.randrange(6) for p in people}
    role = {p: rng.randrange(4) for p in people}
    parents = {0: None, 1: 0, 2: 0, 3: 1, 4: None, 5: 4}
    cells = [disclosure.Cell("all", frozenset(people), keep=True)]
    for d in parents:
        below = {d}
        while True:
            more = {c for c, parent in parents.items() if parent in below} - below
            if not more:
                break
            below |= more
        cells.append(disclosure.Cell(("department", d), frozenset(p for p in people if department[p] in below)))
    cells += [disclosure.Cell(("role", r), frozenset(p for p in people if role[p] == r)) for r in range(4)]
    withheld = disclosure.protect(cells, MINIMUM)
    shown = [cell.members for cell in cells if cell.key not in withheld and cell.members]
    assert small_sets(shown, MINIMUM) == []
    assert all(len(cell.members) >= MINIMUM for cell in cells if cell.key not in withheld and cell.members)


# --- a manager's matrix totals under compliance-only ------------------------------------------------


def matrix_total_groups(client, manager: User) -> dict[str, list[frozenset[int]]]:
    """Competence code → every group whose totals the manager reads, in every department × job role
    filter (the area only chooses columns)."""
    from lms.people.models import JobRole

    headed = {d.id for d in manager.headed_departments}
    people = list(db.session.execute(select(User).where(User.active.is_(True))).scalars())
    below = subtree_members(people)
    scope = set().union(*(below[d] for d in headed)) if headed else set()
    departments = sorted(set().union(*(_subtree_ids(h) for h in headed)))
    roles = list(db.session.execute(select(JobRole.id).where(JobRole.active.is_(True))).scalars())
    in_scope = [p for p in people if p.id in scope]
    all_competences = competences()
    cells = cells_for(in_scope, all_competences, viewer_id=None)
    with_target = {c.code: {p.id for p in in_scope if cells[p.id][c.id].target is not None} for c in all_competences}
    published: dict[str, set[frozenset[int]]] = defaultdict(set)
    for department_id in [None, *departments]:
        for role_id in [None, *roles]:
            members = {p.id for p in in_scope if department_id is None or p.id in below[department_id]}
            members &= {p.id for p in in_scope if role_id in (None, p.job_role_id)}
            url = f"/matrix/?department={department_id or ''}&job_role={role_id or ''}"
            response = client.get(url)
            assert response.status_code == 200, url
            row = r'<tr class="kern-table__row" data-competence="([\d.]+)" data-state="(\w+)">'
            rows = re.findall(row, response.get_data(as_text=True))
            assert rows, url
            for code, state in rows:
                if state in ("exact", "band", "empty"):
                    published[code].add(frozenset(members & with_target[code]))
    return {code: list(groups) for code, groups in published.items()}


def _subtree_ids(department_id: int) -> set[int]:
    from lms.people.services import descendant_ids

    return descendant_ids([department_id])


@pytest.mark.parametrize("generated_town", [1, 2, 3], indirect=True)
def test_a_managers_totals_give_no_small_group_away(client, sign_in, make_user, generated_town, monkeypatch):
    """Under compliance-only (the default) a manager of a top department sees totals only, for each
    of their departments and job roles and both together."""
    top = db.session.execute(select(Department).where(Department.parent_id.is_(None)).order_by(Department.id)).scalars()
    manager = make_user(roles=["manager"], heads=list(top), family_name="Leitung")
    sign_in(manager)
    groups = matrix_total_groups(client, manager)
    assert groups and not [found for sets in groups.values() for found in small_sets(sets, MINIMUM)]

    def primary_only(cells, minimum):
        return {cell.key for cell in cells if 0 < len(cell.members) < minimum}

    monkeypatch.setattr(disclosure, "protect", primary_only)
    groups = matrix_total_groups(client, manager)
    assert [found for sets in groups.values() for found in small_sets(sets, MINIMUM)]  # primary suppression alone


# --- an initiative's readiness view (HR, the change team) -------------------------------------------


def readiness_published(client, initiative, members) -> list[frozenset[int]]:
    html = client.get(f"/change/{initiative.id}/readiness").get_data(as_text=True)
    table = html.split('id="readiness"')[1].split("</table>")[0]
    rows = re.findall(r'data-group="(-?\d+)".*?data-figure="completed" data-state="(\w+)"', table, re.S)
    assert rows
    return [frozenset(members[int(key)]) for key, state in rows if state in ("band", "exact", "empty")]


def readiness_town(hr, people, make_course):
    """An initiative for everyone, with a linked course half of them did."""
    from lms.change import readiness
    from lms.change import services as change

    top = db.session.execute(select(Department.id).where(Department.parent_id.is_(None))).scalars().all()
    today = assignment_services.town_today()
    data = change.InitiativeData("E-Akte", "", hr.id, today + timedelta(days=30), department_ids=list(top))
    initiative = change.save_initiative(hr, None, data, today)
    course = make_course(slug="e-akte", title="E-Akte")
    change.link_course(hr, initiative, course.id, -7, today)
    change.start(hr, initiative, today)
    for person in people[::2]:
        assignment = db.session.execute(
            select(Assignment).where(Assignment.user_id == person.id, Assignment.course_id == course.id)
        ).scalar_one()
        assignment.completed_at = utcnow()
    db.session.commit()
    members = {readiness.TOTAL: {p.id for p in people}} | dict(subtree_members(people))
    return initiative, members


@pytest.mark.parametrize("generated_town", [1, 2, 3, 4], indirect=True)
def test_the_readiness_view_gives_no_small_group_away(client, sign_in, generated_town, make_course):
    """The readiness of an initiative for the whole generated town: the share who did the linked
    course, per department (with its sub-departments) and for the whole target group."""
    initiative, members = readiness_town(generated_town["hr"], generated_town["people"], make_course)
    sign_in(generated_town["hr"])
    assert small_sets(readiness_published(client, initiative, members), MINIMUM) == []


def test_the_readiness_attack_finds_a_parent_minus_its_child_without_protection(
    client, sign_in, make_department, make_user, make_course, monkeypatch
):
    parent = make_department(code="FB6")
    child = make_department(code="66.1", parent=parent)
    people = [make_user(department=parent) for _ in range(2)] + [make_user(department=child) for _ in range(6)]
    hr = make_user(roles=["hr"])
    initiative, members = readiness_town(hr, people, make_course)
    sign_in(hr)
    assert small_sets(readiness_published(client, initiative, members), MINIMUM) == []

    def primary_only(cells, minimum):
        return {cell.key for cell in cells if 0 < len(cell.members) < minimum}

    monkeypatch.setattr(disclosure, "protect", primary_only)
    assert frozenset(p.id for p in people[:2]) in small_sets(readiness_published(client, initiative, members), MINIMUM)


# --- the strategy page (HR, the change team) ---------------------------------------------------------


@pytest.mark.parametrize("generated_town", [1, 2, 3], indirect=True)
def test_the_strategy_targets_give_no_small_group_away(client, sign_in, generated_town):
    """A target for the whole administration and one per department, all for the same competence and
    level: today's figures together are one table."""
    from lms.strategy import services as strategy

    hr = generated_town["hr"]
    competence = competences()[0]
    deadline = assignment_services.town_today() + timedelta(days=400)
    departments = list(db.session.execute(select(Department.id).order_by(Department.id)).scalars())
    targets = {}
    for department_id in [None, *departments]:
        target, _ = strategy.save_target(None, strategy.TargetInput(competence.id, 2, 50, deadline, department_id))
        targets[target.id] = department_id
    db.session.commit()
    everyone = {p.id for p in db.session.execute(select(User).where(User.active.is_(True))).scalars()}
    below = subtree_members(list(db.session.execute(select(User).where(User.active.is_(True))).scalars()))
    sign_in(hr)

    def published() -> list[frozenset[int]]:
        html = client.get("/strategy/").get_data(as_text=True)
        shown = re.findall(r'data-state="(\w+)" id="target-(\d+)-today"', html)
        assert len(shown) == len(targets)
        return [
            frozenset(everyone if targets[int(tid)] is None else below[targets[int(tid)]])
            for state, tid in shown
            if state in ("band", "exact", "empty")
        ]

    assert small_sets(published(), MINIMUM) == []


# --- a pulse survey's results (the change team) ------------------------------------------------------


def primary_suppression_only(cells, minimum):
    return {cell.key for cell in cells if 0 < len(cell.members) < minimum}


def survey_town(generated_town, make_user, rng: random.Random):
    """A running initiative for the whole generated town with an approved pulse survey that a random
    two thirds answered; the attacker is assumed to know who answered (the worst case)."""
    from lms.change import services as change
    from lms.change import surveys

    hr, people = generated_town["hr"], generated_town["people"]
    council = make_user(roles=["staff_council"], department=None)
    top = db.session.execute(select(Department.id).where(Department.parent_id.is_(None))).scalars().all()
    today = assignment_services.town_today()
    data = change.InitiativeData("E-Akte", "", hr.id, today + timedelta(days=30), department_ids=list(top))
    initiative = change.save_initiative(hr, None, data, today)
    change.start(hr, initiative, today)
    questions = ["Ich fühle mich vorbereitet.", "", ""]
    survey_data = surveys.SurveyData("before", questions, False, today, today + timedelta(days=7))
    survey = surveys.save_survey(hr, initiative, None, survey_data, today)
    surveys.submit(survey)
    surveys.approve(survey, council)
    answered = [person for person in people if rng.random() < 0.67]
    for person in answered:
        surveys.answer(survey, person, [rng.randint(1, 5)], "", today)
    db.session.commit()
    return initiative, survey, answered


def survey_published(client, initiative, survey, answered) -> list[frozenset[int]]:
    html = client.get(f"/change/{initiative.id}/surveys/{survey.id}/results").get_data(as_text=True)
    rows = re.findall(r'data-group="(\w+)">.*?data-state="(\w+)"', html, re.S)
    assert rows
    below = subtree_members(answered)
    everyone = frozenset(p.id for p in answered)
    return [
        everyone if key == "total" else frozenset(below[int(key)])
        for key, state in rows
        if state in ("band", "exact", "empty")
    ]


@pytest.mark.parametrize("generated_town", [1, 2, 3, 4], indirect=True)
def test_a_pulse_surveys_results_give_no_small_group_of_answers_away(client, sign_in, generated_town, make_user):
    initiative, survey, answered = survey_town(generated_town, make_user, random.Random(7))
    sign_in(generated_town["hr"])
    assert small_sets(survey_published(client, initiative, survey, answered), MINIMUM) == []


@pytest.mark.parametrize("generated_town", [1], indirect=True)
def test_the_pulse_attack_finds_a_department_without_protection(
    client, sign_in, generated_town, make_user, monkeypatch
):
    initiative, survey, answered = survey_town(generated_town, make_user, random.Random(7))
    sign_in(generated_town["hr"])
    monkeypatch.setattr(disclosure, "protect", primary_suppression_only)
    assert small_sets(survey_published(client, initiative, survey, answered), MINIMUM)


# --- the progress report (the council, the staff council) ---------------------------------------------


def progress_town(make_department, make_user, make_course):
    """Units of at least 20 people that nearly cover each other: the whole (25) minus FB1 (22) is
    three people, FB1 minus its sub-department (21) one (the HR reader, without a department, counts
    in the whole too)."""
    from lms.learning.models import Completion

    fb1, other = make_department(code="FB1"), make_department(code="FB2")
    sub = make_department(code="1.1", parent=fb1)
    people = [make_user(department=fb1)] + [make_user(department=sub) for _ in range(21)]
    people += [make_user(department=other) for _ in range(3)]
    course = make_course(slug="e-akte", title="E-Akte")
    for number, person in enumerate(people):
        if number % 2:
            db.session.add(Completion(user_id=person.id, course_id=course.id, course_version=1, score_percent=100))
    db.session.commit()
    return people


def progress_published(client, people) -> list[frozenset[int]]:
    html = client.get("/progress/").get_data(as_text=True)
    table = html.split('id="progress-units"')[1].split("</table>")[0]
    rows = re.findall(r'data-department="([^"]+)" data-state="(\w+)"', table)
    assert {code for code, _state in rows} >= {"total", "FB1", "1.1"}
    code_of = dict(db.session.execute(select(Department.code, Department.id)).all())
    below = subtree_members(people)
    staff = frozenset(db.session.execute(select(User.id).where(User.active.is_(True))).scalars())
    return [
        staff if code == "total" else frozenset(below[code_of[code]])
        for code, state in rows
        if state in ("band", "exact", "empty")
    ]


def test_the_progress_reports_units_give_no_small_group_away(
    client, sign_in, make_department, make_user, make_course, monkeypatch
):
    people = progress_town(make_department, make_user, make_course)
    sign_in(make_user(roles=["hr"], department=None))
    assert small_sets(progress_published(client, people), MINIMUM) == []
    monkeypatch.setattr(disclosure, "protect", primary_suppression_only)
    assert small_sets(progress_published(client, people), MINIMUM)  # without protection: the attack wins
