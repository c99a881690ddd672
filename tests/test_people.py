"""People, departments and job roles: the admin area, the rules and the export."""

import csv
import io

import pytest
from sqlalchemy import select

from lms.auth import passwords
from lms.extensions import db
from lms.people import services
from lms.people.models import Department, JobRole, User
from tests.conftest import csrf_token


@pytest.fixture
def admin_client(client, make_user, sign_in):
    sign_in(make_user(roles=["admin"], email="admin@musterhausen.example"))
    return client


def post_form(client, url, data):
    token = csrf_token(client.get(url))
    return client.post(url, data={"csrf_token": token, **data})


def test_admin_creates_a_person_and_gets_a_one_time_password(admin_client, make_department, make_job_role):
    department, job_role = make_department(code="33.1"), make_job_role(code="SB-BB")
    response = post_form(
        admin_client,
        "/admin/users/new",
        {
            "given_name": "Jana",
            "family_name": "Yılmaz",
            "email": "Jana.Yilmaz@Musterhausen.example",
            "personnel_number": "100777",
            "department_id": department.id,
            "job_role_id": job_role.id,
            "locale": "",
            "roles": ["employee", "trainer"],
        },
    )
    assert response.status_code == 200  # shown on the answer to the POST, never in a flash message
    user = db.session.execute(select(User).where(User.personnel_number == "100777")).scalar_one()
    assert user.email == "jana.yilmaz@musterhausen.example"
    assert user.roles == {"employee", "trainer"} and user.must_change_password
    assert "Einmalpasswort" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("email", "taken@musterhausen.example", "E-Mail-Adresse"),
        ("personnel_number", "424242", "Personalnummer"),
    ],
)
def test_duplicates_are_refused_next_to_the_field(admin_client, make_user, field, value, message):
    make_user(email="taken@musterhausen.example", personnel_number="424242")
    before = db.session.scalar(select(db.func.count(User.id)))
    data = {
        "given_name": "Max",
        "family_name": "Neu",
        "email": "neu@musterhausen.example",
        "personnel_number": "111111",
        "department_id": "",
        "job_role_id": "",
        "locale": "",
        "roles": ["employee"],
    }
    data[field] = value
    response = post_form(admin_client, "/admin/users/new", data)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'id="{field}-error"' in html and message in html
    assert db.session.scalar(select(db.func.count(User.id))) == before


def test_admin_edits_roles_and_headed_departments(admin_client, make_user, make_department):
    department = make_department(code="FB3")
    person = make_user()
    response = post_form(
        admin_client,
        f"/admin/users/{person.id}",
        {
            "given_name": person.given_name,
            "family_name": person.family_name,
            "email": person.email,
            "personnel_number": person.personnel_number,
            "department_id": "",
            "job_role_id": "",
            "locale": "en",
            "roles": ["manager"],
            "headed_departments": [department.id],
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    person = db.session.get(User, person.id)
    assert person.roles == {"employee", "manager"} and person.headed_departments == [department]
    assert person.locale == "en"


def test_heading_departments_needs_the_manager_role(admin_client, make_user, make_department):
    department = make_department()
    person = make_user()
    response = post_form(
        admin_client,
        f"/admin/users/{person.id}",
        {
            "given_name": "A",
            "family_name": "B",
            "email": person.email,
            "personnel_number": "",
            "department_id": "",
            "job_role_id": "",
            "locale": "",
            "roles": ["employee"],
            "headed_departments": [department.id],
        },
    )
    assert 'id="headed_departments-error"' in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, person.id).family_name != "B"


def test_deactivate_and_reactivate(admin_client, make_user):
    person = make_user()
    token = csrf_token(admin_client.get(f"/admin/users/{person.id}"))
    admin_client.post(f"/admin/users/{person.id}/active", data={"csrf_token": token, "active": "0"})
    db.session.expire_all()
    assert db.session.get(User, person.id).active is False
    admin_client.post(f"/admin/users/{person.id}/active", data={"csrf_token": token, "active": "1"})
    db.session.expire_all()
    assert db.session.get(User, person.id).active is True


def test_admin_cannot_deactivate_themselves(admin_client):
    me = db.session.execute(select(User).where(User.email == "admin@musterhausen.example")).scalar_one()
    token = csrf_token(admin_client.get(f"/admin/users/{me.id}"))
    admin_client.post(f"/admin/users/{me.id}/active", data={"csrf_token": token, "active": "0"})
    db.session.expire_all()
    assert db.session.get(User, me.id).active


def test_password_reset_forces_a_new_password_at_next_sign_in(app, admin_client, make_user):
    person = make_user()
    token = csrf_token(admin_client.get(f"/admin/users/{person.id}"))
    response = admin_client.post(f"/admin/users/{person.id}/password-reset", data={"csrf_token": token})
    assert response.status_code == 200  # shown on the answer to the POST, never in a flash message
    html = response.get_data(as_text=True)
    import re

    temporary = re.search(r'<code class="one-time-password__value"[^>]*>([^<]+)</code>', html).group(1)
    other = app.test_client()
    login = other.get("/auth/login")
    other.post("/auth/login", data={"csrf_token": csrf_token(login), "email": person.email, "password": temporary})
    assert other.get("/learning/").headers["Location"].endswith("/auth/password")
    page = other.get("/auth/password")
    other.post(
        "/auth/password",
        data={
            "csrf_token": csrf_token(page),
            "current_password": temporary,
            "new_password": "Mein eigenes Passwort",
            "confirm_password": "Mein eigenes Passwort",
        },
    )
    assert other.get("/learning/").status_code == 200
    db.session.expire_all()
    assert passwords.verify_password(db.session.get(User, person.id).password_hash, "Mein eigenes Passwort")


def test_search_and_pagination(admin_client, make_user, app):
    for number in range(30):
        make_user(family_name=f"Sommer{number:02d}")
    make_user(family_name="Winter", given_name="Wanda")
    page = admin_client.get("/admin/users?q=winter").get_data(as_text=True)
    assert "Winter, Wanda" in page and "Sommer00" not in page
    first = admin_client.get("/admin/users?q=sommer").get_data(as_text=True)
    second = admin_client.get("/admin/users?q=sommer&page=2").get_data(as_text=True)
    assert "Sommer00" in first and "Sommer29" not in first and "Sommer29" in second
    assert 'aria-current="page"' in second


def test_user_list_takes_a_fixed_number_of_queries(admin_client, make_user, count_queries):
    def queries():
        with count_queries() as counter:
            assert admin_client.get("/admin/users").status_code == 200
        return counter.count

    for _ in range(3):
        make_user()
    few = queries()
    for _ in range(20):
        make_user()
    assert queries() == few


def test_department_tree_refuses_a_cycle(admin_client, make_department):
    top = make_department(code="FB9")
    child = make_department(code="90.1", parent=top)
    response = post_form(
        admin_client, f"/admin/departments/{top.id}", {"code": "FB9", "name": top.name, "parent_id": child.id}
    )
    assert 'id="parent_id-error"' in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Department, top.id).parent_id is None


def test_department_codes_are_unique(admin_client, make_department):
    make_department(code="32.1")
    response = post_form(admin_client, "/admin/departments/new", {"code": "32.1", "name": "Doppelt", "parent_id": ""})
    assert 'id="code-error"' in response.get_data(as_text=True)
    assert db.session.scalar(select(db.func.count(Department.id))) == 1


def test_department_with_people_cannot_be_deactivated(database, make_department, make_user):
    department = make_department()
    make_user(department=department)
    with pytest.raises(services.ValidationFailed):
        services.set_department_active(department, False)
    assert department.active


def test_job_role_codes_are_unique(admin_client, make_job_role):
    make_job_role(code="SB-BB")
    response = post_form(admin_client, "/admin/job-roles/new", {"code": "sb-bb", "title": "Doppelt"})
    assert 'id="code-error"' in response.get_data(as_text=True)
    assert db.session.scalar(select(db.func.count(JobRole.id))) == 1


def test_manager_sees_the_people_of_headed_departments_and_below(client, make_user, make_department, sign_in):
    top = make_department(code="FB3")
    below = make_department(code="33.1", parent=top)
    elsewhere = make_department(code="FB2")
    make_user(family_name="Imteam", department=below)
    make_user(family_name="Auswärts", department=elsewhere)
    make_user(family_name="Ehemalig", department=below, active=False)
    sign_in(make_user(roles=["manager"], heads=[top]))
    page = client.get("/team/").get_data(as_text=True)
    assert "Imteam" in page and "Auswärts" not in page and "Ehemalig" not in page


def test_people_export_writes_csv(app, database, make_user, make_department, make_job_role):
    make_user(
        family_name="Export",
        department=make_department(code="20.1"),
        job_role=make_job_role(code="KASSE"),
        roles=["hr"],
        personnel_number="123456",
    )
    result = app.test_cli_runner().invoke(args=["people", "export", "--format", "csv"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert rows[0]["personnel_number"] == "123456" and rows[0]["department_code"] == "20.1"
    assert rows[0]["job_role_code"] == "KASSE" and rows[0]["roles"] == "employee hr" and rows[0]["active"] == "yes"


def test_people_export_rejects_an_unknown_format(app, database):
    result = app.test_cli_runner().invoke(args=["people", "export", "--format", "pdf"])
    assert result.exit_code != 0 and "pdf" in result.output


def test_departments_and_job_roles_can_be_searched(admin_client, make_department, make_job_role):
    make_department(code="33.1", name="Bürgerbüro")
    make_department(code="20.1", name="Kämmerei")
    make_job_role(code="KASSE", title="Stadtkasse")
    make_job_role(code="BAU", title="Bauaufsicht")
    departments = admin_client.get("/admin/departments?q=bürger").get_data(as_text=True)
    assert "Bürgerbüro" in departments and "Kämmerei" not in departments
    job_roles = admin_client.get("/admin/job-roles?q=kasse").get_data(as_text=True)
    assert "Stadtkasse" in job_roles and "Bauaufsicht" not in job_roles
    assert "Keine Treffer" in admin_client.get("/admin/job-roles?q=zzz").get_data(as_text=True)
