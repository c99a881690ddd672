"""The outline cache (lms.catalog.outline): a course version is read once per process, and a new
version, another course or a renamed competence is never hidden behind an old entry."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import select

from lms.catalog import outline
from lms.catalog.importer import sync_directory
from lms.catalog.models import Course
from lms.extensions import db
from lms.frameworks.models import Competence, Framework
from tests.test_course_format import COURSE_MD, LESSON_MD
from tests.test_course_format import make_course as write_course


@pytest.fixture
def learner(make_user, sign_in):
    user = make_user()
    sign_in(user)
    return user


def imported(tmp_path, files: dict) -> Course:
    write_course(tmp_path, files)
    result = sync_directory(tmp_path / "courses")
    db.session.commit()
    assert not result.problems, result.problems
    db.session.expire_all()
    return db.session.execute(select(Course).where(Course.slug == "testkurs")).scalar_one()


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def test_a_reimport_is_seen_at_once_on_every_page(client, learner, digcomp, tmp_path):
    first = imported(tmp_path, {})
    for url in ("/courses/", "/courses/testkurs/", "/courses/testkurs/01-erste"):
        assert "Testkurs" in page(client, url)
    second = imported(tmp_path, {"course.md": COURSE_MD.replace("Testkurs", "Sicher mailen")})
    assert (second.id, second.version) == (first.id, 2)
    for url in ("/courses/", "/courses/testkurs/", "/courses/testkurs/01-erste"):
        html = page(client, url)
        assert "Sicher mailen" in html and "Testkurs" not in html, url


def test_a_changed_lesson_shows_its_new_content_and_questions(client, learner, digcomp, tmp_path):
    imported(tmp_path, {"02-zweite.md": "# Zweite\n\nAlter Text.\n"})
    assert "Alter Text." in page(client, "/courses/testkurs/02-zweite")
    assert "Ist das richtig?" in page(client, "/courses/testkurs/01-erste")
    imported(
        tmp_path,
        {
            "01-erste.md": LESSON_MD.replace("Ist das richtig?", "Stimmt das so?"),
            "02-zweite.md": "# Zweite\n\nNeuer Text.\n",
        },
    )
    second = page(client, "/courses/testkurs/02-zweite")
    assert "Neuer Text." in second and "Alter Text." not in second
    first = page(client, "/courses/testkurs/01-erste")
    assert "Stimmt das so?" in first and "Ist das richtig?" not in first


def test_two_courses_of_the_same_version_each_show_their_own(client, learner, make_course):
    first, second = make_course(title="Erster Kurs"), make_course(title="Zweiter Kurs")
    assert first.version == second.version == 1
    for course, other in ((first, second), (second, first)):
        html = page(client, f"/courses/{course.slug}/")
        assert course.title in html and other.title not in html


def test_a_new_course_with_the_id_of_a_deleted_one_is_not_served_the_old_snapshot(client, learner, make_course):
    old = make_course(slug="alt", title="Alter Kurs")
    assert "Alter Kurs" in page(client, "/courses/alt/")
    old_id = old.id
    db.session.delete(old)
    db.session.commit()
    new = make_course(slug="neu", title="Neuer Kurs")  # SQLite hands the id out again
    assert new.version == 1
    html = page(client, "/courses/neu/")
    assert "Neuer Kurs" in html and "Alter Kurs" not in html
    assert new.id == old_id or db.engine.dialect.name != "sqlite"


def test_an_archived_course_is_gone_at_once(client, learner, make_course):
    course = make_course()
    assert client.get(f"/courses/{course.slug}/").status_code == 200
    course.archived = True
    db.session.commit()
    assert client.get(f"/courses/{course.slug}/").status_code == 404
    assert course.title not in page(client, "/courses/")


def test_a_framework_update_renames_competences_at_once(client, learner, make_course):
    course = make_course(competences=(("4.1", 3),))
    assert "4.1 Geräte schützen" in page(client, f"/courses/{course.slug}/")
    competence = db.session.execute(select(Competence).where(Competence.code == "4.1")).scalar_one()
    competence.title_de = "Geräte absichern"
    db.session.execute(select(Framework)).scalar_one().content_hash = "f" * 64  # as the loader does
    db.session.commit()
    html = page(client, f"/courses/{course.slug}/")
    assert "4.1 Geräte absichern" in html and "Geräte schützen" not in html


def test_the_language_picks_a_competence_title_from_the_same_snapshot(client, make_user, sign_in, make_course):
    course = make_course(competences=(("4.1", 3),))
    sign_in(make_user(locale="de"))
    assert "4.1 Geräte schützen" in page(client, f"/courses/{course.slug}/")
    client.post("/auth/logout", data={"csrf_token": csrf(client)})
    sign_in(make_user(locale="en"))
    assert "4.1 Protecting devices" in page(client, f"/courses/{course.slug}/")


def csrf(client) -> str:
    from tests.conftest import csrf_token

    return csrf_token(client.get("/learning/"))


def current_key(course) -> outline.OutlineKey:
    return outline.key_of(db.session.execute(select(*outline.key_columns()).where(Course.id == course.id)).one())


def test_snapshots_are_detached_frozen_dataclasses(app, make_course):
    course = make_course()
    with app.test_request_context():
        [snapshot] = outline.outlines([current_key(course)])
    assert snapshot.title == course.title and [lesson.key for lesson in snapshot.lessons] == [
        "01-lektion",
        "02-lektion",
    ]
    with pytest.raises(dataclasses.FrozenInstanceError):
        snapshot.title = "anders"
    parts = [
        snapshot,
        *snapshot.lessons,
        *snapshot.competences,
        *(q for lesson in snapshot.lessons for q in lesson.questions),
    ]
    assert not any(hasattr(part, "_sa_instance_state") for part in parts)


def test_a_version_changed_after_its_key_was_read_is_served_but_not_kept(app, make_course):
    course = make_course(title="Vorher")
    with app.test_request_context():
        stale = current_key(course)
        course.version, course.title = 2, "Nachher"  # an import commits between the two reads
        db.session.commit()
        [served] = outline.outlines([stale])
        assert (served.version, served.title) == (2, "Nachher")
        assert stale not in outline._cache().get_many([stale])
        [current] = outline.outlines([current_key(course)])
        assert current.title == "Nachher"


def test_the_cache_forgets_the_least_recently_used_beyond_its_limit(app, make_course):
    courses = [make_course() for _ in range(3)]
    with app.test_request_context():
        keys = [current_key(course) for course in courses]
        snapshots = dict(zip(keys, outline.outlines(keys), strict=True))
    cache = outline.LruCache(limit=2)
    cache.put_many({keys[0]: snapshots[keys[0]], keys[1]: snapshots[keys[1]]})
    cache.get_many([keys[0]])  # used: keys[1] is now the oldest
    cache.put_many({keys[2]: snapshots[keys[2]]})
    assert len(cache) == 2 and set(cache.get_many(keys)) == {keys[0], keys[2]}


def test_each_app_has_its_own_cache(app, make_course):
    from lms import create_app

    other = create_app({"LMS_ENV": "testing", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    with app.app_context():
        mine = outline._cache()
    with other.app_context():
        assert outline._cache() is not mine
