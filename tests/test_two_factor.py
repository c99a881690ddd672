"""Two-factor sign-in (issue 15): setup, the code after the password, replays, recovery codes, roles
that require it, the admin's reset, hardware tokens and ending sessions, and their audit entries.
Codes are real TOTP codes (pyotp); the clock of lms.auth.twofactor is moved instead of waiting."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select

from lms.auth import twofactor
from lms.auth.models import LoginThrottle, PendingSignIn, RecoveryCode, TwoFactorCredential
from lms.common.dates import utcnow
from lms.common.errors import ValidationFailed
from lms.common.vocabulary import AuditAction, Role, TwoFactorKind
from lms.config import ConfigError, load_config
from lms.extensions import db
from lms.privacy.models import AuditEntry
from tests.conftest import csrf_token
from tests.factories import DEFAULT_PASSWORD

CODE_PAGE = "/auth/two-factor/code"


class Clock:
    """lms.auth.twofactor's utcnow: stands still unless moved on (codes change every 30 seconds)."""

    def __init__(self):
        self.start = utcnow()
        self.offset = timedelta()

    def __call__(self):
        return self.start + self.offset

    def next_code(self, secret: str) -> str:
        """Thirty seconds on, and the code of that moment: a code not used yet."""
        self.offset += timedelta(seconds=30)
        return pyotp.TOTP(secret).at(self())


@pytest.fixture
def clock(monkeypatch):
    moved = Clock()
    monkeypatch.setattr(twofactor, "utcnow", moved)
    return moved


@pytest.fixture
def requiring(app):
    """LMS_TWO_FACTOR_REQUIRED_ROLES for one test."""
    before = app.config["TWO_FACTOR_REQUIRED_ROLES"]

    def require(*roles):
        app.config["TWO_FACTOR_REQUIRED_ROLES"] = frozenset(roles)

    yield require
    app.config["TWO_FACTOR_REQUIRED_ROLES"] = before


def wrong_code(secret: str, clock: Clock) -> str:
    """A code that is not the token's for any moment near now."""
    near = {pyotp.TOTP(secret).at(clock() + timedelta(seconds=30 * k)) for k in range(-3, 4)}
    return next(f"{n:06d}" for n in range(1000000) if f"{n:06d}" not in near)


def turn_on(user, clock: Clock) -> tuple[str, list[str]]:
    """Two-factor sign-in set up through the services, as the person would: the secret and the codes."""
    secret = twofactor.start_setup(user)
    codes = twofactor.confirm_setup(user, pyotp.TOTP(secret).at(clock()), "10.0.0.1")
    db.session.commit()
    return secret, codes


def post(client, page: str, action: str, data: dict, **kwargs):
    return client.post(action, data={"csrf_token": csrf_token(client.get(page)), **data}, **kwargs)


def entries(action: AuditAction) -> list[AuditEntry]:
    return list(db.session.execute(select(AuditEntry).where(AuditEntry.action == action)).scalars())


def shown_codes(response) -> list[str]:
    return re.findall(r'<code translate="no">([A-Z2-7]{4}(?:-[A-Z2-7]{4}){3})</code>', response.get_data(as_text=True))


def has_field_error(response) -> bool:
    return response.status_code == 200 and "kern-form-input--error" in response.get_data(as_text=True)


def sign_in_elsewhere(app, user):
    """The person's password on another browser (a client of its own)."""
    other = app.test_client()
    token = csrf_token(other.get("/auth/login"))
    other.post("/auth/login", data={"csrf_token": token, "email": user.email, "password": DEFAULT_PASSWORD})
    return other


def signed_in(client) -> bool:
    return client.get("/learning/").status_code == 200


# --- setup ------------------------------------------------------------------------------------


def test_a_person_sets_it_up_with_the_qr_code_and_a_confirming_code(client, make_user, sign_in, clock):
    user = make_user()
    sign_in(user)
    overview = client.get("/auth/two-factor").get_data(as_text=True)
    assert "hardware token" in overview.lower() or "Hardware-Token" in overview  # no private phone needed
    started = post(client, "/auth/two-factor", "/auth/two-factor/start", {})
    assert started.headers["Location"].endswith("/auth/two-factor/setup")
    page = client.get("/auth/two-factor/setup")
    text = page.get_data(as_text=True)
    secret = db.session.get(TwoFactorCredential, user.id).new_secret
    assert '<img src="data:image/svg+xml' in text and twofactor.grouped(secret) in text
    assert "<script" not in text.split("</header>", 1)[1] and "style=" not in text

    wrong = post(client, "/auth/two-factor/setup", "/auth/two-factor/setup", {"code": wrong_code(secret, clock)})
    assert has_field_error(wrong) and not twofactor.is_on(user)

    done = post(client, "/auth/two-factor/setup", "/auth/two-factor/setup", {"code": pyotp.TOTP(secret).at(clock())})
    shown = shown_codes(done)
    assert len(shown) == twofactor.RECOVERY_CODE_COUNT == len(set(shown))
    db.session.expire_all()
    row = db.session.get(TwoFactorCredential, user.id)
    assert (row.secret, row.new_secret, row.kind) == (secret, None, TwoFactorKind.APP)
    stored = db.session.execute(select(RecoveryCode.code_hash, RecoveryCode.salt)).all()
    assert len(stored) == 10 and len({salt for _hash, salt in stored}) == 10
    assert all(code.replace("-", "") not in value for code in shown for row in stored for value in row)
    [enabled] = entries(AuditAction.ENABLE_TWO_FACTOR)
    assert (enabled.actor_id, enabled.subject_id) == (user.id, user.id)
    assert signed_in(client)  # the session that set it up goes on


def test_the_secret_is_not_in_the_persons_copy_of_their_data(client, make_user, sign_in, clock):
    user = make_user()
    secret, codes = turn_on(user, clock)
    sign_in(user)
    client.post(CODE_PAGE, data={"csrf_token": csrf_token(client.get(CODE_PAGE)), "code": clock.next_code(secret)})
    archive = zipfile.ZipFile(io.BytesIO(client.get("/privacy/my-data.zip").data))
    everything = b"".join(archive.read(name) for name in archive.namelist())
    assert b"two_factor_credentials" in everything  # the row is there (kind, since when) ...
    assert secret.encode() not in everything  # ... but not the secret


# --- sign-in ----------------------------------------------------------------------------------


def test_the_password_alone_does_not_sign_in_the_code_does(client, make_user, sign_in, clock):
    user = make_user()
    secret, _codes = turn_on(user, clock)
    response = sign_in(user)
    assert response.status_code == 302 and response.headers["Location"].endswith(CODE_PAGE)
    assert not signed_in(client)  # a pending sign-in is no session
    assert db.session.scalar(select(db.func.count(PendingSignIn.id))) == 1
    done = post(client, CODE_PAGE, CODE_PAGE, {"code": clock.next_code(secret)})
    assert done.status_code == 302 and done.headers["Location"].endswith("/")
    assert signed_in(client)
    assert db.session.scalar(select(db.func.count(PendingSignIn.id))) == 0


def test_a_wrong_code_is_refused_and_counts_for_the_throttling(app, client, make_user, sign_in, clock):
    user = make_user()
    secret, _codes = turn_on(user, clock)
    sign_in(user)
    wrong = post(client, CODE_PAGE, CODE_PAGE, {"code": wrong_code(secret, clock)})
    assert has_field_error(wrong)
    assert not signed_in(client)
    key = f"tfa:{user.id}"
    failures = lambda: db.session.execute(  # noqa: E731
        select(LoginThrottle.failures).where(LoginThrottle.key == key)
    ).scalar_one()
    assert failures() == 1
    free = app.config["LOGIN_FREE_ATTEMPTS_ACCOUNT"]
    for _ in range(free - 1):
        post(client, CODE_PAGE, CODE_PAGE, {"code": wrong_code(secret, clock)})
    assert failures() == free  # the next attempt waits
    # The right password again does not give fresh attempts at the code.
    sign_in(user)
    assert failures() == free
    right = pyotp.TOTP(secret).at(clock() + timedelta(seconds=30))  # unused, and inside the window
    held = post(client, CODE_PAGE, CODE_PAGE, {"code": right})
    assert "Bitte warten Sie" in held.get_data(as_text=True) and not signed_in(client)


def test_a_code_is_not_accepted_twice(app, database, make_user, clock):
    user = make_user()
    secret, _codes = turn_on(user, clock)
    code = clock.next_code(secret)
    assert twofactor.check_code(user, code, "10.0.0.1").ok
    db.session.commit()
    assert twofactor.check_code(user, code, "10.0.0.1").error == "invalid"
    # Nor an older one still inside the window, nor the one that confirmed the setup.
    earlier = pyotp.TOTP(secret).at(clock() - timedelta(seconds=30))
    assert twofactor.check_code(user, earlier, "10.0.0.1").error == "invalid"
    assert twofactor.check_code(user, clock.next_code(secret), "10.0.0.1").ok


def test_codes_from_the_steps_next_to_now_count(app, database, make_user, clock):
    user = make_user()
    secret, _codes = turn_on(user, clock)
    clock.offset += timedelta(minutes=5)
    late = pyotp.TOTP(secret).at(clock() - timedelta(seconds=30))  # the device's clock is a little behind
    assert twofactor.check_code(user, late, None).ok
    too_far = pyotp.TOTP(secret).at(clock() + timedelta(seconds=90))
    assert twofactor.check_code(user, too_far, None).error == "invalid"


def test_a_recovery_code_signs_in_once(client, make_user, sign_in, clock):
    user = make_user()
    _secret, codes = turn_on(user, clock)
    sign_in(user)
    used = post(client, CODE_PAGE, CODE_PAGE, {"code": codes[3].lower().replace("-", " ")}, follow_redirects=True)
    assert used.status_code == 200 and signed_in(client)
    assert "kern-alert--warning" in used.get_data(as_text=True)  # told that the code is used up
    assert db.session.scalar(select(db.func.count(RecoveryCode.id))) == 9
    [entry] = entries(AuditAction.USE_RECOVERY_CODE)
    assert (entry.actor_id, entry.subject_id) == (user.id, user.id)
    client.post("/auth/logout", data={"csrf_token": csrf_token(client.get("/learning/"))})
    sign_in(user)
    again = post(client, CODE_PAGE, CODE_PAGE, {"code": codes[3]})
    assert has_field_error(again) and not signed_in(client)


def test_a_pending_sign_in_ends_after_a_few_minutes(client, make_user, sign_in, clock):
    user = make_user()
    secret, _codes = turn_on(user, clock)
    sign_in(user)
    row = db.session.execute(select(PendingSignIn)).scalar_one()
    row.created_at = row.created_at - timedelta(minutes=twofactor.PENDING_MINUTES, seconds=1)
    db.session.commit()
    late = post(client, "/auth/login", CODE_PAGE, {"code": clock.next_code(secret)})
    assert late.status_code == 302 and "/auth/login" in late.headers["Location"]
    assert not signed_in(client)


def test_the_code_page_without_a_pending_sign_in_leads_to_sign_in(client):
    response = client.get(CODE_PAGE)
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


# --- the person's own changes -----------------------------------------------------------------


def test_turning_it_off_needs_a_current_code(client, make_user, sign_in, clock):
    user = make_user()
    secret, _codes = turn_on(user, clock)
    sign_in(user)
    post(client, CODE_PAGE, CODE_PAGE, {"code": clock.next_code(secret)})
    refused = post(client, "/auth/two-factor", "/auth/two-factor", {"code": wrong_code(secret, clock), "turn_off": "1"})
    assert has_field_error(refused) and twofactor.is_on(user)
    assert entries(AuditAction.DISABLE_TWO_FACTOR) == []
    done = post(client, "/auth/two-factor", "/auth/two-factor", {"code": clock.next_code(secret), "turn_off": "1"})
    assert done.status_code == 302
    db.session.expire_all()
    assert not twofactor.is_on(user) and db.session.scalar(select(db.func.count(RecoveryCode.id))) == 0
    [entry] = entries(AuditAction.DISABLE_TWO_FACTOR)
    assert (entry.actor_id, entry.subject_id) == (user.id, user.id)


def test_new_recovery_codes_replace_the_old_ones(client, make_user, sign_in, clock):
    user = make_user()
    secret, old = turn_on(user, clock)
    sign_in(user)
    post(client, CODE_PAGE, CODE_PAGE, {"code": clock.next_code(secret)})
    page = post(client, "/auth/two-factor", "/auth/two-factor", {"code": clock.next_code(secret), "new_codes": "1"})
    new = shown_codes(page)
    assert len(new) == 10 and not set(new) & set(old)
    assert len(entries(AuditAction.NEW_RECOVERY_CODES)) == 1
    db.session.expire_all()
    assert twofactor.check_code(user, old[0], None).error == "invalid"


def test_a_role_that_requires_it_signs_in_only_to_the_setup(client, make_user, sign_in, clock, requiring):
    requiring(Role.ADMIN)
    user = make_user(roles=["admin"])
    sign_in(user)
    forced = client.get("/admin/")
    assert forced.status_code == 302 and forced.headers["Location"].endswith("/auth/two-factor")
    assert client.get("/auth/two-factor").status_code == 200
    post(client, "/auth/two-factor", "/auth/two-factor/start", {})
    secret = db.session.get(TwoFactorCredential, user.id).new_secret
    post(client, "/auth/two-factor/setup", "/auth/two-factor/setup", {"code": pyotp.TOTP(secret).at(clock())})
    assert client.get("/admin/").status_code == 200
    # ... and cannot turn it off, not even with a right code.
    refused = post(client, "/auth/two-factor", "/auth/two-factor", {"code": clock.next_code(secret), "turn_off": "1"})
    assert has_field_error(refused) and twofactor.is_on(user)
    with pytest.raises(ValidationFailed):
        twofactor.turn_off(user, None)


def test_a_role_that_does_not_require_it_is_not_held_up(client, make_user, sign_in, requiring):
    requiring(Role.HR)
    sign_in(make_user(roles=["trainer"]))
    assert client.get("/trainer/").status_code == 200


def test_required_roles_come_from_the_environment_and_are_checked(monkeypatch):
    monkeypatch.setenv("LMS_TWO_FACTOR_REQUIRED_ROLES", "admin, hr")
    assert load_config({"LMS_ENV": "testing"})["TWO_FACTOR_REQUIRED_ROLES"] == {Role.ADMIN, Role.HR}
    monkeypatch.setenv("LMS_TWO_FACTOR_REQUIRED_ROLES", "admin,boss")
    with pytest.raises(ConfigError, match="boss"):
        load_config({"LMS_ENV": "testing"})
    monkeypatch.delenv("LMS_TWO_FACTOR_REQUIRED_ROLES")
    assert load_config({"LMS_ENV": "testing"})["TWO_FACTOR_REQUIRED_ROLES"] == frozenset()


# --- what an admin does -----------------------------------------------------------------------


def test_an_admin_enrols_a_hardware_token_checked_with_its_code(client, make_user, sign_in, clock):
    admin, person = make_user(roles=["admin"]), make_user()
    sign_in(admin)
    page = f"/admin/users/{person.id}/hardware-token"
    seed = pyotp.random_base32()
    typed = " ".join(seed[i : i + 4] for i in range(0, len(seed), 4)).lower()  # as a seed file may show it
    for bad in ["JBSWY3DP-ÄÖ", "JBSWY3DPEHPK3PXP", "A"]:  # not base32; 80 bits only; not complete
        response = post(client, page, page, {"secret": bad, "serial": "T-1", "code": "123456"})
        assert has_field_error(response) and 'id="secret-error"' in response.get_data(as_text=True), bad
    mismatch = post(client, page, page, {"secret": typed, "serial": "T-1", "code": wrong_code(seed, clock)})
    assert has_field_error(mismatch) and not twofactor.is_on(person)
    done = post(client, page, page, {"secret": typed, "serial": "FT-0042", "code": pyotp.TOTP(seed).at(clock())})
    assert done.status_code == 302
    db.session.expire_all()
    row = db.session.get(TwoFactorCredential, person.id)
    assert (row.kind, row.serial, row.secret) == (TwoFactorKind.HARDWARE, "FT-0042", seed)
    [entry] = entries(AuditAction.ENROL_HARDWARE_TOKEN)
    assert (entry.actor_id, entry.subject_id, entry.context) == (admin.id, person.id, {"serial": "FT-0042"})
    assert seed not in str(entry.context)
    person_page = client.get(f"/admin/users/{person.id}").get_data(as_text=True)
    assert "FT-0042" in person_page and seed not in person_page
    # The person signs in with the token's codes.
    other = sign_in_elsewhere(client.application, person)
    finished = other.post(
        CODE_PAGE, data={"csrf_token": csrf_token(other.get(CODE_PAGE)), "code": clock.next_code(seed)}
    )
    assert finished.status_code == 302 and other.get("/learning/").status_code == 200


def test_an_admin_resets_the_second_factor(client, make_user, sign_in, clock):
    admin, person = make_user(roles=["admin"]), make_user()
    turn_on(person, clock)
    sign_in(admin)
    page = f"/admin/users/{person.id}"
    assert 'id="two-factor-heading"' in client.get(page).get_data(as_text=True)
    response = post(client, page, f"/admin/users/{person.id}/two-factor-reset", {})
    assert response.status_code == 302
    db.session.expire_all()
    assert not twofactor.is_on(person) and db.session.scalar(select(db.func.count(RecoveryCode.id))) == 0
    [entry] = entries(AuditAction.RESET_TWO_FACTOR)
    assert (entry.actor_id, entry.subject_id) == (admin.id, person.id)
    # The password alone signs in again.
    other = sign_in_elsewhere(client.application, person)
    assert other.get("/learning/").status_code == 200


def test_an_admin_ends_all_sessions_of_a_person(app, client, make_user, sign_in):
    admin, person = make_user(roles=["admin"]), make_user()
    theirs = sign_in_elsewhere(app, person)
    assert theirs.get("/learning/").status_code == 200
    sign_in(admin)
    page = f"/admin/users/{person.id}"
    response = post(client, page, f"/admin/users/{person.id}/end-sessions", {})
    assert response.status_code == 302
    gone = theirs.get("/learning/")
    assert gone.status_code == 302 and "/auth/login" in gone.headers["Location"]
    assert client.get("/admin/").status_code == 200  # the admin's own session is another one
    [entry] = entries(AuditAction.END_SESSIONS)
    assert (entry.actor_id, entry.subject_id) == (admin.id, person.id)


def test_an_admin_who_ends_their_own_sessions_keeps_the_one_in_use(app, client, make_user, sign_in):
    admin = make_user(roles=["admin"])
    elsewhere = sign_in_elsewhere(app, admin)
    sign_in(admin)
    post(client, f"/admin/users/{admin.id}", f"/admin/users/{admin.id}/end-sessions", {})
    assert client.get("/admin/").status_code == 200
    assert elsewhere.get("/admin/").status_code == 302


def test_only_admins_reach_the_admin_steps(client, make_user, sign_in):
    person = make_user()
    sign_in(make_user(roles=["hr"]))
    token = csrf_token(client.get("/hr/"))
    for action in ("two-factor-reset", "end-sessions", "hardware-token"):
        assert client.post(f"/admin/users/{person.id}/{action}", data={"csrf_token": token}).status_code == 403


def test_seeds_are_read_as_base32_of_at_least_128_bits():
    seed = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    assert twofactor.parse_seed("jbsw y3dp-ehpk 3pxp jbsw y3dp ehpk 3pxp==") == seed
    for bad in ("", "JBSWY3DP", "JBSWY3DPEHPK3PX1JBSWY3DPEHPK3PXP", "J" * 200, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXPJ"):
        with pytest.raises(ValidationFailed):
            twofactor.parse_seed(bad)
