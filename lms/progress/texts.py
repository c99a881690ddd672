"""The progress report's figures in words, once for the page and the PDF: never a colour alone,
never a small group, always a band."""

from __future__ import annotations

from flask_babel import format_date

from lms.common import disclosure
from lms.i18n import _
from lms.people.models import Department
from lms.strategy.models import StrategyTarget
from lms.strategy.services import Pace, PaceStatus


def band_text(band: int) -> str:
    low, high = band * 100 // disclosure.BANDS, (band + 1) * 100 // disclosure.BANDS
    if band == 0:
        return _("under %(percent)d %%", percent=high)
    if band == disclosure.BANDS - 1:
        return _("%(percent)d %% or more", percent=low)
    return _("%(low)d to under %(high)d %%", low=low, high=high)


def share_text(share: disclosure.Share | None, minimum: int, nothing: str = "–", answers: bool = False) -> str:
    """A share as the report shows it; `nothing` where there is no figure to give. `answers`: the
    group is a survey's answers (its minimum counts answers, not people)."""
    if share is None or share.state == disclosure.ShareState.EMPTY:
        return nothing
    if share.state == disclosure.ShareState.SMALL:
        if answers:
            return _("not shown: fewer than %(n)d answers", n=minimum)
        return _("not shown: fewer than %(n)d people", n=minimum)
    if share.state == disclosure.ShareState.WITHHELD:
        return _("not shown, so that a smaller group cannot be worked out")
    return band_text(share.band or 0)


def count_text(count: int, shown: bool, minimum: int) -> str:
    return str(count) if shown else _("fewer than %(n)d", n=minimum)


def unit_name(department: Department | None) -> str:
    if department is None:
        return _("The whole administration")
    return _("%(department)s, with its sub-departments", department=f"{department.code} {department.name}")


def target_title(target: StrategyTarget) -> str:
    return _(
        "%(share)d %% at level %(level)d or above in %(competence)s by %(deadline)s",
        share=target.share_percent,
        level=target.level,
        competence=f"{target.competence.code} {target.competence.t('title')}",
        deadline=format_date(target.deadline, "medium"),
    )


def pace_text(pace: Pace) -> str:
    """The pace as a verdict only: the projected percentage would be an exact share."""
    if pace.status == PaceStatus.ON_TRACK:
        return _("On track")
    if pace.status == PaceStatus.BEHIND:
        return _("Behind")
    return _("Not enough data")


def month_text(month: str) -> str:
    year, number = month.split("-")
    return f"{number}/{year}"
