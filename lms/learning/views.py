"""The learner's pages: My learning, a course, a lesson with its quiz, the certificate."""

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from lms.common.access import roles_required, signed_in
from lms.common.vocabulary import Role
from lms.extensions import db
from lms.i18n import _
from lms.learning import services

bp = Blueprint("learning", __name__)


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
    return render_template(
        "learning/course.html",
        course=course,
        state=state,
        next_lesson=next_lesson,
        completed=services.is_valid(state.completion),
    )


@bp.get("/courses/<slug>/<key>")
@signed_in
def lesson(slug: str, key: str):
    opened = _course_or_404(slug)
    position = _lesson_index_or_404(opened.course, key)
    return _render_lesson(opened, position, retry=request.args.get("retry") == "1")


def _render_lesson(opened, position, retry=False, chosen=None, missing=(), status=200):
    course = opened.course
    lesson = course.lessons[position]
    state = services.course_state(current_user, opened)
    answered = all(q.id in state.responses for q in lesson.questions) and bool(lesson.questions)
    lesson_right = sum(1 for q in lesson.questions if q.id in state.responses and state.responses[q.id].is_correct)
    return render_template(
        "learning/lesson.html",
        course=course,
        lesson=lesson,
        state=state,
        position=position,
        previous=course.lessons[position - 1] if position > 0 else None,
        next=course.lessons[position + 1] if position + 1 < len(course.lessons) else None,
        lesson_right=lesson_right,
        show_results=answered and not retry and chosen is None,
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


@bp.post("/courses/<slug>/<key>/quiz")
@signed_in
def submit_quiz(slug: str, key: str):
    opened = _course_or_404(slug)
    position = _lesson_index_or_404(opened.course, key)
    try:
        chosen = _chosen_answers(request.form)
        outcome = services.submit_quiz(current_user, opened, opened.course.lessons[position], chosen)
    except services.QuizInputError:
        db.session.rollback()
        flash(_("The answers sent do not match this quiz. Please answer the questions again."), "error")
        return _render_lesson(opened, position, retry=True, status=400)
    if outcome.missing:
        return _render_lesson(opened, position, chosen=chosen, missing=outcome.missing, status=422)
    db.session.commit()
    return _after_progress(opened.course, outcome.completion) or redirect(
        url_for(".lesson", slug=slug, key=key, _anchor="quiz-results")
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
    opened = _course_or_404(slug)
    if opened.completion is None:
        abort(404)
    return render_template(
        "learning/certificate.html",
        course=opened.course,
        completion=opened.completion,
        valid=services.is_valid(opened.completion),
    )


@bp.get("/trainer/")
@roles_required(Role.TRAINER)
def trainer_courses():
    return render_template(
        "learning/trainer_courses.html",
        figures=services.course_figures(),
        min_group=current_app.config["PRIVACY_MIN_GROUP_SIZE"],
    )
