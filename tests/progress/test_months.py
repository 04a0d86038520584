"""Reading the month a progress entry is for, against a fixed today."""

from __future__ import annotations

from datetime import date

import pytest

from bot.progress.errors import MonthError
from bot.progress.months import add_months, parse_month

TODAY = date(2026, 11, 23)
EARLY_IN_YEAR = date(2026, 3, 5)

VALID = [
    (None, date(2026, 11, 1)),
    ("", date(2026, 11, 1)),
    ("  ", date(2026, 11, 1)),
    ("bulan ini", date(2026, 11, 1)),
    ("Bulan  Ini", date(2026, 11, 1)),
    ("this month", date(2026, 11, 1)),
    ("bulan lalu", date(2026, 10, 1)),
    ("bln kemarin", date(2026, 10, 1)),
    ("last month", date(2026, 10, 1)),
    ("sebulan yang lalu", date(2026, 10, 1)),
    ("2 bulan lalu", date(2026, 9, 1)),
    ("2bln lalu", date(2026, 9, 1)),
    ("dua bulan yang lalu", date(2026, 9, 1)),
    ("11 bulan lalu", date(2025, 12, 1)),
    ("0 bulan lalu", date(2026, 11, 1)),
    ("3 months ago", date(2026, 8, 1)),
    ("Mei 2026", date(2026, 5, 1)),
    ("mei 26", date(2026, 5, 1)),
    ("Mei '26", date(2026, 5, 1)),
    ("mei-2025", date(2025, 5, 1)),
    ("Agustus, 2024", date(2024, 8, 1)),
    ("okt 2026", date(2026, 10, 1)),
    ("Nov 2026", date(2026, 11, 1)),
    ("des 2025", date(2025, 12, 1)),
    ("Pebruari 2026", date(2026, 2, 1)),
    ("mei", date(2026, 5, 1)),
    ("November", date(2026, 11, 1)),
    ("Desember", date(2025, 12, 1)),  # this year's December has not come yet
    ("May 2026", date(2026, 5, 1)),
    ("december 2025", date(2025, 12, 1)),
    ("Sept. 2026", date(2026, 9, 1)),
    ("05/2026", date(2026, 5, 1)),
    ("5-2026", date(2026, 5, 1)),
    ("5/26", date(2026, 5, 1)),
    ("2026-05", date(2026, 5, 1)),
    ("2026/5", date(2026, 5, 1)),
    ("01/2000", date(2000, 1, 1)),
]

INVALID = [
    ("bulan depan", "future"),
    ("Desember 2026", "future"),
    ("mei 27", "future"),
    ("2027-01", "future"),
    ("12/2026", "future"),
    ("Des 1999", "too_old"),
    ("12/1999", "too_old"),
    ("400 bulan lalu", "too_old"),
    ("999999999 bulan lalu", "too_old"),
    ("kemarin sore", "unknown"),
    ("mei 5", "unknown"),
    ("13/2026", "unknown"),
    ("0/2026", "unknown"),
    ("2026-13", "unknown"),
    ("2026", "unknown"),
    ("bulan", "unknown"),
    ("banyak bulan lalu", "unknown"),
    ("-2 bulan lalu", "unknown"),
    ("maybe", "unknown"),
]


@pytest.mark.parametrize(("text", "expected"), VALID)
def test_parse_month_valid(text: str | None, expected: date) -> None:
    assert parse_month(text, TODAY) == expected


@pytest.mark.parametrize(("text", "code"), INVALID)
def test_parse_month_invalid(text: str, code: str) -> None:
    with pytest.raises(MonthError) as caught:
        parse_month(text, TODAY)
    assert caught.value.code == code
    assert caught.value.text == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mei", date(2025, 5, 1)),  # May 2026 is still ahead on 5 March 2026
        ("maret", date(2026, 3, 1)),
        ("jan", date(2026, 1, 1)),
        ("bulan lalu", date(2026, 2, 1)),
        ("3 bulan lalu", date(2025, 12, 1)),
    ],
)
def test_month_without_year_early_in_year(text: str, expected: date) -> None:
    assert parse_month(text, EARLY_IN_YEAR) == expected


def test_month_before_2000_via_months_ago() -> None:
    with pytest.raises(MonthError) as caught:
        parse_month("2 bulan lalu", date(2000, 1, 10))
    assert caught.value.code == "too_old"


@pytest.mark.parametrize(
    ("start", "delta", "expected"),
    [
        (date(2026, 1, 1), -1, date(2025, 12, 1)),
        (date(2026, 12, 15), 1, date(2027, 1, 1)),
        (date(2026, 5, 31), -17, date(2024, 12, 1)),
        (date(2026, 5, 1), 0, date(2026, 5, 1)),
    ],
)
def test_add_months(start: date, delta: int, expected: date) -> None:
    assert add_months(start, delta) == expected
