"""What a request cannot do: leave the site after sign-in, overflow an integer, send a huge body.

Plus: the default SQLite database is private to the account that runs the application.
"""

from __future__ import annotations

import stat
import time

import pytest
from sqlalchemy import select, text

from lms import config as lms_config
from lms import create_app
from lms.auth.models import AuthSession, LoginThrottle
from lms.common.urls import MAX_DB_INT, local_path
from lms.extensions import db
from tests.conftest import csrf_token
from tests.factories import DEFAULT_PASSWORD

# --- redirect targets -------------------------------------------------------------------------

FOREIGN_TARGETS = [
    "//other.host",
    "///other.host",
    "/\\other.host",
    "\\\\other.host",
    "/\t/other.host",  # a browser drops tabs and newlines: "//other.host"
    "/\n/other.host",
    "/\r\n/other.host",
    "/x\r\nSet-Cookie: a=b",
    "\t//other.host",
    " //other.host",  # a browser drops leading spaces
    "/\x00/other.host",
    "/\x7f",
    "https://other.host/",
    "http:/other.host",
    "javascript:alert(1)",
    "other.host",
    "",
    None,
]


@pytest.mark.parametrize("target", FOREIGN_TARGETS)
def test_local_path_refuses_what_a_browser_could_read_as_another_site(target):
    assert local_path(target) is None


@pytest.mark.parametrize("target", ["/", "/learning/", "/catalog/?q=Daten&page=2", "/a/b#c", "/kurs/übung", "/a b"])
def test_local_path_keeps_paths_on_this_site_unchanged(target):
    assert local_path(target) == target


def _sign_in_with_next(client, user, next_value):
    page = client.get("/auth/login")
    return client.post(
        "/auth/login",
        query_string={"next": next_value},
        data={"csrf_token": csrf_token(page), "email": user.email, "password": DEFAULT_PASSWORD},
    )


@pytest.mark.parametrize(
    "next_value", ["/\t/other.host", "/\\other.host", "/\n/other.host", "/\r\n/other.host", "/x\r\nX-Evil: 1"]
)
def test_sign_in_never_sends_the_browser_elsewhere(client, make_user, next_value):
    response = _sign_in_with_next(client, make_user(), next_value)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert db.session.scalar(select(db.func.count(AuthSession.id))) == 1


def test_an_encoded_tab_in_next_is_refused_too(client, make_user):
    user = make_user()
    page = client.get("/auth/login")
    response = client.post(
        "/auth/login?next=/%09/other.host",
        data={"csrf_token": csrf_token(page), "email": user.email, "password": DEFAULT_PASSWORD},
    )
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_sign_in_follows_a_local_next(client, make_user):
    response = _sign_in_with_next(client, make_user(), "/catalog/?q=Daten")
    assert response.status_code == 302 and response.headers["Location"] == "/catalog/?q=Daten"


def test_the_login_alias_passes_on_only_a_local_next(client):
    kept = client.get("/login", query_string={"next": "/catalog/"})
    assert kept.status_code == 302 and "next=/catalog/" in kept.headers["Location"]
    for foreign in ("/\t/other.host", "//other.host", "/\\other.host"):
        dropped = client.get("/login", query_string={"next": foreign})
        assert dropped.status_code == 302 and dropped.headers["Location"] == "/auth/login"


@pytest.mark.parametrize(
    ("referrer", "location"),
    [
        ("http://localhost/catalog/?q=Daten", "/catalog/?q=Daten"),
        ("http://localhost/\t/other.host", "/"),
        ("http://localhost//other.host", "/"),
        ("http://localhost/\\other.host", "/"),
        ("http://other.host/", "/"),
        ("http://localhost.other.host/", "/"),
        ("https://localhost/catalog/", "/"),  # another origin than this one
        ("", "/"),
    ],
)
def test_the_language_switch_returns_only_to_a_page_of_this_site(client, referrer, location):
    page = client.get("/auth/login")
    response = client.post(
        "/language", data={"csrf_token": csrf_token(page), "language": "en"}, headers={"Referer": referrer}
    )
    assert response.status_code == 302 and response.headers["Location"] == location


# --- integers the database cannot hold -------------------------------------------------------

TOO_LARGE = "99999999999999999999"


@pytest.mark.parametrize(
    "path",
    [
        f"/people/{TOO_LARGE}/profile",
        f"/people/{MAX_DB_INT + 1}/profile",
        f"/matrix/evidence/{TOO_LARGE}/1",
        f"/matrix/evidence/1/{TOO_LARGE}",
        f"/targets/people/{TOO_LARGE}",
        f"/targets/job-roles/{TOO_LARGE}",
    ],
)
def test_an_id_too_large_for_the_database_is_not_found(client, make_user, sign_in, path):
    sign_in(make_user(roles=("hr",)))
    response = client.get(path)
    assert response.status_code == 404
    assert "Seite nicht gefunden" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "path", [f"/admin/users/{TOO_LARGE}", f"/admin/departments/{TOO_LARGE}", f"/admin/job-roles/{TOO_LARGE}"]
)
def test_an_admin_id_too_large_for_the_database_is_not_found(client, make_user, sign_in, path):
    sign_in(make_user(roles=("admin",)))
    assert client.get(path).status_code == 404


def test_the_largest_id_the_database_holds_still_reaches_the_view(client, make_user, sign_in):
    sign_in(make_user(roles=("hr",)))
    assert client.get(f"/people/{MAX_DB_INT}/profile").status_code == 404  # no such person, asked the database


def test_every_int_rule_is_bounded(app):
    from werkzeug.routing import IntegerConverter

    from lms.common.urls import BoundedIntConverter

    assert app.url_map.converters["int"] is BoundedIntConverter
    converters = [c for r in app.url_map.iter_rules() for c in r._converters.values()]
    integers = [c for c in converters if isinstance(c, IntegerConverter)]
    assert len(integers) >= 12
    assert all(isinstance(c, BoundedIntConverter) and c.max <= MAX_DB_INT for c in integers)


@pytest.mark.parametrize(
    ("path", "roles"),
    [
        ("/admin/users", ("admin",)),
        ("/privacy/audit", ("dpo",)),
        ("/team/", ("manager",)),
        ("/targets/?q=Muster", ("hr",)),
    ],
)
def test_a_page_number_too_large_for_the_database_is_not_found(client, make_user, sign_in, path, roles):
    sign_in(make_user(roles=roles))
    separator = "&" if "?" in path else "?"
    assert client.get(f"{path}{separator}page={TOO_LARGE}").status_code == 404
    assert client.get(f"{path}{separator}page={MAX_DB_INT + 1}").status_code == 404
    assert client.get(f"{path}{separator}page=2").status_code == 200
    assert client.get(f"{path}{separator}page=-5").status_code == 200


def test_the_matrix_treats_a_page_number_too_large_like_every_list(client, make_user, sign_in):
    sign_in(make_user(roles=("hr",)))
    assert client.get(f"/matrix/?page={TOO_LARGE}").status_code == 404


# --- request size -----------------------------------------------------------------------------


def test_a_sign_in_larger_than_the_limit_is_refused_unread(client, app):
    limit = app.config["MAX_CONTENT_LENGTH"]
    assert limit == 1024 * 1024
    body = b"email=a%40b.example&password=" + b"x" * (100 * 1024 * 1024)
    started = time.monotonic()
    response = client.post("/auth/login", data=body, content_type="application/x-www-form-urlencoded")
    assert time.monotonic() - started < 2
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "<html" in page and "zu groß" in page


def test_the_request_limit_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("LMS_MAX_REQUEST_BYTES", "2048")
    assert lms_config.load_config({"LMS_ENV": "testing"})["MAX_CONTENT_LENGTH"] == 2048


# --- the default database file ----------------------------------------------------------------


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_default_database_is_private(tmp_path, monkeypatch):
    instance = tmp_path / "instance"
    monkeypatch.setattr(lms_config, "INSTANCE_DIR", instance)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    app = create_app({"LMS_ENV": "development"})
    with app.app_context():
        db.session.execute(text("CREATE TABLE probe (id INTEGER)"))
        db.session.commit()
        db.engine.dispose()
    database_file = instance / "lernpfad.db"
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{database_file}"
    assert _mode(instance) == 0o700
    assert _mode(database_file) == 0o600
    assert _mode(instance / "secret_key") == 0o600


def test_an_existing_database_file_is_left_as_it_is(tmp_path, monkeypatch):
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "lernpfad.db").write_bytes(b"")
    (instance / "lernpfad.db").chmod(0o640)
    monkeypatch.setattr(lms_config, "INSTANCE_DIR", instance)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    lms_config.load_config({"LMS_ENV": "testing"})
    assert _mode(instance / "lernpfad.db") == 0o640


def test_form_values_too_large_for_the_database_are_invalid_choices_not_errors(client, make_user, sign_in, digcomp):
    """Ids in forms and filters are bounded like ids in addresses (the matrix filter, the admin's
    person form, the self-assessment), so PostgreSQL never sees an integer it cannot hold."""
    admin = make_user(roles=("admin", "hr"))
    sign_in(admin)
    assert client.get(f"/matrix/?department={TOO_LARGE}&job_role={TOO_LARGE}").status_code == 200
    page = client.get(f"/admin/users/{admin.id}")
    form = {
        "csrf_token": csrf_token(page),
        "given_name": "Ada",
        "family_name": "Admin",
        "email": admin.email,
        "department_id": str(TOO_LARGE),
        "job_role_id": str(TOO_LARGE),
        "roles": ["admin", "hr"],
    }
    assert client.post(f"/admin/users/{admin.id}", data=form).status_code == 200  # the form, with its error
    answer = client.post(
        "/profile/self-assessment",
        data={"csrf_token": csrf_token(client.get("/profile/")), "competence_id": str(TOO_LARGE), "level": "2"},
    )
    assert answer.status_code in (302, 303)


@pytest.mark.parametrize(
    "path",
    [
        "/courses/%00/",
        "/courses/kurs/media/a/%00/b",
        "/matrix/?area=%00",
        "/privacy/audit?actor=a%00b",
        "/admin/users?q=%00",
        "/targets/?q%00=1",
    ],
)
def test_a_nul_in_an_address_is_refused_before_any_query(client, make_user, sign_in, path):
    """PostgreSQL cannot hold a NUL; such a request is answered 400, not 500 where it meets a query."""
    sign_in(make_user(roles=["hr", "admin", "dpo"]))
    response = client.get(path)
    assert response.status_code == 400
    assert "Es wurde nichts geändert." in response.get_data(as_text=True)


@pytest.mark.parametrize("email", ["\x00", "erika\x00@musterhausen.example", "erika\u202e@musterhausen.example"])
def test_a_sign_in_with_control_characters_in_the_email_is_an_unknown_account(client, make_user, email):
    make_user(email="erika@musterhausen.example")
    token = csrf_token(client.get("/auth/login"))
    response = client.post("/auth/login", data={"csrf_token": token, "email": email, "password": "Passwort1!"})
    assert response.status_code == 200
    keys = list(db.session.execute(select(LoginThrottle.key)).scalars())
    assert keys and all("\x00" not in key and "erika" not in key for key in keys)


@pytest.mark.parametrize(
    "value, expected",
    [("7", 7), ("0", None), ("-3", None), ("9" * 40, None), ("2147483648", None), ("x", None), ("", None)],
)
def test_an_id_from_the_query_string_is_taken_only_if_the_database_can_hold_it(value, expected):
    from lms.common.urls import id_argument

    assert id_argument({"course": value}, "course") == expected
    assert id_argument({}, "course") is None
