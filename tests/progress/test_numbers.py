"""Table tests for reading rupiah amounts and counts."""

from __future__ import annotations

import pytest

from bot.progress.errors import AmountError
from bot.progress.numbers import MAX_MONTHLY_AMOUNT, parse_amount, parse_count

VALID_AMOUNTS = [
    # separators and abbreviated units
    ("2,5jt", 2_500_000),
    ("2.5jt", 2_500_000),
    ("2.500.000", 2_500_000),
    ("2,500,000", 2_500_000),
    ("2500000", 2_500_000),
    ("2 500 000", 2_500_000),
    ("2.500", 2_500),
    ("Rp2.500.000,00", 2_500_000),
    ("2,500,000.00", 2_500_000),
    ("1,25 jt", 1_250_000),
    ("2,500 jt", 2_500_000),  # comma before a unit stays decimal
    ("1.500 juta", 1_500_000_000),  # Indonesian "Rp1.500 juta"
    ("0,5 jt", 500_000),
    # currency markers
    ("Rp 2 juta", 2_000_000),
    ("rp2jt", 2_000_000),
    ("RP2JT", 2_000_000),
    ("Rp. 2.000.000,-", 2_000_000),
    ("Rp 2.000.000.-", 2_000_000),
    ("IDR 750.000", 750_000),
    ("2 juta rupiah", 2_000_000),
    ("  Rp\u00a0750rb.  ", 750_000),
    ("2.000.000.", 2_000_000),
    # thousands / millions / billions / trillions
    ("750rb", 750_000),
    ("750 ribu", 750_000),
    ("750k", 750_000),
    ("750 rebu", 750_000),
    ("1,2 M", 1_200_000_000),
    ("1.2 miliar", 1_200_000_000),
    ("1,2 milyar", 1_200_000_000),
    ("1 T", 1_000_000_000_000),
    ("1 triliun", 1_000_000_000_000),
    # compound
    ("1 juta 500 ribu", 1_500_000),
    ("2jt500rb", 2_500_000),
    ("2jt 500rb", 2_500_000),
    ("2rb500", 2_500),
    ("1 M 250 jt", 1_250_000_000),
    # number words
    ("dua juta", 2_000_000),
    ("dua setengah juta", 2_500_000),
    ("satu koma lima juta", 1_500_000),
    ("satu koma dua lima juta", 1_250_000),
    ("1 koma 5 juta", 1_500_000),
    ("seratus lima puluh ribu", 150_000),
    ("sejuta", 1_000_000),
    ("setengah juta", 500_000),
    ("seperempat juta", 250_000),
    ("lima ratus ribu", 500_000),
    ("sejuta setengah", 1_500_000),
    ("dua juta setengah", 2_500_000),
    ("sejuta lima ratus ribu", 1_500_000),
    ("dua puluh lima ribu", 25_000),
    ("sebelas juta", 11_000_000),
    ("dua belas juta", 12_000_000),
    ("tiga ratus dua puluh lima ribu", 325_000),
    ("seribu lima ratus", 1_500),
    ("seratus", 100),
    ("limaratus ribu", 500_000),
    ("duapuluh juta", 20_000_000),
    ("2 ratus ribu", 200_000),
    ("Rp dua juta", 2_000_000),
    ("2 million", 2_000_000),
    # zero is a real month (shop closed)
    ("0", 0),
    ("nol", 0),
    ("-0", 0),
]

INVALID_AMOUNTS = [
    ("", "empty"),
    ("   ", "empty"),
    ("abc", "not_a_number"),
    ("Rp", "not_a_number"),
    ("jt", "not_a_number"),
    ("juta juta", "not_a_number"),
    ("2 juta juta", "not_a_number"),
    ("500 ribu 2 juta", "not_a_number"),  # units must go down
    ("2.50.000", "not_a_number"),  # bad thousands grouping
    ("2500.000", "not_a_number"),
    ("1.2.3", "not_a_number"),
    ("1e6", "not_a_number"),
    (".5jt", "not_a_number"),
    ("2 . 5jt", "not_a_number"),
    ("2jt/bln", "not_a_number"),
    ("2-3 juta", "not_a_number"),
    ("dua tiga", "not_a_number"),
    ("seratus 50", "not_a_number"),
    ("satu koma lima puluh", "not_a_number"),
    ("lima belas puluh", "not_a_number"),
    ("kmt", "not_a_number"),  # abbreviations are not split out of words
    ("1jt50", "not_a_number"),  # 1.050.000 or 1.500.000? refuse to guess
    ("1 juta 25", "not_a_number"),
    ("2 3/2 juta", "not_a_number"),  # not a proper fraction
    ("2 jutaan", "not_a_number"),
    ("-2jt", "negative"),
    ("- Rp 2.000.000", "negative"),
    ("Rp -500rb", "negative"),
    ("minus dua juta", "negative"),
    ("\u22122jt", "negative"),
    ("2,5", "fraction"),  # most likely "2,5 jt" without the unit
    ("2.5", "fraction"),
    ("setengah", "fraction"),
    ("2.500.000,50", "fraction"),
    ("3 T", "too_large"),
    ("1.000.000.000.001", "too_large"),
    ("1,5 triliun", "too_large"),
]


@pytest.mark.parametrize(("text", "expected"), VALID_AMOUNTS)
def test_parse_amount_valid(text: str, expected: int) -> None:
    assert parse_amount(text) == expected


@pytest.mark.parametrize(("text", "code"), INVALID_AMOUNTS)
def test_parse_amount_invalid(text: str, code: str) -> None:
    with pytest.raises(AmountError) as caught:
        parse_amount(text)
    assert caught.value.code == code
    assert caught.value.text == text  # the bot quotes what the user typed


def test_cap_is_inclusive_and_configurable() -> None:
    assert parse_amount("1 T") == MAX_MONTHLY_AMOUNT
    assert parse_amount("10 jt", max_value=10_000_000) == 10_000_000
    with pytest.raises(AmountError) as caught:
        parse_amount("10.000.001", max_value=10_000_000)
    assert caught.value.code == "too_large"


def test_long_text_is_refused_without_recursion_error() -> None:
    with pytest.raises(AmountError) as caught:
        parse_amount("dua" * 2000)
    assert caught.value.code == "not_a_number"


def test_amount_error_is_a_value_error_with_code_and_text() -> None:
    with pytest.raises(ValueError, match="not_a_number"):
        parse_amount("sekitar dua")


VALID_COUNTS = [
    ("5", 5),
    ("5 orang", 5),
    ("lima orang", 5),
    ("dua puluh", 20),
    ("sebelas karyawan", 11),
    ("1.500 pcs", 1_500),
    ("1,5rb pcs", 1_500),
    ("2k", 2_000),
    ("0", 0),
]

INVALID_COUNTS = [
    ("", "empty"),
    ("orang", "not_a_number"),
    ("lima apel", "not_a_number"),
    ("Rp 5", "not_a_number"),  # currency is not a count
    ("2,5 orang", "fraction"),
    ("setengah", "fraction"),
    ("-3", "negative"),
]


@pytest.mark.parametrize(("text", "expected"), VALID_COUNTS)
def test_parse_count_valid(text: str, expected: int) -> None:
    assert parse_count(text) == expected


@pytest.mark.parametrize(("text", "code"), INVALID_COUNTS)
def test_parse_count_invalid(text: str, code: str) -> None:
    with pytest.raises(AmountError) as caught:
        parse_count(text)
    assert caught.value.code == code


def test_parse_count_cap_and_custom_unit_words() -> None:
    assert parse_count("3 ekor", unit_words=frozenset({"ekor"})) == 3
    with pytest.raises(AmountError) as caught:
        parse_count("101", max_value=100)
    assert caught.value.code == "too_large"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2jt500", 2_500_000),  # digits after a scale are the next scale down, as typed
        ("1 juta 500", 1_500_000),
        ("2jt5", 2_500_000),
        ("2 1/2 juta", 2_500_000),
        ("1 3/4 jt", 1_750_000),
        ("2.5 mio", 2_500_000),
        ("2,5 m", 2_500_000_000),  # Indonesian writing: m is miliar
    ],
)
def test_parse_amount_phone_forms(text: str, expected: int) -> None:
    assert parse_amount(text) == expected


def test_english_m_is_million() -> None:
    assert parse_amount("2.5m", english=True) == 2_500_000
    assert parse_amount("1.2b", english=True) == 1_200_000_000
    assert parse_amount("2.5m") == 2_500_000_000


def test_counts_with_everyday_units() -> None:
    assert parse_count("500 bungkus") == 500
    assert parse_count("12 botol") == 12
