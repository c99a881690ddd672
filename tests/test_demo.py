"""The demo town."""

from sqlalchemy import func, select

from lms.extensions import db
from lms.people.models import Department, JobRole, User


def run_seed(app, *args):
    return app.test_cli_runner().invoke(args=["demo", "seed", *args])


def test_seed_builds_the_town_and_prints_one_line_per_login(app, database, tmp_path):
    saved = tmp_path / "logins.txt"
    result = run_seed(app, "--password", "Rathaus-Demo-2026", "--save-logins", str(saved))
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert [line.split()[0] for line in lines] == ["admin", "hr", "trainer", "manager", "employee"]
    assert all(line.split()[2] == "Rathaus-Demo-2026" for line in lines)
    assert saved.read_text().strip().splitlines() == lines and oct(saved.stat().st_mode)[-3:] == "600"
    assert db.session.scalar(select(func.count(User.id))) >= 85
    assert db.session.scalar(select(func.count(JobRole.id))) == 12
    departments = list(db.session.execute(select(Department)).scalars())
    assert len(departments) >= 8
    assert {d.parent_id is None for d in departments} == {True, False}  # two levels
    manager = db.session.execute(select(User).where(User.email.like("manager@%"))).scalar_one()
    assert manager.headed_departments and "manager" in manager.roles


def test_random_passwords_differ(app, database):
    passwords = [line.split()[2] for line in run_seed(app).output.strip().splitlines()]
    assert len(set(passwords)) == 5 and all(len(p) >= 12 for p in passwords)


def test_seed_refuses_a_database_with_users_unless_forced(app, database):
    assert run_seed(app).exit_code == 0
    count = db.session.scalar(select(func.count(User.id)))
    refused = run_seed(app)
    assert refused.exit_code != 0 and "--force" in refused.output
    assert run_seed(app, "--if-empty").exit_code == 0
    assert run_seed(app, "--force", "--password", "Noch-ein-Demo-Passwort").exit_code == 0
    assert db.session.scalar(select(func.count(User.id))) == count


def test_seed_refuses_a_weak_password(app, database):
    result = run_seed(app, "--password", "demo")
    assert result.exit_code != 0
    assert db.session.scalar(select(func.count(User.id))) == 0


def test_seed_gives_learning_and_competence_data(app, database, digcomp, make_course):
    from lms.learning.models import Completion, Enrollment
    from lms.learning.services import my_learning
    from lms.skills.models import Assessment
    from lms.targets.models import JobRoleTarget

    for _ in range(3):
        make_course()
    assert run_seed(app, "--password", "Rathaus-Demo-2026").exit_code == 0
    employee = db.session.execute(select(User).where(User.email.like("employee@%"))).scalar_one()
    view = my_learning(employee)
    assert len(view.completed) == 1 and len(view.in_progress) == 1
    assert db.session.scalar(select(func.count()).select_from(Completion)) > 20
    assert db.session.scalar(select(func.count(func.distinct(Enrollment.user_id)))) > 40
    assert db.session.scalar(select(func.count(func.distinct(JobRoleTarget.job_role_id)))) == 12
    assert db.session.scalar(select(func.count(func.distinct(Assessment.user_id)))) >= 80
