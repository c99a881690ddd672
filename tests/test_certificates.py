"""Certificates for the personnel file (issue 15): one per completion with a verification code that
never changes, the PDF/A the learner downloads, and the page where HR checks a code (audited,
throttled, closed to everyone else)."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from lms.common.dates import as_utc, utcnow
from lms.common.vocabulary import AuditAction
from lms.extensions import db
from lms.learning import certificates
from lms.learning.models import Certificate, CertificateLookupFailures, Completion
from lms.people import retention as people_retention
from lms.privacy.models import AuditEntry
from tests.conftest import csrf_token
from tests.factories import DEFAULT_PASSWORD
from tests.test_learning import complete

CODE = re.compile(r"LP(?:-[2-9A-HJKMNP-Z]{4}){4}")


def signed_in_client(app, user):
    other = app.test_client()
    login = other.get("/auth/login")
    other.post("/auth/login", data={"csrf_token": csrf_token(login), "email": user.email, "password": DEFAULT_PASSWORD})
    return other


@pytest.fixture
def learner(make_user, sign_in):
    user = make_user(given_name="Erika", family_name="Mustermann-Öztürk")
    sign_in(user)
    return user


@pytest.fixture
def course(make_course):
    return make_course(
        title="Sicher im Netz – Phishing erkennen", competences=(("4.1", 3), ("1.1", 2)), valid_months=24
    )


@pytest.fixture
def hr(app, make_user):
    return signed_in_client(app, make_user(roles=["hr"]))


def only_certificate() -> Certificate:
    return db.session.execute(select(Certificate)).scalar_one()


def pdf_of(client, course) -> PdfReader:
    response = client.get(f"/courses/{course.slug}/certificate.pdf")
    assert response.status_code == 200
    assert response.content_type == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["Cache-Control"] == "no-store"
    return PdfReader(io.BytesIO(response.data))


def text_of(reader: PdfReader) -> str:
    return "\n".join(page.extract_text() for page in reader.pages)


def verify(client, code: str):
    page = client.get("/certificates/verify")
    return client.post("/certificates/verify", data={"csrf_token": csrf_token(page), "code": code})


def verifications() -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == AuditAction.VERIFY_CERTIFICATE.value)))


# --- issuing ------------------------------------------------------------------------------------------


def test_completing_a_course_issues_its_certificate_with_a_code(client, learner, course):
    complete(client, course)
    completion = db.session.execute(select(Completion)).scalar_one()
    certificate = only_certificate()
    assert (certificate.completion_id, certificate.user_id) == (completion.id, learner.id)
    assert CODE.fullmatch(certificates.formatted(certificate.code))
    assert certificate.course_title == course.title and certificate.course_version == completion.course_version
    assert [(item["code"], item["level"]) for item in certificate.competences] == [("1.1", 2), ("4.1", 3)]


def test_codes_are_read_whatever_their_spelling():
    code = certificates.new_code()
    assert len(code) == 16 and set(code) <= set(certificates.ALPHABET)
    shown = certificates.formatted(code)
    for typed in (shown, shown.lower(), shown.replace("-", " "), code, f" {shown[3:]} ", shown.replace("-", "–")):
        assert certificates.normalised(typed) == code, typed
    for wrong in ("", "LP-", code[:-1], code + "2", code[:-1] + "0", code[:-1] + "I", "x" * 300):
        assert certificates.normalised(wrong) is None, wrong


def test_a_completion_never_gets_a_second_certificate_nor_a_code_given_before(
    client, learner, course, make_course, monkeypatch
):
    complete(client, course)
    first = only_certificate()
    assert certificates.issue(first.completion).id == first.id  # as when two requests make it at once
    other = make_course()
    completion = Completion(user_id=learner.id, course_id=other.id, course_version=1, score_percent=100)
    db.session.add(completion)
    db.session.flush()
    codes = iter([first.code, "23456789ABCDEFGH"])
    monkeypatch.setattr(certificates, "new_code", lambda: next(codes))
    assert certificates.issue(completion).code == "23456789ABCDEFGH"
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(Certificate)) == 2


# --- the PDF ------------------------------------------------------------------------------------------


def test_the_pdf_names_the_person_the_course_its_competences_and_the_code(client, learner, course):
    complete(client, course)
    reader = pdf_of(client, course)
    text = text_of(reader)
    code = certificates.formatted(only_certificate().code)
    for expected in ("Stadt Musterhausen", "Teilnahmebescheinigung", learner.name, course.title, code, "4.1", "1.1"):
        assert expected in text, expected
    assert "Niveau 3" in text and "Gültig bis" in text  # in the learner's language (German)
    assert "/certificates/verify" in text  # where HR checks it


def test_the_pdf_is_pdf_a_2b_with_embedded_fonts_and_its_metadata(client, learner, course):
    complete(client, course)
    reader = pdf_of(client, course)
    root = reader.trailer["/Root"]
    xmp = root["/Metadata"].get_data().decode()
    assert "<pdfaid:part>2</pdfaid:part>" in xmp and "<pdfaid:conformance>B</pdfaid:conformance>" in xmp
    assert course.title in xmp and "Stadt Musterhausen" in xmp  # title and author (dc:title, dc:creator)
    assert reader.xmp_metadata.dc_title["x-default"] == f"Teilnahmebescheinigung: {course.title}"
    assert reader.xmp_metadata.dc_creator == ["Stadt Musterhausen"]
    assert root["/Lang"] == "de"
    (intent,) = root["/OutputIntents"]
    assert intent["/S"] == "/GTS_PDFA1" and "/DestOutputProfile" in intent  # the sRGB profile
    for font in reader.pages[0]["/Resources"]["/Font"].values():
        descriptor = font.get_object()["/DescendantFonts"][0].get_object()["/FontDescriptor"]
        assert "/FontFile2" in descriptor, font  # embedded, as PDF/A requires


def test_the_code_stays_the_same_on_every_download(client, learner, course):
    complete(client, course)
    first = CODE.search(text_of(pdf_of(client, course))).group()
    second = CODE.search(text_of(pdf_of(client, course))).group()
    assert first == second == certificates.formatted(only_certificate().code)
    assert db.session.scalar(select(func.count()).select_from(Certificate)) == 1


def test_a_completion_from_before_gets_its_certificate_on_the_first_download(client, learner, course):
    db.session.add(Completion(user_id=learner.id, course_id=course.id, course_version=1, score_percent=90))
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(Certificate)) == 0
    code = CODE.search(text_of(pdf_of(client, course))).group()
    assert code == certificates.formatted(only_certificate().code)
    assert CODE.search(text_of(pdf_of(client, course))).group() == code


def test_there_is_no_pdf_without_a_completion_and_none_of_someone_else(app, client, learner, course, make_user):
    assert client.get(f"/courses/{course.slug}/certificate.pdf").status_code == 404
    complete(client, course)
    other = signed_in_client(app, make_user())
    assert other.get(f"/courses/{course.slug}/certificate.pdf").status_code == 404
    assert client.get("/courses/no-such-course/certificate.pdf").status_code == 404


def test_the_certificate_page_links_to_the_pdf(client, learner, course):
    complete(client, course)
    html = client.get(f"/courses/{course.slug}/certificate").get_data(as_text=True)
    assert f'href="/courses/{course.slug}/certificate.pdf"' in html and "Als PDF herunterladen" in html


# --- the verification page -------------------------------------------------------------------------


def test_hr_verifies_a_code_and_the_lookup_is_audited(client, learner, course, hr):
    complete(client, course)
    certificate = only_certificate()
    typed = certificates.formatted(certificate.code).lower().replace("-", " ")  # as someone might type it
    response = verify(hr, typed)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'data-standing="valid"' in html
    assert learner.name in html and course.title in html and learner.personnel_number in html
    (entry,) = verifications()
    assert (entry.subject_id, entry.action) == (learner.id, "verify_certificate")
    assert entry.actor_id != learner.id and entry.context["certificate"] == certificate.id


def test_a_wrong_code_says_so_next_to_the_field_and_shows_nobody(client, learner, course, hr):
    complete(client, course)
    code = only_certificate().code
    wrong = ("2" if code[0] != "2" else "3") + code[1:]
    response = verify(hr, certificates.formatted(wrong))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="code-error"' in html and 'aria-invalid="true"' in html
    assert learner.name not in html and 'id="verify-result"' not in html
    assert verifications() == []
    assert db.session.execute(select(CertificateLookupFailures.failures)).scalar_one() == 1
    malformed = verify(hr, "hello")  # cannot be a code: said so, not counted
    assert malformed.status_code == 422 and 'id="code-error"' in malformed.get_data(as_text=True)
    empty = verify(hr, "")
    assert empty.status_code == 422 and 'id="code-error"' in empty.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.execute(select(CertificateLookupFailures.failures)).scalar_one() == 1


def test_guessing_is_locked_after_too_many_wrong_codes(client, learner, course, make_user):
    complete(client, course)
    code = only_certificate().code
    checker = make_user(roles=["hr"])
    now = utcnow()
    for _ in range(certificates.MAX_FAILED_LOOKUPS):
        assert certificates.check(checker, certificates.new_code(), now=now).found is None
    locked = certificates.check(checker, code, now=now + timedelta(minutes=1))  # even the right code
    assert locked.found is None and locked.locked_until is not None
    assert certificates.check(checker, code, now=now + certificates.LOOKUP_WINDOW).found is not None
    # once the window has passed, wrong codes are counted afresh
    later = now + certificates.LOOKUP_WINDOW + timedelta(minutes=1)
    assert certificates.check(checker, certificates.new_code(), now=later).locked_until is None
    assert db.session.get(CertificateLookupFailures, checker.id).failures == 1


def test_a_locked_page_answers_429_with_the_time_next_to_the_field(client, learner, course, hr):
    complete(client, course)
    for _ in range(certificates.MAX_FAILED_LOOKUPS - 1):
        assert verify(hr, certificates.new_code()).status_code == 422
    assert verify(hr, certificates.new_code()).status_code == 429
    response = verify(hr, only_certificate().code)
    assert response.status_code == 429 and 'id="code-error"' in response.get_data(as_text=True)
    assert verifications() == []


@pytest.mark.parametrize("role", ["employee", "dpo", "manager", "trainer", "staff_council", "change"])
def test_only_hr_and_administrators_open_the_verification_page(app, client, make_user, role):
    other = signed_in_client(app, make_user(roles=[role]))
    assert other.get("/certificates/verify").status_code == 403
    assert other.post("/certificates/verify", data={"code": "LP-2222-2222-2222-2222"}).status_code in (400, 403)


def test_administrators_open_it_and_anonymous_visitors_are_sent_to_sign_in(app, client, make_user):
    assert client.get("/certificates/verify").status_code == 302
    admin = signed_in_client(app, make_user(roles=["admin"]))
    assert admin.get("/certificates/verify").status_code == 200


def test_an_expired_certificate_says_so(client, learner, course, make_user):
    complete(client, course)
    certificate = only_certificate()
    checker = make_user(roles=["hr"])
    expires = as_utc(certificate.completion.expires_at)
    assert certificates.check(checker, certificate.code).found.standing == certificates.Standing.VALID
    after = expires + timedelta(days=1)
    assert certificates.check(checker, certificate.code, now=after).found.standing == certificates.Standing.EXPIRED
    assert certificates.check(checker, "2" * 16).found is None


def test_a_revoked_certificate_says_so_on_the_verification_page(app, client, learner, course, hr):
    complete(client, course)
    code = certificates.formatted(only_certificate().code)
    result = app.test_cli_runner().invoke(args=["courses", "revoke-certificate", code.lower()])
    assert result.exit_code == 0, result.output
    html = verify(hr, code).get_data(as_text=True)
    assert 'data-standing="revoked"' in html and learner.name in html
    (entry,) = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "revoke_certificate"))
    assert (entry.actor_id, entry.subject_id) == (None, learner.id)
    again = app.test_cli_runner().invoke(args=["courses", "revoke-certificate", code])
    assert again.exit_code != 0 and "revoked before" in again.output
    unknown = app.test_cli_runner().invoke(args=["courses", "revoke-certificate", "LP-2222-2222-2222-2222"])
    assert unknown.exit_code != 0 and "no certificate with the code" in unknown.output


def test_the_verification_page_takes_a_fixed_number_of_statements(
    app, client, learner, course, make_course, hr, count_queries
):
    big = make_course(competences=(("4.1", 3), ("1.1", 2), ("2.1", 4), ("3.1", 1)))
    complete(client, course)
    complete(client, big)
    codes = db.session.scalars(select(Certificate.code).order_by(Certificate.id)).all()
    token = csrf_token(hr.get("/certificates/verify"))
    counts = []
    for code in codes:
        with count_queries() as counter:
            assert hr.post("/certificates/verify", data={"csrf_token": token, "code": code}).status_code == 200
        counts.append(counter.count)
    # session with user and roles; the failure count; the certificate with its completion and
    # person; the audit entry (the chain's head moved on, the entry, the head's hash); the bell
    assert counts == [STATEMENTS_FOUND, STATEMENTS_FOUND]
    with count_queries() as counter:
        assert hr.post("/certificates/verify", data={"csrf_token": token, "code": "2" * 16}).status_code == 422
    assert counter.count == STATEMENTS_NOT_FOUND


STATEMENTS_FOUND = 7
STATEMENTS_NOT_FOUND = 5


# --- retention -------------------------------------------------------------------------------------


def test_certificates_go_with_a_person_deleted_after_leaving_and_the_code_is_no_longer_held(
    client, learner, course, hr
):
    complete(client, course)
    code = only_certificate().code
    learner.active = False
    learner.left_on = date.today() - timedelta(days=400)
    db.session.commit()
    assert people_retention.purge(utcnow() - timedelta(days=365)) == 1
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(Certificate)) == 0
    response = verify(hr, code)
    assert response.status_code == 422 and 'id="code-error"' in response.get_data(as_text=True)


# --- the command line --------------------------------------------------------------------------------


def certificate_command(app, *args: str):
    return app.test_cli_runner().invoke(args=["courses", "certificate", *args])


def test_the_command_writes_the_persons_certificate_and_records_it(app, client, learner, course, tmp_path):
    complete(client, course)
    output = tmp_path / "bescheinigung.pdf"
    result = certificate_command(
        app, "--email", learner.email.upper(), "--course", course.slug, "--output", str(output)
    )
    assert result.exit_code == 0, result.output
    code = certificates.formatted(only_certificate().code)
    assert code in result.output
    text = text_of(PdfReader(output))
    assert learner.name in text and course.title in text and code in text
    assert f"{app.config['LMS_BASE_URL']}/certificates/verify" in text
    (entry,) = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "export_certificate"))
    assert (entry.actor_id, entry.subject_id, entry.context["via"]) == (None, learner.id, "cli")


def test_the_command_refuses_what_it_cannot_write_and_writes_nothing(app, client, learner, course, make_user, tmp_path):
    output = tmp_path / "c.pdf"
    cases = [
        (("--email", "nobody@musterhausen.example", "--course", course.slug), "no person has the e-mail address"),
        (("--email", learner.email, "--course", "no-such-course"), "there is no course"),
        (("--email", learner.email, "--course", course.slug), "has not completed the course"),
    ]
    for args, message in cases:
        result = certificate_command(app, *args, "--output", str(output))
        assert result.exit_code != 0 and message in result.output, result.output
    missing = certificate_command(
        app, "--email", learner.email, "--course", course.slug, "--output", str(tmp_path / "no" / "c.pdf")
    )
    assert missing.exit_code != 0 and "does not exist" in missing.output
    assert list(tmp_path.iterdir()) == []
    assert db.session.scalar(select(func.count()).select_from(Certificate)) == 0


# --- in a browser ------------------------------------------------------------------------------------


@pytest.mark.browser
def test_hr_checks_codes_in_a_browser_and_the_page_is_accessible(page, make_user, make_course):
    from tests.browser import assert_accessible
    from tests.browser import sign_in as browser_sign_in

    person, checker = make_user(), make_user(roles=["hr"])
    course = make_course(title="E-Akte im Alltag")
    completion = Completion(user_id=person.id, course_id=course.id, course_version=1, score_percent=90)
    db.session.add(completion)
    db.session.flush()
    code = certificates.formatted(certificates.issue(completion).code)
    db.session.commit()
    browser_sign_in(page, checker.email, DEFAULT_PASSWORD)
    page.goto("/certificates/verify")
    assert_accessible(page)
    field = page.get_by_label("Prüfcode").or_(page.get_by_label("Verification code"))
    field.fill("LP-2222-2222-2222-2222")
    page.locator("#verify-form button[type=submit]").click()
    assert page.locator("#code-error").is_visible() and field.get_attribute("aria-invalid") == "true"
    assert page.locator("#error-summary").is_visible()
    assert_accessible(page)
    field.fill(code)
    page.locator("#verify-form button[type=submit]").click()
    assert page.locator("#verify-person").inner_text() == person.name
    assert page.locator("#verify-course").inner_text() == "E-Akte im Alltag"
    assert page.locator("#verify-result").get_attribute("data-standing") == "valid"
    assert_accessible(page)
