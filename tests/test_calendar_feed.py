"""The private calendar feed: shown once, stored as a hash, renewable, and holding open deadlines only."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from flask_babel import force_locale
from icalendar import Calendar
from sqlalchemy import select

from lms.assignments import services
from lms.assignments.models import CalendarFeed
from lms.common.dates import utcnow
from lms.common.vocabulary import AssignmentScope, DueKind
from lms.extensions import db
from lms.i18n import _
from lms.learning.models import Completion
from tests.browser import assert_accessible
from tests.browser import sign_in as browser_sign_in
from tests.conftest import csrf_token
from tests.factories import DEFAULT_PASSWORD

FEED_URL = re.compile(r'value="(https?://[^"/]+/calendar/([A-Za-z0-9_-]+)\.ics)"')


@pytest.fixture
def learner(make_user, make_course, make_department):
    """A person with three mandatory courses (one open, one overdue, one completed) and one exempted;
    a colleague with an open course of their own."""
    today = services.town_today()
    hr = make_user(roles=["hr"])
    department = make_department(code="FB4")
    person = make_user(department=department, family_name="Lernend")
    colleague = make_user(department=department, family_name="Kollegin")
    courses = {
        name: make_course(slug=name, title=title)
        for name, title in [
            ("open", "Datenschutz, Grundlagen; Teil 1"),
            ("late", "IT-Sicherheit"),
            ("done", "Barrierefreiheit"),
            ("freed", "Kassenwesen"),
            ("theirs", "Nur für die Kollegin"),
        ]
    }
    for name in ("open", "late", "done", "freed"):
        services.create_rule(hr, rule(courses[name], person), today)
    services.create_rule(hr, rule(courses["theirs"], colleague), today)
    assignments = {view.assignment.course.slug: view.assignment for view in services.my_assignments(person, today)}
    assignments["late"].due_on = today - timedelta(days=3)
    db.session.add(
        Completion(
            user_id=person.id,
            course_id=courses["done"].id,
            sequence=1,
            course_version=1,
            completed_at=utcnow(),
            score_percent=93,
        )
    )
    db.session.flush()
    services.close_met_assignments(user_id=person.id)
    services.exempt(hr, assignments["freed"], "Elternzeit")
    db.session.commit()
    return {"person": person, "colleague": colleague, "courses": courses, "assignments": assignments, "today": today}


def rule(course, person) -> services.RuleData:
    return services.RuleData(
        course_id=course.id,
        scope=AssignmentScope.PERSON,
        user_id=person.id,
        due_kind=DueKind.WITHIN_DAYS,
        due_days=14,
        mandatory=True,
    )


def turn_on(client, endpoint="/profile/calendar/address"):
    page = client.get("/profile/calendar")
    response = client.post(endpoint, data={"csrf_token": csrf_token(page)})
    return response


def feed_address(response) -> tuple[str, str]:
    match = FEED_URL.search(response.get_data(as_text=True))
    assert match, "the page shows no feed address"
    return match.group(1), match.group(2)


def events(response) -> dict[str, Calendar]:
    calendar = Calendar.from_ical(response.data)
    return {str(event.get("url")).rstrip("/").rsplit("/", 1)[-1]: event for event in calendar.walk("VEVENT")}


def test_the_page_and_its_actions_need_a_signed_in_person(client):
    assert "/auth/login" in client.get("/profile/calendar").headers["Location"]
    assert client.post("/profile/calendar/address").status_code in (302, 400)
    assert db.session.scalar(select(CalendarFeed.user_id)) is None


def test_turning_on_shows_the_address_once_and_stores_only_its_hash(client, sign_in, learner):
    sign_in(learner["person"])
    assert 'id="calendar-address"' not in client.get("/profile/calendar").get_data(as_text=True)
    response = turn_on(client)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    url, token = feed_address(response)
    assert url == f"http://localhost:5000/calendar/{token}.ics" and len(token) >= 43
    feed = db.session.execute(select(CalendarFeed)).scalar_one()
    assert feed.user_id == learner["person"].id
    assert feed.token_hash == hashlib.sha256(token.encode()).hexdigest() and token not in feed.token_hash
    again = client.get("/profile/calendar").get_data(as_text=True)
    assert token not in again and 'id="calendar-address"' not in again


def test_the_feed_holds_the_open_deadlines_only(client, sign_in, learner):
    sign_in(learner["person"])
    _url, token = feed_address(turn_on(client))
    response = client.get(f"/calendar/{token}.ics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.headers["Cache-Control"] == "private, no-store"
    found = events(response)
    assert set(found) == {"open", "late"}  # not the completed, the exempted or the colleague's
    today, assignments = learner["today"], learner["assignments"]
    open_event = found["open"]
    assert open_event.start == today + timedelta(days=14) and open_event.end == open_event.start + timedelta(days=1)
    assert found["late"].start == today - timedelta(days=3)  # overdue, still to do
    with force_locale("de"):
        expected = _("Due: %(title)s", title="Datenschutz, Grundlagen; Teil 1")
    assert str(open_event.get("summary")) == expected
    assert str(open_event.get("url")) == "http://localhost:5000/courses/open/"
    assert str(open_event.get("uid")) == f"assignment-{assignments['open'].id}@localhost"
    text = response.get_data(as_text=True)
    assert "Elternzeit" not in text and "Kollegin" not in text and "Barrierefreiheit" not in text
    assert {str(e.get("uid")) for e in events(client.get(f"/calendar/{token}.ics")).values()} == {
        str(e.get("uid")) for e in found.values()
    }  # stable: calendar programs update instead of adding again


def test_the_feed_speaks_the_persons_language_not_the_callers(app, client, sign_in, learner):
    sign_in(learner["person"])
    _url, token = feed_address(turn_on(client))
    calendar_program = app.test_client()  # no session: as a calendar program asks
    learner["person"].locale = "en"
    db.session.commit()
    found = events(calendar_program.get(f"/calendar/{token}.ics", headers={"Accept-Language": "de"}))
    assert str(found["late"].get("summary")) == "Due: IT-Sicherheit"
    learner["person"].locale = None  # the installation's language: German
    db.session.commit()
    found = events(calendar_program.get(f"/calendar/{token}.ics", headers={"Accept-Language": "en"}))
    with force_locale("de"):
        assert str(found["late"].get("summary")) == _("Due: %(title)s", title="IT-Sicherheit")


def test_renewing_makes_the_old_address_stop_working(client, sign_in, learner):
    sign_in(learner["person"])
    _url, old = feed_address(turn_on(client))
    _url, new = feed_address(turn_on(client))
    assert old != new
    assert client.get(f"/calendar/{old}.ics").status_code == 404
    assert client.get(f"/calendar/{new}.ics").status_code == 200
    assert db.session.scalar(select(CalendarFeed.token_hash)) == hashlib.sha256(new.encode()).hexdigest()


def test_turning_off_deletes_the_feed(client, sign_in, learner):
    sign_in(learner["person"])
    _url, token = feed_address(turn_on(client))
    response = turn_on(client, "/profile/calendar/off")
    assert response.status_code == 303
    assert client.get(f"/calendar/{token}.ics").status_code == 404
    assert db.session.scalar(select(CalendarFeed.user_id)) is None


@pytest.mark.parametrize("token", ["unbekannt", "x" * 43, "a" * 500, "..", "%00"])
def test_unknown_tokens_are_not_found(client, learner, token):
    assert client.get(f"/calendar/{token}.ics").status_code in (400, 404)


def test_a_deactivated_persons_feed_is_not_found(client, sign_in, learner):
    sign_in(learner["person"])
    _url, token = feed_address(turn_on(client))
    learner["person"].active = False
    db.session.commit()
    assert client.get(f"/calendar/{token}.ics").status_code == 404


def test_the_feed_takes_a_fixed_number_of_queries(client, sign_in, learner, make_course, count_queries):
    sign_in(learner["person"])
    _url, token = feed_address(turn_on(client))

    def queries():
        with count_queries() as counter:
            assert client.get(f"/calendar/{token}.ics").status_code == 200
        return counter.count

    few = queries()
    for number in range(5):
        course = make_course(slug=f"mehr-{number}")
        services.create_rule(None, rule(course, learner["person"]), learner["today"])
    db.session.commit()
    assert len(events(client.get(f"/calendar/{token}.ics"))) == 7
    assert queries() == few


@pytest.mark.browser
def test_the_calendar_page_is_accessible(page, learner):
    browser_sign_in(page, learner["person"].email, DEFAULT_PASSWORD)
    page.goto("/profile/calendar")
    assert_accessible(page)
    page.locator("form[action='/profile/calendar/address'] button").click()
    page.wait_for_load_state()
    assert "/calendar/" in page.locator("#feed-url").input_value()
    assert_accessible(page)


def test_the_feed_asks_calendar_programs_to_look_again_every_few_hours(client, sign_in, learner):
    sign_in(learner["person"])
    _url, token = feed_address(turn_on(client))
    calendar = Calendar.from_ical(client.get(f"/calendar/{token}.ics").data)
    assert calendar.get("x-published-ttl") == "PT6H"
    assert calendar.refresh_interval == timedelta(hours=6)
