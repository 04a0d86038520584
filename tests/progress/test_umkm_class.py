"""UMKM class boundaries (PP 7/2021) and annual sales from monthly records."""

from __future__ import annotations

from datetime import date

import pytest

from bot.progress.months import add_months
from bot.progress.umkm_class import (
    UmkmClass,
    annual_sales_from_monthly,
    classify,
)

MILIAR = 1_000_000_000
MICRO, SMALL, MEDIUM, LARGE = UmkmClass.MICRO, UmkmClass.SMALL, UmkmClass.MEDIUM, UmkmClass.LARGE


@pytest.mark.parametrize(
    ("sales", "expected"),
    [
        (0, MICRO),
        (2 * MILIAR, MICRO),  # "sampai dengan": the top is inclusive
        (2 * MILIAR + 1, SMALL),
        (15 * MILIAR, SMALL),
        (15 * MILIAR + 1, MEDIUM),
        (50 * MILIAR, MEDIUM),
        (50 * MILIAR + 1, LARGE),
    ],
)
def test_class_by_annual_sales_boundaries(sales: int, expected: UmkmClass) -> None:
    result = classify(sales, None)
    assert result.by_sales is expected
    assert result.cls is expected
    assert result.by_capital is None
    assert result.capital_to_next is None


@pytest.mark.parametrize(
    ("capital", "expected"),
    [
        (0, MICRO),
        (1 * MILIAR, MICRO),
        (1 * MILIAR + 1, SMALL),
        (5 * MILIAR, SMALL),
        (5 * MILIAR + 1, MEDIUM),
        (10 * MILIAR, MEDIUM),
        (10 * MILIAR + 1, LARGE),
    ],
)
def test_class_by_capital_boundaries(capital: int, expected: UmkmClass) -> None:
    result = classify(None, capital)
    assert result.by_capital is expected
    assert result.cls is expected
    assert result.sales_to_next is None


@pytest.mark.parametrize(
    ("sales", "expected_next", "expected_gap"),
    [
        (0, SMALL, 2 * MILIAR + 1),
        (2 * MILIAR, SMALL, 1),
        (1_500_000_000, SMALL, 500_000_001),
        (2 * MILIAR + 1, MEDIUM, 13 * MILIAR),
        (50 * MILIAR, LARGE, 1),
        (50 * MILIAR + 1, None, None),
    ],
)
def test_sales_to_next(
    sales: int, expected_next: UmkmClass | None, expected_gap: int | None
) -> None:
    result = classify(sales, None)
    assert result.next_class is expected_next
    assert result.sales_to_next == expected_gap
    if expected_gap is not None:
        # Adding the gap really does reach the next class.
        assert classify(sales + expected_gap, None).cls is expected_next


def test_higher_criterion_wins_and_gaps_target_the_next_overall_class() -> None:
    result = classify(annual_sales=500_000_000, capital=3 * MILIAR)
    assert (result.by_sales, result.by_capital, result.cls) == (MICRO, SMALL, SMALL)
    assert result.next_class is MEDIUM
    assert result.capital_to_next == 2 * MILIAR + 1
    # Sales must pass the small ceiling, not just the micro one, to reach medium.
    assert result.sales_to_next == 15 * MILIAR + 1 - 500_000_000


def test_large_on_either_criterion_is_large() -> None:
    result = classify(annual_sales=100, capital=20 * MILIAR)
    assert result.cls is LARGE
    assert result.next_class is None
    assert (result.sales_to_next, result.capital_to_next) == (None, None)


def test_class_order_and_next() -> None:
    assert [c.order for c in (MICRO, SMALL, MEDIUM, LARGE)] == [0, 1, 2, 3]
    assert MICRO.next_class is SMALL
    assert LARGE.next_class is None
    assert MICRO == "micro"  # stored as text


@pytest.mark.parametrize(("sales", "capital"), [(None, None), (-1, None), (None, -5)])
def test_classify_rejects_bad_input(sales: int | None, capital: int | None) -> None:
    with pytest.raises(ValueError):
        classify(sales, capital)


AS_OF = date(2026, 11, 23)


def _months(start: date, values: list[int]) -> dict[date, int]:
    return {add_months(start, i): value for i, value in enumerate(values)}


def test_full_year_is_summed_and_older_or_future_months_ignored() -> None:
    months = _months(date(2025, 12, 1), [1_000_000 * (i + 1) for i in range(12)])
    months[date(2025, 11, 1)] = 999_999_999  # 13 months back: outside the window
    months[date(2026, 12, 1)] = 999_999_999  # after as_of
    result = annual_sales_from_monthly(months, AS_OF)
    assert result.total == 78_000_000
    assert (result.months_used, result.estimated) == (12, False)
    assert (result.window_start, result.window_end) == (date(2025, 12, 1), date(2026, 11, 1))


def test_partial_year_is_annualised_and_flagged() -> None:
    months = _months(date(2026, 7, 1), [1_000_000, 2_000_000, 3_000_000])
    result = annual_sales_from_monthly(months, AS_OF)
    assert result.total == 24_000_000  # average 2 jt x 12
    assert (result.months_used, result.estimated) == (3, True)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([0] * 6 + [100], 171),  # 100 / 7 x 12 = 171,43
        ([0] * 7 + [101], 152),  # 101 / 8 x 12 = 151,5 -> half up
    ],
)
def test_annualised_total_rounds_half_up_to_whole_rupiah(values: list[int], expected: int) -> None:
    months = _months(add_months(date(2026, 11, 1), -(len(values) - 1)), values)
    assert annual_sales_from_monthly(months, AS_OF).total == expected


def test_any_day_of_month_counts_for_that_month() -> None:
    result = annual_sales_from_monthly({date(2026, 11, 30): 5_000_000}, date(2026, 11, 1))
    assert (result.total, result.months_used) == (60_000_000, 1)


def test_estimate_can_cross_a_class_boundary() -> None:
    # Rp170 jt a month for 6 months annualises to Rp2,04 M: small by sales.
    months = _months(date(2026, 6, 1), [170_000_000] * 6)
    annual = annual_sales_from_monthly(months, AS_OF)
    assert annual.total == 2_040_000_000
    assert classify(annual.total, None).cls is SMALL


@pytest.mark.parametrize(
    "months",
    [
        {},
        {date(2020, 1, 1): 5},
        {date(2026, 11, 1): -1},
        {date(2026, 11, 1): 1, date(2026, 11, 15): 2},
    ],
)
def test_annual_sales_rejects_unusable_data(months: dict[date, int]) -> None:
    with pytest.raises(ValueError):
        annual_sales_from_monthly(months, AS_OF)
