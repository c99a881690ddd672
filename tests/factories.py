"""Factories that take only the fields a test cares about."""

from __future__ import annotations

import itertools

import pytest

from lms.auth import services as auth_services
from lms.extensions import db
from lms.people.models import Department, JobRole, User, UserRole

DEFAULT_PASSWORD = "Korrekt-Pferd-Batterie-42"
_sequence = itertools.count(1)


@pytest.fixture
def make_department(database):
    def make(code: str | None = None, name: str | None = None, parent: Department | None = None) -> Department:
        number = next(_sequence)
        department = Department(code=code or f"D{number}", name=name or f"Abteilung {number}", parent=parent)
        db.session.add(department)
        db.session.commit()
        return department

    return make


@pytest.fixture
def make_job_role(database):
    def make(code: str | None = None, title: str | None = None) -> JobRole:
        number = next(_sequence)
        job_role = JobRole(code=code or f"JR{number}", title=title or f"Tätigkeit {number}")
        db.session.add(job_role)
        db.session.commit()
        return job_role

    return make


@pytest.fixture
def make_user(database):
    def make(
        roles=(),
        email: str | None = None,
        password: str = DEFAULT_PASSWORD,
        active: bool = True,
        department: Department | None = None,
        job_role: JobRole | None = None,
        heads: list[Department] = (),
        locale: str | None = None,
        **fields,
    ) -> User:
        number = next(_sequence)
        user = User(
            email=email or f"person{number}@musterhausen.example",
            given_name=fields.pop("given_name", "Erika"),
            family_name=fields.pop("family_name", f"Muster{number}"),
            personnel_number=fields.pop("personnel_number", f"{500000 + number}"),
            active=active,
            department=department,
            job_role=job_role,
            locale=locale,
            role_rows=[UserRole(role=r) for r in {"employee", *roles}],
            **fields,
        )
        user.headed_departments = list(heads)
        auth_services.set_password(user, password)
        db.session.add(user)
        db.session.commit()
        return user

    return make


@pytest.fixture
def sign_in(client):
    """Signs a user in through the real login form."""
    from tests.conftest import csrf_token

    def do(user_or_email, password: str = DEFAULT_PASSWORD, follow: bool = False):
        email = getattr(user_or_email, "email", user_or_email)
        token = csrf_token(client.get("/auth/login"))
        return client.post(
            "/auth/login", data={"csrf_token": token, "email": email, "password": password}, follow_redirects=follow
        )

    return do


def change_password(client, current: str, new: str = "Neues Passwort im Rathaus"):
    """Posts the password-change form as a person would (the CSRF token from the page)."""
    from tests.conftest import csrf_token

    page = client.get("/auth/password")
    return client.post(
        "/auth/password",
        data={
            "csrf_token": csrf_token(page),
            "current_password": current,
            "new_password": new,
            "confirm_password": new,
        },
    )


@pytest.fixture
def digcomp(database):
    """The DigComp 2.2 framework, loaded from the project's data file."""
    from lms.frameworks.loader import DEFAULT_FRAMEWORK_FILE, load_framework_file

    framework = load_framework_file(DEFAULT_FRAMEWORK_FILE).framework
    db.session.commit()
    return framework


@pytest.fixture
def make_course(database, digcomp):
    """A course built directly in the database (the importer has its own tests).

    `lessons` is a list of question lists; each question is (text, [(answer, correct), ...]).
    """
    from sqlalchemy import select

    from lms.catalog.models import Course, CourseCompetence, CourseTag, Lesson, QuizQuestion
    from lms.frameworks.models import Competence

    def make(
        slug: str | None = None,
        title: str | None = None,
        lessons=None,
        competences=(("4.1", 3),),
        tags=("sicherheit",),
        language="de",
        duration=20,
        pass_score=80,
        valid_months=None,
    ) -> Course:
        number = next(_sequence)
        lessons = (
            lessons
            if lessons is not None
            else [
                [("Was ist richtig?", [("Richtig", True), ("Falsch", False)])],
                [("Und hier?", [("Auch richtig", True), ("Ebenfalls richtig", True), ("Falsch", False)])],
            ]
        )
        course = Course(
            slug=slug or f"kurs-{number}",
            title=title or f"Kurs {number}",
            summary="Ein Testkurs.",
            language=language,
            duration_minutes=duration,
            pass_score=pass_score,
            valid_months=valid_months,
            intro_html="<p>Einführung</p>",
            content_hash="x" * 64,
        )
        course.tag_rows = [CourseTag(tag=tag) for tag in tags]
        for code, level in competences:
            competence = db.session.execute(
                select(Competence).where(Competence.framework_id == digcomp.id, Competence.code == code)
            ).scalar_one()
            course.competence_rows.append(CourseCompetence(competence=competence, level=level))
        for position, questions in enumerate(lessons, start=1):
            lesson = Lesson(
                key=f"{position:02d}-lektion",
                position=position,
                title=f"Lektion {position}",
                body_html=f"<p>Inhalt {position}</p>",
                content_hash=f"{position}" * 64,
            )
            lesson.questions = [
                QuizQuestion(
                    position=index,
                    question=text,
                    content_hash=f"{position}-{index}".ljust(64, "q"),
                    answers=[{"text": a, "correct": c} for a, c in answers],
                    kind="single" if sum(1 for _a, c in answers if c) == 1 else "multiple",
                    explanation=f"Erklärung zu {text}",
                )
                for index, (text, answers) in enumerate(questions, start=1)
            ]
            course.lessons.append(lesson)
        db.session.add(course)
        db.session.commit()
        return course

    return make


def competence(code):
    from sqlalchemy import select

    from lms.frameworks.models import Competence

    return db.session.execute(select(Competence).where(Competence.code == code)).scalar_one()


@pytest.fixture
def town(digcomp, make_department, make_job_role, make_user):
    """A small administration: six clerks in 33.1 (below FB3), three in FB2, a manager of FB3, HR."""
    from lms.skills.models import Assessment
    from lms.targets.models import JobRoleTarget

    fb3 = make_department(code="FB3", name="Bürgerdienste")
    office = make_department(code="33.1", name="Bürgerbüro", parent=fb3)
    finance = make_department(code="FB2", name="Finanzen")
    clerk = make_job_role(code="SB-BB", title="Sachbearbeitung Bürgerbüro")
    db.session.add_all(
        [
            JobRoleTarget(job_role_id=clerk.id, competence_id=competence("4.1").id, level=3),
            JobRoleTarget(job_role_id=clerk.id, competence_id=competence("4.2").id, level=2),
        ]
    )
    db.session.commit()
    staff = [make_user(family_name=f"Buero{i}", department=office, job_role=clerk) for i in range(6)]
    others = [make_user(family_name=f"Kasse{i}", department=finance, job_role=clerk) for i in range(3)]
    for person, level in zip(staff, [3, 3, 1, 4, 0, 2], strict=True):
        if level:
            db.session.add(Assessment(user_id=person.id, competence_id=competence("4.1").id, level=level, note="x"))
    db.session.commit()
    manager = make_user(roles=["manager"], heads=[fb3], family_name="Leitung")
    hr = make_user(roles=["hr"], family_name="Personal")
    return {"staff": staff, "others": others, "manager": manager, "hr": hr, "fb2": finance, "fb3": fb3}


@pytest.fixture
def levels_preset(app, monkeypatch):
    """The staff-council preset under which managers see their people's levels (the default is
    compliance-only: privacy by default)."""
    from lms.common.vocabulary import ManagerVisibility

    monkeypatch.setitem(app.config, "MANAGER_VISIBILITY", ManagerVisibility.LEVELS)
