"""The rule: current level = the highest level among valid verified evidence."""

from datetime import UTC, datetime, timedelta

from lms.skills.evidence import ASSESSMENT, COURSE, SELF, Evidence, current_level, latest_self_level

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def evidence(level, source=COURSE, days_ago=10, expires_in_days=None):
    return Evidence(
        1,
        1,
        level,
        source,
        NOW - timedelta(days=days_ago),
        expires_at=NOW + timedelta(days=expires_in_days) if expires_in_days is not None else None,
    )


def test_no_evidence_is_level_zero():
    assert current_level([], NOW) == 0


def test_highest_verified_level_wins():
    assert current_level([evidence(2), evidence(4, ASSESSMENT), evidence(3)], NOW) == 4


def test_self_assessment_never_counts_as_verified():
    items = [evidence(2), evidence(7, SELF)]
    assert current_level(items, NOW) == 2
    assert latest_self_level(items) == 7


def test_expired_completion_drops_out():
    assert current_level([evidence(5, expires_in_days=-1), evidence(2, expires_in_days=30)], NOW) == 2
    assert current_level([evidence(5, expires_in_days=0)], NOW) == 0


def test_a_target_that_must_be_shown_again_ignores_old_evidence():
    items = [evidence(4, ASSESSMENT, days_ago=400), evidence(2, days_ago=30)]
    assert current_level(items, NOW) == 4
    assert current_level(items, NOW, shown_within_months=12) == 2


def test_latest_self_assessment_is_the_newest_not_the_highest():
    items = [evidence(6, SELF, days_ago=100), evidence(3, SELF, days_ago=1)]
    assert latest_self_level(items) == 3
