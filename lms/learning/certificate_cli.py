"""Certificates on the command line, under `flask courses` (registered in lms/__init__.py):

- `flask courses certificate --email X --course SLUG --output FILE.pdf`: a person's certificate of
  their latest completion of a course, as the PDF/A they download themselves (in their language),
  for the operator when HR needs one the person cannot fetch. The file appears whole or not at all.
- `flask courses revoke-certificate CODE`: the certificate is no longer valid; the verification
  page says so.

Both are audited with the person."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import click
from flask import current_app
from flask_babel import force_locale
from sqlalchemy import select

from lms.common.vocabulary import AuditAction, AuditField
from lms.extensions import db
from lms.learning import certificate_pdf, certificates, services
from lms.people.models import User
from lms.people.services import normalise_email
from lms.privacy import services as privacy


def _write_whole(output: Path, body: bytes) -> None:
    """Write beside `output`, then rename: no half-written file is left."""
    handle, temporary = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(body)
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(temporary, 0o666 & ~mask)  # as a plain write would create it (mkstemp: owner only)
        os.replace(temporary, output)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _check_output(output: Path) -> None:
    if output.is_dir():
        raise click.BadParameter(f"{str(output)!r} is a directory", param_hint="'--output'")
    if not output.parent.is_dir():
        raise click.BadParameter(f"the directory {str(output.parent)!r} does not exist", param_hint="'--output'")
    if not os.access(output.parent, os.W_OK | os.X_OK):
        raise click.BadParameter(f"the directory {str(output.parent)!r} is not writable", param_hint="'--output'")


def _locale_of(person: User) -> str:
    config = current_app.config
    return str(person.locale if person.locale in config["LANGUAGES"] else config["BABEL_DEFAULT_LOCALE"])


@click.command("certificate")
@click.option("--email", required=True, help="The person's e-mail address.")
@click.option("--course", "slug", required=True, help="The course's short name (its folder name).")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), required=True, help="The PDF file to write.")
def certificate_command(email: str, slug: str, output: Path) -> None:
    """Write a person's certificate of a course (their latest completion) as PDF/A."""
    _check_output(output)
    base_url = current_app.config.get("LMS_BASE_URL") or ""
    if not base_url and not current_app.config.get("SERVER_NAME"):
        raise click.ClickException("set LMS_BASE_URL: the certificate names the address of its verification page")
    person = db.session.execute(select(User).where(User.email == normalise_email(email))).scalar_one_or_none()
    if person is None:
        raise click.ClickException(f"no person has the e-mail address {email!r}")
    opened = services.open_course(person, slug, archived_too=True)
    if opened is None:
        raise click.ClickException(f"there is no course {slug!r}")
    if opened.completion is None:
        raise click.ClickException(f"{person.email} has not completed the course {slug!r}")
    certificate = certificates.certificate_for(opened.completion)
    # A request context of its own, for the page's address and the person's language.
    with current_app.test_request_context(base_url=base_url or None), force_locale(_locale_of(person)):
        body = certificate_pdf.render(
            certificate_pdf.CertificateDocument(
                certificate,
                opened.completion,
                person.name,
                current_app.config["TOWN_NAME"],
                certificates.verification_address(),
            )
        )
    try:
        _write_whole(output, body)
    except OSError as error:
        raise click.ClickException(f"{output}: {error.strerror or error}") from None
    code = certificates.formatted(certificate.code)
    privacy.record(
        None,
        [person],
        AuditAction.EXPORT_CERTIFICATE,
        {AuditField.VIA: "cli", AuditField.CERTIFICATE: certificate.id, AuditField.COURSE: slug},
    )
    db.session.commit()
    click.echo(f"{output}: the certificate of {person.email} for {slug} ({code})")


@click.command("revoke-certificate")
@click.argument("code")
def revoke_certificate_command(code: str) -> None:
    """Declare the certificate with verification CODE no longer valid (e.g. issued in error)."""
    certificate = certificates.held_with_code(code)
    if certificate is None:
        raise click.ClickException(f"no certificate with the code {code!r} is held")
    person = db.session.get(User, certificate.user_id)
    if not certificates.revoke(certificate):
        raise click.ClickException(f"the certificate {certificates.formatted(certificate.code)} was revoked before")
    privacy.record(
        None,
        [person] if person else [],
        AuditAction.REVOKE_CERTIFICATE,
        {AuditField.VIA: "cli", AuditField.CERTIFICATE: certificate.id},
    )
    db.session.commit()
    click.echo(f"{certificates.formatted(certificate.code)}: revoked ({certificate.course_title})")
