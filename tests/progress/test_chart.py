"""Sales chart PNG and rupiah formatting."""

from __future__ import annotations

import io
import subprocess
import sys
from datetime import date

import pytest
from PIL import Image

from bot.progress.chart import (
    CHART_SIZE_PX,
    INDONESIAN_MONTH_ABBR,
    ChartLabels,
    format_rupiah,
    format_rupiah_short,
    month_label,
    monthly_series,
    render_sales_chart,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
LABELS = ChartLabels(title="Omzet bulanan", y_label="Omzet")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, "Rp0"),
        (500, "Rp500"),
        (1_000, "Rp1.000"),
        (2_500_000, "Rp2.500.000"),
        (1_200_000_000, "Rp1.200.000.000"),
        (-1_500, "-Rp1.500"),
    ],
)
def test_format_rupiah(value: int, expected: str) -> None:
    assert format_rupiah(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, "Rp0"),
        (999, "Rp999"),
        (1_000, "Rp1 rb"),
        (1_500, "Rp1,5 rb"),
        (750_000, "Rp750 rb"),
        (999_999, "Rp1 jt"),  # rounding moves up a unit, never "Rp1.000 rb"
        (2_000_000, "Rp2 jt"),
        (2_500_000, "Rp2,5 jt"),
        (2_540_000, "Rp2,5 jt"),
        (2_550_000, "Rp2,6 jt"),  # half up
        (125_000_000, "Rp125 jt"),
        (999_950_000, "Rp1 M"),
        (1_200_000_000, "Rp1,2 M"),
        (3_000_000_000_000, "Rp3 T"),
        (2_000_000_000_000_000, "Rp2.000 T"),
        (-2_500_000, "-Rp2,5 jt"),
    ],
)
def test_format_rupiah_short(value: int, expected: str) -> None:
    assert format_rupiah_short(value) == expected


def test_format_rupiah_short_more_decimals_for_axis_ticks() -> None:
    assert format_rupiah_short(1_250_000, decimals=2) == "Rp1,25 jt"
    assert format_rupiah_short(1_250_000) == "Rp1,3 jt"


@pytest.mark.parametrize(
    ("month", "expected"),
    [(date(2026, 5, 1), "Mei 26"), (date(2025, 8, 17), "Agu 25"), (date(2009, 12, 1), "Des 09")],
)
def test_month_label(month: date, expected: str) -> None:
    assert month_label(month) == expected


def test_month_label_uses_given_abbreviations() -> None:
    english = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
    assert month_label(date(2026, 5, 1), english) == "May 26"


def test_series_fills_gaps_and_keeps_last_months() -> None:
    points = [(date(2026, 3, 1), 3), (date(2026, 1, 15), 1), (date(2026, 4, 1), 4)]
    assert monthly_series(points) == [
        (date(2026, 1, 1), 1),
        (date(2026, 2, 1), None),
        (date(2026, 3, 1), 3),
        (date(2026, 4, 1), 4),
    ]
    assert [m for m, _ in monthly_series(points, max_months=2)] == [
        date(2026, 3, 1),
        date(2026, 4, 1),
    ]


def test_series_rejects_duplicate_month() -> None:
    with pytest.raises(ValueError, match="2026-03"):
        monthly_series([(date(2026, 3, 1), 1), (date(2026, 3, 20), 2)])


def test_render_returns_png_of_phone_size() -> None:
    points = [(date(2025, 12, 1), 1_500_000), (date(2026, 1, 1), 2_250_000)]
    points += [(date(2026, m, 1), 1_000_000 * m) for m in range(3, 12)]
    png = render_sales_chart(points, LABELS)
    assert png.startswith(PNG_SIGNATURE)
    with Image.open(io.BytesIO(png)) as image:
        assert image.format == "PNG"
        assert image.size == CHART_SIZE_PX == (1080, 720)
        # Not a blank canvas: bars and text add colours beyond the white background.
        assert len(image.convert("RGB").getcolors(maxcolors=100_000) or []) > 10


def test_render_single_zero_month() -> None:
    png = render_sales_chart([(date(2026, 5, 1), 0)], LABELS)
    with Image.open(io.BytesIO(png)) as image:
        assert image.size == CHART_SIZE_PX


def test_render_depends_on_data() -> None:
    first = render_sales_chart([(date(2026, 5, 1), 2_000_000)], LABELS)
    second = render_sales_chart([(date(2026, 5, 1), 2_000_000)], LABELS)
    other = render_sales_chart([(date(2026, 5, 1), 9_000_000)], LABELS)
    assert first == second  # no state leaks from one call into the next
    assert first != other


def test_render_empty_points_raises() -> None:
    with pytest.raises(ValueError):
        render_sales_chart([], LABELS)


def test_labels_need_twelve_months() -> None:
    assert len(INDONESIAN_MONTH_ABBR) == 12
    with pytest.raises(ValueError, match="12"):
        ChartLabels(title="t", y_label="y", month_abbr=("Jan", "Feb"))


def test_module_does_not_use_pyplot() -> None:
    # pyplot keeps global figures; importing and rendering must not load it.
    code = (
        "import sys, datetime\n"
        "from bot.progress.chart import ChartLabels, render_sales_chart\n"
        "render_sales_chart([(datetime.date(2026, 5, 1), 1)], ChartLabels('t', 'y'))\n"
        "assert 'matplotlib.pyplot' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
