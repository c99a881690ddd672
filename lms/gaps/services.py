"""The gap overview: per group of people, how many have a target for a competence and how many reach it.

Groups are the whole administration ("all"), each department (with its sub-departments) and each
job role. Only active people count. The numbers come from `lms.skills.profiles.cells_for`, the same
function the skill matrix uses, so both pages agree.

Aggregates only: no person is named, stored or ranked here. Every figure goes through
`lms.common.disclosure`: a group with fewer people with a target than `PRIVACY_MIN_GROUP_SIZE` shows
nothing, and further figures are withheld so that no subtraction over what HR can see — the whole
administration, every department (by department) and every job role (by job role), for the same
competence — gives a smaller group. Small groups show bands, not exact shares. Snapshots are stored
already protected (withheld figures without counts); the trend also withholds a month whose group
changed by fewer than the minimum since the month shown before it.

Functions flush, never commit; the caller (view, CLI command, scheduled task) commits.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import lazyload

from lms.common import disclosure
from lms.common.dates import utcnow
from lms.common.disclosure import exact_share_from, min_group_size
from lms.extensions import db
from lms.frameworks.models import Competence, CompetenceArea
from lms.frameworks.services import framework_outline
from lms.gaps.models import SkillSnapshot
from lms.people.models import Department, JobRole, User
from lms.people.services import department_tree, departments_above
from lms.skills.profiles import cells_for

ALL, DEPARTMENT, JOB_ROLE = "all", "department", "job_role"
SCOPES = (ALL, DEPARTMENT, JOB_ROLE)
MONTH_PATTERN = re.compile(r"^(\d{4})-(\d{2})$")


# --- figures ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    """One group and one competence, as it may be shown (see lms.common.disclosure)."""

    people_with_target: int
    people_at_target: int
    minimum: int
    withheld: bool = False  # complementary suppression: shown as "not shown"
    exact_from: int = 20  # smaller groups show a band (LMS_EXACT_SHARE_FROM)

    @property
    def view(self) -> disclosure.Share:
        return disclosure.share(
            self.people_at_target, self.people_with_target, self.minimum, self.exact_from, self.withheld
        )

    @property
    def empty(self) -> bool:
        """Nobody in the group has a target for this competence (shown as "–")."""
        return self.view.state == disclosure.ShareState.EMPTY

    @property
    def small(self) -> bool:
        """Too few people with a target to show anything (shown as "fewer than N")."""
        return self.view.state == disclosure.ShareState.SMALL

    @property
    def suppressed(self) -> bool:
        return self.view.state in (disclosure.ShareState.SMALL, disclosure.ShareState.WITHHELD)

    @property
    def shown(self) -> bool:
        return self.view.shown

    @property
    def banded(self) -> bool:
        """Shown as a quarter, not exactly (a small group: 0 % or 100 % would tell each member's status)."""
        return self.view.state == disclosure.ShareState.BAND

    @property
    def share(self) -> float | None:
        return self.people_at_target / self.people_with_target if self.view.exact else None

    @property
    def percent(self) -> int | None:
        """The share in whole percent, rounded down: 100 only when everyone reaches the target. Exact figures only."""
        return self.view.percent

    @property
    def step(self) -> int | None:
        """0–4 for the heat map: below 25 %, below 50 %, below 75 %, below 100 %, 100 % (a band: 0–3)."""
        if self.banded:
            return self.view.band
        percent = self.percent
        return None if percent is None else min(percent // 25, 4)


@dataclass
class Group:
    scope: str  # all, department, job_role
    scope_id: int  # 0 for "all"
    people: int = 0  # active people in the group
    depth: int = 0  # departments: depth in the tree
    department: Department | None = None
    job_role: JobRole | None = None
    figures: dict[int, Figure] = field(default_factory=dict)  # competence id → figure


def _active_people() -> list[User]:
    # Roles are not needed here: lazy instead of selectin (which would add a statement per 500 people),
    # so this is one statement however many people there are.
    return list(
        db.session.execute(
            select(User).where(User.active.is_(True)).options(lazyload(User.role_rows)).order_by(User.id)
        ).scalars()
    )


def group_figures(
    competences: Sequence[Competence], scopes: Iterable[str] = SCOPES, minimum: int | None = None
) -> list[Group]:
    """Per group (all, then departments in tree order, then job roles by title) and competence:
    people with a target and people at or above it, protected together (every group of `scopes` is
    one table for the reader). A fixed number of statements."""
    scopes = _checked_scopes(scopes)
    minimum = min_group_size() if minimum is None else minimum
    people = _active_people()
    has_target, reached = _targets_per_person(people, competences)
    groups: list[tuple[Group, list[int]]] = []  # each with the ids of its members
    if ALL in scopes:
        groups.append((Group(ALL, 0), [u.id for u in people]))
    if DEPARTMENT in scopes:
        groups.extend(_department_groups(people))
    if JOB_ROLE in scopes:
        groups.extend(_job_role_groups(people))
    competence_ids = [c.id for c in competences]
    for group, member_ids in groups:
        group.people = len(member_ids)
        group.figures = _figures(member_ids, has_target, reached, competence_ids, minimum)
    _withhold(groups, has_target, competence_ids, minimum)
    return [group for group, _ in groups]


def _withhold(
    groups: list[tuple[Group, list[int]]], has_target: dict[int, list[int]], competence_ids: list[int], minimum: int
) -> None:
    """Complementary suppression, competence by competence (lms.common.disclosure.protect)."""
    target_sets = {user_id: set(competences) for user_id, competences in has_target.items()}
    for competence_id in competence_ids:
        cells = [
            disclosure.Cell(
                (group.scope, group.scope_id),
                frozenset(user_id for user_id in member_ids if competence_id in target_sets[user_id]),
                keep=group.scope == ALL,
            )
            for group, member_ids in groups
        ]
        withheld = disclosure.protect(cells, minimum)
        for group, _ in groups:
            figure = group.figures[competence_id]
            if (group.scope, group.scope_id) in withheld and not figure.small:
                group.figures[competence_id] = replace(figure, withheld=True)


def _checked_scopes(scopes: Iterable[str]) -> set[str]:
    """The scopes as a set; ValueError naming any unknown one."""
    scopes = set(scopes)
    unknown = scopes - set(SCOPES)
    if unknown:
        raise ValueError(f"unknown scope: {', '.join(sorted(unknown))}")
    return scopes


def _targets_per_person(
    people: list[User], competences: Sequence[Competence]
) -> tuple[dict[int, list[int]], dict[int, list[int]]]:
    """Per person: the competences with a target, and those reached (Cell.meets_target, as the matrix)."""
    # Figures count verified levels only: no self-assessment is read (viewer None sees shared ones only).
    cells = cells_for(people, list(competences), viewer_id=None) if people and competences else {}
    has_target = {u.id: [cid for cid, cell in cells.get(u.id, {}).items() if cell.target is not None] for u in people}
    reached = {u.id: [cid for cid in has_target[u.id] if cells[u.id][cid].meets_target] for u in people}
    return has_target, reached


def _department_groups(people: list[User]) -> list[tuple[Group, list[int]]]:
    """Departments in tree order with their members, sub-departments included; inactive ones only with members."""
    tree = department_tree(include_inactive=True)
    parent_of = {node.department.id: node.department.parent_id for node in tree}
    members: dict[int, list[int]] = defaultdict(list)
    for person in people:
        for department_id in departments_above(person.department_id, parent_of):
            members[department_id].append(person.id)
    return [
        (
            Group(DEPARTMENT, node.department.id, depth=node.depth, department=node.department),
            members[node.department.id],
        )
        for node in tree
        if node.department.active or members.get(node.department.id)
    ]


def _job_role_groups(people: list[User]) -> list[tuple[Group, list[int]]]:
    """Job roles by title with their members; inactive ones only with members."""
    members: dict[int, list[int]] = defaultdict(list)
    for person in people:
        if person.job_role_id:
            members[person.job_role_id].append(person.id)
    job_roles = db.session.execute(select(JobRole).order_by(JobRole.title, JobRole.id)).scalars()
    return [
        (Group(JOB_ROLE, role.id, job_role=role), members[role.id])
        for role in job_roles
        if role.active or members.get(role.id)
    ]


def _figures(
    member_ids: list[int],
    has_target: dict[int, list[int]],
    reached: dict[int, list[int]],
    competence_ids: list[int],
    minimum: int,
) -> dict[int, Figure]:
    """Competence id → the group's figure: how many members have a target, how many reach it."""
    with_target: Counter[int] = Counter()
    at_target: Counter[int] = Counter()
    for user_id in member_ids:
        with_target.update(has_target[user_id])
        at_target.update(reached[user_id])
    exact_from = exact_share_from()
    return {cid: Figure(with_target[cid], at_target[cid], minimum, exact_from=exact_from) for cid in competence_ids}


@dataclass
class GapOverview:
    by: str  # department or job_role
    areas: list[CompetenceArea]  # every area of the default framework, for the filter
    area: CompetenceArea | None  # the chosen one, or None for all
    competences: list[Competence]
    total: Group  # the whole administration
    groups: list[Group]
    minimum: int


def overview(by: str = DEPARTMENT, area_code: str | None = None) -> GapOverview:
    """What the gap overview page shows. An unknown area code shows every area."""
    if by not in (DEPARTMENT, JOB_ROLE):
        raise ValueError(f"cannot group by {by!r}")
    areas = framework_outline()
    area = next((a for a in areas if a.code == area_code), None) if area_code else None
    competences = [c for a in ([area] if area else areas) for c in a.active_competences]
    minimum = min_group_size()
    # HR can switch between departments and job roles: both are one table, protected together.
    groups = group_figures(competences, SCOPES, minimum)
    return GapOverview(by, areas, area, competences, groups[0], [g for g in groups if g.scope == by], minimum)


# --- months ----------------------------------------------------------------------------------


def current_month(now: datetime | None = None) -> str:
    """YYYY-MM in the town's time zone (at 00:30 on the 1st in Berlin it is already the new month)."""
    zone = ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE") or "Europe/Berlin")
    return (now or utcnow()).astimezone(zone).strftime("%Y-%m")


def parse_month(text: str) -> str:
    """A month as YYYY-MM, checked; raises ValueError with a message for people."""
    match = MONTH_PATTERN.match((text or "").strip())
    if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 2000:
        raise ValueError(f"{text!r} is not a month in the form YYYY-MM, e.g. 2026-11")
    return match.group(0)


def month_range(first: str, last: str) -> list[str]:
    """Every month from first to last, both included."""
    year, month = map(int, first.split("-"))
    end = tuple(map(int, last.split("-")))
    months = []
    while (year, month) <= end:
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


# --- snapshots -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SnapshotResult:
    month: str
    rows: int


def take_snapshot(month: str | None = None) -> SnapshotResult:
    """Store this month's figures (all competences of the default framework, every group).

    Idempotent per month: the month's rows are deleted and written again, in the caller's
    transaction, so the scheduler and `flask skills snapshot` can both run it. Stored already
    protected: a figure that may not be shown is stored without its counts.
    """
    this_month = current_month()
    month = parse_month(month) if month else this_month
    if month > this_month:
        raise ValueError(f"{month} is in the future; a snapshot records the figures as they are now")
    competences = [c for area in framework_outline() for c in area.active_competences]
    groups = group_figures(competences, SCOPES)
    taken_at = utcnow()
    rows = [
        {
            "month": month,
            "scope": group.scope,
            "scope_id": group.scope_id,
            "competence_id": competence_id,
            "people_with_target": None if figure.suppressed else figure.people_with_target,
            "people_at_target": None if figure.suppressed else figure.people_at_target,
            "taken_at": taken_at,
        }
        for group in groups
        for competence_id, figure in group.figures.items()
    ]
    db.session.execute(delete(SkillSnapshot).where(SkillSnapshot.month == month))
    if rows:
        db.session.execute(insert(SkillSnapshot), rows)
    db.session.flush()
    return SnapshotResult(month, len(rows))


def snapshot_exists(month: str) -> bool:
    return db.session.execute(select(SkillSnapshot.id).where(SkillSnapshot.month == month).limit(1)).first() is not None


@dataclass
class Trend:
    months: list[str]  # every month from the first snapshot to the last
    series: dict[int, list[Figure | None]]  # competence id → one figure per month (None: no snapshot)


def trend(
    scope: str,
    scope_id: int,
    competence_ids: Iterable[int],
    minimum: int | None = None,
    shown_now: dict[int, int] | None = None,
) -> Trend:
    """The monthly figures of one group from the snapshots, since the first one. One statement.

    Month against month: any two months shown — and each against today's figure, if the page shows
    it (`shown_now`: competence id → people with a target) — differ by none or by at least the
    minimum (lms.common.disclosure.apart_enough)."""
    if scope not in SCOPES:
        raise ValueError(f"unknown scope: {scope}")
    competence_ids = list(competence_ids)
    minimum = min_group_size() if minimum is None else minimum
    if not competence_ids:
        return Trend([], {})
    rows = db.session.execute(
        select(
            SkillSnapshot.month,
            SkillSnapshot.competence_id,
            SkillSnapshot.people_with_target,
            SkillSnapshot.people_at_target,
        )
        .where(
            SkillSnapshot.scope == scope,
            SkillSnapshot.scope_id == (0 if scope == ALL else scope_id),
            SkillSnapshot.competence_id.in_(competence_ids),
        )
        .order_by(SkillSnapshot.month)
    ).all()
    if not rows:
        return Trend([], {cid: [] for cid in competence_ids})
    months = month_range(rows[0].month, rows[-1].month)
    position = {month: index for index, month in enumerate(months)}
    series: dict[int, list[Figure | None]] = {cid: [None] * len(months) for cid in competence_ids}
    exact_from = exact_share_from()
    for month, competence_id, with_target, at_target in rows:
        stored = with_target is not None and at_target is not None
        figure = Figure(with_target or 0, at_target or 0, minimum, withheld=not stored, exact_from=exact_from)
        series[competence_id][position[month]] = figure
    for competence_id, figures in series.items():
        now = (shown_now or {}).get(competence_id)
        _withhold_small_changes(figures, minimum, () if now is None else (now,))
    return Trend(months, series)


def _withhold_small_changes(figures: list[Figure | None], minimum: int, fixed: Iterable[int] = ()) -> None:
    counts = [f.people_with_target if f is not None and f.shown else None for f in figures]
    for index, keep in enumerate(disclosure.apart_enough(counts, minimum, fixed)):
        figure = figures[index]
        if figure is not None and figure.shown and not keep:
            figures[index] = replace(figure, withheld=True)
