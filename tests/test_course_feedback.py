"""Course feedback (issue 14): rated once after completing, stored without the person, shown to the
course's owners (administrators: all) only from five answers on."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from lms.catalog.models import CourseDraft, CourseOwner
from lms.extensions import db
from lms.learning import feedback
from lms.learning.models import Completion, CourseFeedback, CourseFeedbackGiven
from lms.privacy.subject_access import personal_data
from tests.conftest import csrf_token


def complete(person, course) -> None:
    db.session.add(Completion(user_id=person.id, course_id=course.id, course_version=course.version, score_percent=90))
    db.session.commit()


def own(person, course) -> None:
    draft = CourseDraft(slug=course.slug, course_id=course.id, content_hash="x" * 64)
    draft.owners.append(CourseOwner(user_id=person.id, kind="owner"))
    db.session.add(draft)
    db.session.commit()


def post_feedback(client, course, **fields):
    url = f"/courses/{course.slug}/feedback"
    data = {"csrf_token": csrf_token(client.get(f"/courses/{course.slug}/")), **fields}
    return client.post(url, data=data)


def answers() -> int:
    return db.session.scalar(select(func.count()).select_from(CourseFeedback))


@pytest.fixture
def learner(make_user, sign_in):
    person = make_user(locale="en")
    sign_in(person)
    return person


def rate_as_others(make_user, course, ratings, comments=()):
    """Stored through the service, as `len(ratings)` other learners would."""
    comments = list(comments) + [""] * (len(ratings) - len(comments))
    for rating, comment in zip(ratings, comments, strict=True):
        person = make_user()
        complete(person, course)
        completion = db.session.execute(select(Completion).where(Completion.user_id == person.id)).scalar_one()
        feedback.give(person, course.id, completion, rating, "about_right" if rating > 2 else "too_long", comment)
    db.session.commit()


# --- the learner's side --------------------------------------------------------------------------


def test_only_a_learner_who_completed_the_course_rates_it(client, learner, make_course):
    course = make_course()
    html = client.get(f"/courses/{course.slug}/").get_data(as_text=True)
    assert f"/courses/{course.slug}/feedback" not in html  # no invitation before completing
    page = client.get(f"/courses/{course.slug}/feedback").get_data(as_text=True)
    assert "once you have completed it" in page and 'id="feedback-form"' not in page
    response = post_feedback(client, course, helpful="4", length="about_right")
    assert response.status_code == 403 and answers() == 0

    complete(learner, course)
    html = client.get(f"/courses/{course.slug}/").get_data(as_text=True)
    assert f"/courses/{course.slug}/feedback" in html
    page = client.get(f"/courses/{course.slug}/feedback").get_data(as_text=True)
    assert 'id="feedback-form"' in page and "Please do not name people" in page


def test_mistakes_are_shown_next_to_their_fields_and_nothing_is_stored(client, learner, make_course):
    course = make_course()
    complete(learner, course)
    response = post_feedback(client, course, helpful="7", length="endless", comment="x" * 1001)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    for name in ("helpful", "length", "comment"):
        assert f'id="{name}-error"' in html, name
    assert "from 1 to 5" in html and "at most 1000 characters" in html
    assert 'aria-describedby="helpful-error"' in html  # the fieldset names its error
    response = post_feedback(client, course, helpful="3", length="about_right", comment="Gut\x1b[31m")
    assert 'id="comment-error"' in response.get_data(as_text=True)
    assert answers() == 0 and db.session.scalar(select(func.count()).select_from(CourseFeedbackGiven)) == 0


def test_an_answer_is_stored_without_the_person_and_without_a_time(client, learner, make_course):
    course = make_course()
    complete(learner, course)
    response = post_feedback(client, course, helpful="4", length="too_long", comment="  Mehr Beispiele, bitte.  ")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/courses/{course.slug}/")
    stored = db.session.execute(select(CourseFeedback)).scalar_one()
    assert (stored.course_id, stored.helpful, stored.length, stored.comment) == (
        course.id,
        4,
        "too_long",
        "Mehr Beispiele, bitte.",
    )
    assert stored.month == feedback.town_month() and re.fullmatch(r"\d{4}-\d{2}", stored.month)
    assert re.fullmatch(r"[0-9a-f]{32}", stored.key)  # random: no counting id that gives the order

    answers_table = CourseFeedback.__table__
    assert not [c for c in answers_table.columns if c.foreign_keys and "users" in str(list(c.foreign_keys)[0].column)]
    assert not [c.name for c in answers_table.columns if "user" in c.name or "person" in c.name]
    assert not [c.name for c in answers_table.columns if isinstance(c.type, sa.DateTime | sa.Date)]
    assert not [
        c.name
        for c in answers_table.columns
        if c.autoincrement is True or isinstance(c.type, sa.Integer) and c.primary_key
    ]
    given_table = CourseFeedbackGiven.__table__
    assert {c.name for c in given_table.columns} == {"user_id", "course_id"}  # nothing to join the answer by
    assert db.session.get(CourseFeedbackGiven, (learner.id, course.id)) is not None

    # The person's copy of their data holds that they answered, never what.
    copy = personal_data(learner.id)
    assert copy.tables["course_feedback_given"] == [{"user_id": learner.id, "course_id": course.id}]
    assert "course_feedback" not in copy.tables


def test_a_second_answer_is_refused_kindly(client, learner, make_course):
    course = make_course()
    complete(learner, course)
    post_feedback(client, course, helpful="2", length="too_short")
    response = post_feedback(client, course, helpful="5", length="about_right", comment="Doch gut")
    assert response.status_code == 302
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "You have already rated this course" in html
    assert answers() == 1 and db.session.execute(select(CourseFeedback.helpful)).scalar_one() == 2
    page = client.get(f"/courses/{course.slug}/feedback").get_data(as_text=True)
    assert "You have already rated this course" in page and 'id="feedback-form"' not in page


def test_two_answers_at_the_same_moment_give_one(database, make_user, make_course):
    course = make_course()
    person = make_user()
    complete(person, course)
    completion = db.session.execute(select(Completion)).scalar_one()
    feedback.give(person, course.id, completion, 3, "about_right", "")
    with pytest.raises(feedback.AlreadyGiven):
        feedback.give(person, course.id, completion, 5, "too_long", "")
    db.session.commit()
    assert answers() == 1


# --- the trainers' side ----------------------------------------------------------------------------


@pytest.fixture
def owner(make_user, make_course):
    person = make_user(roles=["trainer"], locale="en")
    course = make_course(title="Sicher im Netz")
    own(person, course)
    return person, course


def test_below_five_answers_only_the_count_band_is_shown(client, sign_in, make_user, owner):
    trainer, course = owner
    sign_in(trainer)
    html = client.get(f"/trainer/courses/{course.slug}/feedback").get_data(as_text=True)
    assert 'data-answers="none"' in html
    rate_as_others(make_user, course, [5, 1, 4, 2], comments=["Geheimer Kommentar"])
    html = client.get(f"/trainer/courses/{course.slug}/feedback").get_data(as_text=True)
    assert 'data-answers="few"' in html and "Fewer than 5 answers" in html
    assert "Geheimer Kommentar" not in html and "feedback-helpful" not in html and "Median" not in html
    assert "4 answers" not in html


def test_from_five_answers_the_figures_and_comments_are_shown(client, sign_in, make_user, owner, app, monkeypatch):
    trainer, course = owner
    rate_as_others(make_user, course, [5, 4, 4, 3, 1], comments=["zuletzt alphabetisch", "Anfang", "mittendrin"])
    sign_in(trainer)
    html = client.get(f"/trainer/courses/{course.slug}/feedback").get_data(as_text=True)
    assert 'data-answers="5"' in html and "Median of “how helpful”: 4 of 5." in html
    # Fewer than 20 answers: every share is a range, never an exact 0 % or 100 %.
    assert html.count('data-state="band"') == 5 + 3
    assert 'data-rating="4" data-state="band"' in html and "25 to under 50 %" in html
    comments = re.findall(r'<li class="feedback-comment">([^<]*)</li>', html)
    assert comments == ["Anfang", "mittendrin", "zuletzt alphabetisch"]  # by their text, not by time

    monkeypatch.setitem(app.config, "PRIVACY_EXACT_SHARE_FROM", 5)
    html = client.get(f"/trainer/courses/{course.slug}/feedback").get_data(as_text=True)
    assert "40 % (2 of 5)" in html and 'data-length="too_long" data-state="exact"' in html
    assert "20 % (1 of 5)" in html  # one "too long" (the rating 1)


@pytest.mark.parametrize("who", ["owner", "admin", "other_trainer", "employee", "hr"])
def test_only_the_courses_owners_and_administrators_see_its_feedback(client, sign_in, make_user, owner, who):
    trainer, course = owner
    people = {
        "owner": trainer,
        "admin": make_user(roles=["admin"]),
        "other_trainer": make_user(roles=["trainer"]),
        "employee": make_user(),
        "hr": make_user(roles=["hr"]),
    }
    sign_in(people[who])
    status = client.get(f"/trainer/courses/{course.slug}/feedback").status_code
    assert status == (200 if who in ("owner", "admin") else 403)
    if who == "owner":
        assert f"/trainer/courses/{course.slug}/feedback" in client.get("/trainer/").get_data(as_text=True)


def statements(client, count_queries, url: str) -> int:
    with count_queries() as counter:
        assert client.get(url).status_code == 200
    return counter.count


def test_the_trainers_page_takes_a_fixed_number_of_statements(client, sign_in, make_user, owner, count_queries):
    trainer, course = owner
    url = f"/trainer/courses/{course.slug}/feedback"
    rate_as_others(make_user, course, [4] * 5, comments=["a", "b"])
    sign_in(trainer)
    statements(client, count_queries, url)  # the course version is now in the outline cache
    # session; the bell; version (and the trainer's completion); the courses they own; the answers
    assert statements(client, count_queries, url) == 5
    rate_as_others(make_user, course, [1, 2, 3, 4, 5] * 3, comments=["c", "d", "e", "f"])
    assert statements(client, count_queries, url) == 5


def test_the_form_takes_a_fixed_number_of_statements(client, learner, make_user, make_course, count_queries):
    course = make_course()
    complete(learner, course)
    statements(client, count_queries, f"/courses/{course.slug}/feedback")
    # session; the bell; version and latest completion; answered already?
    assert statements(client, count_queries, f"/courses/{course.slug}/feedback") == 4
