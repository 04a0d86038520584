"""UMKM size class under PP 7/2021 (Article 35) and annual sales from monthly records.

Thresholds, all "sampai dengan" (inclusive upper bound):

===========  ====================================  ===========================
class        business capital (excl. land, bldg.)   annual sales
===========  ====================================  ===========================
micro        up to Rp1 miliar                       up to Rp2 miliar
small        > Rp1 miliar up to Rp5 miliar          > Rp2 miliar up to Rp15 miliar
medium       > Rp5 miliar up to Rp10 miliar         > Rp15 miliar up to Rp50 miliar
large        above                                  above
===========  ====================================  ===========================
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from bot.progress.months import add_months

__all__ = [
    "AnnualSales",
    "Classification",
    "UmkmClass",
    "annual_sales_from_monthly",
    "classify",
]

_MILIAR = 1_000_000_000


class UmkmClass(StrEnum):
    """Size class (a str enum); compare with `order`, the values do not sort by size."""

    MICRO = "micro"
    SMALL = "small"
    MEDIUM = "medium"
    LARGE = "large"

    @property
    def order(self) -> int:
        """0 for micro up to 3 for large."""
        return _ORDER.index(self)

    @property
    def next_class(self) -> UmkmClass | None:
        """The class above this one, None for large."""
        index = self.order + 1
        return _ORDER[index] if index < len(_ORDER) else None


_ORDER = (UmkmClass.MICRO, UmkmClass.SMALL, UmkmClass.MEDIUM, UmkmClass.LARGE)

# Inclusive upper bounds per class; large has none.
CAPITAL_LIMITS: Mapping[UmkmClass, int] = {
    UmkmClass.MICRO: 1 * _MILIAR,
    UmkmClass.SMALL: 5 * _MILIAR,
    UmkmClass.MEDIUM: 10 * _MILIAR,
}
ANNUAL_SALES_LIMITS: Mapping[UmkmClass, int] = {
    UmkmClass.MICRO: 2 * _MILIAR,
    UmkmClass.SMALL: 15 * _MILIAR,
    UmkmClass.MEDIUM: 50 * _MILIAR,
}


@dataclass(frozen=True)
class Classification:
    """Result of `classify`; `*_to_next` are rupiah still needed to reach `next_class`."""

    cls: UmkmClass
    by_sales: UmkmClass | None
    by_capital: UmkmClass | None
    next_class: UmkmClass | None
    sales_to_next: int | None
    capital_to_next: int | None


@dataclass(frozen=True)
class AnnualSales:
    """Sales over the 12 months `window_start`..`window_end` (first days, inclusive)."""

    total: int
    months_used: int
    estimated: bool
    window_start: date
    window_end: date


def _class_for(value: int, limits: Mapping[UmkmClass, int]) -> UmkmClass:
    for cls in _ORDER:
        limit = limits.get(cls)
        if limit is None or value <= limit:
            return cls
    raise AssertionError("LARGE has no limit")  # pragma: no cover


def _to_reach(
    target: UmkmClass | None, value: int | None, limits: Mapping[UmkmClass, int]
) -> int | None:
    """Rupiah to add to `value` to pass the limit of the class just below `target`."""
    if target is None or value is None:
        return None
    # `target` is the class above the overall class, so `value` is never past this limit.
    return limits[_ORDER[target.order - 1]] + 1 - value


def classify(annual_sales: int | None, capital: int | None) -> Classification:
    """Classify a business by annual sales and/or business capital (rupiah).

    When both are known the class is the higher of the two. PP 7/2021 uses capital for
    businesses at registration and annual sales for facilitation afterwards; the bot
    reports both and counts growth on either, so a business that has outgrown micro on
    one criterion is shown as small. `sales_to_next` / `capital_to_next` are measured
    against the class above that overall class. Raises ValueError when both are None or
    either is negative (a caller bug: user input is validated by `parse_amount`).
    """
    if annual_sales is None and capital is None:
        raise ValueError("classify needs annual_sales or capital")
    if (annual_sales is not None and annual_sales < 0) or (capital is not None and capital < 0):
        raise ValueError("annual_sales and capital must not be negative")
    by_sales = None if annual_sales is None else _class_for(annual_sales, ANNUAL_SALES_LIMITS)
    by_capital = None if capital is None else _class_for(capital, CAPITAL_LIMITS)
    cls = max((c for c in (by_sales, by_capital) if c is not None), key=lambda c: c.order)
    next_class = cls.next_class
    return Classification(
        cls=cls,
        by_sales=by_sales,
        by_capital=by_capital,
        next_class=next_class,
        sales_to_next=_to_reach(next_class, annual_sales, ANNUAL_SALES_LIMITS),
        capital_to_next=_to_reach(next_class, capital, CAPITAL_LIMITS),
    )


def annual_sales_from_monthly(months: Mapping[date, int], as_of: date) -> AnnualSales:
    """Annual sales over the 12 months ending with the month of `as_of` (inclusive).

    Keys may be any day of their month; months outside the window are ignored. With
    fewer than 12 months recorded the average month is multiplied by 12 (rounded to the
    nearest rupiah) and `estimated` is True. Raises ValueError when no month falls in
    the window, when two keys name the same month, or on a negative value.
    """
    window_end = as_of.replace(day=1)
    window_start = add_months(window_end, -11)
    in_window: dict[date, int] = {}
    for day, value in months.items():
        month = day.replace(day=1)
        if not window_start <= month <= window_end:
            continue
        if value < 0:
            raise ValueError(f"negative sales for {month:%Y-%m}")
        if month in in_window:
            raise ValueError(f"two entries for {month:%Y-%m}")
        in_window[month] = value
    used = len(in_window)
    if used == 0:
        raise ValueError(f"no monthly sales between {window_start:%Y-%m} and {window_end:%Y-%m}")
    recorded = sum(in_window.values())
    # Integer half-up rounding keeps rupiah exact (no float error on large sums).
    total = recorded if used == 12 else (recorded * 12 * 2 + used) // (2 * used)
    return AnnualSales(
        total=total,
        months_used=used,
        estimated=used < 12,
        window_start=window_start,
        window_end=window_end,
    )
