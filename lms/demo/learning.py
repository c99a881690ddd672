"""Demo learning history: the demo employee has one course in progress and one completed; the
other people have completions spread over the courses, so every page has something to show."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from lms.catalog.models import Course, Lesson
from lms.common.dates import add_months, utcnow
from lms.extensions import db
from lms.learning.models import Completion, Enrollment, LessonProgress, QuizAttempt, QuizResponse
from lms.people.models import User

# The demo employee's own courses, by slug (falls back to the first courses found).
EMPLOYEE_COMPLETED = "phishing-erkennen"
EMPLOYEE_IN_PROGRESS = "passwoerter-und-2fa"


def _attempts(user: User, course: Course, lesson: Lesson, when, rng: random.Random) -> None:
    """The quiz attempts behind a lesson done: sometimes a failed one (one question answered with
    its first wrong option), then a passed one; each a fresh draw, as a learner gets them. They
    give the trainers' per-question figures something to show."""
    asked = min(lesson.draw or len(lesson.questions), len(lesson.questions))
    failed_first = rng.random() < 0.3 and any(
        not q.correct_indexes >= {0} or len(q.answers) > 1 for q in lesson.questions
    )
    for number, passed in enumerate([False, True] if failed_first else [True], start=1):
        answers = []
        for index, question in enumerate(rng.sample(lesson.questions, asked)):
            right = passed or index > 0
            wrong = next((i for i in range(len(question.answers)) if i not in question.correct_indexes), None)
            chosen = sorted(question.correct_indexes) if right or wrong is None else [wrong]
            answers.append({"question": question.id, "chosen": chosen, "right": right or wrong is None})
        score = (100 * sum(1 for answer in answers if answer["right"])) // len(answers)
        db.session.add(
            QuizAttempt(
                user_id=user.id,
                course_id=course.id,
                lesson_key=lesson.key,
                number=number,
                variant="",
                course_version=course.version,
                answers=answers,
                score_percent=score,
                passed=score >= course.pass_score,
                submitted_at=when,
            )
        )


def _record(user: User, course: Course, lessons_done: int, completed_days_ago: int | None, rng: random.Random):
    now = utcnow()
    started = now - timedelta(days=(completed_days_ago or 0) + rng.randint(1, 20))
    db.session.add(
        Enrollment(
            user_id=user.id,
            course_id=course.id,
            started_at=started,
            last_activity_at=now - timedelta(days=completed_days_ago or rng.randint(0, 10)),
        )
    )
    for lesson in course.lessons[:lessons_done]:
        db.session.add(LessonProgress(user_id=user.id, lesson_id=lesson.id, completed_at=started))
        if lesson.questions:
            _attempts(user, course, lesson, started, rng)
        for question in lesson.questions:
            chosen = sorted(question.correct_indexes)
            db.session.add(
                QuizResponse(
                    user_id=user.id,
                    question_id=question.id,
                    chosen=chosen,
                    is_correct=True,
                )
            )
    if completed_days_ago is not None:
        completed_at = now - timedelta(days=completed_days_ago)
        db.session.add(
            Completion(
                user_id=user.id,
                course_id=course.id,
                sequence=1,
                course_version=course.version,
                completed_at=completed_at,
                score_percent=rng.choice((80, 90, 100)),
                expires_at=add_months(completed_at, course.valid_months) if course.valid_months else None,
            )
        )


def _employee_courses(courses: list[Course], by_slug: dict[str, Course]) -> tuple[Course, Course | None]:
    """The demo employee's completed course and a different one in progress (none if only one course)."""
    done = by_slug.get(EMPLOYEE_COMPLETED, courses[0])
    in_progress = by_slug.get(EMPLOYEE_IN_PROGRESS)
    if in_progress is None or in_progress is done:
        others = [course for course in courses if course is not done]
        in_progress = others[-1] if others else None
    return done, in_progress


def seed_learning(employee: User, others: list[User], rng: random.Random) -> int:
    """Returns the number of completions created; does nothing when no courses are imported."""
    courses = list(
        db.session.execute(
            select(Course)
            .where(Course.archived.is_(False))
            .options(selectinload(Course.lessons).selectinload(Lesson.questions))
            .order_by(Course.slug)
        ).scalars()
    )
    if not courses:
        return 0
    already = set(db.session.execute(select(Enrollment.user_id).distinct()).scalars())
    by_slug = {course.slug: course for course in courses}
    completions = 0
    if employee.id not in already:
        done, in_progress = _employee_courses(courses, by_slug)
        _record(employee, done, len(done.lessons), 40, rng)
        if in_progress is not None:
            _record(employee, in_progress, min(2, len(in_progress.lessons) - 1), None, rng)
        completions += 1
    for user in others:
        if user.id in already or user.id == employee.id:
            continue
        for course in rng.sample(courses, k=rng.randint(0, min(6, len(courses)))):
            if rng.random() < 0.7:
                _record(user, course, len(course.lessons), rng.randint(3, 420), rng)
                completions += 1
            else:
                _record(user, course, rng.randint(1, max(1, len(course.lessons) - 1)), None, rng)
    db.session.flush()
    return completions
