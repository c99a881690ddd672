"""The learner's journey: progress, quiz answers, completion. Functions flush; the view commits."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from lms.catalog.models import Course, Lesson, QuizQuestion
from lms.catalog.services import published_courses, with_card_data
from lms.common.dates import add_months, as_utc, utcnow
from lms.extensions import db
from lms.learning.models import Completion, Enrollment, LessonProgress, QuizResponse
from lms.people.models import User


class QuizInputError(Exception):
    """Answers that cannot come from the form as served (tampered, or of another lesson)."""


def is_valid(completion: Completion | None, now: datetime | None = None) -> bool:
    if completion is None:
        return False
    return completion.expires_at is None or as_utc(completion.expires_at) > (now or utcnow())


# --- reading progress -----------------------------------------------------------------------


@dataclass
class CourseProgress:
    course: Course
    lessons_total: int = 0
    lessons_done: int = 0
    completion: Completion | None = None  # the latest one
    started_at: datetime | None = None
    last_activity_at: datetime | None = None

    @property
    def percent(self) -> int:
        return round(100 * self.lessons_done / self.lessons_total) if self.lessons_total else 0

    @property
    def completed(self) -> bool:
        return is_valid(self.completion)

    @property
    def expired(self) -> bool:
        return self.completion is not None and not is_valid(self.completion)


def progress_for(user: User, courses: list[Course]) -> dict[int, CourseProgress]:
    """Progress of one learner in many courses, in four statements whatever their number."""
    ids = [course.id for course in courses]
    result = {course.id: CourseProgress(course) for course in courses}
    if not ids:
        return result
    for course_id, total in db.session.execute(
        select(Lesson.course_id, func.count(Lesson.id)).where(Lesson.course_id.in_(ids)).group_by(Lesson.course_id)
    ):
        result[course_id].lessons_total = total
    for course_id, done in db.session.execute(
        select(Lesson.course_id, func.count(LessonProgress.lesson_id))
        .join(Lesson)
        .where(LessonProgress.user_id == user.id, Lesson.course_id.in_(ids))
        .group_by(Lesson.course_id)
    ):
        result[course_id].lessons_done = done
    for enrollment in db.session.execute(
        select(Enrollment).where(Enrollment.user_id == user.id, Enrollment.course_id.in_(ids))
    ).scalars():
        result[enrollment.course_id].started_at = enrollment.started_at
        result[enrollment.course_id].last_activity_at = enrollment.last_activity_at
    for completion in db.session.execute(
        select(Completion)
        .where(Completion.user_id == user.id, Completion.course_id.in_(ids))
        .order_by(Completion.sequence)
    ).scalars():
        result[completion.course_id].completion = completion  # ordered: the latest wins
    return result


@dataclass
class MyLearning:
    in_progress: list[CourseProgress] = field(default_factory=list)
    completed: list[CourseProgress] = field(default_factory=list)
    expired: list[CourseProgress] = field(default_factory=list)


def my_learning(user: User) -> MyLearning:
    enrolled = select(Enrollment.course_id).where(Enrollment.user_id == user.id)
    completed = select(Completion.course_id).where(Completion.user_id == user.id)
    courses = list(
        db.session.execute(with_card_data(select(Course).where(Course.id.in_(enrolled.union(completed))))).scalars()
    )
    view = MyLearning()
    for progress in progress_for(user, courses).values():
        if progress.completed:
            view.completed.append(progress)
        elif progress.expired and progress.lessons_done >= progress.lessons_total:  # not restarted yet
            view.expired.append(progress)
        else:
            view.in_progress.append(progress)
    view.in_progress.sort(key=lambda p: as_utc(p.last_activity_at or p.started_at or utcnow()), reverse=True)
    view.completed.sort(key=lambda p: as_utc(p.completion.completed_at), reverse=True)
    return view


@dataclass
class LessonState:
    done_lesson_ids: set[int]
    responses: dict[int, QuizResponse]  # question id → the learner's latest answer
    score_percent: int
    questions_total: int
    questions_right: int
    completion: Completion | None


def course_state(user: User, course: Course) -> LessonState:
    """Where the learner stands in a course whose lessons and questions are loaded."""
    lesson_ids = [lesson.id for lesson in course.lessons]
    question_ids = [q.id for lesson in course.lessons for q in lesson.questions]
    done = (
        set(
            db.session.execute(
                select(LessonProgress.lesson_id).where(
                    LessonProgress.user_id == user.id, LessonProgress.lesson_id.in_(lesson_ids)
                )
            ).scalars()
        )
        if lesson_ids
        else set()
    )
    responses = (
        {
            r.question_id: r
            for r in db.session.execute(
                select(QuizResponse).where(QuizResponse.user_id == user.id, QuizResponse.question_id.in_(question_ids))
            ).scalars()
        }
        if question_ids
        else {}
    )
    right = sum(1 for r in responses.values() if r.is_correct)
    score = 100 if not question_ids else (100 * right) // len(question_ids)
    completion = db.session.execute(
        select(Completion)
        .where(Completion.user_id == user.id, Completion.course_id == course.id)
        .order_by(Completion.sequence.desc())
        .limit(1)
    ).scalar_one_or_none()
    return LessonState(done, responses, score, len(question_ids), right, completion)


# --- changing progress ----------------------------------------------------------------------


def _touch_enrollment(user: User, course: Course) -> None:
    enrollment = db.session.get(Enrollment, (user.id, course.id))
    if enrollment is None:
        db.session.add(Enrollment(user_id=user.id, course_id=course.id))
    else:
        enrollment.last_activity_at = utcnow()


def mark_lesson_done(user: User, lesson: Lesson) -> Completion | None:
    """Idempotent: marking twice changes nothing. Returns a completion if this finished the course."""
    if db.session.get(LessonProgress, (user.id, lesson.id)) is None:
        db.session.add(LessonProgress(user_id=user.id, lesson_id=lesson.id))
    _touch_enrollment(user, lesson.course)
    db.session.flush()
    return complete_if_passed(user, lesson.course)


@dataclass
class QuizOutcome:
    missing: list[int]  # question ids left unanswered: nothing was stored
    completion: Completion | None = None


def submit_quiz(user: User, lesson: Lesson, chosen: dict[int, list[int]]) -> QuizOutcome:
    """Store the learner's answers for all questions of a lesson at once, or none of them.

    `chosen` maps question id → indexes of the ticked answers, as sent by the form.
    """
    questions = {q.id: q for q in lesson.questions}
    unknown = set(chosen) - set(questions)
    if unknown:
        raise QuizInputError("answers for questions that are not part of this lesson")
    for question_id, indexes in chosen.items():
        if len(set(indexes)) != len(indexes) or any(i < 0 or i >= len(questions[question_id].answers) for i in indexes):
            raise QuizInputError("an answer that is not one of the question's options")
    missing = [qid for qid in questions if not chosen.get(qid)]
    if missing:
        return QuizOutcome(missing)
    now = utcnow()
    for question_id, question in questions.items():
        picked = sorted(chosen[question_id])
        correct = set(picked) == question.correct_indexes
        response = db.session.get(QuizResponse, (user.id, question_id))
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
    _touch_enrollment(user, lesson.course)
    db.session.flush()
    return QuizOutcome([], complete_if_passed(user, lesson.course))


def complete_if_passed(user: User, course: Course) -> Completion | None:
    """Record a completion when all lessons are done and the score reaches the pass mark.

    Nothing happens while a valid completion exists. A double submit racing to the same
    sequence number hits the unique constraint and yields one completion.
    """
    state = course_state(user, course)
    if is_valid(state.completion):
        return None
    all_done = len(state.done_lesson_ids) == len(course.lessons) and course.lessons
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
    return completion


def restart_course(user: User, course: Course) -> None:
    """Start a course afresh (recertification): the learner's lesson marks and answers are cleared;
    completions stay, with their dates and versions."""
    lesson_ids = select(Lesson.id).where(Lesson.course_id == course.id)
    question_ids = select(QuizQuestion.id).join(Lesson).where(Lesson.course_id == course.id)
    db.session.execute(
        delete(LessonProgress).where(LessonProgress.user_id == user.id, LessonProgress.lesson_id.in_(lesson_ids))
    )
    db.session.execute(
        delete(QuizResponse).where(QuizResponse.user_id == user.id, QuizResponse.question_id.in_(question_ids))
    )
    _touch_enrollment(user, course)
    db.session.flush()


def own_completion(user: User, course: Course) -> Completion | None:
    return db.session.execute(
        select(Completion)
        .where(Completion.user_id == user.id, Completion.course_id == course.id)
        .order_by(Completion.sequence.desc())
        .limit(1)
    ).scalar_one_or_none()


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
