"""When a reminder falls due: iCalendar RRULEs expanded by python-dateutil on the local calendar of
the cohort's time zone (WIB, WITA or WIT), never by hand-written date arithmetic."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr

__all__ = [
    "WEEKDAYS",
    "Schedule",
    "daily",
    "monthly_on_day",
    "monthly_on_last_day",
    "next_after",
    "parse_local",
    "to_utc",
    "weekly_on",
]

# RFC 5545 weekday codes, Monday first (Python's weekday() order).
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def daily() -> str:
    return "FREQ=DAILY"


def weekly_on(days: list[int]) -> str:
    """Every week on the given weekdays (0 = Monday)."""
    if not days or any(not 0 <= d <= 6 for d in days):
        raise ValueError("weekly reminders need at least one weekday 0-6")
    return "FREQ=WEEKLY;BYDAY=" + ",".join(WEEKDAYS[d] for d in sorted(set(days)))


def monthly_on_day(day: int) -> str:
    """Every month on `day`; from the 29th on, a shorter month gets its last day instead
    (RFC 5545 alone would skip February for "the 30th")."""
    if not 1 <= day <= 31:
        raise ValueError("a day of the month is 1-31")
    if day <= 28:
        return f"FREQ=MONTHLY;BYMONTHDAY={day}"
    # The earlier of "day N" and "the last day" in each month.
    return f"FREQ=MONTHLY;BYMONTHDAY={day},-1;BYSETPOS=1"


def monthly_on_last_day() -> str:
    return "FREQ=MONTHLY;BYMONTHDAY=-1"


def parse_local(value: str) -> datetime:
    """A stored local wall-clock time ("2026-12-01T08:00") as a naive datetime."""
    return datetime.fromisoformat(value)


def to_utc(local: datetime, timezone: str) -> datetime:
    """A naive local wall-clock time in `timezone` as an aware UTC instant."""
    return local.replace(tzinfo=ZoneInfo(timezone)).astimezone(UTC)


@dataclass(frozen=True)
class Schedule:
    """A reminder's timing: first local time, zone, and RRULE (None: once)."""

    start_local: datetime
    timezone: str
    rrule: str | None = None

    def first(self) -> datetime:
        """The first occurrence (UTC)."""
        return to_utc(self.start_local, self.timezone)

    def after(self, moment: datetime) -> datetime | None:
        """The first occurrence strictly after `moment` (UTC), or None when none is left."""
        return next_after(self, moment)


def next_after(schedule: Schedule, moment: datetime) -> datetime | None:
    """The first occurrence strictly after `moment`, as an aware UTC datetime."""
    if schedule.rrule is None:
        first = schedule.first()
        return first if first > moment else None
    rule = rrulestr(schedule.rrule, dtstart=schedule.start_local)
    # Expand on the local calendar: "every day at 08:00 WITA" stays at 08:00 WITA.
    local_moment = moment.astimezone(ZoneInfo(schedule.timezone)).replace(tzinfo=None)
    if local_moment < schedule.start_local:
        found = rule.after(schedule.start_local, inc=True)
    else:
        found = rule.after(local_moment, inc=False)
    return None if found is None else to_utc(found, schedule.timezone)
