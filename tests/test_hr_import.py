"""People from the HR system: `flask people import` and the admin area's upload (docs/hr-import.md)."""

from __future__ import annotations

import csv
import hashlib
import io
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from lms.admin import hr_import as admin_import
from lms.admin import tasks as admin_tasks
from lms.auth import services as auth_services
from lms.auth.models import AuthSession
from lms.extensions import db
from lms.people import hr_import
from lms.people.models import User
from lms.people.services import town_today
from lms.privacy.models import AuditEntry
from tests.conftest import csrf_token

GERMAN = ("Personalnummer", "Vorname", "Nachname", "E-Mail", "Organisationseinheit", "Stelle", "Eintritt", "Austritt")
ENGLISH = (
    "personnel_number",
    "given_name",
    "family_name",
    "email",
    "department",
    "job_role",
    "entry_date",
    "exit_date",
)
GIVEN = ("Jürgen", "Ayşe", "Renée", "Zoë", "Björn", "Grete", "Małgorzata", "Ole")
FAMILY = ("Weiß", "Özdemir", "Müller", "Nguyễn", "Schäfer", "Krüger", "Łukasiewicz", "Peters")
GIVEN_1252 = ("Jürgen", "Renée", "Zoë", "Björn", "Grete", "Ole")  # Windows-1252 has no ş, ł, ễ
FAMILY_1252 = ("Weiß", "Müller", "Schäfer", "Krüger", "Peters", "Çelik")


def person(number: int, charset: str = "unicode", **changes) -> dict[str, str]:
    given, family = (GIVEN, FAMILY) if charset == "unicode" else (GIVEN_1252, FAMILY_1252)
    row = {
        "personnel_number": f"{100000 + number}",
        "given_name": given[number % len(given)],
        "family_name": f"{family[number % len(family)]}{number}",
        "email": f"person.{number}@musterhausen.example",
        "department": ("10", "20.1", "32")[number % 3],
        "job_role": ("SB", "ST", "IT")[number % 3],
        "entry_date": "01.02.2015",
        "exit_date": "",
    }
    row.update(changes)
    return row


def export(people, header=ENGLISH, delimiter=",", encoding="utf-8") -> bytes:
    """An HR export as the csv module writes it (header names by position: ENGLISH or GERMAN)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    for row in people:
        writer.writerow([row[name] for name in ENGLISH[: len(header)]])
    return buffer.getvalue().encode(encoding)


@pytest.fixture
def town(database, make_department, make_job_role, make_user):
    for code in ("10", "20.1", "32"):
        make_department(code=code)
    for code in ("SB", "ST", "IT"):
        make_job_role(code=code)
    # A local admin: no personnel number, never touched by the import.
    return make_user(roles=["admin"], email="admin@musterhausen.example", personnel_number=None)


def run(app, path, *options):
    return app.test_cli_runner().invoke(args=["people", "import", str(path), *options])


def write(tmp_path, data: bytes, name="hr.csv"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def people_by_number() -> dict[str, User]:
    db.session.expire_all()
    users = db.session.execute(select(User).where(User.personnel_number.is_not(None))).scalars()
    return {str(user.personnel_number): user for user in users}


def open_sessions(user: User) -> int:
    statement = select(func.count(AuthSession.id)).where(AuthSession.user_id == user.id, AuthSession.ended_at.is_(None))
    return db.session.scalar(statement) or 0


def audit_entries(action: str) -> list[AuditEntry]:
    return list(db.session.execute(select(AuditEntry).where(AuditEntry.action == action)).scalars())


# --- the whole journey: 500 people, again, leavers ----------------------------------------------


def test_an_export_of_500_people_imports_then_changes_nothing_then_deactivates_leavers(app, tmp_path, town):
    today = town_today()
    staff = [person(n, charset="1252") for n in range(500)]
    first = write(tmp_path, export(staff, header=GERMAN, delimiter=";", encoding="cp1252"), "hr-1252.csv")

    dry = run(app, first)
    assert dry.exit_code == 0, dry.output
    assert "500 to create, 0 to update, 0 to deactivate, 0 to reactivate" in dry.stdout
    assert "Dry run: nothing was written" in dry.stdout
    assert people_by_number() == {}

    applied = run(app, first, "--apply")
    assert applied.exit_code == 0, applied.output
    assert "500 created, 0 updated, 0 deactivated, 0 reactivated; 0 unchanged" in applied.stdout
    people = people_by_number()
    assert len(people) == 500
    jurgen = people["100000"]
    assert (jurgen.given_name, jurgen.family_name, jurgen.email) == ("Jürgen", "Weiß0", "person.0@musterhausen.example")
    assert jurgen.department.code == "10" and jurgen.job_role.code == "SB" and jurgen.roles == {"employee"}
    assert jurgen.active and jurgen.password_hash is None and jurgen.leaves_on is None
    [entry] = audit_entries("import_people")
    assert entry.actor_id is None and entry.subject_id is None
    assert entry.context == {
        "via": "cli",
        "sha256": hashlib.sha256(first.read_bytes()).hexdigest(),
        "counts": {"created": 500, "updated": 0, "deactivated": 0, "reactivated": 0},
    }
    assert "Weiß" not in str(entry.context) and "person.0@" not in str(entry.context)

    # The same people as UTF-8 with a BOM, comma-separated, English headers: nothing changes.
    second = write(tmp_path, b"\xef\xbb\xbf" + export(staff), "hr-utf8.csv")
    again = run(app, second, "--apply")
    assert again.exit_code == 0, again.output
    assert "0 created, 0 updated, 0 deactivated, 0 reactivated; 500 unchanged" in again.stdout
    assert audit_entries("import_people")[-1].context["counts"] == {
        "created": 0,
        "updated": 0,
        "deactivated": 0,
        "reactivated": 0,
    }

    # Five rows left out, two exit dates passed (today and last month), one ahead; one moves.
    auth_services.start_session(people["100007"])
    db.session.commit()
    staff = [row for row in staff if row["personnel_number"] not in {f"{100000 + n}" for n in (1, 2, 3, 4, 5)}]
    row = {row["personnel_number"]: row for row in staff}
    row["100007"]["exit_date"] = today.strftime("%d.%m.%Y")
    row["100008"]["exit_date"] = (today - timedelta(days=30)).isoformat()
    row["100009"]["exit_date"] = (today + timedelta(days=10)).isoformat()
    row["100010"]["department"] = "32"
    third = write(tmp_path, export(staff, delimiter=";"), "hr-leavers.csv")
    result = run(app, third, "--apply")
    assert result.exit_code == 0, result.output
    assert "0 created, 4 updated, 7 deactivated, 0 reactivated; 491 unchanged" in result.stdout
    assert "- 100001 Renée Müller1: deactivated (not in the file)" in result.stdout
    assert f"- 100008 Zoë Schäfer8: exit_date, deactivated (exit date {today - timedelta(days=30)})" in result.stdout
    assert "~ 100009 Björn Krüger9: exit_date" in result.stdout
    assert "~ 100010 Grete Peters10: department" in result.stdout
    people = people_by_number()
    assert [n for n, p in sorted(people.items()) if not p.active] == [
        "100001",
        "100002",
        "100003",
        "100004",
        "100005",
        "100007",
        "100008",
    ]
    assert people["100001"].left_on == today and people["100007"].left_on == today
    assert people["100008"].left_on == today - timedelta(days=30)
    assert people["100009"].active and people["100009"].leaves_on == today + timedelta(days=10)
    assert people["100010"].department.code == "32"
    assert open_sessions(people["100007"]) == 0  # the leaver was signed out
    assert db.session.get(User, town.id).active  # the local admin is never touched

    # The day the stored exit date comes, the daily job deactivates (and a run before it does not).
    assert admin_import.deactivate_leavers(today + timedelta(days=9)) == 0
    assert admin_import.deactivate_leavers(today + timedelta(days=10)) == 1
    db.session.commit()
    assert people_by_number()["100009"].active is False
    assert people_by_number()["100009"].left_on == today + timedelta(days=10)
    assert audit_entries("deactivate_leavers")[-1].context == {"people": 1}


# --- fixed number of queries ---------------------------------------------------------------------


def _statements_to_import(count_queries, people) -> int:
    with count_queries() as counter:
        plan = hr_import.read("hr.csv", export(people))
        assert not plan.problems, [p.english() for p in plan.problems]
        admin_import.apply_import(None, plan, via="cli")
        db.session.commit()
    return counter.count


def test_the_import_takes_a_fixed_number_of_queries_whatever_the_files_length(town, count_queries):
    ahead = (town_today() + timedelta(days=90)).isoformat()

    def varied(n: int) -> dict[str, str]:  # empty cells here and there, as in a real export
        return person(
            n, exit_date=ahead if n % 7 == 3 else "", department="" if n % 11 == 5 else person(n)["department"]
        )

    small = _statements_to_import(count_queries, [varied(n) for n in range(10)])
    large = _statements_to_import(count_queries, [varied(n) for n in range(300)])  # 290 more
    assert small == large
    few_moves = _statements_to_import(
        count_queries, [varied(n) | {"department": "32"} if n < 3 else varied(n) for n in range(300)]
    )
    many_moves = _statements_to_import(count_queries, [varied(n) | {"department": "10"} for n in range(300)])
    assert few_moves == many_moves
    past = (town_today() - timedelta(days=1)).isoformat()

    def leaving(leavers: int) -> int:  # from the same start: everyone as in `varied`
        _statements_to_import(count_queries, [varied(n) for n in range(300)])
        rows = [varied(n) | {"exit_date": past} if n < leavers else varied(n) for n in range(300)]
        return _statements_to_import(count_queries, rows)

    assert leaving(1) == leaving(20)  # the leavers' sessions end in one statement too


# --- what the import refuses ---------------------------------------------------------------------

BAD_FILES = {
    "unknown department": (
        export([person(1), person(2, department="99")]),
        3,
        'Unknown department code "99"',
    ),
    "unknown job role": (export([person(1, job_role="XX"), person(2)]), 2, 'Unknown job role code "XX"'),
    "duplicate personnel number": (
        export([person(1), person(2), person(3, personnel_number="100001")]),
        4,
        'Personnel number "100001" appears twice: first on line 2',
    ),
    "duplicate e-mail": (
        export([person(1), person(2, email="PERSON.1@musterhausen.example")]),
        3,
        'E-mail address "person.1@musterhausen.example" appears twice: first on line 2',
    ),
    "e-mail of another person": (
        export([person(1), person(2, email="admin@musterhausen.example")]),
        3,
        "belongs to another person, who has no personnel number",
    ),
    "impossible date": (export([person(1, exit_date="31.02.2027")]), 2, 'Exit date "31.02.2027" is no date'),
    "date in another format": (export([person(1, entry_date="2015/02/01")]), 2, 'Entry date "2015/02/01" is no date'),
    "exit before entry": (
        export([person(1, entry_date="2020-01-01", exit_date="2019-12-31")]),
        2,
        "The exit date lies before the entry date",
    ),
    "bad e-mail": (export([person(1), person(2, email="=HYPERLINK(x)")]), 3, "is no valid e-mail address"),
    "empty name": (export([person(1, family_name="")]), 2, "Family name is empty"),
    "broken encoding": (
        export([person(1, given_name="Ole", family_name="Peters")])
        + b"100002,Ole,Pe\x81ters,o.p@musterhausen.example,10,SB,,\r\n",
        3,
        "Byte 0x81 is neither UTF-8 nor Windows-1252",
    ),
    "mixed encodings": (
        export([person(1, family_name="Müller")])
        + "100002,Ole,Schäfer,o.s@musterhausen.example,10,SB,,\r\n".encode("cp1252"),
        2,
        "This line is UTF-8, other lines are not",
    ),
    "UTF-16": (export([person(1)], encoding="utf-16"), 1, "The file holds NUL bytes"),
    "missing column": (
        export([person(1)], header=("personnel_number", "given_name", "family_name")),
        1,
        'The column "email" is missing',
    ),
    "empty file": (b"", 1, "The file is empty"),
    "header only": (export([]), 2, "The file has a header but no people"),
    "wrong number of values": (export([person(1)]) + b"100002;Ole\r\n", 3, "Expected 8 values, found 1"),
}


@pytest.mark.parametrize("case", BAD_FILES)
def test_a_bad_file_is_refused_whole_with_file_and_line(app, tmp_path, town, case):
    data, line, message = BAD_FILES[case]
    before = run(app, write(tmp_path, export([person(n) for n in range(1, 4)]), "before.csv"), "--apply")
    assert before.exit_code == 0, before.output
    path = write(tmp_path, data)
    result = run(app, path, "--apply")
    assert result.exit_code == 1
    assert f"{path}:{line}: " in result.stderr and message in result.stderr, result.stderr
    assert "Nothing was imported" in result.stderr
    people = people_by_number()
    assert sorted(people) == ["100001", "100002", "100003"] and all(p.active for p in people.values())
    assert people["100001"].department.code == "20.1"
    assert len(audit_entries("import_people")) == 1  # only the import before


def test_every_error_of_the_file_is_reported_not_just_the_first(app, tmp_path, town):
    data = export([person(1, department="99"), person(2), person(3, exit_date="morgen"), person(4, email="x")])
    result = run(app, write(tmp_path, data))
    assert result.exit_code == 1
    lines = [line for line in result.stderr.splitlines() if line.startswith(str(tmp_path))]
    assert [int(line.split(":")[1]) for line in lines] == [2, 4, 5]
    assert "3 errors" in result.stderr


@pytest.mark.parametrize("column", ["Gehaltsgruppe", "Geburtsdatum", "Fehlzeiten"])
def test_a_column_outside_the_allowlist_refuses_the_file_and_is_named(app, tmp_path, town, column):
    header = (*GERMAN[:4], column)
    data = "\r\n".join([";".join(header), "100001;Ole;Peters;o.p@musterhausen.example;secret"]).encode()
    result = run(app, write(tmp_path, data), "--apply")
    assert result.exit_code == 1
    assert f':1: Column "{column}" is not allowed: the import reads only personnel_number, given_name' in result.stderr
    assert people_by_number() == {}


def test_a_dry_run_writes_nothing(app, tmp_path, town):
    result = run(app, write(tmp_path, export([person(1), person(2)])))
    assert result.exit_code == 0
    assert "+ 100001 Ayşe Özdemir1: created" in result.stdout
    assert people_by_number() == {} and audit_entries("import_people") == []


# --- the safety rule against a shortened export ----------------------------------------------------


def test_deactivating_more_than_the_allowed_share_needs_to_be_asked_for(app, tmp_path, town, monkeypatch):
    assert run(app, write(tmp_path, export([person(n) for n in range(20)]), "all.csv"), "--apply").exit_code == 0
    shortened = write(tmp_path, export([person(n) for n in range(17)]), "short.csv")  # 3 of 20: 15 %

    dry = run(app, shortened)
    assert dry.exit_code == 0 and "warning: --apply would be refused" in dry.stderr
    refused = run(app, shortened, "--apply")
    assert refused.exit_code == 1
    assert "would deactivate 3 of 20 active people (15 %), more than LMS_IMPORT_MAX_DEACTIVATE_PERCENT=10 %" in (
        refused.stderr
    )
    assert all(p.active for p in people_by_number().values())
    assert len(audit_entries("import_people")) == 1

    monkeypatch.setitem(app.config, "IMPORT_MAX_DEACTIVATE_PERCENT", 15)
    assert run(app, shortened).stderr == ""  # 15 % is not more than 15 %
    monkeypatch.setitem(app.config, "IMPORT_MAX_DEACTIVATE_PERCENT", 10)
    allowed = run(app, shortened, "--apply", "--allow-mass-deactivation")
    assert allowed.exit_code == 0, allowed.output
    assert sorted(n for n, p in people_by_number().items() if not p.active) == ["100017", "100018", "100019"]


# --- rules for people already known ------------------------------------------------------------------


def test_known_people_keep_their_roles_and_passwords_and_come_back_when_listed_again(town, make_user, make_department):
    manager = make_user(roles=["manager"], personnel_number="100001", email="old@musterhausen.example")
    gone = make_user(personnel_number="100002", active=False, left_on=date(2026, 1, 31))
    plan = hr_import.read("hr.csv", export([person(1), person(2)]))
    assert [str(change) for change in plan.changes] == [
        "~ 100001 Ayşe Özdemir1: given_name, family_name, email, department, job_role",
        "^ 100002 Renée Müller2: given_name, family_name, email, department, job_role, reactivated",
    ]
    admin_import.apply_import(None, plan, via="cli")
    db.session.commit()
    db.session.expire_all()
    assert manager.roles == {"employee", "manager"} and manager.password_hash is not None
    assert manager.email == "person.1@musterhausen.example"
    assert gone.active and gone.left_on is None


def test_people_may_swap_e_mail_addresses(town):
    admin_import.apply_import(None, hr_import.read("hr.csv", export([person(1), person(2)])), via="cli")
    swapped = [person(1, email=person(2)["email"]), person(2, email=person(1)["email"])]
    plan = hr_import.read("hr.csv", export(swapped))
    assert not plan.problems and plan.counts["updated"] == 2
    admin_import.apply_import(None, plan, via="cli")
    db.session.commit()
    people = people_by_number()
    assert (people["100001"].email, people["100002"].email) == (person(2)["email"], person(1)["email"])


def test_an_entry_date_ahead_creates_the_person_from_that_day_on(town):
    today = town_today()
    data = export([person(1, entry_date=(today + timedelta(days=3)).isoformat()), person(2, exit_date="01.01.2020")])
    plan = hr_import.read("hr.csv", data)
    assert plan.changes == [] and (plan.waiting, plan.left_already) == (1, 1)
    assert "1 with an entry date ahead" in hr_import.summary(plan, applied=False)
    later = hr_import.read("hr.csv", data, today=today + timedelta(days=3))
    assert [str(change) for change in later.changes] == ["+ 100001 Ayşe Özdemir1: created"]


# --- the daily job ------------------------------------------------------------------------------------


def test_the_daily_job_deactivates_people_whose_exit_date_came(app, town, make_user):
    today = town_today()
    leaving = make_user(leaves_on=today)
    staying = make_user(leaves_on=today + timedelta(days=1))
    auth_services.start_session(leaving)
    db.session.commit()
    assert admin_tasks.deactivate_leavers(app) == 1
    db.session.expire_all()
    assert (leaving.active, leaving.left_on) == (False, today) and staying.active
    assert open_sessions(leaving) == 0
    assert admin_tasks.deactivate_leavers(app) == 0
    assert len(audit_entries("deactivate_leavers")) == 1


# --- the admin area --------------------------------------------------------------------------------


@pytest.fixture
def admin_client(app, client, town, sign_in, tmp_path, monkeypatch):
    monkeypatch.setattr(app, "instance_path", str(tmp_path / "instance"))
    sign_in(town)
    return client


def _hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" type="hidden" value="([^"]*)"', html) or re.search(
        rf'id="{name}" name="{name}" type="hidden" value="([^"]*)"', html
    )
    assert match, f"no hidden field {name}"
    return match.group(1)


def _upload(client, data: bytes, name="hr.csv"):
    page = client.get("/admin/people/import")
    assert page.status_code == 200
    return client.post(
        "/admin/people/import",
        data={"csrf_token": csrf_token(page), "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def test_an_admin_uploads_sees_the_changes_and_applies_them(app, admin_client, tmp_path):
    data = export([person(n) for n in range(1, 6)], header=GERMAN, delimiter=";")
    preview = _upload(admin_client, data)
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "100003" in html and "Zoë" in html
    assert people_by_number() == {}  # the preview is a dry run
    assert len(list((tmp_path / "instance" / "hr-import").glob("*.csv"))) == 1
    fields = {name: _hidden(html, name) for name in ("csrf_token", "token", "sha256", "digest")}
    assert fields["sha256"] == hashlib.sha256(data).hexdigest()

    without_csrf = admin_client.post("/admin/people/import/apply", data={**fields, "csrf_token": ""})
    assert without_csrf.status_code in (302, 400) and people_by_number() == {}
    tampered = admin_client.post("/admin/people/import/apply", data={**fields, "sha256": "0" * 64})
    assert tampered.status_code == 302 and people_by_number() == {}

    applied = admin_client.post("/admin/people/import/apply", data=fields)
    assert applied.status_code == 302 and applied.headers["Location"].endswith("/admin/users")
    assert sorted(people_by_number()) == ["100001", "100002", "100003", "100004", "100005"]
    [entry] = audit_entries("import_people")
    admin = db.session.execute(select(User).where(User.email == "admin@musterhausen.example")).scalar_one()
    assert entry.actor_id == admin.id and entry.context["via"] == "web"
    assert entry.context["sha256"] == fields["sha256"] and entry.context["counts"]["created"] == 5
    assert list((tmp_path / "instance" / "hr-import").glob("*.csv")) == []  # deleted once applied
    again = admin_client.post("/admin/people/import/apply", data=fields)
    assert again.status_code == 302 and len(audit_entries("import_people")) == 1


def test_the_admin_area_shows_every_problem_next_to_the_file_field(admin_client, tmp_path):
    data = export([person(1, department="99"), person(2, job_role="XX")])
    page = _upload(admin_client, data).get_data(as_text=True)
    assert 'id="file-error"' in page and "99" in page and "XX" in page
    refused = _upload(admin_client, b"Personalnummer;Vorname;Nachname;E-Mail;Gehaltsgruppe\r\n")
    assert "Gehaltsgruppe" in refused.get_data(as_text=True)
    assert not (tmp_path / "instance" / "hr-import").exists() or not list(
        (tmp_path / "instance" / "hr-import").glob("*.csv")
    )
    assert people_by_number() == {}


def test_the_admin_area_asks_before_deactivating_many(admin_client):
    admin_import.apply_import(None, hr_import.read("hr.csv", export([person(n) for n in range(10)])), via="cli")
    db.session.commit()
    html = _upload(admin_client, export([person(n) for n in range(5)])).get_data(as_text=True)
    fields = {name: _hidden(html, name) for name in ("csrf_token", "token", "sha256", "digest")}
    assert 'name="allow_mass_deactivation"' in html
    admin_client.post("/admin/people/import/apply", data=fields)
    assert all(p.active for p in people_by_number().values())
    admin_client.post("/admin/people/import/apply", data={**fields, "allow_mass_deactivation": "y"})
    assert sum(1 for p in people_by_number().values() if not p.active) == 5


def test_only_admins_reach_the_import(client, make_user, sign_in, database):
    sign_in(make_user(roles=["hr"]))
    assert client.get("/admin/people/import").status_code == 403


def test_the_command_is_in_the_people_group(app):
    text = app.test_cli_runner().invoke(args=["people", "--help"]).output
    assert "import" in text and "export" in text


def test_a_deactivated_department_is_refused_for_people_in_service_only(town, make_department):
    closed = make_department(code="99")
    closed.active = False
    db.session.commit()
    plan = hr_import.read(
        "hr.csv", export([person(1, department="99"), person(2, department="99", exit_date="2020-06-30")])
    )
    assert [(p.line, p.english()) for p in plan.problems] == [(2, "Department 99 is deactivated.")]


def test_a_column_left_out_leaves_that_field_as_it_is(town):
    admin_import.apply_import(None, hr_import.read("hr.csv", export([person(1)])), via="cli")
    plan = hr_import.read("hr.csv", export([person(1, family_name="Neu")], header=ENGLISH[:4]))
    assert [str(change) for change in plan.changes] == ["~ 100001 Ayşe Neu: family_name"]
    admin_import.apply_import(None, plan, via="cli")
    db.session.commit()
    assert people_by_number()["100001"].department.code == "20.1"


def test_a_file_that_cannot_be_read_is_named(app, tmp_path, town):
    result = run(app, tmp_path / "missing.csv")
    assert result.exit_code == 1 and f"{tmp_path / 'missing.csv'}:1: cannot read the file" in result.stderr
