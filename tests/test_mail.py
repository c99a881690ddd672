"""Notification mails: written in the recipient's language, sent once over a real SMTP server
(aiosmtpd, tests/smtp.py), retried while the server is down, failed only for a refused recipient."""

from __future__ import annotations

import threading
from datetime import date, timedelta

from sqlalchemy import select

from lms.common.dates import as_utc, utcnow
from lms.extensions import db
from lms.notifications import mail, services
from lms.notifications.delivery import BACKOFF, CLAIM_LEASE, deliver_outbox, message_id_of
from lms.notifications.models import NotificationKind, OutboxMessage, OutboxStatus
from tests.smtp import BASE_URL, SENDER

OVERDUE = {"course": "Datenschutz im Bürgerbüro", "due": date(2026, 11, 30)}


def queue(user, key="assignment:1:overdue", kind=NotificationKind.OVERDUE, params=None, link="/courses/x/", **options):
    assert services.notify(user, kind, params or OVERDUE, link, dedupe_key=key, **options)
    db.session.commit()


def outbox() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def parts(message) -> tuple[str, str]:
    plain = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    return plain.replace("\r\n", "\n"), html.replace("\r\n", "\n")


# --- what a mail says -----------------------------------------------------------------------


def test_a_german_mail_in_both_parts_with_an_absolute_link(make_user, mail_server):
    queue(make_user(email="erika@musterhausen.example", given_name="Erika", family_name="Muster"))
    report = deliver_outbox()
    assert report.sent == 1
    [message] = mail_server.messages
    assert message["Subject"] == "Lernpfad: Überfällig: Datenschutz im Bürgerbüro"
    assert message["To"] == "erika@musterhausen.example" and message["From"] == SENDER
    assert message["Content-Language"] == "de" and message["Auto-Submitted"] == "auto-generated"
    assert message.get_content_type() == "multipart/alternative"
    plain, html = parts(message)
    assert "Guten Tag Erika Muster," in plain and "30. November 2026" in plain
    assert f"{BASE_URL}/courses/x/" in plain
    assert f'href="{BASE_URL}/courses/x/"' in html and 'lang="de"' in html
    assert "Datenschutz im Bürgerbüro" in html


def test_an_english_mail_for_an_english_reader(make_user, mail_server):
    queue(make_user(locale="en", given_name="Erika", family_name="Muster"))
    deliver_outbox()
    [message] = mail_server.messages
    assert message["Subject"] == "Lernpfad: Overdue: Datenschutz im Bürgerbüro"
    assert message["Content-Language"] == "en"
    plain, html = parts(message)
    assert "Hello Erika Muster," in plain and "November 30, 2026" in plain
    assert 'lang="en"' in html


def test_the_mail_escapes_titles_in_html_and_never_carries_a_score(make_user, mail_server):
    queue(make_user(), params={"course": "<img src=x onerror=alert(1)>", "due": "2026-11-30"})
    deliver_outbox()
    plain, html = parts(mail_server.messages[0])
    assert "<img src=x onerror=alert(1)>" in plain  # plain text is plain
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html


def test_a_digest_lists_its_trainings_and_links_to_the_settings(make_user, mail_server):
    items = [
        {"course": "Datenschutz", "due": "2026-12-01", "person": "Erika Muster", "overdue": True},
        {"course": "Phishing", "due": "2026-12-14", "person": "Max Muster"},
    ]
    queue(make_user(locale="en"), "digest", NotificationKind.DIGEST, {"items": items}, "/team/", optional=True)
    deliver_outbox()
    message = mail_server.messages[0]
    assert message["Subject"] == "Lernpfad: Weekly overview: 2 open trainings"
    plain, html = parts(message)
    assert "2 trainings are open. 1 of them is overdue." in plain
    assert "- Erika Muster: Datenschutz, due December 1, 2026 (overdue)\n- Max Muster: Phishing" in plain
    assert "<li>Max Muster: Phishing, due December 14, 2026</li>" in html
    assert f"{BASE_URL}/profile/notifications" in plain and f'href="{BASE_URL}/profile/notifications"' in html


def test_a_mail_in_another_language_leaves_the_page_language_alone(app, make_user, mail_server):
    """A German page (a request) that queues an English mail goes on in German."""
    from lms.i18n import _

    user = make_user(locale="en")
    with app.test_request_context("/", headers={"Accept-Language": "de"}):
        assert _("Notifications") == "Benachrichtigungen"
        services.notify(user, NotificationKind.OVERDUE, OVERDUE, "/courses/x/", dedupe_key="k")
        [queued] = outbox()
        assert queued.locale == "en" and queued.subject is None  # written when first sent
        mail.write(queued, user)
        assert _("Notifications") == "Benachrichtigungen"
    assert queued.subject == "Lernpfad: Overdue: Datenschutz im Bürgerbüro"


# --- delivery -------------------------------------------------------------------------------


def test_deliver_sends_through_the_smtp_server_once(make_user, mail_server):
    users = [make_user() for _ in range(3)]
    for number, user in enumerate(users):
        queue(user, key=f"k{number}")
    report = deliver_outbox()
    assert (report.sent, report.failed, report.retrying) == (3, 0, 0)
    assert sorted(m["To"] for m in mail_server.messages) == sorted(u.email for u in users)
    rows = outbox()
    assert all(row.status == OutboxStatus.SENT and row.sent_at and row.attempts == 1 for row in rows)
    assert {m["Message-ID"] for m in mail_server.messages} == {message_id_of(row, SENDER) for row in rows}
    assert deliver_outbox().sent == 0 and len(mail_server.messages) == 3


def test_while_the_server_is_down_mails_wait_and_go_out_once_later(make_user, mail_server):
    user = make_user()
    queue(user)
    mail_server.stop()
    start = utcnow()
    report = deliver_outbox(now=start)
    assert report.retrying == 1 and report.stopped and "not reachable" in report.stopped
    [row] = outbox()
    assert row.status == OutboxStatus.QUEUED and row.attempts == 1
    assert as_utc(row.next_attempt_at) == start + BACKOFF[0] and "not reachable" in row.last_error
    assert deliver_outbox(now=start + timedelta(seconds=30)).attempted == 0  # not due yet
    report = deliver_outbox(now=start + timedelta(minutes=2))  # still down: the wait grows
    [row] = outbox()
    assert row.attempts == 2 and as_utc(row.next_attempt_at) == start + timedelta(minutes=2) + BACKOFF[1]
    mail_server.start()
    report = deliver_outbox(now=start + timedelta(minutes=10))
    assert report.sent == 1 and len(mail_server.messages) == 1
    [row] = outbox()
    assert row.status == OutboxStatus.SENT and row.last_error is None
    assert mail_server.messages[0]["Message-ID"] == message_id_of(row, SENDER)
    assert deliver_outbox(now=start + timedelta(days=1)).attempted == 0 and len(mail_server.messages) == 1


def test_a_mail_is_written_at_its_first_attempt_and_retried_as_written(make_user, mail_server):
    user = make_user(given_name="Erika", family_name="Muster")
    queue(user)
    [row] = outbox()
    assert row.text_body is None and row.kind == "overdue"  # queued as what it says, not yet written
    mail_server.stop()
    start = utcnow()
    deliver_outbox(now=start)
    [row] = outbox()
    assert row.status == OutboxStatus.QUEUED and "Guten Tag Erika Muster," in row.text_body
    user.given_name = "Erika-Maria"  # renamed meanwhile: the retry sends the mail as written
    db.session.commit()
    mail_server.start()
    assert deliver_outbox(now=start + timedelta(minutes=2)).sent == 1
    plain, _html = parts(mail_server.messages[0])
    assert "Guten Tag Erika Muster," in plain and plain.strip() == outbox()[0].text_body.strip()


def test_a_mail_that_can_no_longer_be_written_fails_alone(make_user, mail_server):
    queue(make_user(), key="broken")
    queue(make_user(), key="fine")
    broken = next(row for row in outbox() if row.dedupe_key == "broken")
    broken.params = {"course": "Datenschutz"}  # an overdue mail without its due date
    db.session.commit()
    report = deliver_outbox()
    assert (report.sent, report.failed) == (1, 1)
    broken = next(row for row in outbox() if row.dedupe_key == "broken")
    assert broken.status == OutboxStatus.FAILED and broken.last_error.startswith("could not write the mail")


def test_a_mail_is_given_up_after_the_last_attempt(app, make_user, mail_server):
    app.config["LMS_MAIL_MAX_ATTEMPTS"] = 3  # the fixture restores it
    queue(make_user())
    mail_server.stop()
    moment = utcnow()
    for _attempt in range(3):
        deliver_outbox(now=moment)
        moment += timedelta(days=1)
    [row] = outbox()
    assert row.status == OutboxStatus.FAILED and row.attempts == 3
    assert row.last_error.startswith("given up after 3 attempts")
    assert services.failure_count() == 1


def test_a_refused_recipient_fails_alone_and_the_others_are_sent(make_user, mail_server):
    refused = make_user(email="gone@musterhausen.example")
    others = [make_user(), make_user()]
    queue(others[0], key="a")
    queue(refused, key="b")
    queue(others[1], key="c")
    mail_server.refuse("gone@musterhausen.example")
    report = deliver_outbox()
    assert (report.sent, report.failed, report.retrying) == (2, 1, 0)
    assert sorted(m["To"] for m in mail_server.messages) == sorted(u.email for u in others)
    statuses = {row.to_address: (row.status, row.last_error) for row in outbox()}
    status, error = statuses["gone@musterhausen.example"]
    assert status == OutboxStatus.FAILED and "550" in error
    assert deliver_outbox(now=utcnow() + timedelta(days=1)).attempted == 0  # failed is final


def test_a_recipient_deferred_for_now_is_tried_again(make_user, mail_server):
    user = make_user(email="full@musterhausen.example")
    queue(user)
    mail_server.defer("full@musterhausen.example")
    start = utcnow()
    assert deliver_outbox(now=start).retrying == 1
    [row] = outbox()
    assert row.status == OutboxStatus.QUEUED and "451" in row.last_error
    mail_server.accept("full@musterhausen.example")
    assert deliver_outbox(now=start + BACKOFF[0]).sent == 1
    assert len(mail_server.messages) == 1


def test_two_delivery_runs_at_once_send_each_mail_once(app, make_user, mail_server):
    for number in range(8):
        queue(make_user(), key=f"parallel:{number}")
    mail_server.slow_down(0.02)  # the runs overlap for sure
    barrier = threading.Barrier(2)
    reports, errors = [], []

    def run():
        try:
            with app.app_context():
                barrier.wait(timeout=10)
                reports.append(deliver_outbox())
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert sum(report.sent for report in reports) == 8
    ids = [message["Message-ID"] for message in mail_server.messages]
    assert len(ids) == 8 and len(set(ids)) == 8
    assert all(row.status == OutboxStatus.SENT and row.attempts == 1 for row in outbox())


def test_a_claim_whose_run_died_is_sent_by_a_later_run(make_user, mail_server):
    queue(make_user())
    [row] = outbox()
    row.status, row.attempts, row.next_attempt_at = OutboxStatus.SENDING, 1, utcnow() + CLAIM_LEASE
    db.session.commit()
    assert deliver_outbox().attempted == 0  # the claim still holds: maybe the mail is on its way
    report = deliver_outbox(now=utcnow() + CLAIM_LEASE + timedelta(seconds=1))
    assert report.requeued == 1 and report.sent == 1
    [row] = outbox()
    assert row.status == OutboxStatus.SENT and row.attempts == 2


def test_a_mail_to_someone_deactivated_meanwhile_is_not_sent(make_user, mail_server):
    gone, staying = make_user(), make_user()
    queue(gone, key="a")
    queue(staying, key="b")
    gone.active = False
    db.session.commit()
    report = deliver_outbox()
    assert (report.sent, report.failed) == (1, 1)
    assert [m["To"] for m in mail_server.messages] == [staying.email]
    row = next(row for row in outbox() if row.user_id == gone.id)
    assert row.status == OutboxStatus.FAILED and "deactivated" in row.last_error


def test_without_a_mail_server_mails_are_held_not_sent(make_user, no_mail_server, smtp_server):
    queue(make_user())
    [row] = outbox()
    assert row.status == OutboxStatus.HELD
    report = deliver_outbox()
    assert report.attempted == 0 and smtp_server.messages == []
    assert outbox()[0].status == OutboxStatus.HELD


def test_the_deliver_command(app, make_user, mail_server):
    queue(make_user(), key="one")
    queue(make_user(), key="two")
    result = app.test_cli_runner().invoke(args=["notifications", "deliver"])
    assert result.exit_code == 0, result.output
    assert "2 sent" in result.output and len(mail_server.messages) == 2


def test_the_deliver_command_fails_when_the_server_is_down(app, make_user, mail_server):
    queue(make_user())
    mail_server.stop()
    result = app.test_cli_runner().invoke(args=["notifications", "deliver"])
    assert result.exit_code == 1 and "not reachable" in result.output
    assert outbox()[0].status == OutboxStatus.QUEUED


def test_held_mails_are_released_once_a_server_is_configured(app, make_user, no_mail_server, smtp_server):
    queue(make_user())
    runner = app.test_cli_runner()
    assert runner.invoke(args=["notifications", "release-held"]).exit_code == 1
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_server.port)  # no_mail_server restores it
    result = runner.invoke(args=["notifications", "release-held"])
    assert result.exit_code == 0 and "1 held mail(s) queued" in result.output
    assert deliver_outbox().sent == 1 and len(smtp_server.messages) == 1
