"""Notifications: created once per occasion, shown in the reader's language, read and switched off.

Delivery over SMTP is in test_mail.py.
"""

from __future__ import annotations

import threading
from datetime import date

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from lms.common.vocabulary import Role
from lms.extensions import db
from lms.notifications import services
from lms.notifications.models import MailPreference, Notification, NotificationKind, OutboxMessage, OutboxStatus
from lms.people.models import User
from tests.conftest import csrf_token

OVERDUE = {"course": "Datenschutz im Bürgerbüro", "due": date(2026, 11, 30)}


def notify(user, key="assignment:1:overdue:2026-W48", kind=NotificationKind.OVERDUE, params=None, **options):
    created = services.notify(user, kind, params or OVERDUE, "/courses/datenschutz/", dedupe_key=key, **options)
    db.session.commit()
    return created


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# --- notify ---------------------------------------------------------------------------------


def test_notify_creates_the_notification_and_queues_its_mail(make_user, mail_server):
    user = make_user(email="erika@musterhausen.example")
    assert notify(user) is True
    notification = db.session.execute(select(Notification)).scalar_one()
    assert notification.user_id == user.id and notification.read_at is None
    assert notification.kind == "overdue" and notification.link == "/courses/datenschutz/"
    assert notification.params == {"course": "Datenschutz im Bürgerbüro", "due": "2026-11-30"}
    message = db.session.execute(select(OutboxMessage)).scalar_one()
    assert message.to_address == "erika@musterhausen.example" and message.user_id == user.id
    assert message.status == OutboxStatus.QUEUED and message.attempts == 0
    assert message.dedupe_key == notification.dedupe_key == "assignment:1:overdue:2026-W48"


def test_a_second_notify_with_the_same_key_does_nothing(make_user, mail_server):
    user = make_user()
    assert notify(user) is True
    assert notify(user, params={"course": "Anderer Titel", "due": "2026-12-01"}) is False
    assert count(Notification) == 1 and count(OutboxMessage) == 1
    assert notify(user, key="assignment:1:overdue:2026-W49") is True
    assert count(Notification) == 2 and count(OutboxMessage) == 2


def test_two_notify_calls_at_the_same_moment_create_one(app, make_user, mail_server):
    """Two workers (threads with their own sessions and connections) race for one key."""
    user_id = make_user().id
    barrier = threading.Barrier(2)
    results: list[bool] = []
    errors: list[BaseException] = []

    def worker():
        try:
            with app.app_context():
                person = db.session.get(User, user_id)
                barrier.wait(timeout=10)
                created = services.notify(
                    person, "overdue", OVERDUE, "/courses/datenschutz/", dedupe_key="assignment:7:overdue:2026-W48"
                )
                db.session.commit()
                results.append(created)
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    assert sorted(results) == [False, True]
    assert count(Notification) == 1 and count(OutboxMessage) == 1


def test_deactivated_people_get_nothing(make_user, mail_server):
    assert notify(make_user(active=False)) is False
    assert count(Notification) == 0 and count(OutboxMessage) == 0


def test_optional_mails_follow_the_choice_mandatory_ones_do_not(make_user, mail_server):
    user = make_user()
    services.set_optional_mails(user, False)
    db.session.commit()
    digest = {"items": [{"course": "Datenschutz", "due": "2026-12-01", "person": "Max Muster"}]}
    assert notify(user, key="digest:2026-W48", kind=NotificationKind.DIGEST, params=digest, optional=True)
    assert notify(user, key="assignment:1:overdue")
    assert count(Notification) == 2  # both appear in the app
    assert db.session.scalars(select(OutboxMessage.dedupe_key)).all() == ["assignment:1:overdue"]
    services.set_optional_mails(user, True)
    db.session.commit()
    assert notify(user, key="digest:2026-W49", kind=NotificationKind.DIGEST, params=digest, optional=True)
    assert count(OutboxMessage) == 2


def test_mail_false_makes_only_the_notification(make_user, mail_server):
    assert notify(make_user(), mail=False)
    assert count(Notification) == 1 and count(OutboxMessage) == 0


@pytest.mark.parametrize(
    "params, link, problem",
    [
        ({"course": "Datenschutz", "due": "2026-11-30", "score": 42}, "/courses/x/", "unknown parameters"),
        ({"course": "Datenschutz"}, "/courses/x/", "missing parameters"),
        ({"course": "Datenschutz", "due": "30.11.2026"}, "/courses/x/", "a date"),
        ({"course": "Daten\nschutz", "due": "2026-11-30"}, "/courses/x/", "control characters"),
        ({"course": "Datenschutz", "due": "2026-11-30", "mandatory": "yes"}, "/courses/x/", "true or false"),
        ({"course": "Datenschutz", "due": "2026-11-30", "reason": "x"}, "/courses/x/", r"unknown .*reason"),
        (OVERDUE, "https://elsewhere.example/", "path on this site"),
        (OVERDUE, "//elsewhere.example/", "path on this site"),
    ],
)
def test_what_a_notification_may_carry(make_user, params, link, problem):
    user = make_user()
    with pytest.raises(ValueError, match=problem):
        services.notify(user, NotificationKind.OVERDUE, params, link, dedupe_key="k")
    db.session.rollback()
    assert count(Notification) == 0


def test_digests_list_their_trainings_and_summaries_their_counts(database):
    from lms.notifications import texts

    items = [
        {"course": "Datenschutz", "due": date(2026, 12, 1), "person": "Erika Muster", "overdue": True},
        {"course": "Phishing", "due": "2026-12-14", "person": "Max Muster"},
    ]
    params = texts.checked_params(NotificationKind.DIGEST, {"items": items})
    with force_locale("en"):
        text = texts.render(NotificationKind.DIGEST, params)
    assert text.title == "Weekly overview: 2 open trainings"
    assert text.body == "2 trainings are open. 1 of them is overdue."
    assert text.lines == (
        "Erika Muster: Datenschutz, due December 1, 2026 (overdue)",
        "Max Muster: Phishing, due December 14, 2026",
    )
    with pytest.raises(ValueError, match=r"items\[0\]: unknown parameters \['score'\]"):
        texts.checked_params(NotificationKind.DIGEST, {"items": [{"course": "X", "due": "2026-12-01", "score": 3}]})
    summary = texts.checked_params(NotificationKind.SUMMARY, {"month": "2026-11", "overdue": 3, "completed": 40})
    with force_locale("en"):
        text = texts.render(NotificationKind.SUMMARY, summary)
    assert text.title == "Mandatory trainings in November 2026" and text.lines == ("overdue: 3", "completed: 40")


def test_every_kind_has_a_text_in_both_languages(database):
    from lms.notifications import texts

    samples = {
        "course": "Kurs",
        "person": "Erika Muster",
        "due": "2026-11-30",
        "mandatory": True,
        "reason": "Für alle im Bürgerbüro",
        "month": "2026-11",
        "competence": "4.2 Daten schützen",
        "level": 3,
        "session": "Sicher im Netz",
        "place": "Rathaus, Raum 101",
        "starts": "2026-12-03T08:00:00+00:00",
        "initiative": "E-Akte im Bauamt",
        "title": "Neuigkeit",
        "go_live": "2026-12-01",
        "items": [{"course": "Kurs", "due": "2026-11-30", "person": "Erika Muster", "overdue": True}],
        **dict.fromkeys(texts.COUNTS, 3),
    }
    for kind in NotificationKind:
        required, optional = texts.KINDS[kind]
        params = texts.checked_params(kind, {name: samples[name] for name in required | optional})
        for language in ("de", "en"):
            with force_locale(language):
                text = texts.render(kind, params)
            assert text.title and text.body and text.action, (kind, language)


# --- the bell and the list ------------------------------------------------------------------


def test_the_bell_counts_unread_notifications_in_words(client, make_user, sign_in, mail_server):
    user = make_user(locale="en")
    sign_in(user)
    page = client.get("/learning/").get_data(as_text=True)
    assert ">Notifications</a>" in page
    for week in range(3):
        notify(user, key=f"assignment:1:overdue:2026-W{week}")
    page = client.get("/learning/").get_data(as_text=True)
    assert "Notifications (3 unread)" in page


def test_the_bell_speaks_german_by_default(client, make_user, sign_in, mail_server):
    user = make_user()
    sign_in(user)
    notify(user)
    assert "Benachrichtigungen (1 ungelesen)" in client.get("/learning/").get_data(as_text=True)


def test_the_bell_is_only_for_signed_in_people(client):
    assert "/notifications/" not in client.get("/auth/login").get_data(as_text=True)


def test_the_list_shows_the_text_in_the_readers_language(client, make_user, sign_in, mail_server):
    user = make_user(locale="en")
    notify(user)
    sign_in(user)
    response = client.get("/notifications/")
    page = response.get_data(as_text=True)
    assert "Overdue: Datenschutz im Bürgerbüro" in page and "November 30, 2026" in page
    assert "unread" in page
    token = csrf_token(response)
    client.post("/language", data={"csrf_token": token, "language": "de"})
    page = client.get("/notifications/").get_data(as_text=True)
    assert "Überfällig: Datenschutz im Bürgerbüro" in page and "30. November 2026" in page


def test_course_titles_are_escaped(client, make_user, sign_in, mail_server):
    user = make_user(locale="en")
    notify(user, params={"course": "<script>alert(1)</script>", "due": "2026-11-30"})
    sign_in(user)
    page = client.get("/notifications/").get_data(as_text=True)
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page


def test_opening_a_notification_marks_it_read_and_follows_its_link(client, make_user, sign_in, mail_server):
    user = make_user(locale="en")
    notify(user)
    notification_id = db.session.scalar(select(Notification.id))
    sign_in(user)
    token = csrf_token(client.get("/notifications/"))
    assert client.post(f"/notifications/{notification_id}/open").status_code == 400  # no CSRF token
    response = client.post(f"/notifications/{notification_id}/open", data={"csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/courses/datenschutz/"
    db.session.expire_all()
    assert db.session.get(Notification, notification_id).read_at is not None
    assert "Notifications (" not in client.get("/learning/").get_data(as_text=True)


def test_nobody_opens_someone_elses_notification(client, make_user, sign_in, mail_server):
    owner = make_user()
    notify(owner)
    notification_id = db.session.scalar(select(Notification.id))
    sign_in(make_user())
    token = csrf_token(client.get("/notifications/"))
    assert client.post(f"/notifications/{notification_id}/open", data={"csrf_token": token}).status_code == 404
    db.session.expire_all()
    assert db.session.get(Notification, notification_id).read_at is None


def test_mark_all_as_read(client, make_user, sign_in, mail_server):
    user, other = make_user(locale="en"), make_user()
    for week in range(3):
        notify(user, key=f"user:overdue:{week}")
    notify(other, key="other:overdue")
    sign_in(user)
    page = client.get("/notifications/")
    assert "Mark all as read" in page.get_data(as_text=True)
    response = client.post("/notifications/read", data={"csrf_token": csrf_token(page)}, follow_redirects=True)
    assert "3 notifications marked as read." in response.get_data(as_text=True)
    assert services.unread_count(user) == 0 and services.unread_count(other) == 1


def test_the_list_costs_the_same_queries_for_many_notifications(client, make_user, sign_in, count_queries):
    user = make_user()
    sign_in(user)
    notify(user, key="first", mail=False)
    client.get("/notifications/")  # the session's last-seen time is written on an early request

    def queries_for_the_page() -> int:
        with count_queries() as counter:
            assert client.get("/notifications/").status_code == 200
        return counter.count

    few = queries_for_the_page()
    for number in range(15):
        notify(user, key=f"more:{number}", mail=False)
    assert queries_for_the_page() == few <= 5


# --- mail settings --------------------------------------------------------------------------


def test_switching_optional_mails_off_applies_at_once(client, make_user, sign_in, mail_server):
    user = make_user(locale="en")
    sign_in(user)
    page = client.get("/profile/notifications")
    assert "checked" in page.get_data(as_text=True) and "always sent" in page.get_data(as_text=True)
    response = client.post("/profile/notifications", data={"csrf_token": csrf_token(page)})  # box unticked
    assert response.status_code == 302
    assert db.session.get(MailPreference, user.id).optional_mails is False
    assert notify(user, key="digest", kind=NotificationKind.DIGEST, params={"items": []}, optional=True)
    assert count(OutboxMessage) == 0
    page = client.get("/profile/notifications")
    assert "checked" not in page.get_data(as_text=True)
    client.post("/profile/notifications", data={"csrf_token": csrf_token(page), "optional_mails": "y"})
    db.session.expire_all()
    assert services.optional_mails_enabled(user) is True


def test_the_settings_need_a_csrf_token(client, make_user, sign_in):
    user = make_user()
    sign_in(user)
    assert client.post("/profile/notifications", data={}).status_code == 400
    assert services.optional_mails_enabled(user) is True


# --- who may see what -----------------------------------------------------------------------


@pytest.mark.parametrize("role", list(Role))
def test_the_outbox_is_for_administrators_only(client, make_user, sign_in, role):
    sign_in(make_user(roles=[role]))
    expected = 200 if role == Role.ADMIN else 403
    assert client.get("/admin/outbox").status_code == expected
    assert client.get("/notifications/").status_code == 200
    assert client.get("/profile/notifications").status_code == 200


@pytest.mark.parametrize("url", ["/notifications/", "/profile/notifications", "/admin/outbox", "/admin/outbox/1"])
def test_anonymous_people_are_sent_to_sign_in(client, url):
    response = client.get(url)
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_the_outbox_shows_failures_prominently_and_bodies_as_text(client, make_user, sign_in, mail_server):
    user = make_user(email="erika@musterhausen.example", locale="en")
    notify(user, params={"course": "<b>Datenschutz</b>", "due": "2026-11-30"})
    notify(make_user(), key="other")
    failed = db.session.execute(select(OutboxMessage).where(OutboxMessage.user_id == user.id)).scalar_one()
    failed.status, failed.attempts, failed.last_error = OutboxStatus.FAILED, 1, "recipient refused: 550 No mailbox"
    db.session.commit()
    sign_in(make_user(roles=["admin"], locale="en"))
    page = client.get("/admin/outbox").get_data(as_text=True)
    assert "1 message could not be delivered" in page
    assert "erika@musterhausen.example" in page and "recipient refused: 550 No mailbox" in page
    only_failed = client.get("/admin/outbox?status=failed").get_data(as_text=True)
    assert "erika@musterhausen.example" in only_failed and only_failed.count("kern-table__row") == 2  # head + 1
    detail = client.get(f"/admin/outbox/{failed.id}").get_data(as_text=True)
    assert "This message could not be delivered" in detail
    assert "&lt;b&gt;Datenschutz&lt;/b&gt;" in detail  # the title, escaped in the text part
    assert "&lt;p&gt;" in detail and "&amp;lt;b&amp;gt;" in detail  # the HTML part as source, escaped again
    assert "<b>Datenschutz</b>" not in detail
    assert client.get("/admin/outbox/999").status_code == 404


def test_the_outbox_says_when_mails_are_held(client, make_user, sign_in, no_mail_server):
    notify(make_user())
    assert db.session.scalar(select(OutboxMessage.status)) == OutboxStatus.HELD
    sign_in(make_user(roles=["admin"], locale="en"))
    page = client.get("/admin/outbox").get_data(as_text=True)
    assert "1 message is held" in page and "MAIL_SERVER" in page
    assert "Lernpfad: Überfällig: Datenschutz" in page  # the subject in the recipient's language
    message_id = db.session.scalar(select(OutboxMessage.id))
    detail = client.get(f"/admin/outbox/{message_id}").get_data(as_text=True)
    assert "written out when it is first sent" in detail and "Bitte schließen Sie" in detail
    assert db.session.scalar(select(OutboxMessage.text_body)) is None  # a look writes nothing


# --- in a real browser ----------------------------------------------------------------------


@pytest.mark.browser
def test_the_notification_pages_are_accessible(page, make_user, no_mail_server):
    from tests.browser import assert_accessible
    from tests.browser import sign_in as browser_sign_in
    from tests.factories import DEFAULT_PASSWORD

    user = make_user()
    notify(user)
    items = [{"course": "Phishing", "due": "2026-12-14", "person": "Max Muster", "overdue": True}]
    notify(user, key="digest", kind=NotificationKind.DIGEST, params={"items": items}, optional=True)
    browser_sign_in(page, user.email, DEFAULT_PASSWORD)
    page.get_by_role("link", name="Benachrichtigungen (2 ungelesen)").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Benachrichtigungen"
    assert_accessible(page)
    page.get_by_role("button", name="Kurs öffnen").click()
    page.wait_for_url("**/courses/datenschutz/")
    page.goto("/profile/notifications")
    assert_accessible(page)
    admin = make_user(roles=["admin"])
    message = db.session.execute(select(OutboxMessage).where(OutboxMessage.dedupe_key == "digest")).scalar_one()
    message.status, message.last_error = OutboxStatus.FAILED, "recipient refused: 550 Mailbox unavailable"
    db.session.commit()
    page.context.clear_cookies()
    browser_sign_in(page, admin.email, DEFAULT_PASSWORD)
    page.goto("/admin/outbox")
    assert "1 Nachricht konnte nicht zugestellt werden" in page.get_by_role("alert").inner_text()
    assert_accessible(page)
    page.get_by_role("link", name="Lernpfad: Wochenübersicht: 1 offene Schulung").click()
    assert_accessible(page)
