"""HR's gap overview: share of people at or above target, per department and job role, and its trend."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import Blueprint, render_template, request
from flask_babel import format_date

from lms.common.access import roles_required
from lms.common.vocabulary import Role
from lms.frameworks.models import Competence
from lms.gaps import services as gaps

bp = Blueprint("gaps", __name__, url_prefix="/gaps")

# Heat map steps (Figure.step): a symbol besides the colour, so the step never depends on colour alone.
SYMBOLS = ("○", "◔", "◑", "◕", "●")


@bp.get("/")
@roles_required(Role.HR)
def overview():
    by = request.args.get("by", gaps.DEPARTMENT)
    if by not in (gaps.DEPARTMENT, gaps.JOB_ROLE):
        by = gaps.DEPARTMENT
    data = gaps.overview(by=by, area_code=request.args.get("area") or None)
    shown_now = {cid: f.people_with_target for cid, f in data.total.figures.items() if f.shown}
    trend = gaps.trend(gaps.ALL, 0, [c.id for c in data.competences], data.minimum, shown_now)
    months = {month: month_label(month) for month in trend.months}
    # A line chart is readable for one area's few competences; with every area the table alone is clearer.
    chart = trend_chart(trend, data.competences, months) if data.area and len(trend.months) > 1 else None
    return render_template("gaps/overview.html", data=data, trend=trend, months=months, chart=chart, symbols=SYMBOLS)


def month_label(month: str) -> str:
    year, number = map(int, month.split("-"))
    return format_date(date(year, number, 1), "LLL yyyy")


# --- the trend as an SVG line chart (the same numbers are in the table below it) -------------


@dataclass
class ChartPoint:
    x: float
    y: float
    label: str


@dataclass
class ChartLine:
    competence: Competence
    style: int  # 0–5: a stroke pattern and marker in skills.css, besides the colour
    segments: list[str]  # "x,y x,y ..." for each run of months with a shown figure
    points: list[ChartPoint]
    end: ChartPoint | None  # where the competence code is written


@dataclass
class Chart:
    width: int
    height: int
    left: int
    top: int
    bottom: int
    right: int
    lines: list[ChartLine]
    y_ticks: list[tuple[float, int]]  # (y, percent)
    x_ticks: list[tuple[float, str]]  # (x, month label)


def trend_chart(
    trend: gaps.Trend, competences: list[Competence], labels: dict[str, str], width: int = 720, height: int = 280
) -> Chart:
    left, right, top, bottom = 48, width - 56, 16, height - 40
    count = len(trend.months)

    def x_of(index: int) -> float:
        return round(left + (right - left) * index / max(count - 1, 1), 1)

    def y_of(percent: int) -> float:
        return round(bottom - (bottom - top) * percent / 100, 1)

    lines = []
    for number, competence in enumerate(competences):
        segments: list[str] = []
        run: list[str] = []
        points: list[ChartPoint] = []
        for index, figure in enumerate(trend.series.get(competence.id, [])):
            if figure is None or not figure.shown or figure.percent is None:  # suppressed or missing: a gap
                if len(run) > 1:
                    segments.append(" ".join(run))
                run = []
                continue
            point = ChartPoint(
                x_of(index),
                y_of(figure.percent),
                f"{competence.code}, {labels[trend.months[index]]}: {figure.percent} %",
            )
            points.append(point)
            run.append(f"{point.x},{point.y}")
        if len(run) > 1:  # a lone month is only its dot
            segments.append(" ".join(run))
        lines.append(ChartLine(competence, number % 6, segments, points, points[-1] if points else None))
    step = max(1, -(-count // 8))  # at most about eight month labels, counted back from the latest
    x_ticks = [(x_of(i), labels[m]) for i, m in enumerate(trend.months) if (count - 1 - i) % step == 0]
    return Chart(width, height, left, top, bottom, right, lines, [(y_of(p), p) for p in (0, 25, 50, 75, 100)], x_ticks)
