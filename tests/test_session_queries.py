"""Loading the signed-in user and the session costs one statement per request."""

from datetime import timedelta

from sqlalchemy import select

from lms.auth.models import AuthSession
from lms.extensions import db


def test_session_user_and_roles_come_in_one_statement(client, make_user, sign_in, count_queries):
    sign_in(make_user(roles=["trainer"]))
    with count_queries() as counter:
        response = client.get("/")
    # The start page chooses by role: the roles were read by that one statement.
    assert response.status_code == 302 and response.headers["Location"] == "/trainer/"
    assert counter.count == 1, counter.statements


def test_health_with_a_session_cookie_takes_the_session_statement_and_its_own(
    client, make_user, sign_in, count_queries
):
    sign_in(make_user())
    with count_queries() as counter:
        assert client.get("/health").status_code == 200
    assert counter.count == 2, counter.statements


def test_last_seen_is_written_at_most_once_a_minute(client, make_user, sign_in, count_queries):
    sign_in(make_user())
    with count_queries() as counter:
        for _ in range(3):
            assert client.get("/").status_code == 302
    assert not [s for s in counter.statements if s.startswith("UPDATE")]
    row = db.session.execute(select(AuthSession)).scalar_one()
    row.last_seen_at -= timedelta(minutes=2)
    db.session.commit()
    with count_queries() as counter:
        assert client.get("/").status_code == 302
    assert [s for s in counter.statements if s.startswith("UPDATE auth_sessions")]
