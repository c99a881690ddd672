"""Figures for trainers about their courses: aggregates only, never a person's.

Through lms.common.disclosure: groups smaller than PRIVACY_MIN_GROUP_SIZE (the staff council's
minimum, 5 by default) show no figure — a count is written as "fewer than 5", a median or a lesson
is left out — and a share of a group under PRIVACY_EXACT_SHARE_FROM is given as a band. A course's
figures stand alone (no course is part of another), so no subtraction between them tells more.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from statistics import median

from sqlalchemy import and_, func, select

from lms.catalog.models import Course, Lesson, QuizQuestion
from lms.catalog.outline import CourseOutline, QuestionOutline
from lms.catalog.services import published_courses, with_card_data
from lms.common import disclosure
from lms.common.dates import as_utc
from lms.extensions import db
from lms.learning.models import Completion, Enrollment, LessonProgress, QuizAttempt

# --- figures for trainers (aggregates only) ---------------------------------------------------


@dataclass
class CourseFigures:
    course: Course
    lessons: int
    questions: int
    learners_started: int
    completions: int
    median_to_complete: timedelta | None = None  # from starting to the first completion
    left_unfinished: tuple[str, int] | None = None  # the lesson most often next when learners stopped
    completed_share: disclosure.Share | None = None  # completions of those who started, as it may be shown


def course_figures(min_group: int, course_ids: set[int] | None = None, exact_from: int = 20) -> list[CourseFigures]:
    """Per course (all, or those of `course_ids`): size; how many people started and completed it;
    the median time from starting to completing; and where those who have not completed it stop
    (aggregates only)."""
    own = Lesson.variant == ""  # a variant's lessons are the same lessons, rewritten
    lessons = dict(
        db.session.execute(select(Lesson.course_id, func.count(Lesson.id)).where(own).group_by(Lesson.course_id)).all()
    )
    questions = dict(
        db.session.execute(
            select(Lesson.course_id, func.count(QuizQuestion.id))
            .join(QuizQuestion)
            .where(own)
            .group_by(Lesson.course_id)
        ).all()
    )
    started = dict(db.session.execute(select(Enrollment.course_id, func.count()).group_by(Enrollment.course_id)).all())
    completed = dict(
        db.session.execute(
            select(Completion.course_id, func.count(func.distinct(Completion.user_id))).group_by(Completion.course_id)
        ).all()
    )
    statement = published_courses().order_by(Course.title)
    if course_ids is not None:
        statement = statement.where(Course.id.in_(course_ids or {-1}))
    courses = db.session.execute(with_card_data(statement)).scalars()
    durations, stops = _times_to_complete(), _where_learners_stop()
    figures = []
    for c in courses:
        figure = CourseFigures(
            c, lessons.get(c.id, 0), questions.get(c.id, 0), started.get(c.id, 0), completed.get(c.id, 0)
        )
        figure.completed_share = disclosure.share(figure.completions, figure.learners_started, min_group, exact_from)
        if len(durations[c.id]) >= min_group:
            figure.median_to_complete = timedelta(seconds=median(d.total_seconds() for d in durations[c.id]))
        stop = stops[c.id].most_common(1)
        if stop and stop[0][1] >= min_group:
            figure.left_unfinished = stop[0]
        figures.append(figure)
    return figures


def _times_to_complete() -> dict[int, list[timedelta]]:
    """Per course, each learner's time from starting it to their first completion."""
    statement = (
        select(Completion.course_id, Completion.completed_at, Enrollment.started_at)
        .join(Enrollment, and_(Enrollment.user_id == Completion.user_id, Enrollment.course_id == Completion.course_id))
        .where(Completion.sequence == 1)
    )
    durations: dict[int, list[timedelta]] = defaultdict(list)
    for course_id, completed_at, started_at in db.session.execute(statement):
        durations[course_id].append(max(as_utc(completed_at) - as_utc(started_at), timedelta(0)))
    return durations


def _where_learners_stop() -> dict[int, Counter]:
    """Per course: for each learner who started it and never completed it, the title of the first
    lesson they have not done. Three statements, for all courses."""
    completed = select(Completion.id).where(
        Completion.user_id == Enrollment.user_id, Completion.course_id == Enrollment.course_id
    )
    learners = db.session.execute(select(Enrollment.user_id, Enrollment.course_id).where(~completed.exists())).all()
    not_completing = select(Enrollment.user_id).where(~completed.exists())
    done = set(
        db.session.execute(
            select(LessonProgress.user_id, LessonProgress.lesson_id).where(LessonProgress.user_id.in_(not_completing))
        ).all()
    )
    lessons: dict[int, list[tuple[int, str]]] = defaultdict(list)
    statement = select(Lesson.course_id, Lesson.id, Lesson.title).where(Lesson.variant == "").order_by(Lesson.position)
    for course_id, lesson_id, title in db.session.execute(statement):
        lessons[course_id].append((lesson_id, title))
    stops: dict[int, Counter] = defaultdict(Counter)
    for user_id, course_id in learners:
        first_open = next((title for lesson_id, title in lessons[course_id] if (user_id, lesson_id) not in done), None)
        if first_open is not None:
            stops[course_id][first_open] += 1
    return stops


# --- which questions work (for course authors; aggregates only) ---------------------------------


@dataclass
class QuestionFigure:
    """How one question fared in submitted attempts. `shown` is False for fewer learners than
    the smallest group the staff council allows: then no figure is given."""

    question: QuestionOutline
    lesson_title: str
    learners: int
    answered: int = 0
    right: int = 0
    picks: list[int] = field(default_factory=list)  # per answer as written: how often it was chosen
    shown: bool = False
    banded: bool = False  # fewer learners than give exact figures: the share right as a band, no picks

    @property
    def right_percent(self) -> int:
        return round(100 * self.right / self.answered) if self.answered else 0

    @property
    def right_band(self) -> int | None:
        """0–3 (quarters) when `banded`."""
        return disclosure.Share(self.right, self.answered, disclosure.ShareState.BAND).band if self.banded else None


def question_figures(course: CourseOutline, min_group: int, exact_from: int = 20) -> list[QuestionFigure]:
    """Per question of the course and its variants: share answered right and how often each
    option was picked, over all submitted attempts; one statement (the questions come from the course outline)."""
    lessons = [(lesson, lesson.title) for lesson in course.lessons]
    lessons += [
        (lesson, f"{lesson.title} ({variant.code})") for variant in course.variants for lesson in variant.lessons
    ]
    figures = {
        question.id: QuestionFigure(question, title, 0, picks=[0] * len(question.answers))
        for lesson, title in lessons
        for question in lesson.questions
    }
    learners: dict[int, set[int]] = {question_id: set() for question_id in figures}
    statement = select(QuizAttempt.user_id, QuizAttempt.answers).where(QuizAttempt.course_id == course.id)
    for user_id, answers in db.session.execute(statement):
        for item in answers:
            figure = figures.get(item.get("question"))
            if figure is None:
                continue
            learners[figure.question.id].add(user_id)
            figure.answered += 1
            figure.right += bool(item.get("right"))
            for index in item.get("chosen", []):
                if 0 <= index < len(figure.picks):
                    figure.picks[index] += 1
    for question_id, figure in figures.items():
        figure.learners = len(learners[question_id])
        state = disclosure.share(0, figure.learners, min_group, exact_from).state
        figure.shown = state in (disclosure.ShareState.BAND, disclosure.ShareState.EXACT)
        figure.banded = state == disclosure.ShareState.BAND
        if not figure.shown:
            figure.answered, figure.right, figure.picks = 0, 0, []
        elif figure.banded:
            figure.picks = []
    return list(figures.values())
