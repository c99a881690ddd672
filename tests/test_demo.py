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
    assert [line.split()[0] for line in lines] == [
        "admin",
        "hr",
        "trainer",
        "manager",
        "employee",
        "dpo",
        "staff_council",
        "change",
    ]
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
    assert len(set(passwords)) == 8 and all(len(p) >= 12 for p in passwords)


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
    from lms.catalog.models import QuizQuestion
    from lms.learning.models import Completion, Enrollment, LessonProgress, QuizAttempt
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
    # Every lesson done with a quiz has the attempts behind it; some failed first.
    attempts = db.session.execute(select(QuizAttempt.lesson_key, QuizAttempt.passed)).all()
    assert attempts and any(not passed for _key, passed in attempts)
    with_quiz = select(QuizQuestion.lesson_id)
    done_with_quiz = select(func.count()).select_from(LessonProgress).where(LessonProgress.lesson_id.in_(with_quiz))
    assert sum(1 for _key, passed in attempts if passed) == db.session.scalar(done_with_quiz)  # one pass each
    assert db.session.scalar(select(func.count(func.distinct(JobRoleTarget.job_role_id)))) == 12
    assert db.session.scalar(select(func.count(func.distinct(Assessment.user_id)))) >= 80


def test_one_demo_login_per_role_and_each_login_holds_its_role(app, database):
    from lms.common.vocabulary import Role

    lines = run_seed(app, "--password", "Rathaus-Demo-2026").output.strip().splitlines()
    logins = {line.split()[0]: line.split()[1] for line in lines}
    assert set(logins) == {role.value for role in Role}
    for role, email in logins.items():
        user = db.session.execute(select(User).where(User.email == email)).scalar_one()
        assert role in user.roles, (role, user.roles)


def run_setup(app, *args):
    return app.test_cli_runner().invoke(args=["demo", "setup", *args])


def test_setup_prepares_everything_in_one_command_and_changes_nothing_the_second_time(app, database, tmp_path):
    from lms.catalog.models import Course

    saved = tmp_path / "instance" / "logins.txt"
    first = run_setup(app, "--logins-file", str(saved))
    assert first.exit_code == 0, first.stdout + first.stderr
    assert "digcomp-2.2 2.2: created" in first.stdout and " with errors" in first.stdout
    logins = saved.read_text().splitlines()
    assert [line.split()[0] for line in logins] == [
        "admin",
        "hr",
        "trainer",
        "manager",
        "employee",
        "dpo",
        "staff_council",
        "change",
    ]
    assert first.stdout.strip().endswith("\n".join(logins))
    people, courses = db.session.scalar(select(func.count(User.id))), db.session.scalar(select(func.count(Course.id)))
    assert people >= 86 and courses > 0

    second = run_setup(app, "--logins-file", str(saved))
    assert second.exit_code == 0, second.stdout + second.stderr
    assert "digcomp-2.2 2.2: unchanged" in second.stdout
    assert f"0 created, 0 updated, {courses} unchanged, 0 with errors" in second.stdout
    assert second.stdout.strip().endswith("\n".join(logins))
    assert db.session.scalar(select(func.count(User.id))) == people


def test_setup_imports_the_good_courses_when_others_have_errors(app, database, tmp_path):
    import shutil

    from lms.catalog.models import Course
    from lms.config import PROJECT_ROOT

    courses = tmp_path / "courses"
    shutil.copytree(PROJECT_ROOT / "courses" / "phishing-erkennen", courses / "phishing-erkennen")
    (courses / "kaputt").mkdir()
    result = run_setup(app, "--courses", str(courses), "--logins-file", str(tmp_path / "logins.txt"))
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "1 created, 0 updated, 0 unchanged, 1 with errors" in result.stdout
    assert "kaputt" in result.stderr and "Some courses have errors (listed above)" in result.stderr
    assert db.session.scalars(select(Course.slug)).all() == ["phishing-erkennen"]
    assert "Demo logins" in result.stdout


def test_setup_without_saved_logins_says_so(app, database, make_user, tmp_path):
    make_user()
    result = run_setup(app, "--courses", str(tmp_path), "--logins-file", str(tmp_path / "none.txt"))
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "none saved" in result.stdout and db.session.scalar(select(func.count(User.id))) == 1


def test_the_demo_audit_trail_verifies_and_a_direct_edit_is_found(app, database):
    """The fresh demo's audit trail passes `audit verify`; an entry edited in the database fails it."""
    from sqlalchemy import text

    from lms.extensions import db

    assert run_seed(app, "--password", "Rathaus-Demo-2026").exit_code == 0
    runner = app.test_cli_runner()
    verified = runner.invoke(args=["audit", "verify"])
    assert verified.exit_code == 0 and "Audit trail intact" in verified.output
    assert db.session.scalar(text("SELECT count(*) FROM audit_entries")) > 0
    db.session.execute(text("UPDATE audit_entries SET actor_email = 'jemand@musterhausen.example' WHERE id = 2"))
    db.session.commit()
    broken = runner.invoke(args=["audit", "verify"])
    assert broken.exit_code == 1 and "audit entry 2:" in broken.output


def test_seed_starts_an_initiative_with_all_it_needs(app, database, digcomp):
    from lms.assignments.services import town_today
    from lms.change import readiness, services
    from lms.change.models import Initiative, Survey, SurveyStatus
    from lms.common.disclosure import ShareState
    from lms.strategy.models import StrategyTarget

    assert run_seed(app, "--password", "Rathaus-Demo-2026").exit_code == 0
    initiative = db.session.execute(select(Initiative)).scalar_one()
    assert initiative.running and [d.code for d in initiative.departments] == ["FB5"]
    assert len(initiative.sessions) == 1 and len(services.guides_of(initiative)) == 2
    assert services.announcements_of(initiative) and services.faq(initiative)
    survey = db.session.execute(select(Survey)).scalar_one()
    assert survey.status == SurveyStatus.APPROVED and survey.decided_by_id is not None
    table = readiness.readiness(initiative, town_today())
    assert table.total is not None and table.total.prepared is not None
    assert table.total.prepared.view.state in (ShareState.BAND, ShareState.EXACT)  # enough answers to be shown
    assert db.session.scalar(select(func.count(StrategyTarget.id))) == 1
    assert run_seed(app, "--force", "--password", "Noch-ein-Demo-Passwort").exit_code == 0
    assert db.session.scalar(select(func.count(Initiative.id))) == 1  # seeded once
