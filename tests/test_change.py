"""Initiatives of a change: the form and its errors, the target group, linked courses as
assignments, a moved go-live, announcements on My learning, digital guides, questions and the FAQ,
and who may see what. People here read English, so that the texts checked stay the same whatever
the German catalogue says."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from lms.assignments import services as assignments
from lms.assignments.models import Assignment
from lms.change import services
from lms.change.models import Initiative, InitiativeStatus, Question
from lms.common.vocabulary import AuditAction
from lms.extensions import db
from lms.notifications.models import Notification, NotificationKind
from lms.privacy.models import AuditEntry
from tests.conftest import csrf_token
from tests.factories import DEFAULT_PASSWORD


@pytest.fixture
def town(make_department, make_user, make_job_role):
    """FB3 with 33.1 below it; FB2 beside it (one clerk there); a change lead, a second change
    person and HR."""
    fb3 = make_department(code="FB3", name="Bürgerdienste")
    sub = make_department(code="33.1", name="Bürgerbüro", parent=fb3)
    fb2 = make_department(code="FB2", name="Finanzen")
    empty = make_department(code="LEER", name="Ohne Leute")
    clerk = make_job_role(code="SB", title="Sachbearbeitung")
    people = {
        "a": make_user(department=sub, job_role=clerk, family_name="Adler", locale="en"),
        "b": make_user(department=sub, family_name="Berg", locale="en"),
        "c": make_user(department=fb3, family_name="Clausen", locale="en"),
        "x": make_user(department=fb2, job_role=clerk, family_name="Xaver", locale="en"),
        "y": make_user(department=fb2, family_name="Yilmaz", locale="en"),
    }
    lead = make_user(roles=["change"], family_name="Wandel", locale="en")
    other = make_user(roles=["change"], family_name="Wechsel", locale="en")
    hr = make_user(roles=["hr"], family_name="Hoffmann", locale="en")
    places = {"fb3": fb3, "sub": sub, "fb2": fb2, "empty": empty, "clerk": clerk}
    return places | people | {"lead": lead, "other": other, "hr": hr}


def today():
    return assignments.town_today()


def initiative_data(town, **fields) -> services.InitiativeData:
    values = {
        "title": "E-Akte im Bürgerbüro",
        "description": "Wir führen die **E-Akte** ein.",
        "lead_id": town["lead"].id,
        "go_live": today() + timedelta(days=60),
        "department_ids": [town["fb3"].id],
        "job_role_ids": [],
        "phases": [],
    }
    return services.InitiativeData(**(values | fields))


def make_initiative(town, course=None, days=-14, start=True, **fields) -> Initiative:
    initiative = services.save_initiative(town["lead"], None, initiative_data(town, **fields), today())
    if course is not None:
        services.link_course(town["lead"], initiative, course.id, days, today())
    if start:
        services.start(town["lead"], initiative, today())
    db.session.commit()
    return initiative


def open_assignments(course) -> dict[int, Assignment]:
    rows = db.session.execute(
        select(Assignment).where(Assignment.course_id == course.id, Assignment.open_key.is_not(None))
    ).scalars()
    return {a.user_id: a for a in rows}


def notifications_of(kind: NotificationKind) -> list[int]:
    return sorted(db.session.execute(select(Notification.user_id).where(Notification.kind == kind)).scalars())


def client_of(app, user):
    """A browser of its own for `user` (signed in through the form)."""
    browser = app.test_client()
    token = csrf_token(browser.get("/auth/login"))
    browser.post("/auth/login", data={"csrf_token": token, "email": user.email, "password": DEFAULT_PASSWORD})
    return browser


def form_data(client, url: str, town, **fields) -> dict:
    values = {
        "csrf_token": csrf_token(client.get(url)),
        "title": "E-Akte im Bauamt",
        "description": "Was sich ändert.",
        "lead_id": str(town["lead"].id),
        "go_live": (today() + timedelta(days=60)).isoformat(),
        "department_ids": [str(town["fb3"].id)],
    }
    return values | fields


# --- the form -------------------------------------------------------------------------------


def test_a_form_with_mistakes_shows_each_error_next_to_its_field_and_stores_nothing(client, sign_in, town):
    sign_in(town["lead"])
    data = form_data(
        client,
        "/change/new",
        town,
        title="",
        lead_id="",
        go_live="",
        department_ids=[],
        **{"phases-0-name": "Schulung", "phases-0-starts_on": "2027-03-10", "phases-0-ends_on": "2027-03-01"},
    )
    response = client.post("/change/new", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="title-error"' in page and "Enter a title." in page
    assert 'id="lead_id-error"' in page and 'id="go_live-error"' in page
    assert 'id="department_ids-error"' in page and "Choose at least one department or job role" in page
    assert 'id="phases-0-ends_on-error"' in page and "The phase cannot end before it starts." in page
    assert 'href="#phases-0-ends_on"' in page  # the summary links to the field in its row
    assert db.session.scalar(select(func.count(Initiative.id))) == 0


def test_phases_are_kept_in_the_order_they_start_and_blank_rows_are_skipped(client, sign_in, town):
    sign_in(town["lead"])
    phases = {
        "phases-0-name": "Einführung",
        "phases-0-starts_on": "2027-04-01",
        "phases-0-ends_on": "2027-04-30",
        "phases-1-name": "",
        "phases-2-name": "Schulung",
        "phases-2-starts_on": "2027-03-01",
        "phases-2-ends_on": "2027-03-31",
    }
    response = client.post("/change/new", data=form_data(client, "/change/new", town, **phases))
    assert response.status_code == 302
    initiative = db.session.execute(select(Initiative)).scalar_one()
    assert initiative.status == InitiativeStatus.DRAFT
    assert [(p.position, p.name) for p in initiative.phases] == [(0, "Schulung"), (1, "Einführung")]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert page.index("Schulung") < page.index("Einführung")


def test_the_description_is_rendered_once_and_sanitised(town):
    text = "<script>alert(1)</script> [klick](javascript:alert(2)) **fett**"
    initiative = make_initiative(town, description=text, start=False)
    assert "<script>" not in initiative.description_html and "javascript:" not in initiative.description_html
    assert "<strong>fett</strong>" in initiative.description_html


# --- the target group -----------------------------------------------------------------------


def test_the_target_group_holds_sub_departments_and_job_roles(town):
    by_department = make_initiative(town)
    members = set(db.session.execute(services.target_group(by_department)).scalars())
    assert members == {town["a"].id, town["b"].id, town["c"].id}
    both = make_initiative(town, start=False, department_ids=[town["sub"].id], job_role_ids=[town["clerk"].id])
    members = set(db.session.execute(services.target_group(both)).scalars())
    assert members == {town["a"].id, town["b"].id, town["x"].id}
    # The same rule in the one-statement check used for each person's pages.
    for key in ("a", "b", "c", "x", "y"):
        in_group = services.initiative_for(town[key], by_department.id) is not None
        assert in_group == (key in "abc"), key


def test_an_empty_target_group_is_allowed_with_a_warning(client, sign_in, town):
    initiative = make_initiative(town, department_ids=[town["empty"].id], start=False)
    sign_in(town["lead"])
    page = client.get(f"/change/{initiative.id}/").get_data(as_text=True)
    assert "Empty target group" in page and "(0 people)" in page
    populated = make_initiative(town, start=False)
    assert "Empty target group" not in client.get(f"/change/{populated.id}/").get_data(as_text=True)


# --- linked courses become assignments ------------------------------------------------------


def test_a_linked_course_is_assigned_to_the_target_group_due_before_go_live(town, make_course):
    course = make_course()
    initiative = make_initiative(
        town, course, days=-14, department_ids=[town["sub"].id], job_role_ids=[town["clerk"].id]
    )
    assigned = open_assignments(course)
    assert set(assigned) == {town["a"].id, town["b"].id, town["x"].id}  # Adler once, though in both
    assert {a.due_on for a in assigned.values()} == {initiative.go_live - timedelta(days=14)}
    assert all(a.mandatory for a in assigned.values())
    assert sorted(notifications_of(NotificationKind.ASSIGNED)) == sorted(assigned)


def test_a_draft_assigns_nothing_until_it_starts(town, make_course):
    course = make_course()
    initiative = make_initiative(town, course, start=False)
    assert open_assignments(course) == {}
    services.start(town["lead"], initiative, today())
    assert set(open_assignments(course)) == {town["a"].id, town["b"].id, town["c"].id}


def test_a_joiner_of_the_target_group_is_assigned_by_the_daily_sync(town, make_course, make_user):
    course = make_course()
    initiative = make_initiative(town, course, days=-7)
    joiner = make_user(department=town["sub"], family_name="Neu")
    assignments.sync(today())
    db.session.commit()
    assert open_assignments(course)[joiner.id].due_on == initiative.go_live - timedelta(days=7)


def test_a_department_empty_at_the_start_still_assigns_its_joiners(town, make_course, make_user):
    course = make_course()
    make_initiative(town, course, department_ids=[town["empty"].id])
    assert open_assignments(course) == {}
    joiner = make_user(department=town["empty"])
    assignments.sync(today())
    assert set(open_assignments(course)) == {joiner.id}


def test_a_target_group_made_smaller_withdraws_the_open_assignments_of_those_who_left_it(town, make_course):
    course = make_course()
    initiative = make_initiative(town, course)
    services.save_initiative(town["lead"], initiative, initiative_data(town, department_ids=[town["sub"].id]), today())
    assert set(open_assignments(course)) == {town["a"].id, town["b"].id}


def test_unlinking_a_course_withdraws_its_open_assignments(client, sign_in, town, make_course):
    course = make_course()
    initiative = make_initiative(town, course)
    link = services.links_of(initiative)[0]
    sign_in(town["other"])
    token = csrf_token(client.get(f"/change/{initiative.id}/"))
    client.post(f"/change/{initiative.id}/courses/{link.id}/remove", data={"csrf_token": token})
    assert open_assignments(course) == {}


def test_linking_a_course_on_the_page_shows_errors_next_to_the_fields(client, sign_in, town, make_course):
    initiative = make_initiative(town)
    sign_in(town["lead"])
    token = csrf_token(client.get(f"/change/{initiative.id}/"))
    response = client.post(
        f"/change/{initiative.id}/courses", data={"csrf_token": token, "course_id": "", "days": "-3"}
    )
    page = response.get_data(as_text=True)
    assert 'id="course_id-error"' in page and 'id="days-error"' in page
    course = make_course()
    response = client.post(
        f"/change/{initiative.id}/courses",
        data={"csrf_token": token, "course_id": str(course.id), "days": "3", "direction": "after"},
    )
    assert response.status_code == 302
    assert {a.due_on for a in open_assignments(course).values()} == {initiative.go_live + timedelta(days=3)}


# --- a moved go-live ------------------------------------------------------------------------


def test_a_moved_go_live_moves_the_due_dates_and_tells_each_person_once(client, sign_in, town, make_course):
    first, second = make_course(), make_course()
    initiative = make_initiative(town, first, days=-14, job_role_ids=[town["clerk"].id])
    services.link_course(town["lead"], initiative, second.id, 0, today())
    db.session.commit()
    later = initiative.go_live + timedelta(days=30)
    sign_in(town["lead"])
    url = f"/change/{initiative.id}/edit"
    for _attempt in range(2):  # the same request twice (a double click, a retry)
        data = form_data(client, url, town, go_live=later.isoformat(), job_role_ids=[str(town["clerk"].id)])
        assert client.post(url, data=data).status_code == 302
    assert {a.due_on for a in open_assignments(first).values()} == {later - timedelta(days=14)}
    assert {a.due_on for a in open_assignments(second).values()} == {later}
    group = sorted(u.id for u in (town["a"], town["b"], town["c"], town["x"]))
    assert notifications_of(NotificationKind.GO_LIVE_MOVED) == group  # one each, not one per course
    # A second move is a new occasion: told again, once.
    db.session.expire_all()  # the pages changed the initiative
    services.move_go_live(initiative, later + timedelta(days=7), today())
    services.move_go_live(initiative, later + timedelta(days=7), today())
    assert notifications_of(NotificationKind.GO_LIVE_MOVED) == sorted(group * 2)


def test_moving_a_rules_due_date_leaves_closed_assignments_alone(town, make_course):
    course = make_course()
    initiative = make_initiative(town, course)
    rule = services.links_of(initiative)[0].rules[0]
    closed = open_assignments(course)[town["a"].id]
    closed.open_key, closed.completed_at = None, closed.assigned_at
    db.session.flush()
    new_day = today() + timedelta(days=100)
    moved = assignments.move_due_date(rule, new_day)
    assert {a.user_id for a in moved} == {town["b"].id, town["c"].id}
    assert rule.due_date == new_day and closed.due_on != new_day


# --- announcements --------------------------------------------------------------------------


def announce(town, initiative, title="Schulungstermine stehen fest", start=0, end=10):
    data = services.AnnouncementData(
        title, "Die Termine: *März*.", today() + timedelta(days=start), today() + timedelta(days=end)
    )
    announcement = services.announce(town["lead"], initiative, data, today())
    db.session.commit()
    return announcement


def test_announcements_are_shown_on_my_learning_to_the_target_group_within_their_dates(client, sign_in, town, app):
    initiative = make_initiative(town)
    announce(town, initiative, "Jetzt aktuell")
    announce(town, initiative, "Erst nächste Woche", start=7, end=14)
    sign_in(town["b"])
    page = client.get("/learning/").get_data(as_text=True)
    assert "Changes that concern you" in page and "E-Akte im Bürgerbüro" in page
    assert "Jetzt aktuell" in page and "<em>März</em>" in page
    assert "Erst nächste Woche" not in page
    page = client_of(app, town["y"]).get("/learning/").get_data(as_text=True)
    assert "Jetzt aktuell" not in page and "Changes that concern you" not in page


def test_an_announcement_notifies_the_target_group_once(town):
    initiative = make_initiative(town)
    announcement = announce(town, initiative)
    services.tell_announcements(today())
    announcement.told_at = None  # even told again, the key keeps it once per person
    services.tell_announcements(today())
    assert notifications_of(NotificationKind.ANNOUNCEMENT) == sorted([town["a"].id, town["b"].id, town["c"].id])


def test_a_future_announcement_is_told_on_its_first_day_and_a_draft_tells_nobody(town):
    draft = make_initiative(town, start=False)
    announce(town, draft)
    later = announce(town, make_initiative(town, title="Zweites Vorhaben"), start=3)
    assert notifications_of(NotificationKind.ANNOUNCEMENT) == []
    services.tell_announcements(later.shown_from)
    assert len(notifications_of(NotificationKind.ANNOUNCEMENT)) == 3
    services.start(town["lead"], draft, today())
    assert len(notifications_of(NotificationKind.ANNOUNCEMENT)) == 6


def test_an_announcement_with_mistakes_shows_the_errors_next_to_the_fields(client, sign_in, town):
    initiative = make_initiative(town)
    sign_in(town["hr"])
    token = csrf_token(client.get(f"/change/{initiative.id}/"))
    response = client.post(
        f"/change/{initiative.id}/announcements",
        data={"csrf_token": token, "title": "", "body": "x", "shown_from": "2027-01-10", "shown_until": "2027-01-01"},
    )
    page = response.get_data(as_text=True)
    assert 'id="title-error"' in page and 'id="shown_until-error"' in page


# --- guides, questions and the FAQ ----------------------------------------------------------


def test_the_target_group_sees_the_digital_guides_as_contacts(client, sign_in, town, app):
    initiative = make_initiative(town)
    services.add_guide(initiative, town["c"].id, town["sub"].id)
    db.session.commit()
    with pytest.raises(services.ValidationFailed):
        services.add_guide(initiative, town["x"].id, town["fb2"].id)  # not a department of the target group
    db.session.rollback()
    sign_in(town["a"])
    page = client.get(f"/change/{initiative.id}/about").get_data(as_text=True)
    assert town["c"].name in page and f"mailto:{town['c'].email}" in page
    page = client_of(app, town["c"]).get(f"/change/{initiative.id}/about").get_data(as_text=True)
    assert "You are a digital guide for: Bürgerbüro." in page


def ask(client, initiative, text, without_name=False):
    url = f"/change/{initiative.id}/about"
    data = {"csrf_token": csrf_token(client.get(url)), "text": text}
    if without_name:
        data["without_name"] = "y"
    return client.post(f"/change/{initiative.id}/ask", data=data)


def test_a_question_without_a_name_never_shows_the_name_and_answers_become_the_faq(client, sign_in, town, app):
    initiative = make_initiative(town)
    sign_in(town["a"])
    assert ask(client, initiative, "Bekomme ich einen zweiten Bildschirm?", without_name=True).status_code == 302
    assert "Bekomme ich einen zweiten Bildschirm?" in client.get(f"/change/{initiative.id}/about").get_data(
        as_text=True
    )  # the asker sees their own question
    member = client_of(app, town["b"])
    ask(member, initiative, "Wann ist die Schulung?")
    question = db.session.execute(select(Question).where(Question.without_name.is_(True))).scalar_one()
    assert question.user_id == town["a"].id  # kept, for the asker's own list and their copy of their data

    lead = client_of(app, town["lead"])
    page = lead.get(f"/change/{initiative.id}/questions").get_data(as_text=True)
    assert town["a"].family_name not in page and "Question without a name" in page
    assert f"Question from {town['b'].name}" in page
    looked = db.session.execute(
        select(AuditEntry.subject_id).where(AuditEntry.action == AuditAction.VIEW_CHANGE_QUESTIONS)
    ).scalars()
    assert list(looked) == [town["b"].id]  # the named asker only

    token = csrf_token(lead.get(f"/change/{initiative.id}/questions"))
    lead.post(
        f"/change/{initiative.id}/questions/{question.id}/answer",
        data={"csrf_token": token, f"answer-{question.id}-answer": "Ja, alle bekommen einen."},
    )
    page = member.get(f"/change/{initiative.id}/about").get_data(as_text=True)
    assert "Ja, alle bekommen einen." in page and "Bekomme ich einen zweiten Bildschirm?" in page
    assert town["a"].family_name not in page
    assert "Wann ist die Schulung?" in page  # b's own, unanswered question, in b's list only


def test_an_empty_question_is_refused_next_to_the_field(client, sign_in, town):
    initiative = make_initiative(town)
    sign_in(town["a"])
    page = ask(client, initiative, "   ").get_data(as_text=True)
    assert 'id="text-error"' in page and "Enter your question." in page


# --- who sees what --------------------------------------------------------------------------


def test_outside_the_target_group_or_as_a_draft_the_page_answers_404(client, sign_in, town, app):
    running = make_initiative(town)
    draft = make_initiative(town, start=False, title="Noch geheim")
    sign_in(town["y"])
    assert client.get(f"/change/{running.id}/about").status_code == 404
    assert client.post(f"/change/{running.id}/ask", data={"text": "x"}).status_code in (400, 404)
    assert "E-Akte" not in client.get("/change/mine").get_data(as_text=True)
    member = client_of(app, town["a"])
    assert member.get(f"/change/{running.id}/about").status_code == 200
    assert member.get(f"/change/{draft.id}/about").status_code == 404
    assert member.get(f"/change/{running.id}/").status_code == 403
    assert member.get("/change/").status_code == 403


@pytest.mark.parametrize("who", ["other", "hr"])
def test_any_change_lead_and_hr_manage_every_initiative(client, sign_in, town, who):
    initiative = make_initiative(town)
    sign_in(town[who])
    assert client.get(f"/change/{initiative.id}/edit").status_code == 200
    token = csrf_token(client.get(f"/change/{initiative.id}/"))
    assert client.post(f"/change/{initiative.id}/close", data={"csrf_token": token}).status_code == 302
    db.session.refresh(initiative)
    assert initiative.status == InitiativeStatus.CLOSED


def test_changes_need_a_post_with_a_csrf_token(client, sign_in, town):
    initiative = make_initiative(town, start=False)
    sign_in(town["lead"])
    assert client.get(f"/change/{initiative.id}/start").status_code == 405
    assert client.post(f"/change/{initiative.id}/start").status_code == 400
    db.session.refresh(initiative)
    assert initiative.status == InitiativeStatus.DRAFT


# --- statements per page --------------------------------------------------------------------


def statements(client, count_queries, url: str) -> int:
    with count_queries() as counter:
        assert client.get(url).status_code == 200
    return counter.count


def test_the_list_takes_a_fixed_number_of_statements(client, sign_in, town, count_queries):
    make_initiative(town)
    sign_in(town["lead"])
    statements(client, count_queries, "/change/")
    one = statements(client, count_queries, "/change/")
    for number in range(4):
        make_initiative(town, title=f"Vorhaben {number}", job_role_ids=[town["clerk"].id])
    assert statements(client, count_queries, "/change/") == one


def test_the_page_of_the_target_group_takes_a_fixed_number_of_statements(
    client, sign_in, town, count_queries, make_user
):
    initiative = make_initiative(town)
    url = f"/change/{initiative.id}/about"
    sign_in(town["a"])
    statements(client, count_queries, url)
    few = statements(client, count_queries, url)
    for number in range(3):
        guide = make_user(department=town["sub"])
        services.add_guide(initiative, guide.id, town["sub"].id)
        announce(town, initiative, f"Nachricht {number}")
        question = services.ask(initiative, town["b"], f"Frage {number}?", without_name=False)
        services.answer(question, town["lead"], "Antwort.")
        services.ask(initiative, town["a"], f"Meine Frage {number}?", without_name=True)
    db.session.commit()
    assert statements(client, count_queries, url) == few
    with count_queries() as counter:
        client.get("/learning/")
    assert len([s for s in counter.statements if "FROM initiatives" in s]) == 1  # My learning: one more


def test_the_daily_job_tells_announcements_whose_first_day_has_come(app, town):
    from lms.change import tasks

    announcement = announce(town, make_initiative(town), start=0)
    announcement.told_at = None  # as if it had been stored before its first day
    db.session.commit()
    assert tasks.tell_announcements(app) == 0  # everyone was told at publishing: once each
    assert len(notifications_of(NotificationKind.ANNOUNCEMENT)) == 3
