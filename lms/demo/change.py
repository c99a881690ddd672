"""The demo's change: one running initiative (the e-file in planning and building), with a session,
two digital guides, an announcement, questions with answers, a pulse survey the staff council
approved and that enough people answered for it to be shown, and a strategy target.

Everything goes through the domains' services, so the demo obeys the same rules as the town."""

from __future__ import annotations

import random
from datetime import date, timedelta

from sqlalchemy import select

from lms.catalog.models import Course
from lms.change import services as change
from lms.change import surveys
from lms.change.models import Initiative
from lms.common.dates import utcnow
from lms.extensions import db
from lms.frameworks.models import Competence
from lms.people.models import Department, User
from lms.people.services import descendant_ids
from lms.sessions import services as sessions
from lms.strategy import services as strategy

TARGET_DEPARTMENT = "FB5"  # Planen und Bauen, with Stadtplanung and Bauordnung
COURSE = "e-akte-grundlagen"
PULSE_ANSWERS = 12  # at least the survey minimum (10), so that the whole target group's figure shows

TITLE = "Einführung der E-Akte in Planen und Bauen"
# (question, answer or "" for an open one, asked without the name)
QUESTIONS = (
    ("Wann bekomme ich Zugang zur E-Akte?", "Alle im Fachbereich bekommen ihn zwei Wochen vor dem Start.", False),
    (
        "Was passiert mit den Papierakten im Archiv?",
        "Sie bleiben dort. Nur neue Vorgänge werden elektronisch geführt.",
        True,
    ),
    ("Gibt es die Schulung auch am Nachmittag?", "", True),
)


def seed_change(by_key: dict[str, User], today: date, rng: random.Random) -> None:
    """Call after the people, courses and the framework exist; flushes. Once: a second seed keeps it."""
    if db.session.execute(select(Initiative.id).where(Initiative.title == TITLE)).first() is not None:
        return
    department = db.session.execute(select(Department).where(Department.code == TARGET_DEPARTMENT)).scalar_one()
    group = _people_below(department)
    lead, trainer, council = by_key["change"], by_key["trainer"], by_key["staff_council"]
    initiative = _initiative(lead, department, today)
    course = db.session.execute(select(Course).where(Course.slug == COURSE)).scalar_one_or_none()
    if course is not None:
        change.link_course(lead, initiative, course.id, -14, today)
    change.start(lead, initiative, today)
    _session(initiative, trainer, group, rng)
    _guides(initiative, group)
    change.announce(
        lead,
        initiative,
        change.AnnouncementData(
            title="Die Schulungstermine stehen fest",
            body="Bitte melden Sie sich für einen der Termine **„E-Akte in der Praxis“** an. "
            "Die Digitallotsen in Ihrer Abteilung helfen bei Fragen.",
            shown_from=today,
            shown_until=initiative.go_live,
        ),
        today,
    )
    _questions(initiative, lead, group)
    _pulse(initiative, lead, council, group, today, rng)
    _strategy_target(today)


def _people_below(department: Department) -> list[User]:
    ids = descendant_ids([department.id])
    return list(
        db.session.execute(
            select(User).where(User.active.is_(True), User.department_id.in_(ids)).order_by(User.id)
        ).scalars()
    )


def _initiative(lead: User, department: Department, today: date):
    go_live = today + timedelta(days=30)
    data = change.InitiativeData(
        title=TITLE,
        description=(
            "Ab dem Start führt der Fachbereich 5 neue Vorgänge in der E-Akte. "
            "Bauanträge kommen dann digital an, Stellungnahmen werden elektronisch abgestimmt.\n\n"
            "Vor dem Start lernen alle die Grundlagen im Kurs *E-Akte: Grundlagen* "
            "und üben in einer Präsenzschulung an echten Vorgängen."
        ),
        lead_id=lead.id,
        go_live=go_live,
        department_ids=[department.id],
        phases=[
            change.PhaseData("Vorbereitung", today - timedelta(days=30), today - timedelta(days=1)),
            change.PhaseData("Schulung", today, go_live - timedelta(days=1)),
            change.PhaseData("Start und Begleitung", go_live, go_live + timedelta(days=28)),
        ],
    )
    return change.save_initiative(lead, None, data, today)


def _session(initiative, trainer: User, group: list[User], rng: random.Random) -> None:
    now = utcnow()
    starts = (now + timedelta(days=10)).replace(hour=8, minute=0, second=0, microsecond=0)
    session = sessions.create_session(
        trainer,
        sessions.SessionData(
            title="E-Akte in der Praxis",
            starts_at=starts,
            ends_at=starts + timedelta(hours=3),
            registration_closes_at=starts - timedelta(days=2),
            capacity=12,
            place="Rathaus, Raum 2.14",
            description="Übungen an echten Vorgängen aus dem Bauamt. Bitte bringen Sie Ihre Zugangsdaten mit.",
        ),
        now,
    )
    change.link_session(trainer, initiative, session.id, now)
    for person in rng.sample(group, min(6, len(group))):
        sessions.register(person, session, now)


def _guides(initiative, group: list[User]) -> None:
    named: set[int | None] = set()
    for person in group:
        if person.department_id not in named and len(named) < 2:
            change.add_guide(initiative, person.id, person.department_id)
            named.add(person.department_id)


def _questions(initiative, lead: User, group: list[User]) -> None:
    for (text, reply, without_name), asker in zip(QUESTIONS, group, strict=False):
        question = change.ask(initiative, asker, text, without_name)
        if reply:
            change.answer(question, lead, reply)


def _pulse(initiative, lead: User, council: User, group: list[User], today: date, rng: random.Random) -> None:
    data = surveys.SurveyData(
        moment="before",
        questions=["Ich fühle mich auf die E-Akte vorbereitet.", "Ich weiß, wen ich bei Fragen ansprechen kann."],
        with_comment=True,
        opens_on=today,
        closes_on=today + timedelta(days=7),
    )
    survey = surveys.save_survey(lead, initiative, None, data, today)
    surveys.submit(survey)
    surveys.approve(survey, council)
    comments = ["", "", "Mehr Übungszeit wäre gut.", "", "Die Anleitung hilft.", ""]
    for index, person in enumerate(group[:PULSE_ANSWERS]):
        values = [rng.choice((2, 3, 4, 4, 5)), rng.choice((3, 4, 5))]
        surveys.answer(survey, person, values, comments[index % len(comments)], today)


def _strategy_target(today: date) -> None:
    competence = db.session.execute(select(Competence).where(Competence.code == "4.1")).scalars().first()
    if competence is None:
        return
    deadline = date(today.year + 1, 12, 31)
    strategy.save_target(
        None,
        strategy.TargetInput(competence_id=competence.id, level=3, share_percent=80, deadline=deadline),
        today,
    )
