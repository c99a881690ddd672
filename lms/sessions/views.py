"""Sessions: the list, one session, registering and cancelling; for trainers (and admins) a new
session, changes, cancelling, the participant list and the printable signature list; for the
session's trainer, attendance and confirmed levels for those who attended."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup
from wtforms.fields.choices import SelectChoice

from lms.common.access import roles_required, signed_in
from lms.common.dates import as_utc, utcnow
from lms.common.errors import ValidationFailed
from lms.common.forms import attach_errors
from lms.common.urls import id_argument
from lms.common.vocabulary import AuditAction, AuditField, Role
from lms.extensions import db
from lms.frameworks.services import framework_outline
from lms.i18n import _
from lms.privacy import services as privacy
from lms.sessions import attendance, calendar, services
from lms.sessions.forms import ConfirmationForm, SessionForm
from lms.sessions.models import SessionRegistration, TrainingSession
from lms.skills import services as skills

bp = Blueprint("sessions", __name__, url_prefix="/sessions")
organisers = roles_required(Role.TRAINER, Role.ADMIN)


def _session_or_404(session_id: int) -> TrainingSession:
    return db.session.get(TrainingSession, session_id) or abort(404)


def _organised_or_403(session_id: int) -> TrainingSession:
    """A trainer changes and reads the participants of their own sessions; an admin of all."""
    session = _session_or_404(session_id)
    if session.trainer_id != current_user.id and not current_user.has_role(Role.ADMIN):
        abort(403)
    return session


def _audit_look(session: TrainingSession, registrations: list[SessionRegistration]) -> None:
    """A participant list is others' personal data: each person shown gets an entry."""
    privacy.record(
        current_user,
        [registration.user for registration in registrations],
        AuditAction.VIEW_PARTICIPANTS,
        {AuditField.SESSION: session.id, AuditField.ENDPOINT: request.endpoint},
        request.remote_addr,
    )


# --- everyone -------------------------------------------------------------------------------


@bp.get("/")
@signed_in
def index():
    course_id = id_argument(request.args, "course")
    sessions = services.session_list(current_user, utcnow(), course_id)
    return render_template("sessions/index.html", sessions=sessions, course_id=course_id)


@bp.get("/<int:session_id>")
@signed_in
def show(session_id: int):
    session = _session_or_404(session_id)
    mine = services.registration_of(current_user, session)
    now = utcnow()
    return render_template(
        "sessions/show.html",
        session=session,
        mine=mine,
        position=services.waitlist_position(mine) if mine else 0,
        seats_taken=services.seats_taken(session),
        registration_open=not session.cancelled and now <= as_utc(session.registration_closes_at),
        started=now >= as_utc(session.starts_at),
        organiser=session.trainer_id == current_user.id or current_user.has_role(Role.ADMIN),
        trainer_of_session=session.trainer_id == current_user.id,
    )


@bp.post("/<int:session_id>/register")
@signed_in
def register(session_id: int):
    session = _session_or_404(session_id)
    try:
        registration = services.register(current_user, session, utcnow())
        db.session.commit()
    except ValidationFailed as failed:
        db.session.rollback()
        flash(" ".join(failed.errors.values()), "error")
    else:
        if registration.waitlisted:
            position = services.waitlist_position(registration)
            flash(_("The session is full. You are number %(num)d on the waitlist.", num=position), "info")
        else:
            flash(_("You are registered. The invitation for your calendar is on its way by e-mail."), "success")
    return redirect(url_for(".show", session_id=session_id))


@bp.post("/<int:session_id>/unregister")
@signed_in
def unregister(session_id: int):
    session = _session_or_404(session_id)
    try:
        cancelled = services.cancel_registration(current_user, session, utcnow())
        db.session.commit()
    except ValidationFailed as failed:
        db.session.rollback()
        flash(" ".join(failed.errors.values()), "error")
    else:
        if cancelled:
            flash(_("Your registration was cancelled."), "success")
    return redirect(url_for(".show", session_id=session_id))


@bp.get("/<int:session_id>/session.ics")
@signed_in
def ics(session_id: int):
    session = _session_or_404(session_id)
    return Response(
        calendar.ical(session, calendar.PUBLISH),
        mimetype="text/calendar",
        headers={"Content-Disposition": f'attachment; filename="session-{session.id}.ics"'},
    )


# --- trainers and admins --------------------------------------------------------------------


def _session_form(session: TrainingSession | None = None) -> SessionForm:
    form = SessionForm()
    if session is not None and request.method == "GET":
        zone = services.town_zone()
        form = SessionForm(
            data={
                "title": session.title,
                "course_id": session.course_id,
                "starts_at": as_utc(session.starts_at).astimezone(zone).replace(tzinfo=None),
                "ends_at": as_utc(session.ends_at).astimezone(zone).replace(tzinfo=None),
                "registration_closes_at": as_utc(session.registration_closes_at).astimezone(zone).replace(tzinfo=None),
                "place": session.place,
                "video_link": session.video_link,
                "capacity": session.capacity,
                "description": session.description,
            }
        )
    form.course_id.choices = [SelectChoice("", _("No course"))] + [
        SelectChoice(course_id, title) for course_id, title in services.courses_to_choose()
    ]
    return form


@bp.route("/new", methods=["GET", "POST"])
@organisers
def new():
    form = _session_form()
    if form.validate_on_submit():
        try:
            session = services.create_session(current_user, form.session_data(services.town_zone()), utcnow())
            db.session.commit()
        except ValidationFailed as failed:
            db.session.rollback()
            attach_errors(form, failed.errors)
        else:
            flash(_("The session was created."), "success")
            return redirect(url_for(".show", session_id=session.id))
    return render_template("sessions/edit.html", form=form, session=None), (422 if form.errors else 200)


@bp.route("/<int:session_id>/edit", methods=["GET", "POST"])
@organisers
def edit(session_id: int):
    session = _organised_or_403(session_id)
    form = _session_form(session)
    if form.validate_on_submit():
        try:
            moved_up = services.update_session(session, form.session_data(services.town_zone()), utcnow())
            db.session.commit()
        except ValidationFailed as failed:
            db.session.rollback()
            attach_errors(form, failed.errors)
        else:
            flash(_("The session was saved."), "success")
            if moved_up:
                flash(_("%(num)d people moved up from the waitlist and were told.", num=len(moved_up)), "info")
            return redirect(url_for(".show", session_id=session.id))
    return render_template("sessions/edit.html", form=form, session=session), (422 if form.errors else 200)


@bp.post("/<int:session_id>/cancel")
@organisers
def cancel(session_id: int):
    session = _organised_or_403(session_id)
    told = services.cancel_session(session, utcnow())
    db.session.commit()
    flash(_("The session was cancelled. %(num)d registered people were told.", num=told), "success")
    return redirect(url_for(".show", session_id=session_id))


@bp.get("/<int:session_id>/participants")
@organisers
def participants(session_id: int):
    session = _organised_or_403(session_id)
    registrations = services.registrations_of(session)
    seats = [registration for registration in registrations if not registration.waitlisted]
    waiting = services.waitlist(session)
    page = render_template("sessions/participants.html", session=session, seats=seats, waiting=waiting)
    _audit_look(session, registrations)
    db.session.commit()
    return page


@bp.get("/<int:session_id>/signatures")
@organisers
def signatures(session_id: int):
    session = _organised_or_403(session_id)
    seats = services.seat_holders(session)
    page = render_template("sessions/signatures.html", session=session, seats=seats)
    _audit_look(session, seats)
    db.session.commit()
    return page


# --- the session's trainer, after it started ------------------------------------------------


@bp.route("/<int:session_id>/attendance", methods=["GET", "POST"])
@roles_required(Role.TRAINER)
def record_attendance(session_id: int):
    session = _session_or_404(session_id)
    if attendance.attendance_refusal(current_user, session, utcnow()):
        abort(403)
    if request.method == "POST":  # the CSRF token is checked for every POST (lms.extensions.csrf)
        attended = {int(value) for value in request.form.getlist("attended") if value.isdigit()}
        attendance.record_attendance(session, attended)
        db.session.commit()
        flash(_("The attendance was saved."), "success")
        return redirect(url_for(".record_attendance", session_id=session_id))
    seats = services.seat_holders(session)
    page = render_template("sessions/attendance.html", session=session, seats=seats)
    _audit_look(session, seats)
    db.session.commit()
    return page


def _confirmation_form(session: TrainingSession) -> ConfirmationForm:
    form = ConfirmationForm()
    form.registration_id.choices = [SelectChoice("", _("Please choose"))] + [
        SelectChoice(registration.id, registration.user.name) for registration in attendance.attendees(session)
    ]
    form.competence_id.choices = [
        SelectChoice(c.id, f"{c.code} {c.t('title')}") for area in framework_outline() for c in area.active_competences
    ]
    form.level.choices = skills.level_choices()
    return form


@bp.route("/<int:session_id>/confirm", methods=["GET", "POST"])
@roles_required(Role.TRAINER)
def confirm_level(session_id: int):
    session = _session_or_404(session_id)
    if session.trainer_id != current_user.id:
        abort(403)
    form = _confirmation_form(session)
    if form.validate_on_submit():
        registration = db.session.get(SessionRegistration, form.registration_id.data or 0)
        try:
            attendance.confirm_level(
                current_user,
                session,
                registration,
                form.competence_id.data,
                form.level.data,
                form.note.data or "",
                request.remote_addr,
            )
            db.session.commit()
        except skills.AssessmentRefused as refused:
            db.session.rollback()
            attach_errors(form, {"registration_id": refused.message})
        except ValidationFailed as failed:
            db.session.rollback()
            attach_errors(form, failed.errors)
        else:
            flash(_("The level was confirmed. The person is told and can comment or object."), "success")
            return redirect(url_for(".confirm_level", session_id=session_id))
    status = 422 if form.errors else 200
    return render_template("sessions/confirm.html", session=session, form=form), status


def course_sessions_section(user, course) -> Markup:
    """The next sessions of a course, beside its outline (the learning domain's course page shows
    this slot without importing sessions). One statement; nothing when there are none."""
    upcoming = services.upcoming_of_course(course.id, utcnow())
    if not upcoming:
        return Markup("")
    return Markup(render_template("sessions/_course_sessions.html", sessions=upcoming, course=course))
