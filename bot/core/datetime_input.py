"""Dates, times and durations as coaches type them on a phone: `31/12`, `31/12/2026`, `5 Jan`,
`besok`, `lusa`, `senin`; `08:00`, `8.30`, `jam 9`; `2 jam`, `90 menit`. Dates are read by
python-dateutil (day first, Indonesian and English month and day names); only the few relative
words and the clock forms are matched here. Everything is local wall-clock time of the cohort's
zone; the callers turn it into UTC with `bot.coaching.recurrence.to_utc`."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

from dateutil import parser
from dateutil.relativedelta import relativedelta

__all__ = ["InputProblem", "parse_date", "parse_date_time", "parse_end", "parse_time", "split_url"]

# Relative day words -> days from today.
RELATIVE_DAYS = {
    "hari ini": 0, "today": 0, "sekarang": 0,
    "besok": 1, "besuk": 1, "tomorrow": 1,
    "lusa": 2, "besok lusa": 2,
}  # fmt: skip
# How far ahead a date may be (a typo such as 2062 is refused rather than scheduled).
MAX_YEARS_AHEAD = 2
_TIME = re.compile(r"^(?:jam|pukul|pkl\.?|at)?\s*(\d{1,2})(?:[:.](\d{2}))?\s*(?:wib|wita|wit)?$")
_DURATION = re.compile(r"^(\d{1,3}(?:[.,]\d{1,2})?)\s*(jam|j|h|hr|hrs|hour|hours|menit|mnt|m|min|mins|minute|minutes)$")
_URL = re.compile(r"(https?://\S+|www\.\S+)", re.IGNORECASE)


class InputProblem(ValueError):
    """What the coach typed cannot be used; `code` picks the plain explanation."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class _Names(parser.parserinfo):
    """dateutil's parser with Indonesian month and day names beside the English ones."""

    MONTHS = [
        ("Jan", "January", "Januari"),
        ("Feb", "February", "Februari", "Peb", "Pebruari"),
        ("Mar", "March", "Maret"),
        ("Apr", "April"),
        ("May", "Mei"),
        ("Jun", "June", "Juni"),
        ("Jul", "July", "Juli"),
        ("Aug", "August", "Agu", "Agt", "Agus", "Agustus"),
        ("Sep", "Sept", "September"),
        ("Oct", "October", "Okt", "Oktober"),
        ("Nov", "November", "Nop", "Nopember"),
        ("Dec", "December", "Des", "Desember"),
    ]
    WEEKDAYS = [
        ("Mon", "Monday", "Sen", "Senin"),
        ("Tue", "Tuesday", "Sel", "Selasa"),
        ("Wed", "Wednesday", "Rab", "Rabu"),
        ("Thu", "Thursday", "Kam", "Kamis"),
        ("Fri", "Friday", "Jum", "Jumat", "Jum'at"),
        ("Sat", "Saturday", "Sab", "Sabtu"),
        ("Sun", "Sunday", "Min", "Minggu", "Ahad"),
    ]

    def __init__(self) -> None:
        super().__init__(dayfirst=True)


def _words(text: str) -> str:
    return " ".join(text.lower().replace(",", " ").split())


def parse_date(text: str, today: date) -> date:
    """A date on or after `today`. Without a year, a day already past this year means next
    year's (`5/1` typed in December). Raises InputProblem: "date" (unreadable), "past", "far"."""
    words = _words(text)
    if words in RELATIVE_DAYS:
        return today + timedelta(days=RELATIVE_DAYS[words])
    names = _Names()
    if len(words.split()) == 1 and names.weekday(words) is not None:
        # A day name alone: that day this week, or next week once it has passed (today counts).
        return parser.parse(words, parserinfo=names, default=datetime.combine(today, time())).date()
    try:
        # Parsed against two different defaults: a field that differs was not typed.
        first = parser.parse(words, parserinfo=names, default=datetime(today.year, 1, 1))
        second = parser.parse(words, parserinfo=names, default=datetime(today.year + 4, 2, 2))
    except (parser.ParserError, ValueError, OverflowError) as exc:
        raise InputProblem("date") from exc
    if first.day != second.day or first.month != second.month or first.time() != time():
        raise InputProblem("date")  # the day or the month is missing, or a clock time slipped in
    found = first.date()
    if first.year != second.year and found < today:
        found += relativedelta(years=1)
    if found < today:
        raise InputProblem("past")
    if found > today + relativedelta(years=MAX_YEARS_AHEAD):
        raise InputProblem("far")
    return found


def parse_time(text: str) -> time:
    """`08:00`, `8.30`, `8`, `jam 9`, `19.00 WIB` -> a clock time. InputProblem("time")."""
    match = _TIME.match(_words(text))
    if match is None:
        raise InputProblem("time")
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    if hour > 23 or minute > 59:
        raise InputProblem("time")
    return time(hour, minute)


def parse_date_time(text: str, today: date, default_time: time | None = None) -> datetime:
    """A date with a clock time at the end (`31/12 17.00`, `besok jam 9`); without one,
    `default_time` is used (InputProblem("time") when there is none)."""
    words = _words(text).split()
    problems: list[InputProblem] = []
    for cut in (3, 2, 1):  # the time is the last one to three words ("jam 9", "17.00 wib")
        if len(words) <= cut:
            continue
        try:
            clock = parse_time(" ".join(words[-cut:]))
        except InputProblem:
            continue
        try:
            return datetime.combine(parse_date(" ".join(words[:-cut]), today), clock)
        except InputProblem as exc:  # "31 12" is a date, not the 31st at 12:00
            problems.append(exc)
    if default_time is not None:
        try:
            return datetime.combine(parse_date(" ".join(words), today), default_time)
        except InputProblem as exc:
            problems.append(exc)
    if not problems:
        raise InputProblem("time")
    # "past" or "far" says more than "date" (what was read as a date was readable).
    raise next((p for p in problems if p.code != "date"), problems[0])


def parse_end(text: str, start: datetime) -> datetime:
    """The end of an event from a duration (`2 jam`, `90 menit`, `1,5 jam`) or an end time
    (`12.00`, the same day). InputProblem: "end" (unreadable), "end_before_start"."""
    words = _words(text.replace(",", "."))
    match = _DURATION.match(words.replace(" ", "")) or _DURATION.match(words)
    if match is not None:
        amount = float(match.group(1))
        minutes = amount * 60 if match.group(2) in ("jam", "j", "h", "hr", "hrs", "hour", "hours") else amount
        if not 0 < minutes <= 24 * 60:
            raise InputProblem("end")
        return start + timedelta(minutes=round(minutes))
    try:
        clock = parse_time(words)
    except InputProblem as exc:
        raise InputProblem("end") from exc
    end = datetime.combine(start.date(), clock)
    if end <= start:
        raise InputProblem("end_before_start")
    return end


def split_url(text: str) -> tuple[str | None, str | None]:
    """(place, online link) from one message: a link anywhere in it is the link, the rest the
    place (`Balai Desa / https://meet.google.com/abc` gives both)."""
    match = _URL.search(text)
    if match is None:
        place = " ".join(text.split())
        return place or None, None
    link = match.group(1).rstrip(".,;)")
    rest = " ".join((text[: match.start()] + " " + text[match.end() :]).split()).strip(" /-|,;:")
    return rest or None, link
