"""The application shell: health, headers, languages, error pages, logging, configuration."""

import logging

import pytest

from lms import create_app
from lms.config import ConfigError, load_config
from tests.conftest import csrf_token


def test_health_reports_database_ok(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_health_answers_503_when_the_database_is_unreachable(tmp_path):
    app = create_app(
        {"LMS_ENV": "testing", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/missing-dir/nope/db.sqlite"}
    )
    response = app.test_client().get("/health")
    assert response.status_code == 503
    assert response.get_json()["database"] == "unreachable"


def test_security_headers_forbid_inline_script(client):
    response = client.get("/auth/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"


class ListHandler(logging.Handler):
    def __init__(self):
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(record.getMessage())


def test_one_log_line_per_request(client):
    handler = ListHandler()
    logger = logging.getLogger("lms.request")
    logger.addHandler(handler)
    try:
        client.get("/health")
    finally:
        logger.removeHandler(handler)
    assert len(handler.lines) == 1 and '"GET /health" 200' in handler.lines[0]


def test_german_is_the_default_and_english_follows_the_browser(client):
    assert 'lang="de"' in client.get("/auth/login").get_data(as_text=True)
    english = client.get("/auth/login", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert 'lang="en"' in english.get_data(as_text=True) and "Sign in" in english.get_data(as_text=True)


def test_the_language_switch_is_a_post_with_csrf(client):
    page = client.get("/auth/login")
    assert "Anmelden" in page.get_data(as_text=True)
    response = client.post(
        "/language",
        data={"csrf_token": csrf_token(page), "language": "en"},
        headers={"Referer": "http://localhost/auth/login"},
    )
    assert response.status_code == 302
    assert 'lang="en"' in client.get("/auth/login").get_data(as_text=True)
    assert client.post("/language", data={"language": "de"}).status_code == 400


def test_the_saved_preference_beats_the_browser(client, make_user, sign_in):
    user = make_user(locale="en")
    sign_in(user)
    page = client.get("/learning/", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert 'lang="en"' in page and "My learning" in page


def test_unknown_page_gets_a_friendly_404_in_german(client):
    response = client.get("/does-not-exist")
    assert response.status_code == 404
    assert "Seite nicht gefunden" in response.get_data(as_text=True)


def test_production_requires_a_secret_key(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ConfigError):
        load_config({"LMS_ENV": "production"})


def test_production_cookies_are_secure(monkeypatch):
    monkeypatch.delenv("SESSION_COOKIE_SECURE", raising=False)
    config = load_config({"LMS_ENV": "production", "SECRET_KEY": "x" * 32})
    assert config["SESSION_COOKIE_SECURE"] and config["SESSION_COOKIE_HTTPONLY"]
    assert config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_unknown_environment_is_refused():
    with pytest.raises(ConfigError):
        load_config({"LMS_ENV": "staging"})


@pytest.mark.parametrize("value, refused", [("4", True), ("1", True), ("5", False), ("12", False)])
def test_a_minimum_group_size_below_five_is_refused(monkeypatch, value, refused):
    monkeypatch.setenv("LMS_MIN_GROUP_SIZE", value)
    if refused:
        with pytest.raises(ConfigError, match="LMS_MIN_GROUP_SIZE must be at least 5"):
            load_config({"LMS_ENV": "testing"})
    else:
        assert load_config({"LMS_ENV": "testing"})["PRIVACY_MIN_GROUP_SIZE"] == int(value)


@pytest.mark.parametrize(
    "environment, refused",
    [
        ({"LMS_EXACT_SHARE_FROM": "4"}, "LMS_EXACT_SHARE_FROM must not be below"),
        ({"LMS_SURVEY_MIN_GROUP_SIZE": "4"}, "LMS_SURVEY_MIN_GROUP_SIZE must not be below LMS_MIN_GROUP_SIZE"),
        ({"LMS_MIN_GROUP_SIZE": "12", "LMS_SURVEY_MIN_GROUP_SIZE": "11"}, "must not be below LMS_MIN_GROUP_SIZE"),
    ],
)
def test_group_sizes_for_shares_and_surveys_are_checked(monkeypatch, environment, refused):
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=refused):
        load_config({"LMS_ENV": "testing"})


def test_shares_and_surveys_follow_a_larger_minimum(monkeypatch):
    config = load_config({"LMS_ENV": "testing"})
    assert (config["PRIVACY_EXACT_SHARE_FROM"], config["PRIVACY_SURVEY_MIN_GROUP_SIZE"]) == (20, 5)
    monkeypatch.setenv("LMS_SURVEY_MIN_GROUP_SIZE", "10")  # a town and its staff council may ask more
    assert load_config({"LMS_ENV": "testing"})["PRIVACY_SURVEY_MIN_GROUP_SIZE"] == 10
    monkeypatch.delenv("LMS_SURVEY_MIN_GROUP_SIZE")
    monkeypatch.setenv("LMS_MIN_GROUP_SIZE", "25")
    config = load_config({"LMS_ENV": "testing"})
    assert (config["PRIVACY_EXACT_SHARE_FROM"], config["PRIVACY_SURVEY_MIN_GROUP_SIZE"]) == (25, 25)


@pytest.mark.parametrize(
    "visibility, says",
    [
        ("levels", "Ihre Kompetenzstufen und Ihre Pflichtschulungen"),
        ("compliance-only", "nur, ob Sie Ihre Pflichtschulungen abgeschlossen haben"),
    ],
)
def test_the_footer_says_who_sees_learning_data_from_the_settings(
    app, client, make_user, sign_in, monkeypatch, visibility, says
):
    """No claim the software cannot make ("as agreed with the staff council"): the settings in force."""
    from lms.common.vocabulary import ManagerVisibility

    monkeypatch.setitem(app.config, "MANAGER_VISIBILITY", ManagerVisibility(visibility))
    monkeypatch.setitem(app.config, "PRIVACY_MIN_GROUP_SIZE", 7)
    sign_in(make_user(locale="de"))
    footer = client.get("/learning/").get_data(as_text=True).split('class="site-footer"')[1]
    assert says in footer and "weniger als 7 Personen" in footer
    assert "Personalrat" not in footer


def test_the_request_log_holds_the_route_and_a_network_not_ids_queries_or_addresses(client, make_user, sign_in):
    person = make_user()
    sign_in(person)
    handler = ListHandler()
    logger = logging.getLogger("lms.request")
    logger.addHandler(handler)
    try:
        client.get(f"/people/{person.id}/profile?q=geheim", environ_base={"REMOTE_ADDR": "192.0.2.77"})
        client.get("/nirgends/4711", environ_base={"REMOTE_ADDR": "2001:db8:1234:5678::9"})
    finally:
        logger.removeHandler(handler)
    first, second = handler.lines
    assert first.startswith('192.0.2.0 "GET /people/<int:user_id>/profile"') and "geheim" not in first
    assert str(person.id) not in first.split('"')[1]
    assert second.startswith('2001:db8:1234:: "GET (no route)" 404')


@pytest.mark.parametrize(
    "address, network",
    [("10.1.2.3", "10.1.2.0"), ("::1", "::"), ("2001:db8::1", "2001:db8::"), (None, "-"), ("kein", "-")],
)
def test_addresses_are_shortened_to_their_network(address, network):
    from lms.common.addresses import shortened

    assert shortened(address) == network
