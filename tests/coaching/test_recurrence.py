"""Recurrence on the local calendar of WIB, WITA and WIT: month ends, leap days, weekdays,
one-offs, quiet hours."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.coaching.quiet_hours import QuietHours
from bot.coaching.recurrence import Schedule, daily, monthly_on_day, monthly_on_last_day, weekly_on


def _series(schedule: Schedule, count: int, start: datetime) -> list[datetime]:
    found, moment = [], start
    for _ in range(count):
        moment = schedule.after(moment)
        assert moment is not None
        found.append(moment)
    return found


def _local(moments: list[datetime], zone: str) -> list[str]:
    return [m.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M") for m in moments]


def test_monthly_on_the_31st_falls_back_to_each_short_months_last_day() -> None:
    schedule = Schedule(datetime(2027, 1, 31, 8, 0), "Asia/Jakarta", monthly_on_day(31))
    got = _local(_series(schedule, 5, datetime(2027, 1, 1, tzinfo=UTC)), "Asia/Jakarta")
    assert got == ["2027-01-31 08:00", "2027-02-28 08:00", "2027-03-31 08:00", "2027-04-30 08:00", "2027-05-31 08:00"]


def test_leap_day_on_the_29th_and_on_the_last_day() -> None:
    on_29th = Schedule(datetime(2027, 12, 29, 9, 0), "Asia/Makassar", monthly_on_day(29))
    assert _local(_series(on_29th, 3, datetime(2027, 12, 1, tzinfo=UTC)), "Asia/Makassar") == [
        "2027-12-29 09:00", "2028-01-29 09:00", "2028-02-29 09:00",
    ]  # fmt: skip
    last = Schedule(datetime(2027, 1, 1, 9, 0), "Asia/Makassar", monthly_on_last_day())
    got = _local(_series(last, 14, datetime(2027, 1, 1, tzinfo=UTC)), "Asia/Makassar")
    assert got[1] == "2027-02-28 09:00" and got[13] == "2028-02-29 09:00"


@pytest.mark.parametrize(("zone", "utc_hour"), [("Asia/Jakarta", 1), ("Asia/Makassar", 0), ("Asia/Jayapura", 23)])
def test_weekly_at_eight_local_in_each_indonesian_zone_all_year(zone: str, utc_hour: int) -> None:
    # No daylight saving time anywhere in Indonesia: 08:00 local is the same UTC hour all year.
    schedule = Schedule(datetime(2026, 12, 1, 8, 0), zone, weekly_on([0, 3]))  # Monday, Thursday
    moments = _series(schedule, 104, datetime(2026, 12, 1, tzinfo=UTC))
    assert {m.hour for m in moments} == {utc_hour}
    assert {m.astimezone(ZoneInfo(zone)).weekday() for m in moments} == {0, 3}
    assert moments[0].astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d") == "2026-12-03"  # the first Thursday


def test_a_time_zone_other_than_the_servers() -> None:
    # 07:00 WIT is 22:00 UTC of the day before, whatever the server's own zone is.
    schedule = Schedule(datetime(2026, 12, 1, 7, 0), "Asia/Jayapura", daily())
    first, second = _series(schedule, 2, datetime(2026, 11, 30, tzinfo=UTC))
    assert first == datetime(2026, 11, 30, 22, 0, tzinfo=UTC) and second - first == timedelta(days=1)


def test_one_off_and_strictly_after() -> None:
    once = Schedule(datetime(2026, 12, 5, 10, 0), "Asia/Jakarta", None)
    assert once.after(datetime(2026, 12, 1, tzinfo=UTC)) == datetime(2026, 12, 5, 3, 0, tzinfo=UTC)
    assert once.after(datetime(2026, 12, 5, 3, 0, tzinfo=UTC)) is None
    every_day = Schedule(datetime(2026, 12, 1, 8, 0), "Asia/Jakarta", daily())
    at_one = datetime(2026, 12, 2, 1, 0, tzinfo=UTC)  # exactly an occurrence
    assert every_day.after(at_one) == at_one + timedelta(days=1)


def test_rules_refuse_nonsense() -> None:
    with pytest.raises(ValueError):
        weekly_on([])
    with pytest.raises(ValueError):
        monthly_on_day(32)


def test_quiet_hours_wait_for_the_morning_in_the_recipients_zone() -> None:
    quiet = QuietHours("21:00", "06:00")
    late = datetime(2026, 12, 1, 15, 30, tzinfo=UTC)  # 22:30 WIB, 23:30 WITA, 00:30 WIT
    assert quiet.release(late, "Asia/Jakarta") == datetime(2026, 12, 1, 23, 0, tzinfo=UTC)  # 06:00 WIB
    assert quiet.release(late, "Asia/Jayapura") == datetime(2026, 12, 1, 21, 0, tzinfo=UTC)  # 06:00 WIT
    day = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)  # 10:00 WIB
    assert quiet.release(day, "Asia/Jakarta") == day
