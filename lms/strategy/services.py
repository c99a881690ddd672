"""The strategy's targets: "by 31.12.2027, 80 % of all staff at level 3 or above in 4.1".

Unlike the gap overview, which counts the people *with a target* who reach *their* target, a
strategy target counts ALL active people of its group (the whole administration, or a department
with the departments below it) and how many of them are at the level or above — verified levels
only, from `lms.skills.profiles.cells_for`, the function the matrix and the gap overview use.

Aggregates only, through `lms.common.disclosure`: a group of fewer than PRIVACY_MIN_GROUP_SIZE
people shows nothing, further figures are withheld where a subtraction of the targets' groups
shown together would give a smaller group, and a group under PRIVACY_EXACT_SHARE_FROM shows a band.
Monthly snapshots are stored already protected (counts NULL when the figure may not be shown); the
trend also withholds a month whose group changed by fewer than the minimum since the month shown
before it, as the gap overview's does.

The pace is linear, from the first exact monthly figure to today's, projected to the deadline.

Functions flush, never commit; the caller (view, CLI command, scheduled task) commits.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import joinedload, lazyload

from lms.common import disclosure
from lms.common.dates import utcnow
from lms.common.errors import ValidationFailed
from lms.common.urls import MAX_DB_INT
from lms.extensions import db
from lms.frameworks.models import Competence
from lms.frameworks.services import default_framework, max_level
from lms.gaps.services import current_month, exact_share_from, min_group_size, month_range, parse_month
from lms.i18n import _
from lms.people.models import Department, User
from lms.people.services import departments_above, town_today
from lms.skills.profiles import cells_for
from lms.strategy.models import StrategySnapshot, StrategyTarget

_WHOLE_NUMBER = re.compile(r"[0-9]{1,9}")
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_GERMAN_DATE = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")


# --- the targets -----------------------------------------------------------------------------


def all_targets() -> list[StrategyTarget]:
    """Every target with its competence and department, by deadline: one statement."""
    return list(
        db.session.execute(
            select(StrategyTarget)
            .options(joinedload(StrategyTarget.competence), joinedload(StrategyTarget.department))
            .order_by(StrategyTarget.deadline, StrategyTarget.id)
        ).scalars()
    )


@dataclass(frozen=True)
class TargetInput:
    """A target as the form sends it: raw values, checked by `save_target`."""

    competence_id: object
    level: object
    share_percent: object
    deadline: object
    department_id: object = None


def save_target(
    target: StrategyTarget | None, data: TargetInput, today: date | None = None
) -> tuple[StrategyTarget, bool]:
    """Create (`target` None) or change a target; returns it and whether its trend was cleared.

    Each rule broken is named per field (ValidationFailed). A deadline must lie in the future when
    the target is created or its deadline changed. Changing what is counted (competence, level,
    department) deletes the target's snapshots: they counted something else."""
    today = today or town_today()
    competence, level, share, deadline, department_id = _checked(target, data, today)
    if target is None:
        target = StrategyTarget()
        db.session.add(target)
        cleared = False
    else:
        cleared = (target.competence_id, target.level, target.department_id) != (competence.id, level, department_id)
        if cleared:
            db.session.execute(delete(StrategySnapshot).where(StrategySnapshot.target_id == target.id))
    target.competence_id, target.level, target.share_percent = competence.id, level, share
    target.deadline, target.department_id = deadline, department_id
    db.session.flush()
    return target, cleared


def delete_target(target: StrategyTarget) -> None:
    db.session.execute(delete(StrategySnapshot).where(StrategySnapshot.target_id == target.id))
    db.session.delete(target)
    db.session.flush()


def _checked(
    target: StrategyTarget | None, data: TargetInput, today: date
) -> tuple[Competence, int, int, date, int | None]:
    errors: dict[str, str] = {}
    framework = default_framework()
    competence = _competence(data.competence_id, framework.id if framework else None)
    if competence is None:
        errors["competence_id"] = _("Please choose a competence of the framework.")
    top = max_level(framework) or 8
    level = _whole_number(data.level)
    if level is None or not 1 <= level <= top:
        errors["level"] = _("Please choose a level from 1 to %(top)d.", top=top)
    share = _whole_number(data.share_percent)
    if share is None or not 1 <= share <= 100:
        errors["share_percent"] = _("Please enter a share from 1 to 100 percent, as a whole number.")
    deadline = parse_date(data.deadline)
    if deadline is None:
        errors["deadline"] = _("Please enter the deadline as a date, for example 31.12.2027.")
    elif deadline <= today and (target is None or deadline != target.deadline):
        errors["deadline"] = _("The deadline must lie in the future.")
    department_id = _department_id(data.department_id)
    if department_id is False:
        errors["department_id"] = _("Please choose a department from the list, or the whole administration.")
    if errors:
        raise ValidationFailed(errors)
    return competence, level, share, deadline, department_id  # type: ignore[return-value]  # checked above


def _whole_number(value: object) -> int | None:
    text = str(value).strip() if value is not None else ""
    return int(text) if _WHOLE_NUMBER.fullmatch(text) else None


def parse_date(value: object) -> date | None:
    """A date as the date field sends it (2027-12-31) or as typed in German (31.12.2027)."""
    if isinstance(value, date):
        return value
    text = str(value or "").strip()
    iso, german = _ISO_DATE.fullmatch(text), _GERMAN_DATE.fullmatch(text)
    try:
        if iso:
            return date(int(iso.group(1)), int(iso.group(2)), int(iso.group(3)))
        if german:
            return date(int(german.group(3)), int(german.group(2)), int(german.group(1)))
    except ValueError:
        return None
    return None


def _competence(value: object, framework_id: int | None) -> Competence | None:
    competence_id = _whole_number(value)
    if competence_id is None or competence_id > MAX_DB_INT or framework_id is None:
        return None
    competence = db.session.get(Competence, competence_id)
    if competence is None or competence.framework_id != framework_id or competence.retired:
        return None
    return competence


def _department_id(value: object) -> int | None | bool:
    """The department's id, None for the whole administration, False for one that does not exist."""
    if value in (None, "", "None"):
        return None
    department_id = _whole_number(value)
    if department_id is None or department_id > MAX_DB_INT or db.session.get(Department, department_id) is None:
        return False
    return department_id


# --- today's figures -------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    """A target's group: how many active people, how many at the level or above, as it may be shown."""

    people: int
    at_level: int
    minimum: int
    exact_from: int
    withheld: bool = False

    @property
    def view(self) -> disclosure.Share:
        return disclosure.share(self.at_level, self.people, self.minimum, self.exact_from, self.withheld)

    @property
    def shown(self) -> bool:
        return self.view.shown

    @property
    def suppressed(self) -> bool:
        return self.view.state in (disclosure.ShareState.SMALL, disclosure.ShareState.WITHHELD)

    @property
    def percent(self) -> int | None:
        return self.view.percent

    @property
    def share(self) -> float | None:
        """The exact share (0–1), for the pace; None unless exact."""
        return self.at_level / self.people if self.view.exact else None


def current_figures(targets: Sequence[StrategyTarget], minimum: int | None = None) -> dict[int, Figure]:
    """Target id → today's figure, protected together (every target's group is on one page).
    A fixed number of statements, however many targets and people."""
    minimum = min_group_size() if minimum is None else minimum
    exact_from = exact_share_from()
    if not targets:
        return {}
    people = _active_people()
    competences = list({target.competence_id: target.competence for target in targets}.values())
    cells = cells_for(people, competences, viewer_id=None) if people else {}
    above = _departments_above(people)
    members: dict[int, frozenset[int]] = {}
    figures: dict[int, Figure] = {}
    for target in targets:
        group = frozenset(p.id for p in people if target.department_id is None or target.department_id in above[p.id])
        at_level = sum(1 for person_id in group if cells[person_id][target.competence_id].current >= target.level)
        members[target.id] = group
        figures[target.id] = Figure(len(group), at_level, minimum, exact_from)
    protected = [disclosure.Cell(t.id, members[t.id], keep=t.department_id is None) for t in targets]
    withheld = disclosure.protect(protected, minimum)
    for target in targets:
        figure = figures[target.id]
        if target.id in withheld and figure.view.state != disclosure.ShareState.SMALL:
            figures[target.id] = replace(figure, withheld=True)
    return figures


def _active_people() -> list[User]:
    # Roles are not needed: lazy, so this is one statement however many people there are.
    return list(
        db.session.execute(
            select(User).where(User.active.is_(True)).options(lazyload(User.role_rows)).order_by(User.id)
        ).scalars()
    )


def _departments_above(people: list[User]) -> dict[int, set[int]]:
    """Person id → their department and every department above it (one statement)."""
    parent_of = dict(db.session.execute(select(Department.id, Department.parent_id)).all())
    return {person.id: set(departments_above(person.department_id, parent_of)) for person in people}


# --- monthly snapshots and the trend ---------------------------------------------------------


@dataclass(frozen=True)
class SnapshotResult:
    month: str
    rows: int


def take_snapshot(month: str | None = None) -> SnapshotResult:
    """Store every target's figure for this month, already protected. Idempotent per month: the
    month's rows are replaced, in the caller's transaction."""
    this_month = current_month()
    month = parse_month(month) if month else this_month
    if month > this_month:
        raise ValueError(f"{month} is in the future; a snapshot records the figures as they are now")
    targets = all_targets()
    figures = current_figures(targets)
    taken_at = utcnow()
    rows = [
        {
            "month": month,
            "target_id": target.id,
            "people": None if figures[target.id].suppressed else figures[target.id].people,
            "at_level": None if figures[target.id].suppressed else figures[target.id].at_level,
            "taken_at": taken_at,
        }
        for target in targets
    ]
    db.session.execute(delete(StrategySnapshot).where(StrategySnapshot.month == month))
    if rows:
        db.session.execute(insert(StrategySnapshot), rows)
    db.session.flush()
    return SnapshotResult(month, len(rows))


def snapshot_exists(month: str) -> bool:
    statement = select(StrategySnapshot.id).where(StrategySnapshot.month == month).limit(1)
    return db.session.execute(statement).first() is not None


@dataclass
class Trend:
    months: list[str]  # every month from the first snapshot of the target to its last
    figures: list[Figure | None]  # one per month (None: no snapshot that month)


def trends(
    targets: Sequence[StrategyTarget], minimum: int | None = None, shown_now: dict[int, Figure] | None = None
) -> dict[int, Trend]:
    """Target id → its monthly figures since its first snapshot. One statement for all targets.
    Any two months shown, and each against today's figure (`shown_now`), differ by none or by at
    least the minimum (lms.common.disclosure.apart_enough)."""
    minimum = min_group_size() if minimum is None else minimum
    exact_from = exact_share_from()
    rows: dict[int, list[tuple[str, int | None, int | None]]] = {target.id: [] for target in targets}
    if targets:
        statement = (
            select(
                StrategySnapshot.target_id, StrategySnapshot.month, StrategySnapshot.people, StrategySnapshot.at_level
            )
            .where(StrategySnapshot.target_id.in_(rows))
            .order_by(StrategySnapshot.target_id, StrategySnapshot.month)
        )
        for target_id, month, people, at_level in db.session.execute(statement):
            rows[target_id].append((month, people, at_level))
    result = {}
    for target_id, snapshots in rows.items():
        months = month_range(snapshots[0][0], snapshots[-1][0]) if snapshots else []
        by_month = {
            month: Figure(people or 0, at_level or 0, minimum, exact_from, withheld=people is None or at_level is None)
            for month, people, at_level in snapshots
        }
        figures = [by_month.get(month) for month in months]
        now = (shown_now or {}).get(target_id)
        counts = [f.people if f is not None and f.shown else None for f in figures]
        fixed = (now.people,) if now is not None and now.shown else ()
        for index, keep in enumerate(disclosure.apart_enough(counts, minimum, fixed)):
            figure = figures[index]
            if figure is not None and figure.shown and not keep:
                figures[index] = replace(figure, withheld=True)
        result[target_id] = Trend(months, figures)
    return result


# --- the pace --------------------------------------------------------------------------------


class PaceStatus(StrEnum):
    ON_TRACK = "on_track"
    BEHIND = "behind"
    NOT_ENOUGH_DATA = "not_enough_data"


@dataclass(frozen=True)
class Pace:
    status: PaceStatus
    projected_percent: int | None = None  # the share expected at the deadline at this pace


def month_start(month: str) -> date:
    year, number = map(int, month.split("-"))
    return date(year, number, 1)


def pace(points: Sequence[tuple[date, float]], deadline: date, goal_percent: int) -> Pace:
    """Linear from the first point to the last (today), projected to the deadline.

    `points` are (day, exact share 0–1), oldest first; banded or withheld figures are left out, as
    a pace from a range would be made up. Fewer than two months: not enough data."""
    months = {(day.year, day.month) for day, _share in points}
    if len(months) < 2:
        return Pace(PaceStatus.NOT_ENOUGH_DATA)
    (first_day, first), (last_day, last) = points[0], points[-1]
    days = (last_day - first_day).days
    if days <= 0:
        return Pace(PaceStatus.NOT_ENOUGH_DATA)
    ahead = max((deadline - last_day).days, 0)
    projected = min(max(last + (last - first) / days * ahead, 0.0), 1.0)
    status = PaceStatus.ON_TRACK if projected * 100 >= goal_percent - 1e-9 else PaceStatus.BEHIND
    return Pace(status, int(projected * 100))


def pace_of(target: StrategyTarget, trend: Trend, today_figure: Figure, today: date) -> Pace:
    """The pace of one target from its exact monthly figures and today's."""
    points: list[tuple[date, float]] = []
    for month, figure in zip(trend.months, trend.figures, strict=True):
        share = figure.share if figure is not None else None
        if share is not None and month_start(month) < today:
            points.append((month_start(month), share))
    if today_figure.share is not None:
        points.append((today, today_figure.share))
    return pace(points, target.deadline, target.share_percent)


# --- the page --------------------------------------------------------------------------------


@dataclass
class TargetView:
    target: StrategyTarget
    figure: Figure
    trend: Trend
    pace: Pace


def overview(today: date | None = None) -> list[TargetView]:
    """Every target with today's figure, its trend and its pace: a fixed number of statements."""
    today = today or town_today()
    targets = all_targets()
    figures = current_figures(targets)
    history = trends(targets, shown_now=figures)
    return [
        TargetView(t, figures[t.id], history[t.id], pace_of(t, history[t.id], figures[t.id], today)) for t in targets
    ]
