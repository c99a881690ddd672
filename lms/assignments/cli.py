"""`flask assignments ...`: assign a course on the command line, and bring assignments up to date.

The operator on the command line acts for HR (the actor is None): they may assign to anyone.
"""

from __future__ import annotations

from datetime import date, datetime

import click
from flask.cli import AppGroup

from lms.assignments import notices, queries, services
from lms.common.errors import ValidationFailed
from lms.common.vocabulary import AssignmentScope, AuditAction, AuditField, DueKind
from lms.extensions import db
from lms.privacy import services as privacy

assignments_cli = AppGroup("assignments", help="Assign courses to people, departments or job roles.")

# The service's field names as the options that set them, for `--option: message` errors.
OPTION_OF_FIELD = {
    "course_id": "--course",
    "user_id": "--person",
    "department_id": "--department",
    "job_role_id": "--job-role",
    "due_date": "--due",
    "due_days": "--within",
    "reason": "--reason",
}


def _one_of(options: dict[str, object]) -> str:
    """The one option given among `options` (name: value), else a usage error."""
    given = [name for name, value in options.items() if value is not None]
    if len(given) != 1:
        raise click.UsageError(f"give exactly one of {', '.join(options)}")
    return given[0]


def _scope(department: str | None, job_role: str | None, person: str | None) -> tuple[AssignmentScope, dict]:
    chosen = _one_of({"--department": department, "--job-role": job_role, "--person": person})
    if chosen == "--department":
        found = queries.find_department(department or "")
        if found is None:
            raise click.UsageError(f"--department: no department '{department}'")
        return AssignmentScope.DEPARTMENT, {"department_id": found.id}
    if chosen == "--job-role":
        role = queries.find_job_role(job_role or "")
        if role is None:
            raise click.UsageError(f"--job-role: no job role '{job_role}'")
        return AssignmentScope.JOB_ROLE, {"job_role_id": role.id}
    user = queries.find_person(person or "")
    if user is None:
        raise click.UsageError(f"--person: no person with the personnel number '{person}'")
    return AssignmentScope.PERSON, {"user_id": user.id}


def _due(due: datetime | None, within: int | None) -> dict:
    _one_of({"--due": due, "--within": within})
    if due is not None:
        return {"due_kind": DueKind.FIXED, "due_date": due.date()}
    return {"due_kind": DueKind.WITHIN_DAYS, "due_days": within}


@assignments_cli.command("add")
@click.option("--course", "course_slug", required=True, metavar="SLUG", help="The published course to assign.")
@click.option("--department", metavar="CODE", help="Assign to a department (with its sub-departments), by code.")
@click.option("--job-role", metavar="CODE", help="Assign to everyone with a job role, by code.")
@click.option("--person", metavar="PERSONNEL_NO", help="Assign to one person, by personnel number.")
@click.option("--due", type=click.DateTime(formats=["%Y-%m-%d"]), help="Due by this day (YYYY-MM-DD).")
@click.option("--within", type=int, metavar="DAYS", help="Due within this many days of being assigned.")
@click.option("--mandatory", is_flag=True, help="A mandatory course (counts in the compliance report).")
@click.option("--reason", default="", help="Why, as the people assigned will read it.")
def add(
    course_slug: str,
    department: str | None,
    job_role: str | None,
    person: str | None,
    due: datetime | None,
    within: int | None,
    mandatory: bool,
    reason: str,
) -> None:
    """Assign a course to a department, a job role or a person, due by a day or within days.

    Give exactly one of --department, --job-role, --person and one of --due, --within. People who
    join the department or job role later are assigned too (by `flask assignments sync`). The
    people assigned are told. Problems are printed as `--option: message`, and nothing is stored.
    """
    course = queries.find_published_course(course_slug)
    if course is None:
        raise click.UsageError(f"--course: no published course '{course_slug}'")
    scope, target = _scope(department, job_role, person)
    data = services.RuleData(
        course_id=course.id, scope=scope, mandatory=mandatory, reason=reason, **target, **_due(due, within)
    )
    try:
        rule, opened = services.create_rule(None, data, services.town_today())
        notices.tell_assigned(opened)
        privacy.record_event(
            None,
            AuditAction.ASSIGN_COURSE,
            rule.user if scope == AssignmentScope.PERSON else None,
            {AuditField.VIA: "cli", **queries.audit_context(rule, people=len(opened))},
        )
        db.session.commit()
    except ValidationFailed as failed:
        db.session.rollback()
        for field, message in failed.errors.items():
            click.echo(f"{OPTION_OF_FIELD.get(field, field)}: {message}", err=True)
        raise SystemExit(1) from None
    click.echo(f"{len(opened)} {'person' if len(opened) == 1 else 'people'} assigned (assignment rule {rule.id}).")


@assignments_cli.command("sync")
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Run as on this day (YYYY-MM-DD); default: today in the town.",
)
def sync(today: datetime | None) -> None:
    """Bring every assignment up to date, as the daily job does.

    Assigns people who joined a rule's department or job role, withdraws the open assignments of
    people who left it, closes assignments met by a completion and creates recertifications ahead
    of expiring completions. The people newly assigned are told.
    """
    day: date = today.date() if today else services.town_today()
    result = services.sync(day)
    notices.tell_assigned(result.assigned + result.recertifications)
    db.session.commit()
    click.echo(
        f"{day}: {len(result.assigned)} assigned, {len(result.recertifications)} recertifications, "
        f"{len(result.completed)} completed, {result.withdrawn} withdrawn"
    )
