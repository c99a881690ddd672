"""Formula injection: no export lets a spreadsheet run a cell as a formula; downloads are not cached."""

import csv
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from lms.common.exports import neutralise
from lms.common.vocabulary import AuditAction, AuditField
from lms.extensions import db
from lms.people.models import User
from lms.privacy import services as privacy
from tests.conftest import csrf_token

DANGEROUS = [
    '=HYPERLINK("http://x","klick")',
    "+1+1",
    "-1-1",
    "@SUM(A1)",
    "\t=1+1",
    "\r=1+1",
    "\n=1+1",
    " =1+1",  # leading whitespace
    "＝1+1",  # fullwidth equals sign
]


@pytest.fixture
def dangerous_people(make_user):
    """One person per dangerous value, as family name; created directly, as old or imported data would be."""
    return {value: make_user(family_name=value) for value in DANGEROUS}


def csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"), newline="")))


def assert_neutralised_csv(rows: list[list[str]], column: int) -> None:
    values = {row[column] for row in rows if len(row) > column}
    for value in DANGEROUS:
        assert "'" + value in values and value not in values


def assert_neutralised_xlsx(data: bytes, column: int) -> None:
    sheet = load_workbook(io.BytesIO(data)).active
    cells = {row[column].value: row[column] for row in sheet.iter_rows() if len(row) > column}
    for value in DANGEROUS:
        cell = cells["'" + value.replace("\r", "\n")]  # XML reads a CR as LF
        assert isinstance(cell.value, str) and cell.data_type == "s"
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


@pytest.mark.parametrize(
    "value, expected",
    [
        ("Müller", "Müller"),
        ("Öztürk", "Öztürk"),
        ("4.1 aktuell", "4.1 aktuell"),
        ("::1", "::1"),
        ("", ""),
        ("=1+1", "'=1+1"),
        ("-1", "'-1"),  # text, even if it looks like a number
        ("−1", "'−1"),  # minus sign
        (" @x", "' @x"),
        (-1, -1),  # numbers stay numbers: never a formula
        (3, 3),
        (None, None),
    ],
)
def test_neutralise(value, expected):
    assert neutralise(value) == expected


def test_matrix_csv_is_neutralised_quoted_and_not_cached(client, sign_in, town, dangerous_people, make_user):
    make_user(family_name="Semi;=1+1", given_name="Komma,=1+1")
    sign_in(town["hr"])
    response = client.get("/matrix/export?format=csv")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    text = response.get_data(as_text=True)
    rows = csv_rows(text)
    header = rows[5]
    assert_neutralised_csv(rows[6:], header.index("Nachname"))
    # a value holding a separator is quoted, so no cell starts in its middle (also with ";" as separator)
    assert '"Semi;=1+1"' in text and '"Komma,=1+1"' in text
    level = header.index("4.1 aktuell")
    assert sorted(row[level] for row in rows[6:] if row[1].startswith("Buero")) == ["0", "1", "2", "3", "3", "4"]


def test_matrix_xlsx_holds_strings_as_strings_and_numbers_as_numbers(client, sign_in, town, dangerous_people):
    sign_in(town["hr"])
    response = client.get("/matrix/export?format=xlsx")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert_neutralised_xlsx(response.data, 1)
    rows = list(load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))
    level = rows[5].index("4.1 aktuell")
    assert all(isinstance(row[level], int) for row in rows[6:])


@pytest.mark.parametrize("output_format", ["csv", "xlsx"])
def test_cli_matrix_is_neutralised(app, town, dangerous_people, tmp_path, output_format):
    output = tmp_path / f"matrix.{output_format}"
    result = app.test_cli_runner().invoke(args=["skills", "matrix", "--format", output_format, "--output", str(output)])
    assert result.exit_code == 0, result.output
    if output_format == "csv":
        with output.open(encoding="utf-8", newline="") as stream:
            assert_neutralised_csv(csv_rows(stream.read()), 1)
    else:
        assert_neutralised_xlsx(output.read_bytes(), 1)


def test_people_export_is_neutralised(app, database, make_user):
    for number, value in enumerate(DANGEROUS):
        make_user(family_name=value, given_name=value, email=f"{value}{number}@musterhausen.example")
    result = app.test_cli_runner().invoke(args=["people", "export", "--format", "csv"])
    assert result.exit_code == 0, result.output
    rows = csv_rows(result.output)
    assert rows[0][:3] == ["personnel_number", "given_name", "family_name"]
    assert_neutralised_csv(rows[1:], 1)
    assert_neutralised_csv(rows[1:], 2)
    emails = {row[3] for row in rows[1:]}
    assert all(e.startswith("'") for e in emails if not e[0].isalnum())


def test_audit_csv_is_neutralised_and_not_cached(client, sign_in, make_user, dangerous_people):
    for number, (value, person) in enumerate(dangerous_people.items()):
        person.email = f"{value}{number}@musterhausen.example"  # old data, from before the e-mail check
        person.given_name = value  # so the recorded name starts with it
        privacy.record(None, [person], AuditAction.VIEW_PROFILE, {AuditField.FILTER: {"q": value}})
    db.session.commit()
    sign_in(make_user(roles=["dpo"]))
    response = client.get("/privacy/audit.csv")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    rows = csv_rows(response.get_data(as_text=True))
    assert rows[0][:10] == [
        "id",
        "at",
        "actor_id",
        "actor_name",
        "actor_email",
        "subject_id",
        "subject_name",
        "subject_email",
        "action",
        "context",
    ]
    profile_rows = [row for row in rows[1:] if row[8] == "view_profile"]
    assert len(profile_rows) == len(DANGEROUS)
    assert all(row[6].startswith("'") and row[7].startswith("'") for row in profile_rows)


def post_user(client, **fields):
    url = "/admin/users/new"
    data = {
        "given_name": "Max",
        "family_name": "Neu",
        "email": "neu@musterhausen.example",
        "personnel_number": "",
        "department_id": "",
        "job_role_id": "",
        "locale": "",
        "roles": ["employee"],
        **fields,
    }
    return client.post(url, data={"csrf_token": csrf_token(client.get(url)), **data})


@pytest.mark.parametrize("email", ["=x@musterhausen.example", "+x@musterhausen.example", "-x@musterhausen.example"])
def test_an_email_starting_with_a_formula_character_is_refused_next_to_the_field(client, sign_in, make_user, email):
    sign_in(make_user(roles=["admin"]))
    response = post_user(client, email=email)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and 'id="email-error"' in html
    assert "muss mit einem Buchstaben oder einer Ziffer beginnen" in html
    assert db.session.execute(select(User).where(User.email == email)).first() is None


def test_names_are_free_text_but_hold_no_control_characters(client, sign_in, make_user):
    sign_in(make_user(roles=["admin"]))
    refused = post_user(client, family_name="Neu\tmann")
    assert refused.status_code == 200 and 'id="family_name-error"' in refused.get_data(as_text=True)
    accepted = post_user(client, family_name="-Neu")  # neutralised at export instead
    html = accepted.get_data(as_text=True)
    assert accepted.status_code == 200 and "one-time-password__value" in html and "kern-error" not in html
