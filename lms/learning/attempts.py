"""Quizzes as attempts: each attempt at a lesson's quiz, or at a course's final check, asks its
own draw of questions with the answers in its own order.

The draw follows from the attempt: an HMAC of the app's secret key over learner, course version,
variant, quiz and attempt number seeds the random choice. So it is the same on every page view
while the attempt lasts (nothing is written before the learner submits: a GET changes nothing),
differs from attempt to attempt, and cannot be foreseen without the secret key. A submitted
attempt is stored (`QuizAttempt`) with its questions, the learner's choices and its score.

What a learner is shown (docs/course-format.md): after a failed attempt, which questions were
wrong and their explanations, not the right options; the full solution once the quiz is passed,
or after LMS_QUIZ_SOLUTION_AFTER_ATTEMPTS failed attempts.
"""

from __future__ import annotations

import hashlib
import hmac
import random
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from lms.catalog.outline import CourseOutline, LessonOutline, QuestionOutline
from lms.common.dates import utcnow
from lms.extensions import db
from lms.learning.models import QuizAttempt, QuizResponse
from lms.people.models import User

FINAL_CHECK = ""  # the lesson key under which a course's final check is kept


class QuizInputError(Exception):
    """Answers that cannot come from the form as served (tampered, or of another quiz)."""


class StaleAttempt(Exception):
    """The form belongs to an attempt already submitted (a second tab, a double click)."""


@dataclass(frozen=True)
class AskedQuestion:
    question: QuestionOutline
    order: tuple[int, ...]  # the answers' indexes as written, in the order shown

    @property
    def shown_answers(self) -> list[tuple[int, str]]:
        return [(index, self.question.answers[index].text) for index in self.order]


@dataclass(frozen=True)
class Quiz:
    """One quiz a learner takes: a lesson's (key) or the course's final check (FINAL_CHECK)."""

    course: CourseOutline
    lesson_key: str
    variant: str
    pool: tuple[QuestionOutline, ...]
    asked: int
    pass_score: int

    @property
    def is_final_check(self) -> bool:
        return self.lesson_key == FINAL_CHECK


def lesson_quiz(course: CourseOutline, lesson: LessonOutline) -> Quiz:
    return Quiz(course, lesson.key, lesson.variant, lesson.questions, lesson.asked, course.pass_score)


def final_check(course: CourseOutline, variant: str) -> Quiz:
    pool = tuple(question for lesson in course.lessons_in(variant) for question in lesson.questions)
    asked = min(course.final_draw or len(pool), len(pool))
    return Quiz(course, FINAL_CHECK, variant, pool, asked, course.final_pass_score or course.pass_score)


def draw(user: User, quiz: Quiz, number: int) -> tuple[AskedQuestion, ...]:
    """Attempt `number`'s questions and answer orders (the same every time it is asked for)."""
    course = quiz.course
    message = f"{user.id}:{course.id}:{course.version}:{quiz.variant}:{quiz.lesson_key}:{number}"
    secret = current_app.config["SECRET_KEY"]
    key = secret if isinstance(secret, bytes) else str(secret).encode()
    chance = random.Random(hmac.new(key, message.encode(), hashlib.sha256).digest())
    chosen = chance.sample(list(quiz.pool), quiz.asked)
    asked = []
    for question in chosen:
        order = list(range(len(question.answers)))
        if question.shuffle:
            chance.shuffle(order)
        asked.append(AskedQuestion(question, tuple(order)))
    return tuple(asked)


# --- where the learner stands -----------------------------------------------------------------


@dataclass
class QuizHistory:
    """The learner's submitted attempts at one quiz, oldest first."""

    attempts: list[QuizAttempt] = field(default_factory=list)

    @property
    def next_number(self) -> int:
        return (self.attempts[-1].number + 1) if self.attempts else 1

    @property
    def last(self) -> QuizAttempt | None:
        return self.attempts[-1] if self.attempts else None

    @property
    def failed_in_a_row(self) -> int:
        count = 0
        for attempt in reversed(self.attempts):
            if attempt.passed:
                break
            count += 1
        return count


def history(user: User, course: CourseOutline, lesson_key: str) -> QuizHistory:
    statement = (
        select(QuizAttempt)
        .where(QuizAttempt.user_id == user.id, QuizAttempt.course_id == course.id, QuizAttempt.lesson_key == lesson_key)
        .order_by(QuizAttempt.number)
    )
    return QuizHistory(list(db.session.execute(statement).scalars()))


def solution_shown(history: QuizHistory, passed: bool) -> bool:
    """The right options are shown once the quiz is passed, or after enough failed attempts."""
    return passed or history.failed_in_a_row >= current_app.config["QUIZ_SOLUTION_AFTER_ATTEMPTS"]


@dataclass(frozen=True)
class Feedback:
    """The last attempt, question by question: right or not, the explanation, and (only when the
    solution is shown) the right options and the learner's own choice."""

    attempt: QuizAttempt
    items: tuple[FeedbackItem, ...]
    solution: bool

    @property
    def right(self) -> int:
        return sum(1 for item in self.items if item.right)


@dataclass(frozen=True)
class FeedbackItem:
    question: QuestionOutline | None  # None: no longer in the course (it changed since)
    right: bool
    chosen: tuple[int, ...]


def feedback(attempt: QuizAttempt, course: CourseOutline, solution: bool) -> Feedback:
    questions = {q.id: q for lesson in course.lessons for q in lesson.questions}
    questions |= {q.id: q for variant in course.variants for lesson in variant.lessons for q in lesson.questions}
    items = tuple(
        FeedbackItem(questions.get(item["question"]), bool(item["right"]), tuple(item["chosen"]))
        for item in attempt.answers
    )
    return Feedback(attempt, items, solution)


@dataclass(frozen=True)
class QuizView:
    """What the quiz section of a page shows: the last attempt's feedback, if it still concerns
    the learner, and the next attempt's questions (none once the quiz is passed)."""

    quiz: Quiz
    number: int  # of the next attempt
    feedback: Feedback | None
    asked: tuple[AskedQuestion, ...] | None


def quiz_view(user: User, quiz: Quiz, passed: bool) -> QuizView:
    past = history(user, quiz.course, quiz.lesson_key)
    last, shown = past.last, None
    if last is not None and (passed or not last.passed):  # a pass before a restart is history
        shown = feedback(last, quiz.course, solution_shown(past, passed))
    asked = None if passed else draw(user, quiz, past.next_number)
    return QuizView(quiz, past.next_number, shown, asked)


# --- submitting -------------------------------------------------------------------------------


@dataclass
class Submitted:
    missing: list[int]  # question ids left unanswered: nothing was stored
    attempt: QuizAttempt | None = None


def submit(user: User, quiz: Quiz, number: int, chosen: dict[int, list[int]]) -> Submitted:
    """Score attempt `number` with the learner's choices (question id → indexes as written) and
    store it; all of its questions must be answered, else nothing is stored. Flushes."""
    if number != history(user, quiz.course, quiz.lesson_key).next_number:
        raise StaleAttempt
    asked = {item.question.id: item.question for item in draw(user, quiz, number)}
    _check(asked, chosen)
    missing = [question_id for question_id in asked if not chosen.get(question_id)]
    if missing:
        return Submitted(missing)
    answers = []
    for question_id, question in asked.items():
        picked = sorted(chosen[question_id])
        answers.append({"question": question_id, "chosen": picked, "right": set(picked) == question.correct_indexes})
    right = sum(1 for answer in answers if answer["right"])
    score = (100 * right) // len(answers) if answers else 100
    attempt = QuizAttempt(
        user_id=user.id,
        course_id=quiz.course.id,
        lesson_key=quiz.lesson_key,
        number=number,
        variant=quiz.variant,
        course_version=quiz.course.version,
        answers=answers,
        score_percent=score,
        passed=score >= quiz.pass_score,
        submitted_at=utcnow(),
    )
    try:
        with db.session.begin_nested():
            db.session.add(attempt)
    except IntegrityError as error:  # the same attempt submitted twice at once
        raise StaleAttempt from error
    _remember_answers(user, answers)
    return Submitted([], attempt)


def _check(asked: dict[int, QuestionOutline], chosen: dict[int, list[int]]) -> None:
    if set(chosen) - set(asked):
        raise QuizInputError("answers for questions this attempt did not ask")
    for question_id, indexes in chosen.items():
        question = asked[question_id]
        if len(set(indexes)) != len(indexes) or any(i < 0 or i >= len(question.answers) for i in indexes):
            raise QuizInputError("an answer that is not one of the question's options")
        if question.kind == "single" and len(indexes) > 1:
            raise QuizInputError("several answers to a single-choice question")


def _remember_answers(user: User, answers: list[dict]) -> None:
    """Each question's latest answer (QuizResponse), as before attempts were kept."""
    ids = [answer["question"] for answer in answers]
    statement = select(QuizResponse).where(QuizResponse.user_id == user.id, QuizResponse.question_id.in_(ids))
    stored = {response.question_id: response for response in db.session.execute(statement).scalars()}
    for answer in answers:
        response = stored.get(answer["question"])
        if response is None:
            db.session.add(
                QuizResponse(
                    user_id=user.id, question_id=answer["question"], chosen=answer["chosen"], is_correct=answer["right"]
                )
            )
        else:
            response.chosen, response.is_correct = answer["chosen"], answer["right"]
    db.session.flush()
