"""Quiet hours: non-urgent messages that fall due at night wait for the morning, in the
recipient's cohort time zone."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

__all__ = ["QuietHours"]


class QuietHours:
    """A nightly window, e.g. 21:00-06:00 local time (it may wrap past midnight)."""

    def __init__(self, start: str, end: str) -> None:
        self.start = time.fromisoformat(start)
        self.end = time.fromisoformat(end)

    def _quiet(self, clock: time) -> bool:
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= clock < self.end
        return clock >= self.start or clock < self.end

    def release(self, moment: datetime, timezone: str) -> datetime:
        """`moment` itself outside quiet hours, else the end of the quiet window (UTC-aware)."""
        local = moment.astimezone(ZoneInfo(timezone))
        if not self._quiet(local.time()):
            return moment
        morning = local.replace(hour=self.end.hour, minute=self.end.minute, second=0, microsecond=0)
        if morning <= local:
            morning += timedelta(days=1)
        return morning.astimezone(moment.tzinfo)
