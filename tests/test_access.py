"""Every view checks its role: anonymous users go to sign-in, users without the role get 403."""

import pytest

from lms.common.vocabulary import Role

PROTECTED_PAGES = {
    "/admin/": {"admin"},
    "/admin/users": {"admin"},
    "/admin/users/new": {"admin"},
    "/admin/departments": {"admin"},
    "/admin/departments/new": {"admin"},
    "/admin/job-roles": {"admin"},
    "/admin/job-roles/new": {"admin"},
    "/hr/": {"hr"},
    "/certificates/verify": {"hr", "admin"},
    "/team/": {"manager"},
    "/trainer/": {"trainer", "admin"},
    "/authoring/": {"trainer", "hr", "manager", "admin"},
    "/authoring/new": {"trainer", "admin"},
    "/authoring/import": {"trainer", "admin"},
    "/learning/": set(Role),
    "/courses/": set(Role),
    "/profile/": set(Role),
    "/profile/access-log": set(Role),
    "/privacy/my-data": set(Role),
    "/privacy/my-data.zip": set(Role),
    "/auth/password": set(Role),
    "/auth/two-factor": set(Role),
    "/matrix/": {"hr", "manager"},
    "/targets/": {"hr"},
    "/gaps/": {"hr"},
    "/strategy/": {"hr", "change"},
    "/progress/": {"hr", "change", "staff_council", "admin"},
    "/progress/report.pdf": {"hr", "change", "staff_council", "admin"},
    "/privacy/audit": {"dpo"},
    "/privacy/settings": {"dpo", "staff_council"},
    "/privacy/notice/after-sign-in": set(Role),
    "/admin/annex": {"admin", "dpo", "staff_council"},
    "/assignments/": {"hr", "manager"},
    "/assignments/new": {"hr", "manager"},
    "/compliance/team": {"manager"},
    "/compliance/report": {"hr"},
    "/compliance/report.csv": {"hr"},
    "/profile/calendar": {"employee", "trainer", "manager", "hr", "admin", "dpo", "staff_council", "change"},
    "/notifications/": {"employee", "trainer", "manager", "hr", "admin", "dpo", "staff_council", "change"},
    "/profile/notifications": {"employee", "trainer", "manager", "hr", "admin", "dpo", "staff_council", "change"},
    "/admin/outbox": {"admin"},
    "/change/": {"change", "hr"},
    "/change/new": {"change", "hr"},
    "/change/mine": set(Role),
    "/change/surveys/approval": {"staff_council"},
    "/sessions/": set(Role),
    "/sessions/new": {"trainer", "admin"},
}


def test_every_view_declares_who_may_use_it(app):
    undeclared = [
        endpoint
        for endpoint, view in app.view_functions.items()
        if endpoint != "static" and not hasattr(view, "required_roles")
    ]
    assert not undeclared, f"views without a role check: {undeclared}"


def test_every_state_changing_route_is_post_only(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint.endswith(("logout", "_set_active", "reset_password", "set_language")):
            assert rule.methods - {"HEAD", "OPTIONS"} == {"POST"}, rule


@pytest.mark.parametrize("url", PROTECTED_PAGES)
def test_anonymous_users_are_sent_to_sign_in(client, url):
    response = client.get(url)
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


@pytest.mark.parametrize("role", list(Role))
def test_each_role_reaches_exactly_its_pages(client, make_user, sign_in, digcomp, role):
    sign_in(make_user(roles=[role]))
    for url, allowed in PROTECTED_PAGES.items():
        expected = 200 if role in allowed else 403
        assert client.get(url).status_code == expected, (role, url)


@pytest.mark.parametrize(
    "role, home",
    [
        ("admin", "/admin/"),
        ("hr", "/hr/"),
        ("manager", "/team/"),
        ("trainer", "/trainer/"),
        ("employee", "/learning/"),
        ("dpo", "/privacy/audit"),
        ("staff_council", "/privacy/settings"),
        ("change", "/change/"),
    ],
)
def test_each_role_starts_on_its_home_page(client, make_user, sign_in, role, home):
    sign_in(make_user(roles=[role]))
    assert client.get("/").headers["Location"] == home


def test_post_to_admin_action_without_role_is_forbidden(client, make_user, sign_in):
    from tests.conftest import csrf_token

    target = make_user()
    sign_in(make_user(roles=["hr"]))
    token = csrf_token(client.get("/hr/"))
    response = client.post(f"/admin/users/{target.id}/active", data={"csrf_token": token, "active": "0"})
    assert response.status_code == 403
