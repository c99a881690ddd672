"""What a notification says: written from its kind and parameters, in the current language.

A notification stores its kind and the values its text needs (`params`, JSON), never the text: the
text is written when it is shown, so it follows the reader's language, also after a switch. A mail
is written once, when it is first sent, in its recipient's language (`lms.notifications.mail`).

The parameters of each kind (`KINDS`; anything else is refused with ValueError, so a mail carries
titles and dates, never a score):

| kind | required | optional |
|---|---|---|
| assigned | course | due, mandatory, reason |
| due_soon | course, due | mandatory |
| overdue | course, due | mandatory |
| escalation (to a manager) | person, course, due | mandatory |
| recertification | course, due | mandatory, reason |
| completed | course | person (set: a manager is told this person completed it), mandatory |
| digest (weekly overview) | items | |
| summary (monthly totals) | | month, and counts: open, in_progress, due_soon, overdue, completed, exempted, withdrawn |
| confirmed (a level, told to the person) | person (who confirmed), competence, level | session (by its trainer) |
| objection (to HR and the DPO) | person (who objects), competence | |
| session_registered, session_moved_up, session_reminder | session, starts | place |
| session_cancelled | session, starts | |
| announcement (of an initiative, to its target group) | initiative, title | |
| go_live_moved (an initiative's go-live) | initiative, go_live (the new date) | |
| survey_to_approve (to the staff council) | initiative | |

Types (`PARAM_TYPES`):

- `course`, `person`, `competence`, `initiative`, `title`: text of 1 to 200 characters without control
  characters (a title, a name)
- `session`, `place`: text of 1 to 200 characters without control characters (a session's title, its place)
- `starts`: a moment, as a timezone-aware `datetime` or ISO text (stored as ISO text in UTC; shown in the town's time)
- `reason`: why the training was assigned, text of 1 to 500 characters (line breaks allowed)
- `due`, `go_live`: a date, as `datetime.date` or ISO text `YYYY-MM-DD` (stored as ISO text)
- `mandatory`: true or false
- `month`: `YYYY-MM`
- counts, `level`: whole numbers from 0
- `items`: a list (at most 500) of `{"course", "due", "person" (optional), "overdue" (optional, true/false)}`
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from flask_babel import format_date, format_time

from lms.common.text import has_control_characters
from lms.i18n import _, _l, ngettext
from lms.notifications.models import NotificationKind

MAX_TEXT_PARAM = 200
MAX_NOTE_PARAM = 500
MAX_ITEMS = 500

# Counts a summary may carry, in the order they are shown, with their names.
COUNTS = {
    "open": _l("open"),
    "in_progress": _l("in progress"),
    "due_soon": _l("due soon"),
    "overdue": _l("overdue"),
    "completed": _l("completed"),
    "exempted": _l("exempted"),
    "withdrawn": _l("withdrawn"),
}
PARAM_TYPES = {
    "course": "text",
    "person": "text",
    "due": "date",
    "mandatory": "flag",
    "reason": "note",
    "month": "month",
    "items": "items",
    "competence": "text",
    "level": "count",
    "session": "text",
    "place": "text",
    "starts": "moment",
    "initiative": "text",
    "title": "text",
    "go_live": "date",
    **dict.fromkeys(COUNTS, "count"),
}
_COURSE_OPTIONS = frozenset({"mandatory"})
# kind: (required parameters, optional parameters)
KINDS: dict[NotificationKind, tuple[frozenset[str], frozenset[str]]] = {
    NotificationKind.ASSIGNED: (frozenset({"course"}), _COURSE_OPTIONS | {"due", "reason"}),
    NotificationKind.DUE_SOON: (frozenset({"course", "due"}), _COURSE_OPTIONS),
    NotificationKind.OVERDUE: (frozenset({"course", "due"}), _COURSE_OPTIONS),
    NotificationKind.ESCALATION: (frozenset({"person", "course", "due"}), _COURSE_OPTIONS),
    NotificationKind.RECERTIFICATION: (frozenset({"course", "due"}), _COURSE_OPTIONS | {"reason"}),
    NotificationKind.COMPLETED: (frozenset({"course"}), _COURSE_OPTIONS | {"person"}),
    NotificationKind.DIGEST: (frozenset({"items"}), frozenset()),
    NotificationKind.SUMMARY: (frozenset(), frozenset(COUNTS) | {"month"}),
    NotificationKind.CONFIRMED: (frozenset({"person", "competence", "level"}), frozenset({"session"})),
    NotificationKind.OBJECTION: (frozenset({"person", "competence"}), frozenset()),
    NotificationKind.ANNOUNCEMENT: (frozenset({"initiative", "title"}), frozenset()),
    NotificationKind.GO_LIVE_MOVED: (frozenset({"initiative", "go_live"}), frozenset()),
    NotificationKind.SURVEY_TO_APPROVE: (frozenset({"initiative"}), frozenset()),
    NotificationKind.SESSION_REGISTERED: (frozenset({"session", "starts"}), frozenset({"place"})),
    NotificationKind.SESSION_MOVED_UP: (frozenset({"session", "starts"}), frozenset({"place"})),
    NotificationKind.SESSION_REMINDER: (frozenset({"session", "starts"}), frozenset({"place"})),
    NotificationKind.SESSION_CANCELLED: (frozenset({"session", "starts"}), frozenset()),
    NotificationKind.SESSION_CHANGED: (frozenset({"session", "starts"}), frozenset({"place"})),
}
SESSION_KINDS = frozenset(
    {
        NotificationKind.SESSION_REGISTERED,
        NotificationKind.SESSION_MOVED_UP,
        NotificationKind.SESSION_REMINDER,
        NotificationKind.SESSION_CANCELLED,
        NotificationKind.SESSION_CHANGED,
    }
)
# A digest's entries: one training (of a person, for a manager's overview).
ITEM_FIELDS = (frozenset({"course", "due"}), frozenset({"person", "overdue"}))
ITEM_TYPES = {"course": "text", "person": "text", "due": "date", "overdue": "flag"}


@dataclass(frozen=True)
class NotificationText:
    title: str  # one line: the entry in the list, the mail's subject
    body: str  # a sentence or two
    action: str  # what the link leads to ("Open the course")
    lines: tuple[str, ...] = field(default=())  # a list below the body (a digest's trainings)


# --- checking the parameters ----------------------------------------------------------------


def checked_params(kind: NotificationKind, params: dict[str, Any]) -> dict[str, Any]:
    """The parameters as they are stored (dates as ISO text), or ValueError naming the mistake."""
    return _checked_fields(str(kind), KINDS[kind], PARAM_TYPES, params)


def _checked_fields(
    what: str, fields: tuple[frozenset[str], frozenset[str]], types: dict[str, str], params: Any
) -> dict[str, Any]:
    if not isinstance(params, dict):
        raise ValueError(f"{what}: parameters must be a dict")
    required, optional = fields
    given = {name for name, value in params.items() if value is not None}
    if missing := required - given:
        raise ValueError(f"{what}: missing parameters {sorted(missing)}")
    if unknown := given - required - optional:
        raise ValueError(f"{what}: unknown parameters {sorted(unknown)}")
    return {name: _checked_value(name, types[name], params[name]) for name in sorted(given)}


def _checked_value(name: str, kind: str, value: Any) -> Any:
    if kind == "text":
        if not isinstance(value, str) or not value.strip() or len(value) > MAX_TEXT_PARAM:
            raise ValueError(f"{name}: text of 1 to {MAX_TEXT_PARAM} characters expected")
        if has_control_characters(value):
            raise ValueError(f"{name}: control characters are not allowed")
        return value
    if kind == "note":
        if not isinstance(value, str) or not value.strip() or len(value) > MAX_NOTE_PARAM:
            raise ValueError(f"{name}: text of 1 to {MAX_NOTE_PARAM} characters expected")
        if has_control_characters(value, multiline=True):
            raise ValueError(f"{name}: control characters are not allowed")
        return value
    if kind in ("date", "moment"):
        return _checked_date(name, value) if kind == "date" else _checked_moment(name, value)
    if kind == "flag":
        if not isinstance(value, bool):
            raise ValueError(f"{name}: true or false expected")
        return value
    if kind == "month":
        try:
            date.fromisoformat(f"{value}-01")
        except (TypeError, ValueError):
            raise ValueError(f"{name}: a month (YYYY-MM) expected") from None
        return value
    if kind == "items":
        if not isinstance(value, list | tuple) or len(value) > MAX_ITEMS:
            raise ValueError(f"{name}: a list of at most {MAX_ITEMS} entries expected")
        return [_checked_fields(f"{name}[{index}]", ITEM_FIELDS, ITEM_TYPES, item) for index, item in enumerate(value)]
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name}: a count (0 or more) expected")
    return value


def _checked_date(name: str, value: Any) -> str:
    if isinstance(value, datetime):  # which day a moment falls on is the caller's to decide
        raise ValueError(f"{name}: a date expected, not a date and time")
    if isinstance(value, date):
        return value.isoformat()
    try:
        return date.fromisoformat(value).isoformat()
    except (TypeError, ValueError):
        raise ValueError(f"{name}: a date (YYYY-MM-DD) expected") from None


def _checked_moment(name: str, value: Any) -> str:
    try:
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: a date and time (ISO 8601 with its offset) expected") from None
    if moment.tzinfo is None:  # a wall-clock time without its zone names no moment
        raise ValueError(f"{name}: a date and time with its time zone expected")
    return moment.astimezone(UTC).isoformat()


# --- writing the text -----------------------------------------------------------------------


def render(kind: str, params: dict[str, Any]) -> NotificationText:
    """The text in the current language. Raises KeyError/ValueError on parameters that do not fit."""
    kind = NotificationKind(kind)
    if kind == NotificationKind.DIGEST:
        return _digest(params["items"])
    if kind == NotificationKind.SUMMARY:
        return _summary(params)
    if kind in (NotificationKind.CONFIRMED, NotificationKind.OBJECTION):
        return _about_a_confirmation(kind, params)
    if kind in SESSION_KINDS:
        return _about_a_session(kind, params)
    if kind in (NotificationKind.ANNOUNCEMENT, NotificationKind.GO_LIVE_MOVED, NotificationKind.SURVEY_TO_APPROVE):
        return _about_an_initiative(kind, params)
    text = _about_a_course(kind, params)
    sentences = [text.body]
    if params.get("mandatory"):
        sentences.append(_("This training is mandatory."))
    if params.get("reason"):
        sentences.append(_("Reason: %(reason)s", reason=params["reason"]))
    return NotificationText(text.title, " ".join(sentences), text.action)


def _about_a_course(kind: NotificationKind, params: dict[str, Any]) -> NotificationText:
    course = params["course"]
    due = _date(params["due"]) if "due" in params else ""
    open_course = _("Open the course")
    if kind == NotificationKind.ASSIGNED:
        if due:
            body = _(
                "The training “%(course)s” has been assigned to you. Please complete it by %(due)s.",
                course=course,
                due=due,
            )
        else:
            body = _("The training “%(course)s” has been assigned to you.", course=course)
        return NotificationText(_("Training assigned: %(course)s", course=course), body, open_course)
    if kind == NotificationKind.DUE_SOON:
        return NotificationText(
            _("Due soon: %(course)s", course=course),
            _("Please complete the training “%(course)s” by %(due)s.", course=course, due=due),
            open_course,
        )
    if kind == NotificationKind.OVERDUE:
        return NotificationText(
            _("Overdue: %(course)s", course=course),
            _(
                "The training “%(course)s” was due on %(due)s. Please complete it as soon as possible.",
                course=course,
                due=due,
            ),
            open_course,
        )
    if kind == NotificationKind.ESCALATION:
        person = params["person"]
        return NotificationText(
            _("Overdue in your team: %(person)s", person=person),
            _(
                "%(person)s has not yet completed the training “%(course)s”, which was due on %(due)s.",
                person=person,
                course=course,
                due=due,
            ),
            _("Open your team"),
        )
    if kind == NotificationKind.RECERTIFICATION:
        return NotificationText(
            _("Refresher due: %(course)s", course=course),
            _(
                "Your completion of “%(course)s” is valid until %(due)s. Please take the course again by then.",
                course=course,
                due=due,
            ),
            open_course,
        )
    if person := params.get("person"):  # completed, told to a manager
        return NotificationText(
            _("%(person)s completed %(course)s", person=person, course=course),
            _("%(person)s has completed the training “%(course)s”.", person=person, course=course),
            _("Open your team"),
        )
    return NotificationText(
        _("Completed: %(course)s", course=course),
        _("You have completed the training “%(course)s”.", course=course),
        open_course,
    )


def _about_a_confirmation(kind: NotificationKind, params: dict[str, Any]) -> NotificationText:
    person, competence = params["person"], params["competence"]
    if kind == NotificationKind.CONFIRMED and "session" in params:
        level = params["level"]
        return NotificationText(
            _("Level %(level)d confirmed: %(competence)s", level=level, competence=competence),
            _(
                "%(person)s, the trainer of the session “%(session)s”, confirmed level %(level)d in the"
                " competence %(competence)s. On your competence profile you see what it is based on, and you"
                " can add a comment or object.",
                person=person,
                session=params["session"],
                level=level,
                competence=competence,
            ),
            _("Open my competence profile"),
        )
    if kind == NotificationKind.CONFIRMED:
        level = params["level"]
        return NotificationText(
            _("Level %(level)d confirmed: %(competence)s", level=level, competence=competence),
            _(
                "Your manager %(person)s confirmed level %(level)d in the competence %(competence)s. On your"
                " competence profile you see what it is based on, and you can add a comment or object.",
                person=person,
                level=level,
                competence=competence,
            ),
            _("Open my competence profile"),
        )
    return NotificationText(
        _("Objection to a confirmed level: %(person)s", person=person),
        _(
            "%(person)s objects to a level confirmed in the competence %(competence)s.",
            person=person,
            competence=competence,
        ),
        _("See the objection"),
    )


def _about_an_initiative(kind: NotificationKind, params: dict[str, Any]) -> NotificationText:
    initiative = params["initiative"]
    if kind == NotificationKind.ANNOUNCEMENT:
        title = params["title"]
        return NotificationText(
            _("%(initiative)s: %(title)s", initiative=initiative, title=title),
            _("There is news about “%(initiative)s”: %(title)s.", initiative=initiative, title=title),
            _("Read the announcement"),
        )
    if kind == NotificationKind.SURVEY_TO_APPROVE:
        return NotificationText(
            _("Survey to approve: %(initiative)s", initiative=initiative),
            _(
                "The change team asks the staff council to approve the questions of a pulse survey about"
                " “%(initiative)s”. It opens only once approved.",
                initiative=initiative,
            ),
            _("Open the surveys to approve"),
        )
    go_live = _date(params["go_live"])
    return NotificationText(
        _("New go-live: %(initiative)s", initiative=initiative),
        _(
            "“%(initiative)s” now goes live on %(date)s. The due dates of its trainings have moved with it.",
            initiative=initiative,
            date=go_live,
        ),
        _("Open the initiative"),
    )


def _about_a_session(kind: NotificationKind, params: dict[str, Any]) -> NotificationText:
    session, starts = params["session"], _moment(params["starts"])
    where = _("Place: %(place)s.", place=params["place"]) if params.get("place") else ""
    open_session = _("Open the session")
    if kind == NotificationKind.SESSION_CANCELLED:
        return NotificationText(
            _("Cancelled: %(session)s", session=session),
            _("The session “%(session)s” on %(starts)s has been cancelled.", session=session, starts=starts),
            open_session,
        )
    if kind == NotificationKind.SESSION_CHANGED:
        title = _("Changed: %(session)s", session=session)
        body = _(
            "The session “%(session)s” now takes place on %(starts)s. The updated invitation for your calendar"
            " is attached.",
            session=session,
            starts=starts,
        )
    elif kind == NotificationKind.SESSION_REMINDER:
        title = _("Tomorrow: %(session)s", session=session)
        body = _("A reminder: the session “%(session)s” starts on %(starts)s.", session=session, starts=starts)
    elif kind == NotificationKind.SESSION_MOVED_UP:
        title = _("You have a seat: %(session)s", session=session)
        body = _(
            "A seat has become free: you have moved up from the waitlist and are registered for the session"
            " “%(session)s” on %(starts)s. The invitation for your calendar is attached.",
            session=session,
            starts=starts,
        )
    else:
        title = _("Registered: %(session)s", session=session)
        body = _(
            "You are registered for the session “%(session)s” on %(starts)s. The invitation for your"
            " calendar is attached.",
            session=session,
            starts=starts,
        )
    return NotificationText(title, f"{body} {where}".strip(), open_session)


def _digest(items: list[dict[str, Any]]) -> NotificationText:
    overdue = sum(1 for item in items if item.get("overdue"))
    if not items:
        body = _("There are no open trainings.")
    else:
        sentences = [
            ngettext("%(num)d training is open.", "%(num)d trainings are open.", len(items)),
            ngettext("%(num)d of them is overdue.", "%(num)d of them are overdue.", overdue)
            if overdue
            else _("None of them is overdue."),
        ]
        body = " ".join(sentences)
    return NotificationText(
        ngettext("Weekly overview: %(num)d open training", "Weekly overview: %(num)d open trainings", len(items)),
        body,
        _("Open the overview"),
        tuple(_digest_line(item) for item in items),
    )


def _digest_line(item: dict[str, Any]) -> str:
    values = {"course": item["course"], "due": _date(item["due"])}
    if item.get("person"):
        line = _("%(person)s: %(course)s, due %(due)s", person=item["person"], **values)
    else:
        line = _("%(course)s, due %(due)s", **values)
    if item.get("overdue"):
        return _("%(entry)s (overdue)", entry=line)
    return line


def _summary(params: dict[str, Any]) -> NotificationText:
    if "month" in params:
        month = format_date(date.fromisoformat(f"{params['month']}-01"), "LLLL yyyy")
        title = _("Mandatory trainings in %(month)s", month=month)
    else:
        title = _("Mandatory trainings: summary")
    lines = tuple(f"{label}: {params[name]}" for name, label in COUNTS.items() if name in params)
    return NotificationText(title, _("Mandatory trainings by status:"), _("Open the report"), lines)


def render_safely(kind: str, params: Any) -> NotificationText:
    """`render`, or a plain text if the stored parameters no longer fit (an old or unknown kind):
    a list of notifications never fails over one of them."""
    try:
        return render(kind, dict(params))
    except (KeyError, TypeError, ValueError):
        return NotificationText(_("Notification"), "", _("Open"))


def _moment(value: str) -> str:
    """A moment in the town's time: "3. Dezember 2026, 09:00"."""
    moment = datetime.fromisoformat(value)
    return f"{format_date(moment, 'long')}, {format_time(moment, 'short')}"


def _date(value: str) -> str:
    return format_date(date.fromisoformat(value), "long")
