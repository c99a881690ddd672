"""Pulse surveys and the readiness view of an initiative: the staff council's approval, anonymous
answers given once, results only through disclosure control, retention, readiness shares with
bands and hidden small groups, the flag close to go-live, and who sees what. People read English,
so that the texts checked stay the same whatever the German catalogue says."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from lms.assignments import services as assignments
from lms.assignments.models import Assignment
from lms.change import readiness, services, surveys
from lms.change import retention as pulse_retention
from lms.change.models import (
    Initiative,
    PulseAnswer,
    PulseComment,
    PulseParticipation,
    PulseResult,
    ReadinessSnapshot,
    Survey,
    SurveyState,
    SurveyStatus,
)
from lms.common import disclosure
from lms.common.dates import utcnow
from lms.common.errors import ValidationFailed
from lms.extensions import db
from lms.notifications.models import Notification, NotificationKind
from tests.conftest import csrf_token


def today():
    return assignments.town_today()


@pytest.fixture
def town(make_department, make_user):
    """Three departments of the target group (FB1 with 10 people, FB2 with 6, FB3 with 4), FB9
    outside it; a change lead, a staff council member and HR."""
    fb1 = make_department(code="FB1", name="Bauen")
    fb2 = make_department(code="FB2", name="Finanzen")
    fb3 = make_department(code="FB3", name="Ordnung")
    fb9 = make_department(code="FB9", name="Draußen")
    people = {
        key: [make_user(department=department, locale="en") for _ in range(size)]
        for key, department, size in (("fb1", fb1, 10), ("fb2", fb2, 6), ("fb3", fb3, 4))
    }
    return {
        "fb1": fb1,
        "fb2": fb2,
        "fb3": fb3,
        "fb9": fb9,
        "people": people,
        "outsider": make_user(department=fb9, locale="en"),
        "lead": make_user(roles=["change"], family_name="Wandel", locale="en"),
        "council": make_user(roles=["staff_council"], family_name="Rat", locale="en"),
        "hr": make_user(roles=["hr"], locale="en"),
    }


def make_initiative(town, departments=("fb1", "fb2", "fb3"), course=None, go_live_in=60) -> Initiative:
    data = services.InitiativeData(
        title="E-Akte",
        description="",
        lead_id=town["lead"].id,
        go_live=today() + timedelta(days=go_live_in),
        department_ids=[town[key].id for key in departments],
    )
    initiative = services.save_initiative(town["lead"], None, data, today())
    if course is not None:
        services.link_course(town["lead"], initiative, course.id, -7, today())
    services.start(town["lead"], initiative, today())
    db.session.commit()
    return initiative


def survey_data(**fields) -> surveys.SurveyData:
    values = {
        "moment": "before",
        "questions": ["I feel prepared.", "I know whom to ask.", ""],
        "with_comment": True,
        "opens_on": today(),
        "closes_on": today() + timedelta(days=7),
    }
    return surveys.SurveyData(**(values | fields))


def make_survey(town, initiative, approve=True, **fields) -> Survey:
    survey = surveys.save_survey(town["lead"], initiative, None, survey_data(**fields), today())
    surveys.submit(survey)
    if approve:
        surveys.approve(survey, town["council"])
    db.session.commit()
    return survey


def answer_all(survey, people, value=4, comment=""):
    for person in people:
        surveys.answer(survey, person, [value, 3], comment, today())
    db.session.commit()


def client_of(app, user):
    from tests.factories import DEFAULT_PASSWORD

    browser = app.test_client()
    token = csrf_token(browser.get("/auth/login"))
    browser.post("/auth/login", data={"csrf_token": token, "email": user.email, "password": DEFAULT_PASSWORD})
    return browser


# --- the staff council's approval -----------------------------------------------------------


def test_a_survey_opens_only_after_the_staff_council_approved_it(town):
    initiative = make_initiative(town)
    survey = make_survey(town, initiative, approve=False)
    person = town["people"]["fb1"][0]
    assert survey.state(today()) == SurveyState.SUBMITTED
    with pytest.raises(ValidationFailed):
        surveys.answer(survey, person, [4, 4], "", today())
    with pytest.raises(PermissionError):
        surveys.approve(survey, town["lead"])  # the change team cannot approve its own survey
    surveys.approve(survey, town["council"])
    db.session.commit()
    assert survey.state(today()) == SurveyState.OPEN
    assert survey.decided_by_id == town["council"].id and survey.decided_at is not None
    surveys.answer(survey, person, [4, 4], "", today())
    assert db.session.scalar(select(func.count()).select_from(PulseAnswer)) == 2


def test_an_approved_survey_opens_on_its_first_day_only(town):
    survey = make_survey(town, make_initiative(town), opens_on=today() + timedelta(days=3))
    assert survey.state(today()) == SurveyState.APPROVED
    with pytest.raises(ValidationFailed):
        surveys.answer(survey, town["people"]["fb1"][0], [4, 4], "", today())


def test_submitting_tells_the_staff_council_and_only_they_decide(client, sign_in, town):
    initiative = make_initiative(town)
    survey = make_survey(town, initiative, approve=False)
    told = db.session.execute(
        select(Notification.user_id).where(Notification.kind == NotificationKind.SURVEY_TO_APPROVE)
    )
    assert list(told.scalars()) == [town["council"].id]
    sign_in(town["lead"])
    token = csrf_token(client.get(f"/change/{initiative.id}/surveys"))
    assert client.post(f"/change/surveys/{survey.id}/approve", data={"csrf_token": token}).status_code == 403
    assert client.get("/change/surveys/approval").status_code == 403
    db.session.refresh(survey)
    assert survey.status == SurveyStatus.SUBMITTED


def test_changing_the_questions_voids_the_approval_but_moving_the_dates_does_not(town):
    initiative = make_initiative(town)
    survey = make_survey(town, initiative, opens_on=today() + timedelta(days=2))
    surveys.save_survey(town["lead"], initiative, survey, survey_data(opens_on=today() + timedelta(days=3)), today())
    assert survey.status == SurveyStatus.APPROVED
    surveys.save_survey(
        town["lead"],
        initiative,
        survey,
        survey_data(questions=["I feel ready.", ""], opens_on=today() + timedelta(days=3)),
        today(),
    )
    assert survey.status == SurveyStatus.DRAFT and survey.decided_by_id is None
    assert survey.questions == ["I feel ready."]


def test_an_open_survey_cannot_be_changed(town):
    initiative = make_initiative(town)
    survey = make_survey(town, initiative)
    with pytest.raises(surveys.NotEditable):
        surveys.save_survey(town["lead"], initiative, survey, survey_data(questions=["Other?"]), today())


def test_the_staff_council_refuses_with_a_reason_shown_to_the_change_team(app, town):
    initiative = make_initiative(town)
    survey = make_survey(town, initiative, approve=False)
    council = client_of(app, town["council"])
    page = council.get("/change/surveys/approval").get_data(as_text=True)
    assert "I feel prepared." in page
    token = csrf_token(council.get("/change/surveys/approval"))
    response = council.post(
        f"/change/surveys/{survey.id}/refuse", data={"csrf_token": token, f"refuse-{survey.id}-reason": " "}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and f'id="refuse-{survey.id}-reason-error"' in page
    assert "Say why the survey is refused" in page
    db.session.refresh(survey)
    assert survey.status == SurveyStatus.SUBMITTED
    response = council.post(
        f"/change/surveys/{survey.id}/refuse",
        data={"csrf_token": token, f"refuse-{survey.id}-reason": "Frage 2 lässt Rückschlüsse zu."},
    )
    assert response.status_code == 302
    db.session.refresh(survey)
    assert survey.status == SurveyStatus.REFUSED and survey.decided_by_id == town["council"].id
    lead_page = client_of(app, town["lead"]).get(f"/change/{initiative.id}/surveys").get_data(as_text=True)
    assert "Frage 2 lässt Rückschlüsse zu." in lead_page
    assert "refused by the staff council" in lead_page


def test_the_survey_form_shows_errors_next_to_the_fields(app, town):
    initiative = make_initiative(town)
    lead = client_of(app, town["lead"])
    url = f"/change/{initiative.id}/surveys/new"
    data = {"csrf_token": csrf_token(lead.get(url)), "question_1": "", "opens_on": today().isoformat()}
    page = lead.post(url, data=data).get_data(as_text=True)
    assert 'id="question_1-error"' in page and "Enter at least one question." in page
    assert 'id="moment-error"' in page and 'id="closes_on-error"' in page
    assert db.session.scalar(select(func.count()).select_from(Survey)) == 0


# --- answering ------------------------------------------------------------------------------


def test_each_person_answers_once_and_a_second_answer_is_refused_kindly(app, town):
    initiative = make_initiative(town)
    survey = make_survey(town, initiative)
    person = town["people"]["fb1"][0]
    browser = client_of(app, person)
    url = f"/change/{initiative.id}/pulse/{survey.id}"
    assert "Answer the survey" in browser.get(f"/change/{initiative.id}/about").get_data(as_text=True)
    assert "A short survey about this change is open" in browser.get("/learning/").get_data(as_text=True)
    token = csrf_token(browser.get(url))
    data = {"csrf_token": token, "value_0": "5", "value_1": "2", "comment": "Mehr Schulung bitte."}
    response = browser.post(url, data=data, follow_redirects=True)
    assert "Thank you! Your answer was stored without your name." in response.get_data(as_text=True)
    response = browser.post(url, data=data, follow_redirects=True)
    assert "You have already answered this survey." in response.get_data(as_text=True)
    assert sorted(db.session.execute(select(PulseAnswer.question, PulseAnswer.value)).all()) == [(0, 5), (1, 2)]
    assert db.session.scalar(select(func.count()).select_from(PulseComment)) == 1
    assert "A short survey about this change is open" not in browser.get("/learning/").get_data(as_text=True)
    with pytest.raises(surveys.AlreadyAnswered):
        surveys.answer(survey, person, [4, 4], "", today())


def test_a_missing_value_is_shown_next_to_its_question(app, town):
    initiative = make_initiative(town)
    survey = make_survey(town, initiative)
    browser = client_of(app, town["people"]["fb1"][0])
    url = f"/change/{initiative.id}/pulse/{survey.id}"
    page = browser.post(url, data={"csrf_token": csrf_token(browser.get(url)), "value_0": "4"}).get_data(as_text=True)
    assert 'id="value_1-error"' in page and "Choose a value from 1 to 5." in page
    assert db.session.scalar(select(func.count()).select_from(PulseParticipation)) == 0


def test_what_is_stored_cannot_be_linked_to_a_person(town):
    columns = {
        table: {column["name"] for column in sa.inspect(db.engine).get_columns(table)}
        for table in ("pulse_answers", "pulse_comments", "pulse_participation")
    }
    assert columns["pulse_answers"] == {"id", "survey_id", "question", "value", "department_id"}
    assert columns["pulse_comments"] == {"id", "survey_id", "department_id", "text"}
    assert columns["pulse_participation"] == {"survey_id", "user_id"}
    survey = make_survey(town, make_initiative(town))
    answer_all(survey, town["people"]["fb1"][:3])
    ids = list(db.session.execute(select(PulseAnswer.id)).scalars())
    assert len(set(ids)) == 6 and all(len(key) == 32 and int(key, 16) >= 0 for key in ids)


def test_outside_the_target_group_the_survey_answers_404(app, town):
    initiative = make_initiative(town)
    survey = make_survey(town, initiative)
    outsider = client_of(app, town["outsider"])
    assert outsider.get(f"/change/{initiative.id}/pulse/{survey.id}").status_code == 404
    with pytest.raises(ValidationFailed):
        surveys.answer(survey, town["outsider"], [4, 4], "", today())


def test_closing_forgets_who_answered_and_stores_the_results_protected(app, town):
    initiative = make_initiative(town)
    survey = make_survey(town, initiative, closes_on=today())
    answer_all(survey, town["people"]["fb1"] + town["people"]["fb3"])
    assert db.session.scalar(select(func.count()).select_from(PulseParticipation)) == 14
    from lms.change import tasks

    assert tasks.close_surveys(app) == 0  # its last day is today
    survey.closes_on = today() - timedelta(days=1)
    db.session.commit()
    assert tasks.close_surveys(app) == 1
    db.session.expire_all()
    assert db.session.get(Survey, survey.id).status == SurveyStatus.CLOSED
    assert db.session.scalar(select(func.count()).select_from(PulseParticipation)) == 0
    stored = {r.department_id: r.answers for r in db.session.execute(select(PulseResult)).scalars()}
    assert stored[town["fb3"].id] is None  # 4 answers: stored without counts
    assert stored[town["fb1"].id] is None or stored[0] is None  # one of them withheld too


# --- results --------------------------------------------------------------------------------


def test_a_department_with_four_answers_is_hidden_and_a_subtraction_cannot_reveal_it(app, town):
    initiative = make_initiative(town)
    survey = make_survey(town, initiative)
    answer_all(survey, town["people"]["fb1"], value=5)  # 10 answers
    answer_all(survey, town["people"]["fb3"], value=2)  # 4 answers
    results = surveys.survey_results(survey)
    by_department = results.by_department
    assert by_department[town["fb3"].id].view.state == disclosure.ShareState.SMALL
    shown = [figure for figure in (by_department[town["fb1"].id], results.total) if figure.view.shown]
    assert len(shown) <= 1, "the total minus FB1 would give FB3's four answers"
    page = client_of(app, town["lead"]).get(f"/change/{initiative.id}/surveys/{survey.id}/results")
    text = page.get_data(as_text=True)
    assert "fewer than 5 answers" in text


def test_a_group_needs_the_survey_minimum_of_answers(town):
    initiative = make_initiative(town, departments=("fb1",))
    survey = make_survey(town, initiative)
    answer_all(survey, town["people"]["fb1"][:4], value=4)
    assert surveys.survey_results(survey).total.view.state == disclosure.ShareState.SMALL
    answer_all(survey, town["people"]["fb1"][4:5], value=1)
    total = surveys.survey_results(survey).total
    assert total.view.state == disclosure.ShareState.BAND and total.view.band == 3  # 4 of 5: 75 % or more
    assert total.means == [None, None]  # means only from the exact share on (20 answers)


def test_comments_are_shown_only_for_the_whole_group_from_the_minimum(app, town):
    initiative = make_initiative(town)
    survey = make_survey(town, initiative)
    for index, person in enumerate(town["people"]["fb1"][:4]):
        surveys.answer(survey, person, [4, 4], f"Kommentar {index}", today())
    db.session.commit()
    assert surveys.survey_results(survey).comments is None
    lead = client_of(app, town["lead"])
    url = f"/change/{initiative.id}/surveys/{survey.id}/results"
    assert "Kommentar 0" not in lead.get(url).get_data(as_text=True)
    surveys.answer(survey, town["people"]["fb1"][4], [4, 4], "Kommentar 4", today())
    db.session.commit()
    comments = surveys.survey_results(survey).comments
    assert sorted(comments) == sorted(f"Kommentar {index}" for index in range(5))
    page = lead.get(url).get_data(as_text=True)
    section = page[page.index('id="comments"') :]
    assert all(f"Kommentar {index}" in section for index in range(5))
    assert page.count("Kommentar 3") == 1  # never again in a department's row


def test_retention_deletes_raw_answers_and_keeps_the_protected_results(app, town):
    initiative = make_initiative(town)
    survey = make_survey(town, initiative)
    answer_all(survey, town["people"]["fb1"] + town["people"]["fb2"], comment="Gut.")
    surveys.close(survey)
    db.session.commit()
    before = surveys.survey_results(survey).total
    days = app.config["RETENTION_DAYS"]["pulse_answers"]
    assert pulse_retention.count(utcnow() - timedelta(days=days)) == 0  # closed just now: kept
    survey.closed_at = utcnow() - timedelta(days=days + 1)
    db.session.commit()
    from lms.core import retention as core_retention

    counts = core_retention.run(utcnow(), app.config["RETENTION_DAYS"], dry_run=False)
    db.session.commit()
    assert counts["pulse_answers"] == 16 * 2 + 16
    assert db.session.scalar(select(func.count()).select_from(PulseAnswer)) == 0
    assert db.session.scalar(select(func.count()).select_from(PulseComment)) == 0
    after = surveys.survey_results(survey).total
    assert (after.answers, after.prepared, after.view.state) == (before.answers, before.prepared, before.view.state)
    assert after.answers == 16


# --- readiness ------------------------------------------------------------------------------


def complete(course, people):
    for person in people:
        assignment = db.session.execute(
            select(Assignment).where(Assignment.user_id == person.id, Assignment.course_id == course.id)
        ).scalar_one()
        assignment.completed_at = utcnow()
    db.session.commit()


def rows_by_code(table) -> dict[str, readiness.Row]:
    return {row.department.code: row for row in table.rows}


def test_readiness_shows_bands_for_small_groups_and_hides_groups_under_the_minimum(town, make_course):
    course = make_course()
    initiative = make_initiative(town, course=course)
    complete(course, town["people"]["fb1"][:9] + town["people"]["fb2"][:1])
    table = readiness.readiness(initiative, today())
    rows = rows_by_code(table)
    assert rows["FB3"].completed.state == disclosure.ShareState.SMALL
    # FB3 is hidden; the total minus FB1 minus FB2 would give it, so one more is withheld.
    states = [rows["FB1"].completed.state, rows["FB2"].completed.state, table.total.completed.state]
    assert disclosure.ShareState.WITHHELD in states
    departments = [row for row in (rows["FB1"], rows["FB2"]) if row.completed.shown]
    assert departments and all(row.completed.state == disclosure.ShareState.BAND for row in departments)  # < 20
    assert rows["FB1"].completed.shown and rows["FB1"].completed.band == 3  # 9 of 10, never "90 %"
    assert table.total.completed.state == disclosure.ShareState.EXACT and table.total.completed.percent == 50
    assert rows["FB1"].attended is None  # the session hook: no session linked yet
    assert table.total.people == 20


def test_readiness_shows_a_departments_course_share_from_five_people(town, make_course):
    course = make_course()
    initiative = make_initiative(town, departments=("fb1", "fb2"), course=course)
    complete(course, town["people"]["fb2"][:5])
    rows = rows_by_code(readiness.readiness(initiative, today()))
    assert rows["FB2"].completed.state == disclosure.ShareState.BAND and rows["FB2"].completed.band == 3
    assert rows["FB1"].completed.band == 0


def test_the_pulse_share_needs_the_survey_minimum_of_answers(town, make_course):
    initiative = make_initiative(town, course=make_course())
    survey = make_survey(town, initiative)
    answer_all(survey, town["people"]["fb2"][:4], value=5)
    table = readiness.readiness(initiative, today())
    assert table.survey.id == survey.id
    assert rows_by_code(table)["FB2"].prepared.view.state == disclosure.ShareState.SMALL  # four answers
    answer_all(survey, town["people"]["fb2"][4:5], value=5)
    rows = rows_by_code(readiness.readiness(initiative, today()))
    assert rows["FB2"].prepared.view.state == disclosure.ShareState.BAND  # five: shown, as a band


def test_a_department_below_the_threshold_is_flagged_close_to_go_live(app, town, make_course):
    course = make_course()
    far = make_initiative(town, departments=("fb1", "fb2"), course=course, go_live_in=60)
    assert not readiness.readiness(far, today()).flagged
    close = make_initiative(town, departments=("fb1", "fb2"), course=course, go_live_in=10)
    complete(course, town["people"]["fb2"][:5])
    table = readiness.readiness(close, today())
    assert [row.department.code for row in table.flagged if row.department] == ["FB1"]
    assert not rows_by_code(table)["FB2"].flagged  # 5 of 6: the whole band lies at 75 % or more
    page = client_of(app, town["lead"]).get(f"/change/{close.id}/readiness").get_data(as_text=True)
    assert 'data-flagged="true"' in page and "below 80 %" in page
    assert "no session linked" in page


def test_a_guide_sees_only_their_department_and_others_see_nothing(app, town, make_course):
    course = make_course()
    initiative = make_initiative(town, course=course)
    guide = town["people"]["fb2"][0]
    services.add_guide(initiative, guide.id, town["fb2"].id)
    db.session.commit()
    url = f"/change/{initiative.id}/readiness"
    page = client_of(app, guide).get(url).get_data(as_text=True)
    assert 'data-group="{}"'.format(town["fb2"].id) in page
    assert 'data-group="{}"'.format(town["fb1"].id) not in page and 'data-group="0"' not in page
    assert "How ready your departments are" in client_of(app, guide).get(f"/change/{initiative.id}/about").get_data(
        as_text=True
    )
    assert client_of(app, town["people"]["fb1"][0]).get(url).status_code == 404  # not a guide
    assert client_of(app, town["outsider"]).get(url).status_code == 404
    assert client_of(app, town["council"]).get(url).status_code == 404
    for who in ("lead", "hr"):
        page = client_of(app, town[who]).get(url).get_data(as_text=True)
        assert 'data-group="0"' in page and 'data-group="{}"'.format(town["fb1"].id) in page


def test_an_employee_cannot_reach_the_change_teams_survey_pages(app, town):
    initiative = make_initiative(town)
    survey = make_survey(town, initiative)
    employee = client_of(app, town["people"]["fb1"][0])
    for url in (
        f"/change/{initiative.id}/surveys",
        f"/change/{initiative.id}/surveys/new",
        f"/change/{initiative.id}/surveys/{survey.id}/results",
        "/change/surveys/approval",
    ):
        assert employee.get(url).status_code == 403, url


def test_the_weekly_snapshot_is_stored_protected_and_taken_once_a_week(app, town, make_course):
    course = make_course()
    initiative = make_initiative(town, course=course)
    from lms.change import tasks

    assert tasks.readiness_snapshot(app) == 1
    assert tasks.readiness_snapshot(app) == 0  # the week has its snapshot
    stored = {r.department_id: (r.people, r.completed) for r in db.session.execute(select(ReadinessSnapshot)).scalars()}
    assert stored[town["fb3"].id] == (None, None)
    assert stored[0] == (20, 0) or stored[0] == (None, None)
    table = readiness.readiness(initiative, today())
    assert table.weeks == [readiness.iso_week(today())]
    assert len(table.trend[0]) == 1


# --- statements per page --------------------------------------------------------------------


def statements(client, count_queries, url: str) -> int:
    with count_queries() as counter:
        assert client.get(url).status_code == 200
    return counter.count


def test_the_readiness_and_results_pages_take_a_fixed_number_of_statements(
    client, sign_in, town, make_course, make_department, make_user, count_queries
):
    course = make_course()
    initiative = make_initiative(town, course=course)
    survey = make_survey(town, initiative)
    answer_all(survey, town["people"]["fb1"][:5])  # from five answers on, comments are read too
    sign_in(town["lead"])
    urls = [f"/change/{initiative.id}/readiness", f"/change/{initiative.id}/surveys/{survey.id}/results"]
    for url in urls:
        statements(client, count_queries, url)
    few = [statements(client, count_queries, url) for url in urls]
    for number in range(3):
        department = make_department(code=f"FB5{number}", name=f"Neu {number}", parent=town["fb1"])
        people = [make_user(department=department) for _ in range(2)]
        answer_all(survey, people)
    complete(course, town["people"]["fb1"][:4])
    readiness.take_snapshot(initiative, today())
    db.session.commit()
    assert [statements(client, count_queries, url) for url in urls] == [few[0] + 0, few[1]]


# --- sessions linked to an initiative --------------------------------------------------------------


def make_session(trainer, starts_in_days=3, course=None):
    from lms.sessions import services as sessions

    starts = utcnow() + timedelta(days=starts_in_days)
    data = sessions.SessionData(
        title="E-Akte in der Praxis",
        starts_at=starts,
        ends_at=starts + timedelta(hours=2),
        registration_closes_at=starts - timedelta(days=1),
        capacity=30,
        place="Rathaus, Raum 101",
        course_id=course.id if course is not None else None,
    )
    session = sessions.create_session(trainer, data, utcnow())
    db.session.commit()
    return session


def test_a_linked_session_is_shown_to_the_target_group_and_attendance_counts(app, town, make_user):
    from lms.sessions.models import SessionRegistration

    initiative = make_initiative(town, departments=("fb1", "fb2"))
    trainer = make_user(roles=["trainer"])
    session = make_session(trainer)
    assert readiness.readiness(initiative, today()).rows[0].attended is None  # no session linked
    with pytest.raises(ValidationFailed) as refused:
        services.link_session(town["lead"], initiative, None, utcnow())
    assert "session_id" in refused.value.errors
    assert services.link_session(town["lead"], initiative, session.id, utcnow()) is None  # no course
    db.session.commit()
    with pytest.raises(ValidationFailed):
        services.link_session(town["lead"], initiative, session.id, utcnow())  # linked already

    page = client_of(app, town["people"]["fb2"][0]).get(f"/change/{initiative.id}/about").get_data(as_text=True)
    assert f"/sessions/{session.id}" in page and "E-Akte in der Praxis" in page
    for person in town["people"]["fb1"][:5]:
        db.session.add(SessionRegistration(session_id=session.id, user_id=person.id, attended=True))
    db.session.add(SessionRegistration(session_id=session.id, user_id=town["outsider"].id, attended=True))
    db.session.commit()
    rows = rows_by_code(readiness.readiness(initiative, today()))
    assert rows["FB1"].attended.state == disclosure.ShareState.BAND and rows["FB1"].attended.part == 5
    assert rows["FB2"].attended.part == 0  # nobody of FB2 attended; the outsider is not counted

    manage = client_of(app, town["lead"])
    response = manage.get(f"/change/{initiative.id}/")
    html, token = response.get_data(as_text=True), csrf_token(response)
    assert f"linked-session-{session.id}" in html
    response = manage.post(f"/change/{initiative.id}/sessions/{session.id}/remove", data={"csrf_token": token})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Initiative, initiative.id).sessions == []


def test_a_linked_session_of_a_course_becomes_an_assignment_due_on_its_day(app, town, make_user, make_course):
    """Linking a session of a course links the course: the target group gets an assignment (and with
    it reminders, escalation and the compliance report), due on the session's day; attending
    completes it. A course linked already keeps its own due date."""
    from lms.sessions import attendance
    from lms.sessions import services as sessions

    course = make_course()
    initiative = make_initiative(town, departments=("fb2",))
    session = make_session(make_user(roles=["trainer"]), starts_in_days=20, course=course)
    link = services.link_session(town["lead"], initiative, session.id, utcnow())
    db.session.commit()
    assert link is not None and link.course_id == course.id
    assert services.due_date(initiative, link, today()) == session.starts_at.date()
    assigned = db.session.execute(select(Assignment).where(Assignment.course_id == course.id)).scalars().all()
    assert sorted(a.user_id for a in assigned) == sorted(p.id for p in town["people"]["fb2"])
    assert {a.due_on for a in assigned} == {session.starts_at.date()}

    person = town["people"]["fb2"][0]
    registration = sessions.register(person, session, utcnow())
    attendance.record_attendance(session, {registration.id})
    db.session.commit()
    mine = db.session.execute(
        select(Assignment).where(Assignment.course_id == course.id, Assignment.user_id == person.id)
    ).scalar_one()
    assert mine.completed_at is not None

    other = make_initiative(town, departments=("fb2",), course=course)  # due 7 days before go-live
    assert services.link_session(town["lead"], other, session.id, utcnow()) is None
    assert [link.days for link in services.links_of(other)] == [-7]
