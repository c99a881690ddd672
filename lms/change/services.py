"""Initiatives of a change: saving them, their target group, the courses people need (as assignment
rules), the go-live and its moves, announcements, digital guides, questions and the FAQ.

The target group is everyone active in one of the initiative's departments (sub-departments
included) or holding one of its job roles. While an initiative runs, each linked course holds one
standing, mandatory assignment rule per department and per job role of the target group, due on a
fixed day computed from the go-live: reminders, escalation, the compliance report and the
assignment of joiners (`assignments.sync`) then work for initiatives as for any assignment.

Any change lead (role `change`) or HR person manages every initiative: the change team of a town is
small and stands in for each other; the lead named on an initiative is whom its people see.

Functions flush; the caller commits. `today` is the town's date.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache

from sqlalchemy import (
    ColumnElement,
    Date,
    Integer,
    ScalarSelect,
    Select,
    and_,
    bindparam,
    case,
    exists,
    func,
    or_,
    select,
)
from sqlalchemy.orm import joinedload, selectinload

from lms.assignments import notices as assignment_notices
from lms.assignments import services as assignments
from lms.assignments.models import Assignment, AssignmentRule
from lms.catalog.markdown import render_markdown
from lms.catalog.models import Course, Lesson
from lms.change.models import (
    Announcement,
    Guide,
    Initiative,
    InitiativeStatus,
    LinkedCourse,
    Phase,
    PulseParticipation,
    Question,
    Survey,
    SurveyStatus,
    initiative_departments,
    initiative_job_roles,
)
from lms.common.dates import as_utc, utcnow
from lms.common.errors import ValidationFailed
from lms.common.text import has_control_characters, note_problem
from lms.common.vocabulary import AssignmentScope, DueKind, Role
from lms.extensions import db
from lms.i18n import _
from lms.notifications import services as notifications
from lms.notifications.models import NotificationKind
from lms.people.models import Department, JobRole, User, UserRole
from lms.people.services import descendant_ids
from lms.sessions.models import TrainingSession

MAX_TITLE = 200
MAX_MARKDOWN = 20000
MAX_QUESTION = 2000
MAX_ANSWER = 5000
MAX_DAYS = 3650
MANAGERS = (Role.CHANGE, Role.HR)


def may_manage(user: User) -> bool:
    return user.has_role(*MANAGERS)


def _title_problem(title: str) -> str | None:
    if not title:
        return _("Enter a title.")
    if len(title) > MAX_TITLE:
        return _("Keep the title to at most %(max)d characters.", max=MAX_TITLE)
    if has_control_characters(title):
        return _("A title cannot contain tabs, line breaks or other control characters.")
    return None


# --- saving an initiative -------------------------------------------------------------------


@dataclass
class PhaseData:
    name: str = ""
    starts_on: date | None = None
    ends_on: date | None = None

    @property
    def blank(self) -> bool:
        return not self.name.strip() and self.starts_on is None and self.ends_on is None


@dataclass
class InitiativeData:
    title: str
    description: str
    lead_id: int | None
    go_live: date | None
    department_ids: list[int] = field(default_factory=list)
    job_role_ids: list[int] = field(default_factory=list)
    phases: list[PhaseData] = field(default_factory=list)  # in the rows of the form; blank rows are skipped


def _check(data: InitiativeData) -> dict[str, str]:
    errors: dict[str, str] = {}
    if problem := _title_problem(data.title.strip()):
        errors["title"] = problem
    if problem := note_problem(data.description, MAX_MARKDOWN):
        errors["description"] = problem
    lead = db.session.get(User, data.lead_id) if data.lead_id else None
    if lead is None or not lead.active or not may_manage(lead):
        errors["lead_id"] = _("Choose the lead: an active person of the change team or HR.")
    if data.go_live is None:
        errors["go_live"] = _("Enter the go-live date.")
    if not data.department_ids and not data.job_role_ids:
        errors["department_ids"] = _("Choose at least one department or job role: whom is the change for?")
    elif _inactive(Department, data.department_ids) or _inactive(JobRole, data.job_role_ids):
        errors["department_ids"] = _("Choose active departments and job roles only.")
    for index, phase in enumerate(data.phases):
        errors |= _check_phase(index, phase)
    return errors


def _inactive(model: type[Department] | type[JobRole], ids: Sequence[int]) -> bool:
    active = db.session.scalar(select(func.count(model.id)).where(model.id.in_(ids or [-1]), model.active.is_(True)))
    return active != len(set(ids))


def _check_phase(index: int, phase: PhaseData) -> dict[str, str]:
    if phase.blank:
        return {}
    prefix = f"phases-{index}-"
    errors = {}
    if problem := _title_problem(phase.name.strip()):
        errors[prefix + "name"] = _("Name the phase.") if not phase.name.strip() else problem
    if phase.starts_on is None:
        errors[prefix + "starts_on"] = _("Enter the first day of the phase.")
    if phase.ends_on is None:
        errors[prefix + "ends_on"] = _("Enter the last day of the phase.")
    elif phase.starts_on is not None and phase.ends_on < phase.starts_on:
        errors[prefix + "ends_on"] = _("The phase cannot end before it starts.")
    return errors


def save_initiative(actor: User, initiative: Initiative | None, data: InitiativeData, today: date) -> Initiative:
    """Create or change an initiative. A running one brings its assignment rules in line with a
    changed target group, and a moved go-live moves their due dates (the people are told once).
    Raises ValidationFailed; nothing is stored then."""
    errors = _check(data)
    if errors:
        raise ValidationFailed(errors)
    assert data.go_live is not None
    if initiative is None:
        initiative = Initiative(go_live=data.go_live, created_by_id=actor.id, status=InitiativeStatus.DRAFT)
        db.session.add(initiative)
    initiative.title = data.title.strip()
    initiative.description = data.description
    initiative.description_html = render_markdown(data.description)  # sanitised (nh3), once
    initiative.lead_id = data.lead_id
    initiative.departments = list(
        db.session.execute(select(Department).where(Department.id.in_(data.department_ids or [-1]))).scalars()
    )
    initiative.job_roles = list(
        db.session.execute(select(JobRole).where(JobRole.id.in_(data.job_role_ids or [-1]))).scalars()
    )
    _replace_phases(initiative, data.phases)
    db.session.flush()
    move_go_live(initiative, data.go_live, today)
    if initiative.running:
        sync_rules(actor, initiative, today)
    return initiative


def _replace_phases(initiative: Initiative, phases: list[PhaseData]) -> None:
    """The phases in the order they happen (by first day, then as entered)."""
    kept = sorted((p for p in phases if not p.blank), key=lambda p: p.starts_on or date.min)
    initiative.phases = [
        Phase(position=position, name=p.name.strip(), starts_on=p.starts_on, ends_on=p.ends_on)
        for position, p in enumerate(kept)
    ]


def start(actor: User, initiative: Initiative, today: date) -> list[Assignment]:
    """A draft starts running: its courses are assigned and its current announcements told."""
    initiative.status = InitiativeStatus.RUNNING
    db.session.flush()
    opened = sync_rules(actor, initiative, today)
    tell_announcements(today, initiative)
    return opened


def close(initiative: Initiative) -> None:
    """A closed initiative leaves the target group's home page; its assignments stay (the trainings
    remain required) and so do its rules, so that joiners are still trained."""
    initiative.status = InitiativeStatus.CLOSED
    db.session.flush()


# --- the target group -----------------------------------------------------------------------


def target_group(initiative: Initiative) -> Select:
    """Ids of the active people the initiative is for."""
    department_ids = descendant_ids([d.id for d in initiative.departments])
    job_role_ids = [j.id for j in initiative.job_roles]
    return select(User.id).where(
        User.active.is_(True),
        or_(User.department_id.in_(department_ids or {-1}), User.job_role_id.in_(job_role_ids or [-1])),
    )


def target_group_size(initiative: Initiative) -> int:
    return db.session.scalar(select(func.count()).select_from(target_group(initiative).subquery())) or 0


def _in_target_group() -> ColumnElement[bool]:
    """SQL: the initiative's target group includes the person given by the parameters
    `department_id` and `job_role_id` (NULL: none; the department's parents are found in the same
    statement). Parameters rather than values, so that a statement built once serves everyone."""
    up = (
        select(Department.id, Department.parent_id)
        .where(Department.id == bindparam("department_id", type_=Integer))
        .cte(recursive=True)
    )
    # UNION, not UNION ALL: a loop in the tree (never meant to be) ends the recursion too.
    up = up.union(select(Department.id, Department.parent_id).join(up, Department.id == up.c.parent_id))
    return or_(
        exists().where(
            initiative_departments.c.initiative_id == Initiative.id,
            initiative_departments.c.department_id.in_(select(up.c.id)),
        ),
        exists().where(
            initiative_job_roles.c.initiative_id == Initiative.id,
            initiative_job_roles.c.job_role_id == bindparam("job_role_id", type_=Integer),
        ),
    )


def _person(user: User) -> dict[str, int | None]:
    return {"department_id": user.department_id, "job_role_id": user.job_role_id}


VISIBLE_STATES = (InitiativeStatus.RUNNING, InitiativeStatus.CLOSED)
# The lead's name, without their roles (which a user loads by default, in a statement of its own).
_lead = joinedload(Initiative.lead).lazyload(User.role_rows)


def initiative_for(user: User, initiative_id: int) -> Initiative | None:
    """The initiative as this person may read it: the change team reads every one, everyone else
    only a running or closed one whose target group they belong to (one statement)."""
    query = select(Initiative).options(_lead).where(Initiative.id == initiative_id)
    if may_manage(user):
        return db.session.execute(query).scalar()
    query = query.where(Initiative.status.in_(VISIBLE_STATES), _in_target_group())
    return db.session.execute(query, _person(user)).scalar()


def my_initiatives(user: User) -> list[Initiative]:
    """Running and closed initiatives whose target group includes the person, running ones first."""
    return list(
        db.session.execute(
            select(Initiative)
            .where(Initiative.status.in_(VISIBLE_STATES), _in_target_group())
            .order_by(Initiative.status.desc(), Initiative.go_live, Initiative.id),
            _person(user),
        ).scalars()
    )


@dataclass
class HomeItem:
    """A running initiative of the person's, with its announcements shown today."""

    initiative: Initiative
    announcements: list[Announcement] = field(default_factory=list)
    survey_id: int | None = None  # an open pulse survey the person has not answered yet


def _unanswered_survey() -> ScalarSelect:
    """SQL, per initiative: an open pulse survey the person (parameter `user_id`) has not answered
    on the day `today`, the first to close."""
    today = bindparam("today", type_=Date)
    return (
        select(Survey.id)
        .where(
            Survey.initiative_id == Initiative.id,
            Survey.status == SurveyStatus.APPROVED,
            Survey.opens_on <= today,
            Survey.closes_on >= today,
            ~exists().where(
                PulseParticipation.survey_id == Survey.id,
                PulseParticipation.user_id == bindparam("user_id", type_=Integer),
            ),
        )
        .order_by(Survey.closes_on, Survey.id)
        .limit(1)
        .correlate(Initiative)
        .scalar_subquery()
    )


@cache
def _home_items_statement() -> Select:
    """Built once: My learning asks on every visit, and building (and keying) it costs more than
    running it."""
    today = bindparam("today", type_=Date)
    return (
        select(Initiative, Announcement, _unanswered_survey())
        .outerjoin(
            Announcement,
            and_(
                Announcement.initiative_id == Initiative.id,
                Announcement.shown_from <= today,
                Announcement.shown_until >= today,
            ),
        )
        .where(Initiative.status == InitiativeStatus.RUNNING, _in_target_group())
        .order_by(Initiative.go_live, Initiative.id, Announcement.shown_from.desc(), Announcement.id.desc())
    )


def home_items(user: User, today: date) -> list[HomeItem]:
    """What My learning shows about the person's running initiatives, in one statement."""
    parameters = _person(user) | {"user_id": user.id, "today": today}
    rows = db.session.execute(_home_items_statement(), parameters).all()
    items: dict[int, HomeItem] = {}
    for initiative, announcement, survey_id in rows:
        item = items.setdefault(initiative.id, HomeItem(initiative, survey_id=survey_id))
        if announcement is not None:
            item.announcements.append(announcement)
    return list(items.values())


# --- the courses people need ----------------------------------------------------------------


def due_date(initiative: Initiative, link: LinkedCourse, today: date) -> date:
    """Go-live plus the link's days; never in the past (a course linked late is due today)."""
    return max(initiative.go_live + timedelta(days=link.days), today)


def links_of(initiative: Initiative) -> list[LinkedCourse]:
    return list(
        db.session.execute(
            select(LinkedCourse)
            .options(joinedload(LinkedCourse.course), selectinload(LinkedCourse.rules))
            .where(LinkedCourse.initiative_id == initiative.id)
            .order_by(LinkedCourse.days, LinkedCourse.id)
        ).scalars()
    )


def _wanted_scopes(initiative: Initiative) -> set[tuple[AssignmentScope, int]]:
    return {(AssignmentScope.DEPARTMENT, d.id) for d in initiative.departments} | {
        (AssignmentScope.JOB_ROLE, j.id) for j in initiative.job_roles
    }


def _scope_of(rule: AssignmentRule) -> tuple[AssignmentScope, int]:
    target = rule.department_id if rule.scope == AssignmentScope.DEPARTMENT else rule.job_role_id
    return AssignmentScope(rule.scope), target or 0


def sync_rules(actor: User, initiative: Initiative, today: date) -> list[Assignment]:
    """Each linked course gets one active rule per department and job role of the target group;
    rules for what left the target group end (their open assignments are withdrawn). The people
    newly assigned are told. Answers their assignments."""
    wanted = _wanted_scopes(initiative)
    opened: list[Assignment] = []
    for link in links_of(initiative):
        active = {_scope_of(rule): rule for rule in link.rules if rule.active}
        for target, rule in active.items():
            if target not in wanted:
                assignments.end_rule(rule, today)
        for scope, target_id in sorted(wanted - set(active)):
            new_rule, new = _create_rule(actor, initiative, link, scope, target_id, today)
            link.rules.append(new_rule)
            opened += new
    db.session.flush()
    assignment_notices.tell_assigned(opened)
    return opened


def _create_rule(
    actor: User, initiative: Initiative, link: LinkedCourse, scope: AssignmentScope, target_id: int, today: date
) -> tuple[AssignmentRule, list[Assignment]]:
    data = assignments.RuleData(
        course_id=link.course_id,
        scope=scope,
        department_id=target_id if scope == AssignmentScope.DEPARTMENT else None,
        job_role_id=target_id if scope == AssignmentScope.JOB_ROLE else None,
        due_kind=DueKind.FIXED,
        due_date=due_date(initiative, link, today),
        mandatory=True,
        reason=_("Needed for “%(initiative)s”", initiative=initiative.title)[: assignments.MAX_REASON_LENGTH],
    )
    # Checked as on the command line (actor None): the change team assigns to the whole target
    # group, which a manager's reach would not allow; the rule still names who made it.
    rule, opened = assignments.create_rule(None, data, today, standing=True)
    rule.created_by_id = actor.id
    return rule, opened


def link_course(actor: User, initiative: Initiative, course_id: int | None, days: int | None, today: date) -> None:
    """Link a course; while the initiative runs, it is assigned to the target group at once."""
    errors: dict[str, str] = {}
    course = db.session.get(Course, course_id) if course_id else None
    if course is None or course.archived:
        errors["course_id"] = _("Choose a published course.")
    elif not db.session.scalar(select(func.count(Lesson.id)).where(Lesson.course_id == course.id)):
        errors["course_id"] = _("This course has no published lessons yet.")
    elif db.session.scalar(
        select(func.count(LinkedCourse.id)).where(
            LinkedCourse.initiative_id == initiative.id, LinkedCourse.course_id == course.id
        )
    ):
        errors["course_id"] = _("This course is linked already.")
    if days is None or not -MAX_DAYS <= days <= MAX_DAYS:
        errors["days"] = _("Enter a number of days from 0 to %(max)d.", max=MAX_DAYS)
    if errors:
        raise ValidationFailed(errors)
    db.session.add(LinkedCourse(initiative_id=initiative.id, course_id=course_id, days=days))
    db.session.flush()
    if initiative.running:
        sync_rules(actor, initiative, today)


def unlink_course(link: LinkedCourse, today: date) -> int:
    """The course is no longer needed: its rules end and open assignments from them are
    withdrawn (completions stay). Answers how many were withdrawn."""
    withdrawn = sum(assignments.end_rule(rule, today) for rule in link.rules if rule.active)
    db.session.delete(link)
    db.session.flush()
    return withdrawn


def move_go_live(initiative: Initiative, go_live: date, today: date) -> int:
    """Set a new go-live: the due dates of the linked courses follow it, and the target group of a
    running initiative is told once per move (a repeated request moves nothing and tells nobody).
    Answers how many people were told."""
    if initiative.go_live == go_live or initiative.id is None:
        initiative.go_live = go_live
        return 0
    initiative.go_live = go_live
    initiative.go_live_moves = (initiative.go_live_moves or 0) + 1
    for link in links_of(initiative):
        for rule in link.rules:
            if rule.active:
                assignments.move_due_date(rule, due_date(initiative, link, today))
    db.session.flush()
    if not initiative.running:
        return 0
    notices = [
        notifications.Notice(
            user=person,
            kind=NotificationKind.GO_LIVE_MOVED,
            params={"initiative": initiative.title, "go_live": go_live},
            link=_page(initiative),
            dedupe_key=f"initiative:{initiative.id}:go-live:{initiative.go_live_moves}:{person.id}",
        )
        for person in _people(initiative)
    ]
    return len(notifications.notify_many(notices))


def _people(initiative: Initiative) -> list[User]:
    return list(db.session.execute(select(User).where(User.id.in_(target_group(initiative)))).scalars())


def _page(initiative: Initiative) -> str:
    return f"/change/{initiative.id}/about"


# --- announcements --------------------------------------------------------------------------


@dataclass
class AnnouncementData:
    title: str
    body: str
    shown_from: date | None
    shown_until: date | None


def announce(actor: User, initiative: Initiative, data: AnnouncementData, today: date) -> Announcement:
    """Store an announcement; the target group of a running initiative is told once its first day
    has come (now, or by the daily job)."""
    errors: dict[str, str] = {}
    if problem := _title_problem(data.title.strip()):
        errors["title"] = problem
    if problem := note_problem(data.body, MAX_MARKDOWN):
        errors["body"] = problem
    elif not data.body.strip():
        errors["body"] = _("Enter the text of the announcement.")
    if data.shown_from is None:
        errors["shown_from"] = _("Enter the first day it is shown.")
    if data.shown_until is None:
        errors["shown_until"] = _("Enter the last day it is shown.")
    elif data.shown_from is not None and data.shown_until < data.shown_from:
        errors["shown_until"] = _("The last day cannot lie before the first day.")
    elif data.shown_until < today:
        errors["shown_until"] = _("The last day lies in the past: nobody would see the announcement.")
    if errors:
        raise ValidationFailed(errors)
    announcement = Announcement(
        initiative_id=initiative.id,
        title=data.title.strip(),
        body=data.body,
        body_html=render_markdown(data.body),  # sanitised (nh3), once
        shown_from=data.shown_from,
        shown_until=data.shown_until,
        created_by_id=actor.id,
    )
    db.session.add(announcement)
    db.session.flush()
    tell_announcements(today, initiative)
    return announcement


def announcements_of(initiative: Initiative, today: date | None = None) -> list[Announcement]:
    """All announcements (newest first), or those shown on `today`."""
    query = select(Announcement).where(Announcement.initiative_id == initiative.id)
    if today is not None:
        query = query.where(Announcement.shown_from <= today, Announcement.shown_until >= today)
    return list(db.session.execute(query.order_by(Announcement.shown_from.desc(), Announcement.id.desc())).scalars())


def tell_announcements(today: date, initiative: Initiative | None = None) -> int:
    """Tell the target groups about announcements shown today that they have not been told of:
    one in-app notification per person and announcement (mailed as an optional mail). Answers
    how many people were told."""
    query = (
        select(Announcement)
        .join(Initiative, Initiative.id == Announcement.initiative_id)
        .options(joinedload(Announcement.initiative))
        .where(
            Announcement.told_at.is_(None),
            Announcement.shown_from <= today,
            Announcement.shown_until >= today,
            Initiative.status == InitiativeStatus.RUNNING,
        )
    )
    if initiative is not None:
        query = query.where(Announcement.initiative_id == initiative.id)
    told = 0
    for announcement in db.session.execute(query).scalars().all():
        notices = [
            notifications.Notice(
                user=person,
                kind=NotificationKind.ANNOUNCEMENT,
                params={"initiative": announcement.initiative.title, "title": announcement.title},
                link=_page(announcement.initiative),
                dedupe_key=f"announcement:{announcement.id}:{person.id}",
                optional=True,
            )
            for person in _people(announcement.initiative)
        ]
        told += len(notifications.notify_many(notices))
        announcement.told_at = utcnow()
    db.session.flush()
    return told


# --- digital guides -------------------------------------------------------------------------


def add_guide(initiative: Initiative, user_id: int | None, department_id: int | None) -> Guide:
    errors: dict[str, str] = {}
    person = db.session.get(User, user_id) if user_id else None
    if person is None or not person.active:
        errors["user_id"] = _("Choose an active person.")
    department = db.session.get(Department, department_id) if department_id else None
    allowed = descendant_ids([d.id for d in initiative.departments]) if initiative.departments else None
    if department is None or not department.active or (allowed is not None and department.id not in allowed):
        errors["department_id"] = _("Choose a department of the target group.")
    if not errors and db.session.scalar(
        select(func.count(Guide.id)).where(
            Guide.initiative_id == initiative.id, Guide.user_id == user_id, Guide.department_id == department_id
        )
    ):
        errors["user_id"] = _("This person is a guide for this department already.")
    if errors:
        raise ValidationFailed(errors)
    guide = Guide(initiative_id=initiative.id, user_id=user_id, department_id=department_id)
    db.session.add(guide)
    db.session.flush()
    return guide


def guides_of(initiative: Initiative) -> list[Guide]:
    return list(
        db.session.execute(
            select(Guide)
            .join(Department, Department.id == Guide.department_id)
            .join(User, User.id == Guide.user_id)
            .options(joinedload(Guide.user).lazyload(User.role_rows), joinedload(Guide.department))
            .where(Guide.initiative_id == initiative.id, User.active.is_(True))
            .order_by(Department.code, User.family_name, User.given_name)
        ).scalars()
    )


def guide_department_ids(initiative: Initiative, user: User) -> set[int]:
    """The departments this person guides in the initiative (one statement)."""
    rows = db.session.execute(
        select(Guide.department_id).where(Guide.initiative_id == initiative.id, Guide.user_id == user.id)
    ).scalars()
    return set(rows)


def guided_departments(guides: Sequence[Guide], user: User) -> list[Department]:
    """The departments this person guides in the initiative: they see these rows of its readiness
    view (aggregated, through lms.common.disclosure; lms.change.readiness)."""
    return [guide.department for guide in guides if guide.user_id == user.id]


def remove_guide(guide: Guide) -> None:
    db.session.delete(guide)
    db.session.flush()


# --- questions and the FAQ ------------------------------------------------------------------


def ask(initiative: Initiative, asker: User, text: str, without_name: bool) -> Question:
    text = (text or "").strip()
    if not text:
        raise ValidationFailed({"text": _("Enter your question.")})
    if problem := note_problem(text, MAX_QUESTION):
        raise ValidationFailed({"text": problem})
    question = Question(initiative_id=initiative.id, user_id=asker.id, text=text, without_name=without_name)
    db.session.add(question)
    db.session.flush()
    return question


def answer(question: Question, actor: User, text: str) -> None:
    """The change team answers; an answered question is part of the initiative's public FAQ."""
    text = (text or "").strip()
    if not text:
        raise ValidationFailed({"answer": _("Enter the answer.")})
    if problem := note_problem(text, MAX_ANSWER):
        raise ValidationFailed({"answer": problem})
    question.answer, question.answered_by_id, question.answered_at = text, actor.id, utcnow()
    db.session.flush()


def questions_of(initiative: Initiative) -> list[Question]:
    """Every question, unanswered first, with the askers (shown only where they gave their name)."""
    return list(
        db.session.execute(
            select(Question)
            .options(joinedload(Question.asker).lazyload(User.role_rows))
            .where(Question.initiative_id == initiative.id)
            .order_by(Question.answered_at.is_not(None), Question.asked_at, Question.id)
        ).scalars()
    )


def faq(initiative: Initiative) -> list[Question]:
    """The answered questions, without anyone's name (the FAQ never names an asker)."""
    return list(
        db.session.execute(
            select(Question)
            .where(Question.initiative_id == initiative.id, Question.answered_at.is_not(None))
            .order_by(Question.answered_at, Question.id)
        ).scalars()
    )


def own_questions(initiative: Initiative, user: User) -> list[Question]:
    return list(
        db.session.execute(
            select(Question)
            .where(Question.initiative_id == initiative.id, Question.user_id == user.id)
            .order_by(Question.asked_at, Question.id)
        ).scalars()
    )


def open_question_counts(initiative_ids: Sequence[int]) -> dict[int, int]:
    rows = db.session.execute(
        select(Question.initiative_id, func.count(Question.id))
        .where(Question.initiative_id.in_(initiative_ids or [-1]), Question.answered_at.is_(None))
        .group_by(Question.initiative_id)
    )
    return {initiative_id: count for initiative_id, count in rows}


# --- lists ----------------------------------------------------------------------------------


def all_initiatives() -> Select:
    """Every initiative for the change team: running first, then drafts, then closed; by go-live."""
    order = {InitiativeStatus.RUNNING: 0, InitiativeStatus.DRAFT: 1, InitiativeStatus.CLOSED: 2}
    return (
        select(Initiative)
        .options(
            _lead,
            selectinload(Initiative.departments),
            selectinload(Initiative.job_roles),
        )
        .order_by(case(order, value=Initiative.status, else_=3), Initiative.go_live, Initiative.id)
    )


def change_team() -> list[User]:
    """Whom an initiative may be led by: active people with the role `change` or HR."""
    return list(
        db.session.execute(
            select(User)
            .where(User.active.is_(True), exists().where(UserRole.user_id == User.id, UserRole.role.in_(MANAGERS)))
            .order_by(User.family_name, User.given_name, User.id)
        ).scalars()
    )


def link_session(actor: User, initiative: Initiative, session_id: int | None, now: datetime) -> LinkedCourse | None:
    """Link a session the target group needs: announced on the initiative's page (people register
    there as for any session); attending it counts in the readiness view. A session of a course
    also links that course (answered), so that it becomes an assignment like any linked course."""
    session = db.session.get(TrainingSession, session_id) if session_id else None
    if session is None or session.cancelled or as_utc(session.ends_at) < now:
        raise ValidationFailed({"session_id": _("Choose an upcoming session.")})
    if session in initiative.sessions:
        raise ValidationFailed({"session_id": _("This session is linked already.")})
    initiative.sessions.append(session)
    db.session.flush()
    return _link_course_of(actor, initiative, session, now)


def _link_course_of(
    actor: User, initiative: Initiative, session: TrainingSession, now: datetime
) -> LinkedCourse | None:
    """The session's course, due on the session's day: the reminders, escalation and compliance
    report of assignments then apply to the session too, and attending it completes the course
    (`learning.complete_by_attendance`). A course linked already keeps its due date; a session
    without a course is shown and counted, but nobody is reminded to register."""
    course = session.course
    if course is None or course.archived or any(link.course_id == course.id for link in links_of(initiative)):
        return None
    days = (as_utc(session.starts_at).date() - initiative.go_live).days
    link = LinkedCourse(initiative_id=initiative.id, course_id=course.id, days=max(-MAX_DAYS, min(MAX_DAYS, days)))
    db.session.add(link)
    db.session.flush()
    if initiative.running:
        sync_rules(actor, initiative, now.date())
    return link


def unlink_session(initiative: Initiative, session_id: int) -> bool:
    session = next((s for s in initiative.sessions if s.id == session_id), None)
    if session is None:
        return False
    initiative.sessions.remove(session)
    db.session.flush()
    return True


def linkable_sessions(now: datetime) -> list[TrainingSession]:
    """Sessions not cancelled that have not ended, soonest first."""
    return list(
        db.session.execute(
            select(TrainingSession)
            .where(TrainingSession.cancelled_at.is_(None), TrainingSession.ends_at >= now)
            .order_by(TrainingSession.starts_at, TrainingSession.id)
        ).scalars()
    )


def linkable_courses() -> list[Course]:
    with_lessons = select(Lesson.course_id)
    return list(
        db.session.execute(
            select(Course)
            .where(Course.archived.is_(False), Course.id.in_(with_lessons))
            .order_by(Course.title, Course.id)
        ).scalars()
    )


def people_of(initiative: Initiative) -> list[User]:
    """The target group's people, for naming guides."""
    return list(
        db.session.execute(
            select(User)
            .options(joinedload(User.department))
            .where(User.id.in_(target_group(initiative)))
            .order_by(User.family_name, User.given_name, User.id)
        ).scalars()
    )
