"""Monthly sales bar chart as a PNG sized for a phone screen, plus rupiah formatting.

Uses `matplotlib.figure.Figure` with an explicit Agg canvas, never `pyplot`: pyplot keeps
global figures and state that would leak between requests in a long-running bot.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from bot.progress.months import add_months

__all__ = [
    "CHART_SIZE_PX",
    "INDONESIAN_MONTH_ABBR",
    "ChartLabels",
    "format_rupiah",
    "format_rupiah_short",
    "month_label",
    "monthly_series",
    "render_sales_chart",
]

# Default data for `ChartLabels.month_abbr`; the caller may pass another language.
INDONESIAN_MONTH_ABBR: tuple[str, ...] = (
    "Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des",
)  # fmt: skip

# 3:2 landscape fills a phone chat bubble and Telegram does not downscale it much.
CHART_SIZE_PX = (1080, 720)
_DPI = 100

# Short units as written in Indonesian business talk: ribu, juta, miliar (M), triliun (T).
_SHORT_UNITS: tuple[tuple[int, str], ...] = (
    (1_000_000_000_000, "T"),
    (1_000_000_000, "M"),
    (1_000_000, "jt"),
    (1_000, "rb"),
)

_BAR_COLOR = "#2e7d32"
_LATEST_BAR_COLOR = "#1b5e20"
_TEXT_COLOR = "#212121"


@dataclass(frozen=True)
class ChartLabels:
    """Texts drawn on the chart, filled by the caller from templates."""

    title: str
    y_label: str
    month_abbr: tuple[str, ...] = INDONESIAN_MONTH_ABBR

    def __post_init__(self) -> None:
        if len(self.month_abbr) != 12:
            raise ValueError(f"month_abbr needs 12 entries, got {len(self.month_abbr)}")


def _indonesian_digits(number: Decimal | int, decimals: int) -> str:
    """'.' for thousands, ',' for decimals, trailing zero decimals dropped."""
    text = f"{number:,.{decimals}f}"
    if decimals:
        text = text.rstrip("0").rstrip(".")
    return text.translate(str.maketrans({",": ".", ".": ","}))


def format_rupiah(value: int) -> str:
    """Full amount: 2500000 -> "Rp2.500.000", -1500 -> "-Rp1.500"."""
    sign = "-" if value < 0 else ""
    return f"{sign}Rp{_indonesian_digits(abs(value), 0)}"


def format_rupiah_short(value: int, decimals: int = 1) -> str:
    """Compact amount: "Rp2,5 jt", "Rp750 rb", "Rp1,2 M", "Rp500".

    Rounds half up to `decimals` places and moves to the next unit when rounding
    reaches 1000 (999_999 -> "Rp1 jt", not "Rp1.000 rb").
    """
    sign = "-" if value < 0 else ""
    magnitude = abs(value)
    step = Decimal(1).scaleb(-decimals)
    chosen: tuple[Decimal, str] | None = None
    # Smallest unit first; a bigger unit is only tried when rounding reached 1000.
    for unit, suffix in reversed(_SHORT_UNITS):
        if magnitude < unit and chosen is None:
            break
        chosen = ((Decimal(magnitude) / unit).quantize(step, ROUND_HALF_UP), suffix)
        if chosen[0] < 1000:
            break
    if chosen is None:
        return f"{sign}Rp{_indonesian_digits(magnitude, 0)}"
    number, suffix = chosen
    return f"{sign}Rp{_indonesian_digits(number, decimals)} {suffix}"


def month_label(month: date, month_abbr: Sequence[str] = INDONESIAN_MONTH_ABBR) -> str:
    """Axis label such as "Mei 26"."""
    return f"{month_abbr[month.month - 1]} {month.year % 100:02d}"


def monthly_series(
    points: Sequence[tuple[date, int]], max_months: int = 12
) -> list[tuple[date, int | None]]:
    """Consecutive months from the first to the last point, at most the last `max_months`.

    Months without a record are None so the chart shows a gap rather than hiding it.
    Raises ValueError when `points` is empty or names a month twice.
    """
    if not points:
        raise ValueError("no points to chart")
    if max_months < 1:
        raise ValueError("max_months must be at least 1")
    by_month: dict[date, int] = {}
    for day, value in points:
        month = day.replace(day=1)
        if month in by_month:
            raise ValueError(f"two points for {month:%Y-%m}")
        by_month[month] = value
    last = max(by_month)
    first = max(min(by_month), add_months(last, -(max_months - 1)))
    series: list[tuple[date, int | None]] = []
    month = first
    while month <= last:
        series.append((month, by_month.get(month)))
        month = add_months(month, 1)
    return series


def render_sales_chart(
    points: Sequence[tuple[date, int]], labels: ChartLabels, *, max_months: int = 12
) -> bytes:
    """PNG bar chart (1080x720 px) of monthly sales, newest month highlighted.

    Raises ValueError on empty `points` (the caller shows a message instead).
    """
    series = monthly_series(points, max_months)
    positions = range(len(series))
    heights = [value or 0 for _, value in series]

    figure = Figure(figsize=(CHART_SIZE_PX[0] / _DPI, CHART_SIZE_PX[1] / _DPI), dpi=_DPI)
    FigureCanvasAgg(figure)
    figure.set_layout_engine("constrained")
    axes = figure.add_subplot()

    colors = [_BAR_COLOR] * len(series)
    colors[-1] = _LATEST_BAR_COLOR
    bars = axes.bar(positions, heights, color=colors, width=0.7)
    # Value on each recorded bar: people read their own figure, not the axis.
    bar_texts = ["" if value is None else format_rupiah_short(value) for _, value in series]
    label_size = 16 if len(series) <= 6 else 12
    axes.bar_label(bars, labels=bar_texts, padding=4, fontsize=label_size, color=_TEXT_COLOR)

    axes.set_title(labels.title, fontsize=28, color=_TEXT_COLOR, pad=16)
    axes.set_ylabel(labels.y_label, fontsize=20, color=_TEXT_COLOR)
    axes.set_xticks(list(positions), [month_label(m, labels.month_abbr) for m, _ in series])
    axes.tick_params(axis="both", labelsize=18 if len(series) <= 8 else 15, colors=_TEXT_COLOR)
    axes.yaxis.set_major_locator(MaxNLocator(nbins=5, steps=[1, 2, 2.5, 5, 10]))
    # Two decimals on the axis so ticks like 1,25 jt are not shown rounded to 1,3 jt.
    axes.yaxis.set_major_formatter(
        FuncFormatter(lambda tick, _pos: format_rupiah_short(round(tick), decimals=2))
    )
    # Headroom for the value labels; 1000 keeps a sensible axis when every month is 0.
    axes.set_ylim(0, max(max(heights) * 1.15, 1000))
    axes.grid(axis="y", alpha=0.3)
    axes.set_axisbelow(True)
    axes.spines[["top", "right"]].set_visible(False)

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=_DPI)
    return buffer.getvalue()
