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
from lms.catalog.models import Course, Lesson, QuizQuestion
from lms.catalog.outline import CourseOutline, LessonOutline, QuestionOutline
from lms.catalog.services import published_courses, with_card_data
from lms.common.dates import add_months, as_utc, utcnow
from lms.extensions import db
from lms.learning.models import Completion, Enrollment, LessonProgress, QuizResponse
from lms.learning.signals import course_completed
from lms.people.models import User


class QuizInputError(Exception):
    """Answers that cannot come from the form as served (tampered, or of another lesson)."""


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


def open_course(user: User, slug: str) -> LearnerCourse | None:
    """One statement for the current version and the learner's latest completion; the course's
    lessons, questions and competences come from the outline cache."""
    row = db.session.execute(_open_course_statement(), {"user_id": user.id, "slug": slug}).one_or_none()
    if row is None:
        return None
    courses = outline.outlines([outline.key_of(row)])
    return LearnerCourse(courses[0], row.Completion) if courses else None


# The statements of every page view are built once: building one costs more than running it.


@functools.cache
def _open_course_statement() -> Select:
    user_id = bindparam("user_id", type_=Integer)
    return (
        select(*outline.key_columns(), Completion)
        .outerjoin(Completion, and_(Completion.course_id == Course.id, Completion.user_id == user_id))
        .where(Course.slug == bindparam("slug"), Course.archived.is_(False))
        .order_by(Completion.sequence.desc())
        .limit(1)
    )


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
    score_percent: int
    questions_total: int
    questions_right: int
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
    right = sum(1 for r in responses.values() if r.is_correct)
    score = 100 if not question_ids else (100 * right) // len(question_ids)
    return LessonState(done, responses, score, len(question_ids), right, opened.completion)


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
    """Idempotent: marking twice changes nothing. Returns a completion if this finished the course."""
    if db.session.get(LessonProgress, (user.id, lesson.id)) is None:
        db.session.add(LessonProgress(user_id=user.id, lesson_id=lesson.id))
    _touch_enrollment(user, opened.course.id)
    db.session.flush()
    return complete_if_passed(user, opened)


@dataclass
class QuizOutcome:
    missing: list[int]  # question ids left unanswered: nothing was stored
    completion: Completion | None = None


def submit_quiz(user: User, opened: LearnerCourse, lesson: LessonOutline, chosen: dict[int, list[int]]) -> QuizOutcome:
    """Store the learner's answers for all questions of a lesson at once, or none of them.

    `chosen` maps question id → indexes of the ticked answers, as sent by the form.
    """
    questions = {q.id: q for q in lesson.questions}
    _check_answers(questions, chosen)
    missing = [qid for qid in questions if not chosen.get(qid)]
    if missing:
        return QuizOutcome(missing)
    _store_answers(user, questions, chosen)
    _touch_enrollment(user, opened.course.id)
    db.session.flush()
    return QuizOutcome([], complete_if_passed(user, opened))


def _check_answers(questions: dict[int, QuestionOutline], chosen: dict[int, list[int]]) -> None:
    if set(chosen) - set(questions):
        raise QuizInputError("answers for questions that are not part of this lesson")
    for question_id, indexes in chosen.items():
        if len(set(indexes)) != len(indexes) or any(i < 0 or i >= len(questions[question_id].answers) for i in indexes):
            raise QuizInputError("an answer that is not one of the question's options")


def _store_answers(user: User, questions: dict[int, QuestionOutline], chosen: dict[int, list[int]]) -> None:
    now = utcnow()
    statement = select(QuizResponse).where(QuizResponse.user_id == user.id, QuizResponse.question_id.in_(questions))
    stored = {response.question_id: response for response in db.session.execute(statement).scalars()}
    for question_id, question in questions.items():
        picked = sorted(chosen[question_id])
        correct = set(picked) == question.correct_indexes
        response = stored.get(question_id)
        if response is None:
            db.session.add(
                QuizResponse(
                    user_id=user.id,
                    question_id=question_id,
                    chosen=picked,
                    is_correct=correct,
                    attempts=1,
                    answered_at=now,
                )
            )
        else:
            response.chosen, response.is_correct, response.answered_at = picked, correct, now
            response.attempts += 1


def complete_if_passed(user: User, opened: LearnerCourse) -> Completion | None:
    """Record a completion when all lessons are done and the score reaches the pass mark.

    Nothing happens while a valid completion exists. A double submit racing to the same
    sequence number hits the unique constraint and yields one completion.
    """
    course = opened.course
    state = course_state(user, opened)
    if state.completion is not None and is_valid(state.completion) and not _renewed(user, opened, state.completion):
        return None
    all_done = course.lessons and len(state.done_lesson_ids) == len(course.lessons)
    if not all_done or state.score_percent < course.pass_score:
        return None
    now = utcnow()
    completion = Completion(
        user_id=user.id,
        course_id=course.id,
        sequence=(state.completion.sequence + 1) if state.completion else 1,
        course_version=course.version,
        completed_at=now,
        score_percent=state.score_percent,
        expires_at=add_months(now, course.valid_months) if course.valid_months else None,
    )
    try:
        with db.session.begin_nested():
            db.session.add(completion)
    except IntegrityError:
        return None
    course_completed.send(current_app._get_current_object(), completion=completion)  # type: ignore[attr-defined]
    return completion


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


# --- figures for trainers (aggregates only) ---------------------------------------------------


@dataclass
class CourseFigures:
    course: Course
    lessons: int
    questions: int
    learners_started: int
    completions: int


def course_figures() -> list[CourseFigures]:
    """Per course: size, and how many people started and completed it (aggregates only)."""
    lessons = dict(db.session.execute(select(Lesson.course_id, func.count(Lesson.id)).group_by(Lesson.course_id)).all())
    questions = dict(
        db.session.execute(
            select(Lesson.course_id, func.count(QuizQuestion.id)).join(QuizQuestion).group_by(Lesson.course_id)
        ).all()
    )
    started = dict(db.session.execute(select(Enrollment.course_id, func.count()).group_by(Enrollment.course_id)).all())
    completed = dict(
        db.session.execute(
            select(Completion.course_id, func.count(func.distinct(Completion.user_id))).group_by(Completion.course_id)
        ).all()
    )
    courses = db.session.execute(with_card_data(published_courses().order_by(Course.title))).scalars()
    return [
        CourseFigures(c, lessons.get(c.id, 0), questions.get(c.id, 0), started.get(c.id, 0), completed.get(c.id, 0))
        for c in courses
    ]
