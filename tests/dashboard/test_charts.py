"""The SVG charts' numbers: medians and totals per month, milestones replayed over time, axes."""

from __future__ import annotations

from datetime import UTC, date, datetime

from bot.dashboard.charts import (
    HEIGHT,
    WIDTH,
    cumulative_milestones,
    line_chart,
    months_back,
    nice_axis,
    sales_by_month,
)
from bot.storage import MilestoneEvent

MONTHS = months_back(date(2026, 11, 1), 3)


def test_months_back_ends_with_the_current_month() -> None:
    assert [date(2026, 9, 1), date(2026, 10, 1), date(2026, 11, 1)] == MONTHS
    assert months_back(date(2026, 1, 1), 2) == [date(2025, 12, 1), date(2026, 1, 1)]


def test_median_and_total_count_only_members_who_reported() -> None:
    sales = [
        {date(2026, 9, 1): 1_000_000, date(2026, 11, 1): 3_000_000},
        {date(2026, 11, 1): 2_000_000, date(2026, 8, 1): 9_000_000},  # August is outside the chart
        {date(2026, 11, 1): 10_000_000},
        {},
    ]
    medians, totals = sales_by_month(sales, MONTHS)
    assert medians == [1_000_000, None, 3_000_000]
    assert totals == [1_000_000, None, 15_000_000]


def _event(n: int, user: int, milestone: str, done: bool, at: datetime) -> MilestoneEvent:
    return MilestoneEvent(id=n, user_id=user, milestone_id=milestone, done=done, at=at)


def test_milestones_are_replayed_to_each_month_end_in_the_cohort_zone() -> None:
    events = [
        _event(1, 1, "nib", True, datetime(2026, 9, 10, tzinfo=UTC)),
        _event(2, 2, "nib", True, datetime(2026, 10, 2, tzinfo=UTC)),
        _event(3, 1, "nib", False, datetime(2026, 10, 20, tzinfo=UTC)),  # unticked again
        # 31 Oct 18:00 UTC is already 1 Nov 01:00 in Jakarta: it counts for November
        _event(4, 1, "qris", True, datetime(2026, 10, 31, 18, 0, tzinfo=UTC)),
    ]
    assert cumulative_milestones(events, MONTHS, "Asia/Jakarta") == [1, 1, 2]
    assert cumulative_milestones(events, MONTHS, "UTC") == [1, 2, 2]


def test_axes_are_round_and_everything_is_inside_the_view_box() -> None:
    assert nice_axis(2_500_000) == (2_500_000, 5)
    assert nice_axis(2_600_000) == (3_000_000, 3)
    assert nice_axis(0) == (5, 5)
    chart = line_chart(["Sep", "Okt", "Nov"], bars=[1_000_000, None, 15_000_000], lines={"median": [1, None, 3_000_000]})
    assert [t for _, t in chart.y_ticks] == ["0", "5000000", "10000000", "15000000"]
    for bar in chart.bars:
        assert bar.x >= 0 and bar.x + bar.width <= WIDTH and bar.y >= 0 and bar.y + bar.height <= HEIGHT
    [line] = chart.lines
    assert len(line.points) == 2 and all(0 <= x <= WIDTH and 0 <= y <= HEIGHT for x, y, _ in line.points)
    counts = line_chart(["a", "b"], lines={"milestones": [0, 1]}, integer=True)
    assert [t for _, t in counts.y_ticks] == ["0", "1", "2", "3", "4", "5"]
    assert line_chart(["a"], bars=[None]).empty
