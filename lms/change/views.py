"""Initiatives of a change: the change team's list, form and page (role `change` or HR), the
page of an initiative for its target group (with the FAQ and the question form), and the
section on My learning that shows a person their initiatives and current announcements.
Pulse surveys: the change team writes them, the staff council approves them, the target group
answers them; the readiness view for the change team and each digital guide."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import format_datetime
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy.exc import IntegrityError

from lms.assignments.services import town_today
from lms.change import readiness, services, surveys
from lms.change.forms import (
    AnnouncementForm,
    AnswerForm,
    GuideForm,
    InitiativeForm,
    LinkCourseForm,
    LinkSessionForm,
    QuestionForm,
    RefusalForm,
    SurveyForm,
    pulse_form,
)
from lms.change.models import (
    Guide,
    Initiative,
    InitiativeStatus,
    LinkedCourse,
    Question,
    Survey,
    SurveyState,
    SurveyStatus,
)
from lms.common.access import roles_required, signed_in
from lms.common.dates import utcnow
from lms.common.errors import ValidationFailed
from lms.common.forms import attach_errors
from lms.common.vocabulary import AuditAction, AuditField, Role
from lms.extensions import db
from lms.i18n import _, ngettext
from lms.people import services as people
from lms.people.models import JobRole, User
from lms.privacy import services as privacy

bp = Blueprint("change", __name__, url_prefix="/change")
change_team = roles_required(Role.CHANGE, Role.HR)
staff_council = roles_required(Role.STAFF_COUNCIL)

# --- the change team ------------------------------------------------------------------------


@bp.get("/")
@change_team
def index():
    page = db.paginate(services.all_initiatives(), per_page=current_app.config["PAGE_SIZE"], error_out=False)
    open_questions = services.open_question_counts([i.id for i in page.items])
    return render_template("change/index.html", page=page, open_questions=open_questions)


@bp.route("/new", methods=["GET", "POST"])
@change_team
def new():
    form = _initiative_form()
    if form.validate_on_submit():
        try:
            initiative = services.save_initiative(current_user, None, form.initiative_data(), town_today())
            db.session.commit()
        except ValidationFailed as failed:
            db.session.rollback()
            _attach(form, failed.errors)
        else:
            flash(_("The initiative was saved as a draft."), "success")
            return redirect(url_for(".manage", initiative_id=initiative.id))
    return render_template("change/form.html", form=form, initiative=None)


@bp.route("/<int:initiative_id>/edit", methods=["GET", "POST"])
@change_team
def edit(initiative_id: int):
    initiative = _initiative_or_404(initiative_id)
    form = _initiative_form()
    if request.method == "GET":
        form.load(initiative)
    if form.validate_on_submit():
        before = initiative.go_live
        try:
            services.save_initiative(current_user, initiative, form.initiative_data(), town_today())
            db.session.commit()
        except ValidationFailed as failed:
            db.session.rollback()
            _attach(form, failed.errors)
        else:
            flash(_("The initiative was saved."), "success")
            if initiative.go_live != before and initiative.running:
                flash(_("The due dates of its courses moved with the go-live; the target group is told."), "info")
            return redirect(url_for(".manage", initiative_id=initiative.id))
    return render_template("change/form.html", form=form, initiative=initiative)


@bp.get("/<int:initiative_id>/")
@change_team
def manage(initiative_id: int):
    return _manage_page(_initiative_or_404(initiative_id))


@bp.post("/<int:initiative_id>/start")
@change_team
def start(initiative_id: int):
    initiative = _initiative_or_404(initiative_id)
    if initiative.status != InitiativeStatus.DRAFT:
        flash(_("Only a draft can be started."), "info")
        return redirect(url_for(".manage", initiative_id=initiative.id))
    opened = services.start(current_user, initiative, town_today())
    _record_assigned(initiative, len(opened))
    db.session.commit()
    flash(
        ngettext(
            "The initiative is running: its courses were assigned to %(num)d person.",
            "The initiative is running: its courses were assigned to %(num)d people.",
            len(opened),
        ),
        "success",
    )
    return redirect(url_for(".manage", initiative_id=initiative.id))


@bp.post("/<int:initiative_id>/close")
@change_team
def close(initiative_id: int):
    initiative = _initiative_or_404(initiative_id)
    if initiative.running:
        services.close(initiative)
        db.session.commit()
        flash(_("The initiative is closed. Its assignments stay."), "success")
    return redirect(url_for(".manage", initiative_id=initiative.id))


@bp.post("/<int:initiative_id>/courses")
@change_team
def link_course(initiative_id: int):
    initiative = _initiative_or_404(initiative_id)
    form = LinkCourseForm()
    form.fill_choices(services.linkable_courses())
    if form.validate_on_submit():
        try:
            services.link_course(current_user, initiative, form.course_id.data, form.signed_days(), town_today())
            if initiative.running:
                _record_assigned(initiative, None)
            db.session.commit()
        except ValidationFailed as failed:
            db.session.rollback()
            attach_errors(form, failed.errors)
        else:
            flash(_("The course was linked."), "success")
            return redirect(url_for(".manage", initiative_id=initiative.id, _anchor="courses"))
    return _manage_page(initiative, link_form=form)


@bp.post("/<int:initiative_id>/sessions")
@change_team
def link_session(initiative_id: int):
    initiative = _initiative_or_404(initiative_id)
    form = _session_form()
    if form.validate_on_submit():
        try:
            course_link = services.link_session(current_user, initiative, form.session_id.data, utcnow())
            db.session.commit()
        except ValidationFailed as failed:
            db.session.rollback()
            attach_errors(form, failed.errors)
        else:
            if course_link is not None:
                message = _(
                    "The session was linked, and with it its course %(course)s: the target group is asked"
                    " to complete it by the session's day, by attending or online.",
                    course=course_link.course.title,
                )
            else:
                message = _("The session was linked.")
            flash(message, "success")
            return redirect(url_for(".manage", initiative_id=initiative.id, _anchor="sessions"))
    return _manage_page(initiative, session_form=form)


@bp.post("/<int:initiative_id>/sessions/<int:session_id>/remove")
@change_team
def unlink_session(initiative_id: int, session_id: int):
    initiative = _initiative_or_404(initiative_id)
    if not services.unlink_session(initiative, session_id):
        abort(404)
    db.session.commit()
    flash(_("The session is no longer linked."), "success")
    return redirect(url_for(".manage", initiative_id=initiative.id, _anchor="sessions"))


def _session_form(bound: bool = True) -> LinkSessionForm:
    form = LinkSessionForm() if bound else LinkSessionForm(formdata=None)
    form.fill_choices(services.linkable_sessions(utcnow()), session_label)
    return form


def session_label(session) -> str:
    where = session.place or _("online")
    return f"{session.title} – {format_datetime(session.starts_at, 'medium')}, {where}"


@bp.post("/<int:initiative_id>/courses/<int:link_id>/remove")
@change_team
def unlink_course(initiative_id: int, link_id: int):
    initiative = _initiative_or_404(initiative_id)
    link = db.session.get(LinkedCourse, link_id)
    if link is None or link.initiative_id != initiative.id:
        abort(404)
    withdrawn = services.unlink_course(link, town_today())
    db.session.commit()
    flash(
        ngettext(
            "The course is no longer linked: %(num)d open assignment was withdrawn.",
            "The course is no longer linked: %(num)d open assignments were withdrawn.",
            withdrawn,
        ),
        "success",
    )
    return redirect(url_for(".manage", initiative_id=initiative.id, _anchor="courses"))


@bp.post("/<int:initiative_id>/announcements")
@change_team
def announce(initiative_id: int):
    initiative = _initiative_or_404(initiative_id)
    form = AnnouncementForm()
    if form.validate_on_submit():
        try:
            services.announce(current_user, initiative, form.announcement_data(), town_today())
            db.session.commit()
        except ValidationFailed as failed:
            db.session.rollback()
            attach_errors(form, failed.errors)
        else:
            flash(_("The announcement was published."), "success")
            return redirect(url_for(".manage", initiative_id=initiative.id, _anchor="announcements"))
    return _manage_page(initiative, announcement_form=form)


@bp.post("/<int:initiative_id>/guides")
@change_team
def add_guide(initiative_id: int):
    initiative = _initiative_or_404(initiative_id)
    form = _guide_form(initiative)
    if form.validate_on_submit():
        try:
            services.add_guide(initiative, form.user_id.data, form.department_id.data)
            db.session.commit()
        except ValidationFailed as failed:
            db.session.rollback()
            attach_errors(form, failed.errors)
        else:
            flash(_("The digital guide was named."), "success")
            return redirect(url_for(".manage", initiative_id=initiative.id, _anchor="guides"))
    return _manage_page(initiative, guide_form=form)


@bp.post("/<int:initiative_id>/guides/<int:guide_id>/remove")
@change_team
def remove_guide(initiative_id: int, guide_id: int):
    initiative = _initiative_or_404(initiative_id)
    guide = db.session.get(Guide, guide_id)
    if guide is None or guide.initiative_id != initiative.id:
        abort(404)
    services.remove_guide(guide)
    db.session.commit()
    flash(_("The digital guide was removed."), "success")
    return redirect(url_for(".manage", initiative_id=initiative.id, _anchor="guides"))


@bp.get("/<int:initiative_id>/questions")
@change_team
def questions(initiative_id: int):
    initiative = _initiative_or_404(initiative_id)
    return _questions_page(initiative, services.questions_of(initiative))


@bp.post("/<int:initiative_id>/questions/<int:question_id>/answer")
@change_team
def answer(initiative_id: int, question_id: int):
    initiative = _initiative_or_404(initiative_id)
    question = db.session.get(Question, question_id)
    if question is None or question.initiative_id != initiative.id:
        abort(404)
    form = AnswerForm(prefix=f"answer-{question.id}")
    if form.validate_on_submit():
        try:
            services.answer(question, current_user, form.answer.data)
            db.session.commit()
        except ValidationFailed as failed:
            db.session.rollback()
            attach_errors(form, failed.errors)
        else:
            flash(_("The answer is saved and part of the FAQ."), "success")
            return redirect(url_for(".questions", initiative_id=initiative.id))
    return _questions_page(initiative, services.questions_of(initiative), failed=(question.id, form))


# --- the target group -----------------------------------------------------------------------


@bp.get("/mine")
@signed_in
def mine():
    return render_template("change/mine.html", initiatives=services.my_initiatives(current_user))


@bp.get("/<int:initiative_id>/about")
@signed_in
def about(initiative_id: int):
    return _about_page(_readable_or_404(initiative_id))


@bp.post("/<int:initiative_id>/ask")
@signed_in
def ask(initiative_id: int):
    initiative = _readable_or_404(initiative_id)
    form = QuestionForm()
    if initiative.status != InitiativeStatus.RUNNING:
        abort(404)
    if form.validate_on_submit():
        try:
            services.ask(initiative, current_user, form.text.data, bool(form.without_name.data))
            db.session.commit()
        except ValidationFailed as failed:
            db.session.rollback()
            attach_errors(form, failed.errors)
        else:
            flash(_("Your question was sent. The answer will appear in the FAQ."), "success")
            return redirect(url_for(".about", initiative_id=initiative.id, _anchor="my-questions"))
    return _about_page(initiative, form)


def my_initiatives_section(user: User) -> Markup:
    """The person's running initiatives and their announcements of today, for My learning (one
    statement; nothing when there are none)."""
    items = services.home_items(user, town_today())
    if not items:
        return Markup("")
    return Markup(render_template("change/_my_initiatives.html", items=items))


# --- helpers --------------------------------------------------------------------------------


def _initiative_or_404(initiative_id: int) -> Initiative:
    initiative = db.session.get(Initiative, initiative_id)
    if initiative is None:
        abort(404)
    return initiative


def _readable_or_404(initiative_id: int) -> Initiative:
    """Outside the target group (or a draft) the initiative answers like a missing one."""
    initiative = services.initiative_for(current_user, initiative_id)
    if initiative is None:
        abort(404)
    return initiative


def _initiative_form() -> InitiativeForm:
    form = InitiativeForm()
    job_roles = db.session.execute(
        db.select(JobRole).where(JobRole.active.is_(True)).order_by(JobRole.title, JobRole.id)
    ).scalars()
    form.fill_choices(services.change_team(), people.department_tree(include_inactive=False), job_roles)
    return form


def _attach(form: InitiativeForm, errors: dict[str, str]) -> None:
    """Errors of phase rows ("phases-1-ends_on") go next to their field in that row."""
    rows = {row.form[name].id: row.form[name] for row in form.phases for name in ("name", "starts_on", "ends_on")}
    for name, message in list(errors.items()):
        if name in rows:
            rows[name].errors = list(rows[name].errors) + [message]
            del errors[name]
    attach_errors(form, errors)


def _guide_form(initiative: Initiative, bound: bool = True) -> GuideForm:
    form = GuideForm() if bound else GuideForm(formdata=None)
    nodes = people.department_tree(include_inactive=False)
    if initiative.departments:
        allowed = people.descendant_ids([d.id for d in initiative.departments])
        nodes = [node for node in nodes if node.department.id in allowed]
    form.fill_choices(services.people_of(initiative), nodes)
    return form


def _record_assigned(initiative: Initiative, people_count: int | None) -> None:
    context = {AuditField.INITIATIVE: initiative.id}
    if people_count is not None:
        context[AuditField.PEOPLE] = people_count
    privacy.record_event(current_user, AuditAction.ASSIGN_COURSE, None, context, request.remote_addr)


def _manage_page(initiative: Initiative, **failed_forms) -> str:
    link_form = failed_forms.get("link_form") or LinkCourseForm(formdata=None)
    link_form.fill_choices(services.linkable_courses())
    today = town_today()
    return render_template(
        "change/manage.html",
        initiative=initiative,
        today=today,
        size=services.target_group_size(initiative),
        links=services.links_of(initiative),
        announcements=services.announcements_of(initiative),
        guides=services.guides_of(initiative),
        open_questions=services.open_question_counts([initiative.id]).get(initiative.id, 0),
        link_form=link_form,
        session_form=failed_forms.get("session_form") or _session_form(bound=False),
        session_label=session_label,
        announcement_form=failed_forms.get("announcement_form") or AnnouncementForm(formdata=None),
        guide_form=failed_forms.get("guide_form") or _guide_form(initiative, bound=False),
        due_date=lambda link: services.due_date(initiative, link, today),
    )


def _questions_page(
    initiative: Initiative, questions: list[Question], failed: tuple[int, AnswerForm] | None = None
) -> str:
    """Every question with the askers who gave their name; that look is recorded after rendering."""
    forms = {q.id: AnswerForm(formdata=None, prefix=f"answer-{q.id}", answer=q.answer) for q in questions}
    if failed is not None:
        forms[failed[0]] = failed[1]
    html = render_template("change/questions.html", initiative=initiative, questions=questions, forms=forms)
    named = {q.shown_asker.id: q.shown_asker for q in questions if q.shown_asker is not None}
    privacy.record(
        current_user,
        list(named.values()),
        AuditAction.VIEW_CHANGE_QUESTIONS,
        {AuditField.INITIATIVE: initiative.id},
        request.remote_addr,
    )
    db.session.commit()
    return html


def _about_page(initiative: Initiative, question_form: QuestionForm | None = None) -> str:
    guides = services.guides_of(initiative)
    return render_template(
        "change/about.html",
        initiative=initiative,
        announcements=services.announcements_of(initiative, town_today()),
        guides=guides,
        guided=services.guided_departments(guides, current_user),
        open_surveys=surveys.open_for(initiative, current_user, town_today()),
        faq=services.faq(initiative),
        own_questions=services.own_questions(initiative, current_user),
        form=question_form or QuestionForm(formdata=None),
    )


# --- pulse surveys: the change team ---------------------------------------------------------


@bp.get("/<int:initiative_id>/surveys")
@change_team
def surveys_page(initiative_id: int):
    initiative = _initiative_or_404(initiative_id)
    return render_template(
        "change/surveys.html", initiative=initiative, surveys=surveys.surveys_of(initiative), today=town_today()
    )


@bp.route("/<int:initiative_id>/surveys/new", methods=["GET", "POST"])
@change_team
def new_survey(initiative_id: int):
    return _survey_form_page(_initiative_or_404(initiative_id), None)


@bp.route("/<int:initiative_id>/surveys/<int:survey_id>/edit", methods=["GET", "POST"])
@change_team
def edit_survey(initiative_id: int, survey_id: int):
    initiative = _initiative_or_404(initiative_id)
    return _survey_form_page(initiative, _survey_or_404(initiative, survey_id))


@bp.post("/<int:initiative_id>/surveys/<int:survey_id>/submit")
@change_team
def submit_survey(initiative_id: int, survey_id: int):
    initiative = _initiative_or_404(initiative_id)
    survey = _survey_or_404(initiative, survey_id)
    if survey.status in (SurveyStatus.DRAFT, SurveyStatus.REFUSED):
        surveys.submit(survey)
        db.session.commit()
        flash(_("The survey was sent to the staff council for approval."), "success")
    return redirect(url_for(".surveys_page", initiative_id=initiative.id))


@bp.post("/<int:initiative_id>/surveys/<int:survey_id>/close")
@change_team
def close_survey(initiative_id: int, survey_id: int):
    initiative = _initiative_or_404(initiative_id)
    survey = _survey_or_404(initiative, survey_id)
    if survey.status != SurveyStatus.CLOSED:
        surveys.close(survey)
        db.session.commit()
        flash(_("The survey is closed. Who answered has been forgotten; the results stay."), "success")
    return redirect(url_for(".surveys_page", initiative_id=initiative.id))


@bp.get("/<int:initiative_id>/surveys/<int:survey_id>/results")
@change_team
def survey_results(initiative_id: int, survey_id: int):
    initiative = _initiative_or_404(initiative_id)
    survey = _survey_or_404(initiative, survey_id)
    if survey.state(town_today()) not in (SurveyState.OPEN, SurveyState.CLOSED):
        abort(404)
    return render_template("change/results.html", initiative=initiative, results=surveys.survey_results(survey))


# --- pulse surveys: the staff council -------------------------------------------------------


@bp.get("/surveys/approval")
@staff_council
def approvals():
    return _approvals_page()


@bp.post("/surveys/<int:survey_id>/approve")
@staff_council
def approve_survey(survey_id: int):
    survey = _submitted_or_404(survey_id)
    surveys.approve(survey, current_user)
    db.session.commit()
    flash(_("The survey is approved. It opens on its first day."), "success")
    return redirect(url_for(".approvals"))


@bp.post("/surveys/<int:survey_id>/refuse")
@staff_council
def refuse_survey(survey_id: int):
    survey = _submitted_or_404(survey_id)
    form = RefusalForm(prefix=f"refuse-{survey.id}")
    if form.validate_on_submit():
        try:
            surveys.refuse(survey, current_user, form.reason.data)
            db.session.commit()
        except ValidationFailed as failed:
            db.session.rollback()
            attach_errors(form, failed.errors)
        else:
            flash(_("The survey is refused; the change team reads your reason."), "success")
            return redirect(url_for(".approvals"))
    return _approvals_page(failed=(survey.id, form))


# --- pulse surveys: answering ---------------------------------------------------------------


@bp.route("/<int:initiative_id>/pulse/<int:survey_id>", methods=["GET", "POST"])
@signed_in
def pulse(initiative_id: int, survey_id: int):
    initiative = _readable_or_404(initiative_id)
    survey = _survey_or_404(initiative, survey_id)
    today = town_today()
    if not survey.is_open(today):
        abort(404)
    answered = surveys.has_answered(survey, current_user)
    form = pulse_form(survey, bound=request.method == "POST")
    if request.method == "POST" and answered:
        flash(_("You have already answered this survey. Thank you! Each person answers once."), "info")
        return redirect(url_for(".about", initiative_id=initiative.id))
    if form.validate_on_submit():
        try:
            comment = form.comment.data if survey.with_comment else ""
            surveys.answer(survey, current_user, form.values(), comment or "", today)
            db.session.commit()
        except ValidationFailed as failed:
            db.session.rollback()
            attach_errors(form, failed.errors)
        except (surveys.AlreadyAnswered, IntegrityError):
            db.session.rollback()
            flash(_("You have already answered this survey. Thank you! Each person answers once."), "info")
            return redirect(url_for(".about", initiative_id=initiative.id))
        else:
            flash(_("Thank you! Your answer was stored without your name."), "success")
            return redirect(url_for(".about", initiative_id=initiative.id))
    return render_template("change/pulse.html", initiative=initiative, survey=survey, form=form, answered=answered)


# --- readiness ------------------------------------------------------------------------------


@bp.get("/<int:initiative_id>/readiness")
@signed_in
def readiness_page(initiative_id: int):
    """The change team sees every department; a digital guide only the departments they guide
    (and only of a running or closed initiative of theirs); anyone else finds no page."""
    if services.may_manage(current_user):
        initiative, only = _initiative_or_404(initiative_id), None
    else:
        initiative = _initiative_or_404(initiative_id)
        only = services.guide_department_ids(initiative, current_user)
        if not only or initiative.status not in services.VISIBLE_STATES:
            abort(404)
    table = readiness.readiness(initiative, town_today(), only)
    return render_template("change/readiness.html", initiative=initiative, table=table, guide=only is not None)


# --- helpers of the surveys -----------------------------------------------------------------


def _survey_or_404(initiative: Initiative, survey_id: int) -> Survey:
    survey = db.session.get(Survey, survey_id)
    if survey is None or survey.initiative_id != initiative.id:
        abort(404)
    return survey


def _submitted_or_404(survey_id: int) -> Survey:
    survey = db.session.get(Survey, survey_id)
    if survey is None or survey.status != SurveyStatus.SUBMITTED:
        abort(404)
    return survey


def _survey_form_page(initiative: Initiative, survey: Survey | None):
    today = town_today()
    if survey is not None and not surveys.editable(survey, today):
        flash(_("An open or closed survey cannot be changed: answers have been given to its questions."), "info")
        return redirect(url_for(".surveys_page", initiative_id=initiative.id))
    form = SurveyForm()
    if request.method == "GET" and survey is not None:
        form.load(survey)
    if form.validate_on_submit():
        was_decided = survey is not None and survey.status in (SurveyStatus.APPROVED, SurveyStatus.SUBMITTED)
        try:
            saved = surveys.save_survey(current_user, initiative, survey, form.survey_data(), today)
            db.session.commit()
        except ValidationFailed as failed:
            db.session.rollback()
            attach_errors(form, failed.errors)
        else:
            flash(_("The survey was saved."), "success")
            if was_decided and saved.status == SurveyStatus.DRAFT:
                flash(_("Its questions changed: the staff council has to approve them again."), "info")
            return redirect(url_for(".surveys_page", initiative_id=initiative.id))
    return render_template("change/survey_form.html", initiative=initiative, survey=survey, form=form)


def _approvals_page(failed: tuple[int, RefusalForm] | None = None) -> str:
    waiting = surveys.awaiting_approval()
    forms = {s.id: RefusalForm(formdata=None, prefix=f"refuse-{s.id}") for s in waiting}
    if failed is not None:
        forms[failed[0]] = failed[1]
    return render_template("change/approvals.html", surveys=waiting, forms=forms)
