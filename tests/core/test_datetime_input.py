"""Dates, times and lengths as coaches type them: read by python-dateutil with Indonesian names,
relative words, a time at the end, refusals with a reason."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest

from bot.core.datetime_input import InputProblem, parse_date, parse_date_time, parse_end, parse_time, split_url

TODAY = date(2026, 11, 30)  # a Monday


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("31/12", date(2026, 12, 31)),
        ("31/12/2026", date(2026, 12, 31)),
        ("31-12-2026", date(2026, 12, 31)),
        ("2026-12-31", date(2026, 12, 31)),
        ("31 Des", date(2026, 12, 31)),
        ("5 Januari 2027", date(2027, 1, 5)),
        ("5/1", date(2027, 1, 5)),  # no year and already past this year: next year's
        ("30/11", TODAY),
        ("besok", date(2026, 12, 1)),
        ("Tomorrow", date(2026, 12, 1)),
        ("lusa", date(2026, 12, 2)),
        ("hari ini", TODAY),
        ("senin", TODAY),
        ("Kamis", date(2026, 12, 3)),
        ("minggu", date(2026, 12, 6)),
        ("29/2/2028", date(2028, 2, 29)),
    ],
)
def test_dates(text: str, expected: date) -> None:
    assert parse_date(text, TODAY) == expected


@pytest.mark.parametrize(
    ("text", "code"),
    [("halo", "date"), ("12", "date"), ("31/2", "date"), ("Desember", "date"), ("1/1/2020", "past"),
     ("29/11/2026", "past"), ("1/1/2030", "far"), ("", "date")],
)  # fmt: skip
def test_dates_refused_with_a_reason(text: str, code: str) -> None:
    with pytest.raises(InputProblem) as caught:
        parse_date(text, TODAY)
    assert caught.value.code == code


@pytest.mark.parametrize(
    ("text", "expected"),
    [("08:00", time(8)), ("8.30", time(8, 30)), ("8", time(8)), ("jam 9", time(9)), ("pukul 19.00", time(19)),
     ("19.00 WIB", time(19)), ("23:59", time(23, 59))],
)  # fmt: skip
def test_times(text: str, expected: time) -> None:
    assert parse_time(text) == expected


@pytest.mark.parametrize("text", ["25:00", "8:60", "halo", "0800", "", "8 pagi"])
def test_times_refused(text: str) -> None:
    with pytest.raises(InputProblem) as caught:
        parse_time(text)
    assert caught.value.code == "time"


def test_a_date_with_a_time_at_the_end() -> None:
    assert parse_date_time("3/12 17.00", TODAY) == datetime(2026, 12, 3, 17)
    assert parse_date_time("besok jam 9", TODAY) == datetime(2026, 12, 1, 9)
    assert parse_date_time("lusa 19.00 wib", TODAY) == datetime(2026, 12, 2, 19)
    assert parse_date_time("31 12", TODAY, time(8)) == datetime(2026, 12, 31, 8)  # a date, not the 31st at 12
    assert parse_date_time("31/12", TODAY, time(8)) == datetime(2026, 12, 31, 8)
    for text, code in (("31/12", "time"), ("halo 10.00", "date"), ("1/1/2020 10.00", "past")):
        with pytest.raises(InputProblem) as caught:
            parse_date_time(text, TODAY)
        assert caught.value.code == code, text


def test_the_end_from_a_length_or_an_end_time() -> None:
    start = datetime(2026, 12, 5, 9)
    assert parse_end("2 jam", start) == datetime(2026, 12, 5, 11)
    assert parse_end("1,5 jam", start) == datetime(2026, 12, 5, 10, 30)
    assert parse_end("90 menit", start) == datetime(2026, 12, 5, 10, 30)
    assert parse_end("2j", start) == datetime(2026, 12, 5, 11)
    assert parse_end("12.00", start) == datetime(2026, 12, 5, 12)
    for text, code in (("08.00", "end_before_start"), ("lama", "end"), ("0 jam", "end"), ("30 jam", "end")):
        with pytest.raises(InputProblem) as caught:
            parse_end(text, start)
        assert caught.value.code == code, text


def test_a_place_and_a_link_from_one_message() -> None:
    assert split_url("Balai Desa / https://meet.google.com/abc") == ("Balai Desa", "https://meet.google.com/abc")
    assert split_url("https://zoom.us/j/1.") == (None, "https://zoom.us/j/1")
    assert split_url("  Balai   Desa Sumber ") == ("Balai Desa Sumber", None)
    assert split_url("Zoom: www.example.org/kelas") == ("Zoom", "www.example.org/kelas")
