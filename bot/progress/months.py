"""Read which month a progress entry is for ("bulan lalu", "Mei 2026", "05/2026").

Written by hand rather than with dateutil: its parser knows no Indonesian month names and
reads "mei 26" as the 26th of May, whereas here "26" is the year 2026.
"""

from __future__ import annotations

import re
from datetime import date

from bot.progress.errors import AmountError, MonthError
from bot.progress.numbers import parse_count

__all__ = ["EARLIEST_MONTH", "MONTH_NAMES", "MonthError", "add_months", "parse_month"]

# Progress before 2000 is not something the bot records; older years are typos.
EARLIEST_MONTH = date(2000, 1, 1)

# Indonesian and English names, common abbreviations and old spellings, lower case.
MONTH_NAMES: dict[str, int] = {
    "januari": 1, "january": 1, "jan": 1,
    "februari": 2, "pebruari": 2, "february": 2, "feb": 2, "peb": 2,
    "maret": 3, "march": 3, "mar": 3,
    "april": 4, "apr": 4,
    "mei": 5, "may": 5,
    "juni": 6, "june": 6, "jun": 6,
    "juli": 7, "july": 7, "jul": 7,
    "agustus": 8, "august": 8, "agu": 8, "agt": 8, "ags": 8, "agus": 8, "aug": 8,
    "september": 9, "sep": 9, "sept": 9,
    "oktober": 10, "october": 10, "okt": 10, "oct": 10,
    "november": 11, "nopember": 11, "nov": 11, "nop": 11,
    "desember": 12, "december": 12, "des": 12, "dec": 12,
}  # fmt: skip

_THIS_MONTH = frozenset({"bulan ini", "bln ini", "this month", "sekarang", "now"})
_LAST_MONTH = frozenset(
    {"bulan lalu", "bln lalu", "bulan kemarin", "bln kemarin", "bulan kemaren", "last month"}
)
_NEXT_MONTH = frozenset({"bulan depan", "bln depan", "next month"})
# The same month a year ago (a monthly figure "tahun lalu" is this month last year).
_LAST_YEAR = frozenset(
    {"tahun lalu", "thn lalu", "th lalu", "setahun lalu", "setahun yang lalu", "last year", "a year ago"}
)

_MONTHS_AGO = re.compile(
    r"(?P<n>.+?)\s*(?:bulan|bln)\s+(?:yang\s+|yg\s+)?(?:lalu|kemarin|kemaren|sebelumnya)"
    r"|(?P<n_en>.+?)\s+months?\s+ago"
)
_SE_BULAN_AGO = re.compile(r"sebulan\s+(?:yang\s+|yg\s+)?(?:lalu|kemarin|kemaren)|a month ago")
_NAME_YEAR = re.compile(r"(?P<name>[a-z]+)\.?(?:[\s,/-]*'?(?P<year>\d{4}|\d{2}))?")
_MONTH_YEAR = re.compile(r"(?P<month>\d{1,2})\s*[/.\-]\s*(?P<year>\d{4}|\d{2})")
_YEAR_MONTH = re.compile(r"(?P<year>\d{4})\s*[/.\-]\s*(?P<month>\d{1,2})")


def add_months(month: date, delta: int) -> date:
    """First day of the month `delta` months after (negative: before) `month`."""
    index = month.year * 12 + month.month - 1 + delta
    return date(index // 12, index % 12 + 1, 1)


def _full_year(digits: str) -> int:
    # Two-digit years are this century: "mei 26" is 2026, there is no UMKM data from 1926.
    return int(digits) + 2000 if len(digits) == 2 else int(digits)


def _checked(year: int, month: int, current: date, text: str | None) -> date:
    if not 1 <= month <= 12:
        raise MonthError("unknown", text)
    if year < EARLIEST_MONTH.year:
        raise MonthError("too_old", text)
    result = date(year, month, 1)
    if result > current:
        raise MonthError("future", text)
    return result


def _months_ago(count_text: str, current: date, text: str | None) -> date:
    try:
        count = parse_count(count_text, unit_words=frozenset())
    except AmountError:
        raise MonthError("unknown", text) from None
    # Clamp before building a date: "999999 bulan lalu" must not overflow `date`.
    if count > (current.year - EARLIEST_MONTH.year + 1) * 12:
        raise MonthError("too_old", text)
    result = add_months(current, -count)
    return _checked(result.year, result.month, current, text)


def parse_month(text: str | None, today: date) -> date:
    """First day of the month the user means, relative to `today`.

    Empty text is the current month. A month name without a year is the most recent such
    month (this year, or last year if it has not come yet). Raises `MonthError` with code
    "unknown" (unreadable), "future" (after the current month) or "too_old" (before 2000).
    """
    current = today.replace(day=1)
    cleaned = " ".join((text or "").lower().split())
    if not cleaned or cleaned in _THIS_MONTH:
        return current
    if cleaned in _LAST_MONTH or _SE_BULAN_AGO.fullmatch(cleaned):
        return add_months(current, -1)
    if cleaned in _NEXT_MONTH:
        raise MonthError("future", text)
    if cleaned in _LAST_YEAR:
        return add_months(current, -12)
    if match := _MONTHS_AGO.fullmatch(cleaned):
        return _months_ago(match.group("n") or match.group("n_en"), current, text)
    if match := _NAME_YEAR.fullmatch(cleaned):
        month = MONTH_NAMES.get(match.group("name"))
        if month is None:
            raise MonthError("unknown", text)
        if match.group("year") is None:
            year = current.year if month <= current.month else current.year - 1
            return _checked(year, month, current, text)
        return _checked(_full_year(match.group("year")), month, current, text)
    for pattern in (_MONTH_YEAR, _YEAR_MONTH):
        if match := pattern.fullmatch(cleaned):
            year = _full_year(match.group("year"))
            return _checked(year, int(match.group("month")), current, text)
    raise MonthError("unknown", text)
