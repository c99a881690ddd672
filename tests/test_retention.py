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
from lms.config import ConfigError, load_config
from lms.extensions import db
from lms.learning.models import Completion, QuizAttempt, QuizResponse
from lms.privacy import chain
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
    assert "sign_in_failures (1 days): would delete 1" in result.output
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
    assert entry.context["deleted"] == {"sign_in_failures": 1, "sessions": 2, "quiz_answers": 2, "assignments": 1}
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
