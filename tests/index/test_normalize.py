"""The Indonesian normaliser: the same steps for entries and questions."""

from __future__ import annotations

import dataclasses

import pytest

from index import Normalizer
from index.normalize import clean_text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("GMN Cara Daftar NIB??", "bagaimana cara daftar nib"),
        ("sy udh bkn pirt tp blm halal", "saya sudah bkn pirt tapi belum halal"),
        ("ga bs bayar krn dll", "tidak bisa bayar karena dan lain lain"),
        ("piye carane gawe label", "bagaimana cara buat label"),
        ("tolonggg kakkk", "tolong"),
        ("kue2 enak", "kue enak"),
        ("omset 2,5jt", "omzet 2 5jt"),
        ("how much is the price", "bagaimana much is the harga"),
    ],
)
def test_expand_slang_and_clean(text: str, expected: str) -> None:
    assert Normalizer.default().normalized(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("rendemen kuwi opo, ngitunge piye", "rendemen itu apa hitung bagaimana"),  # Javanese -e, ng- = h
        ("koperasiku durung rat, akibate opo", "koperasi belum rat akibat apa"),  # -ku, -e
        ("udh iklan tp rugi, matiin apa terusin", "sudah iklan tapi rugi mati apa terus"),  # Jakarta -in
        ("ndaftar halal tanpa mbayar", "daftar halal tanpa bayar"),  # nasal prefixes
        ("nyari supplier", "cari pemasok"),
        # standard words, short words and English stay as they are
        ("membeli kue kode make penjualan", "membeli kue kode make penjualan"),
    ],
)
def test_informal_affixes_of_unknown_words_come_off(text: str, expected: str) -> None:
    assert Normalizer.default().normalized(text) == expected


def test_affixes_can_be_switched_off() -> None:
    normalizer = dataclasses.replace(Normalizer.default(), affixes=False)
    assert normalizer.normalized("ngitunge") == "ngitunge"


def test_tokens_drop_function_words_and_stem() -> None:
    tokens = Normalizer.default().tokens("Gimana cara pembukuan yg gampang bwt warung sy?")
    assert tokens == ["cara", "buku", "gampang", "warung"]


def test_entries_and_questions_meet_in_one_vocabulary() -> None:
    normalizer = Normalizer.default()
    assert set(normalizer.tokens("Pendaftaran perizinan usaha")) == set(normalizer.tokens("daftar izin usaha"))


@pytest.mark.parametrize(
    "text",
    ["", "   \n\t ", "😀🙏🔥", "\x00\x07\x1b", "???!!!", "🇮🇩🇮🇩"],
)
def test_inputs_without_words_give_no_tokens(text: str) -> None:
    assert Normalizer.default().tokens(text) == []


def test_mixed_scripts_keep_latin_words() -> None:
    assert clean_text("Harga кофе コーヒー kopi café") == "harga kopi cafe"


def test_control_characters_become_spaces() -> None:
    assert clean_text("izin\x00usaha\x1bok") == "izin usaha ok"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ni\u200bb oss", "nib oss"),  # zero-width space inside a word
        ("da\u00adftar", "daftar"),  # soft hyphen
        ("k\u2060u\u200dr", "kur"),  # word joiner, zero-width joiner
        ("\ufeffhalo", "halo"),  # byte-order mark
        ("\u200ehpp\u200f \u202eqris\u202c \u2066kopi\u2069", "hpp qris kopi"),  # bidi marks and isolates
    ],
)
def test_invisible_format_characters_are_removed_inside_words(text: str, expected: str) -> None:
    assert clean_text(text) == expected
    assert Normalizer.default().tokens(text) == Normalizer.default().tokens(expected)
