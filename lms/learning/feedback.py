"""Course feedback (issue 14): after completing a course a learner rates it once — how helpful
(1–5), whether its length was right, and an optional comment — and the answer is stored without
the person.

Two tables, on purpose unjoinable (lms.learning.models): `course_feedback` holds the answers with
the course and the month only (no user id, no time, a random key); `course_feedback_given` holds
only who has answered which course, to refuse a second answer. They share no key and no time, so
neither the database nor a trainer can tell whose answer is whose.

Trainers see per course how many answered, the ratings, the length shares and the comments — only
from PRIVACY_MIN_GROUP_SIZE answers on (below: "fewer than N answers"), shares through
lms.common.disclosure, comments in a fixed order that follows their text, never the time of
answering. It is feedback on the course, not an evaluation of its trainers.

Functions flush, never commit; the view commits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from statistics import median
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError

from lms.common import disclosure
from lms.common.dates import utcnow
from lms.common.errors import ValidationFailed
from lms.common.text import has_control_characters
from lms.common.vocabulary import CourseLength
from lms.extensions import db
from lms.i18n import _
from lms.learning.models import Completion, CourseFeedback, CourseFeedbackGiven
from lms.people.models import User

RATINGS = (1, 2, 3, 4, 5)
MAX_COMMENT_LENGTH = 1000


class NotCompleted(Exception):
    """Only a learner who has completed the course rates it."""


class AlreadyGiven(Exception):
    """The learner has rated this course before: one answer per person and course."""


def has_given(user: User, course_id: int) -> bool:
    """Has the person rated this course? One statement."""
    given = exists().where(CourseFeedbackGiven.user_id == user.id, CourseFeedbackGiven.course_id == course_id)
    return bool(db.session.scalar(select(given)))


def give(
    user: User, course_id: int, completion: Completion | None, helpful: object, length: object, comment: str | None
) -> None:
    """Store a rating without the person, and apart from it that they have answered.

    Raises NotCompleted without a completion, ValidationFailed (per field) for bad input and
    AlreadyGiven for a second answer (also when two arrive at once: the key of
    `course_feedback_given` refuses the second)."""
    if completion is None or completion.user_id != user.id or completion.course_id != course_id:
        raise NotCompleted
    rating, chosen_length, text = _checked(helpful, length, comment)
    try:
        with db.session.begin_nested():
            db.session.add(CourseFeedbackGiven(user_id=user.id, course_id=course_id))
    except IntegrityError:
        raise AlreadyGiven from None
    db.session.add(
        CourseFeedback(course_id=course_id, helpful=rating, length=chosen_length, comment=text, month=town_month())
    )
    db.session.flush()


def _checked(helpful: object, length: object, comment: str | None) -> tuple[int, str, str | None]:
    errors: dict[str, str] = {}
    rating = _rating(helpful)
    if rating is None:
        errors["helpful"] = _("Please choose how helpful the course was, from 1 to 5.")
    chosen_length = str(length or "")
    if chosen_length not in set(CourseLength):
        errors["length"] = _("Please choose whether the course was too short, about right or too long.")
    text = (comment or "").strip()
    if len(text) > MAX_COMMENT_LENGTH:
        errors["comment"] = _(
            "Please keep the comment to at most %(max)d characters (it has %(count)d).",
            max=MAX_COMMENT_LENGTH,
            count=len(text),
        )
    elif has_control_characters(text, multiline=True):
        errors["comment"] = _(
            "The comment contains invisible control or text-direction characters. "
            "Please remove them, for example by typing the text again."
        )
    if errors:
        raise ValidationFailed(errors)
    return rating, chosen_length, text or None  # type: ignore[return-value]  # checked above


def _rating(value: object) -> int | None:
    text = str(value).strip() if value is not None else ""
    return int(text) if text in {str(r) for r in RATINGS} else None


def town_month() -> str:
    """This month (YYYY-MM) in the town's time zone: all an answer keeps of when it was given."""
    zone = ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE") or "Europe/Berlin")
    return utcnow().astimezone(zone).strftime("%Y-%m")


# --- what trainers see (aggregates only) ---------------------------------------------------------


@dataclass
class FeedbackFigures:
    """A course's feedback as it may be shown: nothing but `answers` below the minimum."""

    answers: int
    minimum: int
    helpful: dict[int, disclosure.Share] = field(default_factory=dict)  # rating → share of the answers
    median_helpful: float | None = None
    length: dict[str, disclosure.Share] = field(default_factory=dict)  # CourseLength → share
    comments: list[str] = field(default_factory=list)

    @property
    def shown(self) -> bool:
        return self.answers >= self.minimum


def figures(course_id: int, minimum: int, exact_from: int) -> FeedbackFigures:
    """The course's feedback, protected: one statement, however many answers."""
    rows = db.session.execute(
        select(CourseFeedback.helpful, CourseFeedback.length, CourseFeedback.comment).where(
            CourseFeedback.course_id == course_id
        )
    ).all()
    result = FeedbackFigures(len(rows), minimum)
    if not result.shown:
        return result  # not even the ratings leave this function
    total = len(rows)
    ratings = [row.helpful for row in rows]
    result.helpful = {r: disclosure.share(ratings.count(r), total, minimum, exact_from) for r in RATINGS}
    result.median_helpful = median(ratings)
    lengths = [row.length for row in rows]
    result.length = {str(c): disclosure.share(lengths.count(c), total, minimum, exact_from) for c in CourseLength}
    # Sorted by their text: an order that says nothing about who answered when.
    result.comments = sorted((row.comment for row in rows if row.comment), key=lambda text: (text.casefold(), text))
    return result
