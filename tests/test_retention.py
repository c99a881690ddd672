"""The retention schedule: each rule deletes what is past its period and nothing else; a dry run
only counts; a real run leaves one audit entry with counts and the audit chain intact; the
periods have bounds the code enforces."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from lms.assignments.models import Assignment
from lms.auth.models import AuthSession, LoginThrottle
from lms.common.dates import utcnow
from lms.common.vocabulary import AuditAction
from lms.config import ConfigError, load_config
from lms.extensions import db
from lms.learning.models import Completion, Enrollment, QuizAttempt, QuizResponse
from lms.people import services as people
from lms.people.models import Department, User
from lms.privacy import chain
from lms.privacy import services as privacy
from lms.privacy.models import AuditEntry


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def old_and_new(make_user, make_course):
    """For every rule, one row past its period and one within it."""
    now = utcnow()
    old, recent = make_user(), make_user()
    course = make_course()
    question = course.lessons[0].questions[0]
    long_ago, lately = now - timedelta(days=400), now - timedelta(days=10)
    db.session.add_all(
        [
            LoginThrottle(key="old", failures=3, last_failure_at=now - timedelta(days=2)),
            LoginThrottle(key="new", failures=1, last_failure_at=now - timedelta(hours=2)),
            AuthSession(token_hash="a" * 64, user_id=old.id, created_at=long_ago, ended_at=now - timedelta(days=8)),
            AuthSession(token_hash="b" * 64, user_id=old.id, created_at=long_ago),  # never ended, long dead
            AuthSession(token_hash="c" * 64, user_id=recent.id, created_at=lately, ended_at=now - timedelta(days=2)),
        ]
    )
    for person, completed in ((old, long_ago), (recent, lately)):
        db.session.add_all(
            [
                Completion(
                    user_id=person.id, course_id=course.id, course_version=1, score_percent=100, completed_at=completed
                ),
                QuizAttempt(
                    user_id=person.id,
                    course_id=course.id,
                    lesson_key=course.lessons[0].key,
                    number=1,
                    variant="",
                    course_version=1,
                    answers=[],
                    score_percent=100,
                    passed=True,
                    submitted_at=completed,
                ),
                QuizResponse(user_id=person.id, question_id=question.id, chosen=[0], is_correct=True),
                Assignment(
                    user_id=person.id,
                    course_id=course.id,
                    due_on=date(2025, 1, 1),
                    completed_at=completed,
                    open_key=None,
                ),
            ]
        )
    db.session.add(Assignment(user_id=old.id, course_id=course.id, due_on=date(2025, 1, 1), open_key="open"))
    db.session.commit()
    return old, recent


def purge(app, *args):
    return app.test_cli_runner().invoke(args=["privacy", "purge", *args])


def test_a_dry_run_counts_and_deletes_nothing(app, old_and_new):
    result = purge(app, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "sign_in_failures (1 day): would delete 1" in result.output
    assert "sessions (7 days): would delete 2" in result.output
    assert "quiz_answers (90 days): would delete 2" in result.output  # the attempt and the answer
    assert "assignments (365 days): would delete 1" in result.output
    assert (count(LoginThrottle), count(AuthSession), count(QuizAttempt), count(Assignment)) == (2, 3, 2, 3)
    assert count(AuditEntry) == 0


def test_a_real_run_deletes_only_what_is_past_its_period_and_the_audit_chain_holds(app, old_and_new):
    old, recent = old_and_new
    result = purge(app)
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert db.session.scalars(select(LoginThrottle.key)).all() == ["new"]
    assert db.session.scalars(select(AuthSession.token_hash)).all() == ["c" * 64]
    assert db.session.scalars(select(QuizAttempt.user_id)).all() == [recent.id]
    assert db.session.scalars(select(QuizResponse.user_id)).all() == [recent.id]
    assert sorted(db.session.scalars(select(Assignment.user_id))) == sorted([old.id, recent.id])  # open stays
    assert count(Completion) == 2  # completions and certificates stay
    entry = db.session.execute(select(AuditEntry)).scalar_one()
    assert (entry.action, entry.actor_id) == ("purge", None)
    assert entry.context["deleted"] == {
        "sign_in_failures": 1,
        "sessions": 2,
        "quiz_answers": 2,
        "assignments": 1,
        "session_participants": 0,
        "pulse_answers": 0,
        "people_who_left": 0,
        "audit_entries": 0,
    }
    assert chain.verify().intact
    assert "sessions (7 days): would delete 0" in purge(app, "--dry-run").output


@pytest.mark.parametrize(
    "variable, value", [("LMS_RETENTION_QUIZ_ANSWERS_DAYS", "10"), ("LMS_RETENTION_SESSIONS_DAYS", "1000")]
)
def test_a_period_outside_its_bounds_is_refused(monkeypatch, variable, value):
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError, match=variable):
        load_config({"LMS_ENV": "testing"})


def test_a_period_within_its_bounds_is_taken(monkeypatch):
    monkeypatch.setenv("LMS_RETENTION_QUIZ_ANSWERS_DAYS", "180")
    assert load_config({"LMS_ENV": "testing"})["RETENTION_DAYS"]["quiz_answers"] == 180


# --- people who left ------------------------------------------------------------------------


@pytest.fixture
def leavers(make_user, make_course, make_department):
    """One person who left 400 days ago (with learning data, a session, a department they headed),
    one who left 10 days ago, one deactivated before `left_on` existed, one active."""
    today = date.today()
    course = make_course()
    office = make_department()
    gone = make_user(active=False, left_on=today - timedelta(days=400), heads=[office])
    lately = make_user(active=False, left_on=today - timedelta(days=10))
    unknown = make_user(active=False)
    active = make_user()
    for person in (gone, lately, active):
        db.session.add_all(
            [
                Enrollment(user_id=person.id, course_id=course.id),
                Completion(user_id=person.id, course_id=course.id, course_version=1, score_percent=90),
                AuthSession(token_hash=f"{person.id:064d}", user_id=person.id),
            ]
        )
    privacy.record(active, [gone], AuditAction.VIEW_PROFILE)  # names the person by id, not by key
    db.session.commit()
    return {"gone": gone, "lately": lately, "unknown": unknown, "active": active, "office": office}


def test_people_who_left_long_ago_go_with_their_data_the_others_stay(app, leavers):
    gone_id = leavers["gone"].id
    dry = purge(app, "--dry-run")
    assert "people_who_left (365 days): would delete 1 " in dry.output  # people, not rows
    assert count(User) == 4 and count(Completion) == 3
    result = purge(app)
    assert result.exit_code == 0, result.output
    assert "people_who_left (365 days): deleted 1 " in result.output
    db.session.expire_all()
    assert sorted(db.session.scalars(select(User.id))) == sorted(
        leavers[key].id for key in ("lately", "unknown", "active")
    )
    for model in (Enrollment, Completion, AuthSession):
        assert gone_id not in db.session.scalars(select(model.user_id)).all(), model
    assert count(Completion) == 2
    assert db.session.get(Department, leavers["office"].id).heads == []
    (look,) = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "view_profile"))
    assert look.subject_id == gone_id  # the entry stays as written: the chain holds
    assert chain.verify().intact
    assert "people_who_left (365 days): deleted 0 " in purge(app).output


def test_deactivation_starts_the_period_and_reactivation_ends_it(database, make_user):
    person = make_user()
    people.set_user_active(person, False)
    first_day = person.left_on
    assert first_day is not None
    person.left_on = first_day - timedelta(days=3)
    people.set_user_active(person, False)  # deactivated again: the first day stays
    assert person.left_on == first_day - timedelta(days=3)
    people.set_user_active(person, True)
    assert person.left_on is None and person.active


@pytest.mark.parametrize(
    "variable, value", [("LMS_RETENTION_PEOPLE_WHO_LEFT_DAYS", "10"), ("LMS_RETENTION_AUDIT_ENTRIES_DAYS", "2000")]
)
def test_the_new_periods_have_bounds(monkeypatch, variable, value):
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError, match=variable):
        load_config({"LMS_ENV": "testing"})


# --- the demo town --------------------------------------------------------------------------


def test_on_the_demo_a_dry_run_lists_each_rule_and_a_real_run_deletes_and_verify_passes(app, make_course):
    """Last year's audit entries, then the demo town (with courses), two of whose people left over a
    year ago."""
    write_old_audit_entries(4, days_ago=400)
    for _ in range(3):
        make_course()
    runner = app.test_cli_runner()
    assert runner.invoke(args=["demo", "seed", "--password", "Rathaus-Demo-2026"]).exit_code == 0
    leaving = list(db.session.scalars(select(User).where(User.email.like("employee@%") | User.email.like("manager@%"))))
    for person in leaving:
        people.set_user_active(person, False)
        person.left_on = date.today() - timedelta(days=400)
    db.session.commit()
    users, entries = count(User), count(AuditEntry)

    dry = purge(app, "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert [line.split(" (")[0] for line in dry.output.splitlines()] == [
        "sign_in_failures",
        "sessions",
        "quiz_answers",
        "assignments",
        "session_participants",
        "pulse_answers",
        "people_who_left",
        "audit_entries",
    ]
    assert "people_who_left (365 days): would delete 2 " in dry.output
    assert "audit_entries (365 days): would delete 4 " in dry.output
    assert (count(User), count(AuditEntry)) == (users, entries)

    real = purge(app)
    assert real.exit_code == 0, real.output
    assert "people_who_left (365 days): deleted 2 " in real.output
    assert "audit_entries (365 days): deleted 4 " in real.output
    db.session.expire_all()
    assert count(User) == users - 2 and count(AuditEntry) == entries - 4 + 1  # + the purge's entry
    verified = runner.invoke(args=["audit", "verify"])
    assert verified.exit_code == 0, verified.output
    again = purge(app)
    assert again.exit_code == 0 and all(
        line.split(": ")[1].startswith("deleted 0 ") for line in again.output.splitlines()
    )
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0


def write_old_audit_entries(number: int, days_ago: int) -> None:
    at = utcnow() - timedelta(days=days_ago)
    chain.append([{"at": at, "action": AuditAction.VIEW_MATRIX.value, "context": {}} for _ in range(number)])
    db.session.commit()
