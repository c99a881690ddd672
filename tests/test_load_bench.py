"""The load benchmark's own parts (bench/scale.py, the client in bench/load.py), on a small scale:
the scaling step on a demo town with one shipped course, and a virtual person signing in, reading
a lesson and submitting its quiz over real HTTP (the live server, no gunicorn)."""

import asyncio
import random
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from bench import load, scale
from lms.assignments.models import Assignment
from lms.catalog.importer import sync_courses
from lms.catalog.models import Course, Lesson
from lms.extensions import db
from lms.learning.models import Enrollment
from lms.people.models import User
from lms.privacy import notice


def _demo_town(app) -> None:
    result = sync_courses([scale.SHIPPED_COURSES / scale.MANDATORY_COURSE])
    assert not result.failed
    db.session.commit()
    seeded = app.test_cli_runner().invoke(args=["demo", "seed", "--password", load.PASSWORD])
    assert seeded.exit_code == 0, seeded.output


def test_scaling_grows_the_town_and_a_virtual_person_submits_a_quiz(app, database, digcomp, live_server, tmp_path):
    _demo_town(app)
    before = db.session.scalar(select(func.count(User.id)))
    password_hash = scale.shared_password_hash(load.PASSWORD)
    assert scale.prepare(password_hash) > 0
    grown = scale.grow(before + 30, 2, password_hash, tmp_path)
    db.session.commit()

    assert (grown.people_added, grown.courses_added) == (30, 1)
    people = list(db.session.execute(select(User).where(User.active.is_(True))).scalars())
    assert len(people) == before + 30
    assert all(person.password_hash and notice.has_read_current(person) for person in people)
    new = [person for person in people if person.email.startswith(scale.EMAIL_PREFIX)]
    assert len({person.personnel_number for person in new}) == 30 and all(p.department_id for p in new)
    clone = db.session.execute(select(Course).where(Course.slug == "barrierefreie-dokumente-2")).scalar_one()
    assert "(Lasttest 2)" in clone.title
    mandatory = db.session.execute(select(Course).where(Course.slug == scale.MANDATORY_COURSE)).scalar_one()
    assigned = select(func.count(func.distinct(Assignment.user_id))).where(Assignment.course_id == mandatory.id)
    assert db.session.scalar(assigned) == len(people)  # everyone, the new people too

    lessons = db.session.execute(
        select(Lesson.key).where(Lesson.course_id == mandatory.id, Lesson.variant == "").order_by(Lesson.position)
    ).scalars()
    lesson = f"/courses/{mandatory.slug}/{next(iter(lessons))}"
    started = set(db.session.execute(select(Enrollment.user_id).where(Enrollment.course_id == mandatory.id)).scalars())
    learner = next(person for person in new if person.id not in started)  # the quiz form is shown to them
    # In a thread of its own: a browser test before this one on the same worker may have left
    # Playwright's event loop running in this thread.
    with ThreadPoolExecutor(1) as thread:
        recorder = thread.submit(asyncio.run, _one_person(live_server, learner.email, lesson)).result()
    assert recorder.error_count == 0, recorder.messages
    assert {name: len(times) for name, times in recorder.latencies.items() if name != "after_sign_in"} == {
        "sign_in_page": 1,
        "sign_in": 1,
        "my_learning": 1,
        "lesson": 1,
        "quiz_page": 2,  # the lesson with the form, then the redirect back after the submit
        "quiz": 1,
    }


async def _one_person(base: str, email: str, lesson: str) -> load.Recorder:
    recorder = load.Recorder()
    person = load.VirtualUser(base, email, recorder, random.Random(1))
    try:
        landed = await person.sign_in(load.PASSWORD)
        assert landed.path == "/learning/" and f'href="/courses/{scale.MANDATORY_COURSE}/"' in landed.text
        await person.fetch("lesson", "GET", lesson)
        person.quiz_lessons = [lesson]
        await person.submit_quiz()
    finally:
        await person.close()
    return recorder


@pytest.mark.database_free
def test_monday_keeps_its_peak_minute_whatever_the_compression(app):
    for minutes in (5, 2):
        times = load.monday_schedule(500, 250, minutes, random.Random(1))
        start = (minutes - 1) * 60 / 2
        assert len(times) == 500 and 0 <= times[0] and times[-1] <= minutes * 60
        assert sum(1 for at in times if start <= at <= start + 60) >= 250
    with pytest.raises(ValueError):
        load.monday_schedule(500, 250, 1.5, random.Random(1))
    assert load.percentile([0.3, 0.1, 0.2, 0.4], 0.95) == 0.4 and load.percentile(list(range(1, 101)), 0.95) == 95
