"""Charts drawn on the server as SVG: the geometry here (pure functions), the drawing in
templates/_shared/dashboard_charts.html.j2. No JavaScript, readable at 360 pixels and on a desktop."""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.progress.months import add_months
from bot.storage import MilestoneEvent

__all__ = ["Chart", "cumulative_milestones", "line_chart", "months_back", "nice_axis", "sales_by_month"]

WIDTH, HEIGHT = 480, 230
LEFT, RIGHT, TOP, BOTTOM = 70, 10, 14, 34


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    title: str


@dataclass(frozen=True)
class Series:
    """A polyline with its dots; `key` picks the colour in the stylesheet."""

    key: str
    points: tuple[tuple[float, float, str], ...]  # x, y, tooltip

    @property
    def path(self) -> str:
        return " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in self.points)


@dataclass(frozen=True)
class Chart:
    """Everything a template needs to draw one chart in a WIDTH x HEIGHT view box."""

    width: int
    height: int
    bars: tuple[Bar, ...]
    lines: tuple[Series, ...]
    x_labels: tuple[tuple[float, str], ...]
    y_ticks: tuple[tuple[float, str], ...]
    empty: bool
    baseline: float
    left: float
    right: float


def months_back(current: date, count: int) -> list[date]:
    """`count` first-of-month dates ending with `current`, oldest first."""
    return [add_months(current, -n) for n in range(count - 1, -1, -1)]


def sales_by_month(
    sales: Iterable[Mapping[date, int]], months: Sequence[date]
) -> tuple[list[int | None], list[int | None]]:
    """(median, total) of the members' reported sales per month; None where nobody reported."""
    per_month: dict[date, list[int]] = {m: [] for m in months}
    for member in sales:
        for month, value in member.items():
            if month in per_month:
                per_month[month].append(value)
    medians = [int(statistics.median(v)) if v else None for v in per_month.values()]
    totals = [sum(v) if v else None for v in per_month.values()]
    return medians, totals


def cumulative_milestones(events: Iterable[MilestoneEvent], months: Sequence[date], timezone: str) -> list[int]:
    """Milestones done (member x milestone) at the end of each month, replaying every toggle."""
    zone = ZoneInfo(timezone)
    state: dict[tuple[int, str], bool] = {}
    ordered = sorted(events, key=lambda e: (e.at, e.id))
    counts, n = [], 0
    for month in months:
        end = datetime.combine(add_months(month, 1), datetime.min.time(), zone)
        while n < len(ordered) and ordered[n].at < end:
            state[(ordered[n].user_id, ordered[n].milestone_id)] = ordered[n].done
            n += 1
        counts.append(sum(state.values()))
    return counts


# Tops of the y axis as factor x 10^n, each with a tick count that gives round steps.
_TOPS = ((1, 5), (1.5, 3), (2, 4), (2.5, 5), (3, 3), (4, 4), (5, 5), (6, 3), (8, 4), (10, 5))


def nice_axis(value: float) -> tuple[float, int]:
    """A round top at or above `value` and how many equal steps lead to it (1, 2, 5... apart)."""
    if value <= 0:
        return 5, 5
    step = 10 ** (len(str(int(value))) - 1) if value >= 1 else 1
    for factor, ticks in _TOPS:
        if factor * step >= value:
            return factor * step, ticks
    return 10 * step, 5


def line_chart(
    x_labels: Sequence[str],
    *,
    bars: Sequence[int | None] = (),
    lines: Mapping[str, Sequence[int | None]] | None = None,
    fmt=str,  # type: ignore[no-untyped-def]
    integer: bool = False,
) -> Chart:
    """Bars (e.g. totals) and lines (e.g. medians) over the same months, on one shared axis."""
    lines = lines or {}
    values = [v for v in bars if v is not None] + [v for s in lines.values() for v in s if v is not None]
    top, ticks = nice_axis(max(values, default=0))
    if integer and top < ticks:  # counts: whole-number steps only
        top = ticks
    count = max(len(x_labels), 1)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / count
    base = TOP + plot_h

    def x_at(i: int) -> float:
        return LEFT + slot * (i + 0.5)

    def y_at(v: float) -> float:
        return base - plot_h * (v / top)

    drawn_bars = tuple(
        Bar(x_at(i) - slot * 0.35, y_at(v), slot * 0.7, base - y_at(v), f"{x_labels[i]}: {fmt(v)}")
        for i, v in enumerate(bars)
        if v is not None
    )
    drawn_lines = tuple(
        Series(key, tuple((x_at(i), y_at(v), f"{x_labels[i]}: {fmt(v)}") for i, v in enumerate(s) if v is not None))
        for key, s in lines.items()
    )
    every = max(1, -(-count // 5))  # at most ~5 month labels, so they fit at 360 px
    labels = tuple((x_at(i), text) for i, text in enumerate(x_labels) if (count - 1 - i) % every == 0)
    y_ticks = tuple((y_at(top * k / ticks), fmt(int(top * k / ticks))) for k in range(ticks + 1))
    return Chart(WIDTH, HEIGHT, drawn_bars, drawn_lines, labels, y_ticks, not values, base, LEFT, WIDTH - RIGHT)
