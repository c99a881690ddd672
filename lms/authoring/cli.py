"""`flask courses owner ...`: name the owners of courses (imported courses have none at first)."""

from __future__ import annotations

import click

from lms.extensions import db


@click.command("owner")
@click.argument("slug")
@click.argument("email")
@click.option("--co-owner", is_flag=True, help="Name the person co-owner instead of owner.")
@click.option("--remove", is_flag=True, help="Remove the person from the course's owners.")
def owner(slug: str, email: str, co_owner: bool, remove: bool) -> None:
    """Name the trainer with EMAIL owner (or co-owner) of course SLUG, or remove them."""
    from sqlalchemy import select

    from lms.authoring.services import FilesUnavailable, set_owner, workspace
    from lms.common.vocabulary import CourseOwnership, Role
    from lms.people.models import User

    person = db.session.execute(select(User).where(User.email == email.strip().lower())).scalar_one_or_none()
    if person is None:
        raise click.ClickException(f"{email}: no such person")
    if not remove and not person.has_role(Role.TRAINER):
        raise click.ClickException(f"{email}: only trainers can own a course")
    try:
        space = workspace(slug)
    except FilesUnavailable as error:
        raise click.ClickException(
            f"{slug}: the files of its published version are not stored; sync it once"
        ) from error
    if space is None:
        raise click.ClickException(f"{slug}: no such course")
    kind = None if remove else (CourseOwnership.CO_OWNER if co_owner else CourseOwnership.OWNER)
    set_owner(space, person, kind, actor=None)
    db.session.commit()
    click.echo(f"{slug}: {person.email} {'removed' if kind is None else kind.value}")
