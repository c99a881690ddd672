"""The learner's journey: progress, quiz answers, completion. Functions flush; the view commits."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import (
    CompoundSelect,
    Integer,
    Row,
    Select,
    and_,
    bindparam,
    delete,
    false,
    func,
    null,
    or_,
    select,
    true,
)
from sqlalchemy.exc import IntegrityError

from lms.catalog import outline
from lms.catalog.models import Course, Lesson
from lms.catalog.outline import CourseOutline, LessonOutline
from lms.common.dates import add_months, as_utc, utcnow
from lms.extensions import db
from lms.learning import attempts
from lms.learning.models import Completion, Enrollment, LessonProgress, QuizAttempt, QuizResponse, VariantChoice
from lms.learning.signals import course_completed
from lms.people.models import User

QuizInputError = attempts.QuizInputError
StaleAttempt = attempts.StaleAttempt


def is_valid(completion: Completion | None, now: datetime | None = None) -> bool:
    if completion is None:
        return False
    return completion.expires_at is None or as_utc(completion.expires_at) > (now or utcnow())


# --- opening a course ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LearnerCourse:
    """A published course as a learner opens it: its current version and their latest completion."""

    course: CourseOutline
    completion: Completion | None


def open_course(user: User, slug: str, archived_too: bool = False) -> LearnerCourse | None:
    """One statement for the current version and the learner's latest completion; the course's
    lessons, questions and competences come from the outline cache. An archived course is found
    only with `archived_too` (a certificate stays visible to its owner)."""
    row = db.session.execute(_open_course_statement(archived_too), {"user_id": user.id, "slug": slug}).one_or_none()
    if row is None:
        return None
    courses = outline.outlines([outline.key_of(row)])
    return LearnerCourse(courses[0], row.Completion) if courses else None


# The statements of every page view are built once: building one costs more than running it.


@functools.cache
def _open_course_statement(archived_too: bool) -> Select:
    user_id = bindparam("user_id", type_=Integer)
    statement = (
        select(*outline.key_columns(), Completion)
        .outerjoin(Completion, and_(Completion.course_id == Course.id, Completion.user_id == user_id))
        .where(Course.slug == bindparam("slug"))
        .order_by(Completion.sequence.desc())
        .limit(1)
    )
    return statement if archived_too else statement.where(Course.archived.is_(False))


# --- reading progress ----------------------------------------------------------------------------


@dataclass
class CourseProgress:
    course: CourseOutline
    lessons_done: int = 0
    completion: Completion | None = None  # the latest one
    started_at: datetime | None = None
    last_activity_at: datetime | None = None

    @property
    def lessons_total(self) -> int:
        return len(self.course.lessons)

    @property
    def percent(self) -> int:
        return round(100 * self.lessons_done / self.lessons_total) if self.lessons_total else 0

    @property
    def completed(self) -> bool:
        return is_valid(self.completion)

    @property
    def expired(self) -> bool:
        return self.completion is not None and not is_valid(self.completion)


@dataclass
class MyLearning:
    in_progress: list[CourseProgress] = field(default_factory=list)
    completed: list[CourseProgress] = field(default_factory=list)
    expired: list[CourseProgress] = field(default_factory=list)
    newest: list[CourseOutline] = field(default_factory=list)  # of the catalogue


def my_learning(user: User, newest: int = 3) -> MyLearning:
    """The learner's courses by state, and the newest of the catalogue: three statements."""
    rows = _courses_of(user)
    courses = {course.id: course for course in outline.outlines(outline.key_of(row) for row in rows)}
    completions = _latest_completions(user)
    done = _lessons_done(user)
    view = MyLearning()
    for row in rows:
        if row.id in courses and (row.started_at is not None or row.id in completions):
            progress = CourseProgress(
                courses[row.id], done.get(row.id, 0), completions.get(row.id), row.started_at, row.last_activity_at
            )
            _sort_into(view, progress)
    view.in_progress.sort(key=lambda p: as_utc(p.last_activity_at or p.started_at or utcnow()), reverse=True)
    view.completed.sort(key=_completed_at, reverse=True)
    published = sorted((row for row in rows if not row.archived), key=lambda r: (r.created_at, r.id), reverse=True)
    view.newest = [courses[row.id] for row in published[:newest] if row.id in courses]
    return view


def _completed_at(progress: CourseProgress) -> datetime:
    return as_utc(progress.completion.completed_at) if progress.completion else utcnow()


def _sort_into(view: MyLearning, progress: CourseProgress) -> None:
    if progress.completed:
        view.completed.append(progress)
    elif progress.expired and progress.lessons_done >= progress.lessons_total:  # not restarted yet
        view.expired.append(progress)
    else:
        view.in_progress.append(progress)


def _courses_of(user: User) -> list:
    """The learner's courses (started or completed, archived ones too) and the published ones,
    with the learner's enrollment where there is one."""
    return list(db.session.execute(_courses_of_statement(), {"user_id": user.id}))


@functools.cache
def _courses_of_statement() -> Select:
    user_id = bindparam("user_id", type_=Integer)
    completed = select(Completion.course_id).where(Completion.user_id == user_id)
    return (
        select(*outline.key_columns(), Course.archived, Enrollment.started_at, Enrollment.last_activity_at)
        .outerjoin(Enrollment, and_(Enrollment.course_id == Course.id, Enrollment.user_id == user_id))
        .where(or_(Course.archived.is_(False), Enrollment.user_id.is_not(None), Course.id.in_(completed)))
        .order_by(Course.id)
    )


def _latest_completions(user: User) -> dict[int, Completion]:
    latest = {}
    for completion in db.session.execute(_completions_statement(), {"user_id": user.id}).scalars():
        latest[completion.course_id] = completion  # ordered: the latest wins
    return latest


@functools.cache
def _completions_statement() -> Select:
    return select(Completion).where(Completion.user_id == bindparam("user_id")).order_by(Completion.sequence)


def _lessons_done(user: User) -> dict[int, int]:
    rows = db.session.execute(_lessons_done_statement(), {"user_id": user.id})
    return {course_id: count for course_id, count in rows}


@functools.cache
def _lessons_done_statement() -> Select:
    return (
        select(Lesson.course_id, func.count(LessonProgress.lesson_id))
        .join(Lesson, Lesson.id == LessonProgress.lesson_id)
        .where(LessonProgress.user_id == bindparam("user_id"))
        .group_by(Lesson.course_id)
    )


@dataclass
class LessonState:
    done_lesson_ids: set[int]
    responses: dict[int, Row]  # question id → the learner's latest answer (.chosen, .is_correct)
    completion: Completion | None


def course_state(user: User, opened: LearnerCourse) -> LessonState:
    """Where the learner stands in a course: one statement, whatever its size."""
    lesson_ids = [lesson.id for lesson in opened.course.lessons]
    question_ids = opened.course.question_ids
    done, responses = set(), {}
    parameters = {"user_id": user.id, "lessons": lesson_ids, "questions": question_ids}
    for row in db.session.execute(_progress_statement(), parameters):
        if row.is_answer:
            responses[row.id] = row
        else:
            done.add(row.id)
    return LessonState(done, responses, opened.completion)


@functools.cache
def _progress_statement() -> CompoundSelect:
    """The learner's answers and done lessons of a course as rows (id, chosen, is_correct, is_answer)."""
    user_id = bindparam("user_id", type_=Integer)
    answers = select(
        QuizResponse.question_id.label("id"), QuizResponse.chosen, QuizResponse.is_correct, true().label("is_answer")
    ).where(QuizResponse.user_id == user_id, QuizResponse.question_id.in_(bindparam("questions", expanding=True)))
    done = select(LessonProgress.lesson_id, null(), null(), false()).where(
        LessonProgress.user_id == user_id, LessonProgress.lesson_id.in_(bindparam("lessons", expanding=True))
    )
    return answers.union_all(done)


# --- changing progress ---------------------------------------------------------------------------


def _touch_enrollment(user: User, course_id: int) -> None:
    enrollment = db.session.get(Enrollment, (user.id, course_id))
    if enrollment is None:
        db.session.add(Enrollment(user_id=user.id, course_id=course_id))
    else:
        enrollment.last_activity_at = utcnow()


def mark_lesson_done(user: User, opened: LearnerCourse, lesson: LessonOutline) -> Completion | None:
    """For a lesson without a quiz: idempotent, marking twice changes nothing. A lesson with a
    quiz is done when its quiz is passed (`submit_quiz`). Returns a completion if this finished
    the course."""
    if lesson.questions:
        raise QuizInputError("a lesson with a quiz is done when its quiz is passed")
    _mark_done(user, opened, lesson)
    return complete_if_passed(user, opened)


def _mark_done(user: User, opened: LearnerCourse, lesson: LessonOutline) -> None:
    main = next(item for item in opened.course.lessons if item.key == lesson.key)  # progress is the course's
    if db.session.get(LessonProgress, (user.id, main.id)) is None:
        db.session.add(LessonProgress(user_id=user.id, lesson_id=main.id))
    _touch_enrollment(user, opened.course.id)
    db.session.flush()


@dataclass
class QuizOutcome:
    missing: list[int]  # question ids left unanswered: nothing was stored
    attempt: QuizAttempt | None = None
    completion: Completion | None = None


def submit_quiz(
    user: User, opened: LearnerCourse, quiz: attempts.Quiz, number: int, chosen: dict[int, list[int]]
) -> QuizOutcome:
    """Submit attempt `number` of a lesson's quiz or of the final check (lms.learning.attempts).
    A passed lesson quiz marks the lesson done; a passed final check completes the course."""
    if quiz.is_final_check and not all_lessons_done(user, opened):
        raise QuizInputError("the final check opens once every lesson is done")
    submitted = attempts.submit(user, quiz, number, chosen)
    if submitted.attempt is None:
        return QuizOutcome(submitted.missing)
    _touch_enrollment(user, opened.course.id)
    completion = None
    if submitted.attempt.passed and quiz.is_final_check:
        completion = complete_if_passed(user, opened, final_score=submitted.attempt.score_percent)
    elif submitted.attempt.passed:
        lesson = next(item for item in opened.course.lessons if item.key == quiz.lesson_key)
        _mark_done(user, opened, lesson)
        completion = complete_if_passed(user, opened)
    db.session.flush()
    return QuizOutcome([], submitted.attempt, completion)


def all_lessons_done(user: User, opened: LearnerCourse, state: LessonState | None = None) -> bool:
    state = state or course_state(user, opened)
    return bool(opened.course.lessons) and len(state.done_lesson_ids) == len(opened.course.lessons)


def complete_if_passed(user: User, opened: LearnerCourse, final_score: int | None = None) -> Completion | None:
    """Record a completion when all lessons are done (a lesson with a quiz is done once its quiz
    is passed) and, in a course with a final check, the final check was just passed
    (`final_score`). The completion is the evidence: nothing earlier counts.

    Nothing happens while a valid completion exists. A double submit racing to the same
    sequence number hits the unique constraint and yields one completion.
    """
    course = opened.course
    if course.has_final_check and final_score is None:
        return None
    state = course_state(user, opened)
    if state.completion is not None and is_valid(state.completion) and not _renewed(user, opened, state.completion):
        return None
    if not course.lessons or len(state.done_lesson_ids) != len(course.lessons):
        return None
    now = utcnow()
    completion = Completion(
        user_id=user.id,
        course_id=course.id,
        sequence=(state.completion.sequence + 1) if state.completion else 1,
        course_version=course.version,
        completed_at=now,
        score_percent=final_score if final_score is not None else _lesson_score(user, opened),
        expires_at=add_months(now, course.valid_months) if course.valid_months else None,
    )
    try:
        with db.session.begin_nested():
            db.session.add(completion)
    except IntegrityError:
        return None
    course_completed.send(current_app._get_current_object(), completion=completion)  # type: ignore[attr-defined]
    return completion


def complete_by_attendance(user: User, course: Course, attended_at: datetime) -> Completion | None:
    """The course completed by attending one of its in-person sessions (its trainer recorded it):
    the same completion, evidence and expiry as online, so the assignment it meets is closed and
    the completion stays when the session's participant list is purged. Nothing happens while a
    valid completion exists. The score is 100: there was no quiz, and nobody else sees it."""
    latest = db.session.execute(
        select(Completion)
        .where(Completion.user_id == user.id, Completion.course_id == course.id)
        .order_by(Completion.sequence.desc())
        .limit(1)
    ).scalar_one_or_none()
    if is_valid(latest):
        return None
    completed_at = min(as_utc(attended_at), utcnow())
    completion = Completion(
        user_id=user.id,
        course_id=course.id,
        sequence=latest.sequence + 1 if latest else 1,
        course_version=course.version,
        completed_at=completed_at,
        score_percent=100,
        expires_at=add_months(completed_at, course.valid_months) if course.valid_months else None,
    )
    try:
        with db.session.begin_nested():
            db.session.add(completion)
    except IntegrityError:
        return None
    course_completed.send(current_app._get_current_object(), completion=completion)  # type: ignore[attr-defined]
    return completion


def _lesson_score(user: User, opened: LearnerCourse) -> int:
    """The mean of the lessons' latest passed attempts (100 for a course without quizzes)."""
    latest: dict[str, int] = {}
    statement = (
        select(QuizAttempt.lesson_key, QuizAttempt.score_percent)
        .where(QuizAttempt.user_id == user.id, QuizAttempt.course_id == opened.course.id, QuizAttempt.passed)
        .order_by(QuizAttempt.number)
    )
    for key, score in db.session.execute(statement):
        latest[key] = score
    scores = [latest[lesson.key] for lesson in opened.course.lessons if lesson.questions and lesson.key in latest]
    return sum(scores) // len(scores) if scores else 100


def renewable(completion: Completion | None, now: datetime | None = None) -> bool:
    """A valid completion that expires within the renewal window (LMS_RECERTIFICATION_LEAD_DAYS):
    the learner may take the course again now, so that they never fall out of date."""
    if not is_valid(completion, now) or completion is None or completion.expires_at is None:
        return False
    window = timedelta(days=current_app.config["ASSIGNMENT_RECERTIFICATION_LEAD_DAYS"])
    return as_utc(completion.expires_at) - (now or utcnow()) <= window


def _renewed(user: User, opened: LearnerCourse, completion: Completion) -> bool:
    """Did the learner take the whole course again (after a restart) while a renewable completion
    was still valid? Every lesson then carries a mark newer than that completion."""
    if not renewable(completion):
        return False
    lesson_ids = [lesson.id for lesson in opened.course.lessons]
    redone = db.session.scalar(
        select(func.count())
        .select_from(LessonProgress)
        .where(
            LessonProgress.user_id == user.id,
            LessonProgress.lesson_id.in_(lesson_ids),
            LessonProgress.completed_at > completion.completed_at,
        )
    )
    return bool(lesson_ids) and redone == len(lesson_ids)


def restart_course(user: User, opened: LearnerCourse) -> None:
    """Start a course afresh (recertification): the learner's lesson marks and answers are cleared;
    completions stay, with their dates and versions."""
    lesson_ids = [lesson.id for lesson in opened.course.lessons]
    db.session.execute(
        delete(LessonProgress).where(LessonProgress.user_id == user.id, LessonProgress.lesson_id.in_(lesson_ids))
    )
    db.session.execute(
        delete(QuizResponse).where(
            QuizResponse.user_id == user.id, QuizResponse.question_id.in_(opened.course.question_ids)
        )
    )
    _touch_enrollment(user, opened.course.id)
    db.session.flush()


# --- variants (e.g. Einfache Sprache) --------------------------------------------------------


def chosen_variant(user: User, course: CourseOutline) -> str:
    """The variant the learner chose for this course ("" for the course as written; no query for
    a course without variants)."""
    if not course.variants:
        return ""
    code = db.session.scalar(
        select(VariantChoice.variant).where(VariantChoice.user_id == user.id, VariantChoice.course_id == course.id)
    )
    return code if code and course.variant(code) is not None else ""


def choose_variant(user: User, course: CourseOutline, code: str) -> None:
    """Remember the learner's choice; "" (or an unknown code) goes back to the course as written."""
    choice = db.session.get(VariantChoice, (user.id, course.id))
    if course.variant(code) is None:
        if choice is not None:
            db.session.delete(choice)
    elif choice is None:
        db.session.add(VariantChoice(user_id=user.id, course_id=course.id, variant=code))
    else:
        choice.variant = code
    db.session.flush()
