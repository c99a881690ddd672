"""The learner's pages: My learning, a course, a lesson with its quiz, the certificate."""

from datetime import timedelta

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from lms.catalog.rules import variant_label
from lms.catalog.services import owned_course_ids
from lms.common.access import roles_required, signed_in
from lms.common.errors import ValidationFailed
from lms.common.forms import attach_errors
from lms.common.vocabulary import CourseLength, Role
from lms.extensions import db
from lms.i18n import _, ngettext
from lms.learning import attempts, feedback, figures, services
from lms.learning.forms import CourseFeedbackForm

bp = Blueprint("learning", __name__)
bp.add_app_template_global(variant_label, "variant_label")


@bp.app_template_global("duration_text")
def duration_text(span: timedelta) -> str:
    """A span of time in the reader's language, to the hour or day (for trainers' medians)."""
    if span < timedelta(hours=1):
        return ngettext("%(num)d minute", "%(num)d minutes", max(1, round(span.total_seconds() / 60)))
    if span < timedelta(days=2):
        return ngettext("%(num)d hour", "%(num)d hours", round(span.total_seconds() / 3600))
    return ngettext("%(num)d day", "%(num)d days", span.days)


def _course_or_404(slug: str) -> services.LearnerCourse:
    return services.open_course(current_user, slug) or abort(404)


def _lesson_index_or_404(course, key: str) -> int:
    # Only lessons of this course: a key of another course's lesson is simply not found.
    index = course.lesson_index(key)
    return abort(404) if index is None else index


@bp.get("/learning/")
@signed_in
def my_learning():
    view = services.my_learning(current_user)
    return render_template("learning/my_learning.html", view=view, newest=view.newest)


@bp.get("/courses/<slug>/")
@signed_in
def course(slug: str):
    opened = _course_or_404(slug)
    course = opened.course
    state = services.course_state(current_user, opened)
    next_lesson = next(
        (lesson for lesson in course.lessons if lesson.id not in state.done_lesson_ids),
        course.lessons[0] if course.lessons else None,
    )
    code = services.chosen_variant(current_user, course)
    return render_template(
        "learning/course.html",
        course=course,
        variant=course.variant(code),
        state=state,
        next_lesson=next_lesson,
        all_done=bool(course.lessons) and len(state.done_lesson_ids) == len(course.lessons),
        completed=services.is_valid(state.completion),
    )


@bp.post("/courses/<slug>/variant")
@signed_in
def choose_variant(slug: str):
    opened = _course_or_404(slug)
    services.choose_variant(current_user, opened.course, request.form.get("variant", ""))
    db.session.commit()
    key = request.form.get("lesson", "")
    if opened.course.lesson_index(key) is not None:
        return redirect(url_for(".lesson", slug=slug, key=key))
    return redirect(url_for(".course", slug=slug))


@bp.get("/courses/<slug>/<key>")
@signed_in
def lesson(slug: str, key: str):
    opened = _course_or_404(slug)
    position = _lesson_index_or_404(opened.course, key)
    return _render_lesson(opened, position)


def _render_lesson(opened, position, chosen=None, missing=(), status=200):
    course = opened.course
    code = services.chosen_variant(current_user, course)
    lesson = course.lessons_in(code)[position]
    state = services.course_state(current_user, opened)
    done = course.lessons[position].id in state.done_lesson_ids
    return render_template(
        "learning/lesson.html",
        course=course,
        variant=course.variant(code),
        lesson=lesson,
        state=state,
        done=done,
        position=position,
        previous=course.lessons_in(code)[position - 1] if position > 0 else None,
        next=course.lessons_in(code)[position + 1] if position + 1 < len(course.lessons) else None,
        quiz=attempts.quiz_view(current_user, attempts.lesson_quiz(course, lesson), done) if lesson.questions else None,
        chosen=chosen or {},
        missing=set(missing),
        completed=services.is_valid(state.completion),
    ), status


def _after_progress(course, completion):
    if completion is not None:
        flash(_("Congratulations! You have completed “%(title)s”.", title=course.title), "success")
        return redirect(url_for(".course", slug=course.slug))
    return None


@bp.post("/courses/<slug>/<key>/done")
@signed_in
def mark_done(slug: str, key: str):
    opened = _course_or_404(slug)
    course = opened.course
    position = _lesson_index_or_404(course, key)
    if course.lessons[position].questions:
        flash(_("This lesson is done once you pass its quiz."), "error")
        return redirect(url_for(".lesson", slug=slug, key=key, _anchor="quiz-heading"))
    completion = services.mark_lesson_done(current_user, opened, course.lessons[position])
    db.session.commit()
    finished = _after_progress(course, completion)
    if finished:
        return finished
    if position + 1 < len(course.lessons):
        return redirect(url_for(".lesson", slug=slug, key=course.lessons[position + 1].key))
    return redirect(url_for(".course", slug=slug))


def _chosen_answers(form) -> dict[int, list[int]]:
    chosen: dict[int, list[int]] = {}
    for name in form:
        if not name.startswith("q-"):
            continue
        try:
            chosen[int(name[2:])] = [int(value) for value in form.getlist(name)]
        except ValueError as error:
            raise services.QuizInputError("not a number") from error
    return chosen


def _attempt_number(form) -> int:
    value = form.get("attempt", "")
    if not value.isdigit() or len(value) > 9:
        raise services.QuizInputError("no attempt number")
    return int(value)


@bp.post("/courses/<slug>/<key>/quiz")
@signed_in
def submit_quiz(slug: str, key: str):
    opened = _course_or_404(slug)
    course = opened.course
    position = _lesson_index_or_404(course, key)
    code = services.chosen_variant(current_user, course)
    lesson = course.lessons_in(code)[position]
    if not lesson.questions:
        abort(404)
    quiz = attempts.lesson_quiz(course, lesson)
    page = url_for(".lesson", slug=slug, key=key)
    return _submit(opened, quiz, page, lambda **shown: _render_lesson(opened, position, **shown))


def _submit(opened, quiz: attempts.Quiz, page: str, render):
    """Submit an attempt from the form; `page` is where the quiz is, `render(**shown)` shows it again."""
    try:
        chosen = _chosen_answers(request.form)
        outcome = services.submit_quiz(current_user, opened, quiz, _attempt_number(request.form), chosen)
    except services.StaleAttempt:
        db.session.rollback()
        flash(_("These answers belong to an attempt you already submitted. Here is the current one."), "info")
        return redirect(page + "#quiz-heading")
    except services.QuizInputError:
        db.session.rollback()
        flash(_("The answers sent do not match this quiz. Please answer the questions again."), "error")
        return render(status=400)
    if outcome.missing:
        return render(chosen=chosen, missing=outcome.missing, status=422)
    db.session.commit()
    return _after_progress(opened.course, outcome.completion) or redirect(page + "#quiz-results")


@bp.get("/courses/<slug>/final-check")
@signed_in
def final_check(slug: str):
    opened = _course_or_404(slug)
    return _render_final_check(opened)


def _render_final_check(opened, chosen=None, missing=(), status=200):
    course = opened.course
    if not course.has_final_check:
        abort(404)
    code = services.chosen_variant(current_user, course)
    state = services.course_state(current_user, opened)
    completed = services.is_valid(state.completion)
    ready = services.all_lessons_done(current_user, opened, state)
    view = attempts.quiz_view(current_user, attempts.final_check(course, code), completed) if ready else None
    return render_template(
        "learning/final_check.html",
        course=course,
        ready=ready,
        completed=completed,
        quiz=view,
        chosen=chosen or {},
        missing=set(missing),
    ), status


@bp.post("/courses/<slug>/final-check")
@signed_in
def submit_final_check(slug: str):
    opened = _course_or_404(slug)
    course = opened.course
    if not course.has_final_check:
        abort(404)
    code = services.chosen_variant(current_user, course)
    page = url_for(".final_check", slug=slug)
    return _submit(
        opened, attempts.final_check(course, code), page, lambda **shown: _render_final_check(opened, **shown)
    )


@bp.post("/courses/<slug>/restart")
@signed_in
def restart(slug: str):
    opened = _course_or_404(slug)
    services.restart_course(current_user, opened)
    db.session.commit()
    flash(
        _(
            "Your progress in this course has been reset. Your earlier certificates remain valid "
            "until their expiry date."
        ),
        "success",
    )
    return redirect(url_for(".course", slug=slug))


@bp.get("/courses/<slug>/certificate")
@signed_in
def certificate(slug: str):
    opened = services.open_course(current_user, slug, archived_too=True) or abort(404)
    if opened.completion is None:
        abort(404)
    return render_template(
        "learning/certificate.html",
        course=opened.course,
        completion=opened.completion,
        valid=services.is_valid(opened.completion),
    )


@bp.get("/trainer/")
@roles_required(Role.TRAINER, Role.ADMIN)
def trainer_courses():
    """Figures of the courses a trainer owns or co-owns; an administrator sees all courses."""
    own = None if current_user.has_role(Role.ADMIN) else owned_course_ids(current_user.id)
    return render_template(
        "learning/trainer_courses.html",
        figures=figures.course_figures(
            current_app.config["PRIVACY_MIN_GROUP_SIZE"], own, current_app.config["PRIVACY_EXACT_SHARE_FROM"]
        ),
        min_group=current_app.config["PRIVACY_MIN_GROUP_SIZE"],
        all_courses=own is None,
    )


@bp.get("/trainer/courses/<slug>/questions")
@roles_required(Role.TRAINER)
def question_figures(slug: str):
    opened = _course_or_404(slug)
    min_group = current_app.config["PRIVACY_MIN_GROUP_SIZE"]
    return render_template(
        "learning/question_figures.html",
        course=opened.course,
        figures=figures.question_figures(opened.course, min_group, current_app.config["PRIVACY_EXACT_SHARE_FROM"]),
        min_group=min_group,
    )


# --- course feedback (lms.learning.feedback): stored without the person ------------------------


@bp.route("/courses/<slug>/feedback", methods=["GET", "POST"])
@signed_in
def course_feedback(slug: str):
    opened = _course_or_404(slug)
    course = opened.course
    form = CourseFeedbackForm()
    if opened.completion is None:  # only after completing the course
        return _render_feedback(course, None, status=403 if request.method == "POST" else 200)
    if feedback.has_given(current_user, course.id):
        if request.method == "POST":
            return _already_given(slug)
        return _render_feedback(course, None, given=True)
    if form.validate_on_submit():
        try:
            feedback.give(
                current_user, course.id, opened.completion, form.helpful.data, form.length.data, form.comment.data
            )
        except ValidationFailed as failed:
            db.session.rollback()
            attach_errors(form, failed.errors)
            return _render_feedback(course, form, status=422)
        except feedback.AlreadyGiven:  # a second answer sent at the same moment
            db.session.rollback()
            return _already_given(slug)
        db.session.commit()
        flash(_("Thank you for your feedback. It helps to make the course better."), "success")
        return redirect(url_for(".course", slug=slug))
    return _render_feedback(course, form)


def _render_feedback(course, form, given: bool = False, status: int = 200):
    return render_template("learning/feedback.html", course=course, form=form, given=given), status


def _already_given(slug: str):
    flash(_("You have already rated this course – thank you. Each person rates a course once."), "info")
    return redirect(url_for(".course", slug=slug))


@bp.get("/trainer/courses/<slug>/feedback")
@roles_required(Role.TRAINER, Role.ADMIN)
def feedback_figures(slug: str):
    """A course's feedback for its owners and co-owners; administrators see every course's."""
    opened = _course_or_404(slug)
    if not current_user.has_role(Role.ADMIN) and opened.course.id not in owned_course_ids(current_user.id):
        abort(403)
    config = current_app.config
    return render_template(
        "learning/feedback_figures.html",
        course=opened.course,
        figures=feedback.figures(
            opened.course.id, config["PRIVACY_MIN_GROUP_SIZE"], config["PRIVACY_EXACT_SHARE_FROM"]
        ),
        lengths=list(CourseLength),
        ratings=feedback.RATINGS,
    )
