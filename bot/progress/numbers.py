"""Read rupiah amounts and counts the way Indonesians type them on a phone.

Accepted forms: digits with Indonesian separators ("2.500.000", "2,5jt"), English-style
thousands ("2,500,000"), spaced thousands ("2 500 000"), unit words and abbreviations
("750rb", "750k", "1,2 M", "3 T", "1 juta 500 ribu", "2jt500rb") and number words
("dua setengah juta", "satu koma lima juta", "seratus lima puluh ribu", "sejuta").

Separator rule (Indonesian convention, "." thousands and "," decimal, with the
leniency people need in practice):
- both "." and "," present: the last one is the decimal mark ("2.500.000,00", "2,500,000.00");
- one kind, several times: thousands ("2.500.000", "2,500,000");
- one kind, once, three digits after it: thousands ("2.500" = 2500), except a comma
  before a unit word, which stays decimal ("2,500 jt" = 2,5 juta);
- otherwise decimal ("2.5jt", "1,25 M").

No library reads Indonesian number words, hence the small parser below. Arithmetic is
done in `Decimal` so "2,5 jt" is exactly 2_500_000.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import Enum, auto
from functools import cache

from bot.progress.errors import AmountError

__all__ = [
    "COUNT_UNIT_WORDS",
    "MAX_COUNT",
    "MAX_MONTHLY_AMOUNT",
    "AmountError",
    "parse_amount",
    "parse_count",
]

# Rp 1 trillion: far above any UMKM month (a medium business sells at most Rp50 miliar a
# year), so anything bigger is a typo such as a stray "T" or extra zeros.
MAX_MONTHLY_AMOUNT = 1_000_000_000_000
MAX_COUNT = 1_000_000_000

# Unit nouns people add after a count ("5 orang", "200 pcs"); they carry no value.
COUNT_UNIT_WORDS = frozenset(
    {"orang", "org", "karyawan", "pekerja", "pegawai", "buah", "bh", "pcs", "unit", "biji",
     "bungkus", "bks", "pack", "pak", "porsi", "botol", "btl", "toples", "lembar", "lbr", "potong",
     "kotak", "box", "dus", "kardus", "ikat", "ekor", "kg", "kilo", "liter", "ltr", "pasang",
     "set", "cup", "gelas", "mangkok", "piring", "karung", "sak", "kodi", "lusin", "people", "pieces"}
)  # fmt: skip
# Currency markers around an amount ("Rp", "Rp.", "IDR", "... rupiah").
_CURRENCY_WORDS = frozenset({"rp", "idr", "rupiah"})
# Longer text is a sentence, not an amount; the cap also bounds the word splitter's
# recursion on pasted junk.
_MAX_TEXT_LENGTH = 120


class _Kind(Enum):
    NUM = auto()  # digit literal, interpreted once we know whether a unit follows
    DIGIT = auto()  # nol .. sembilan
    TEEN = auto()  # sepuluh, sebelas: a complete tens+units group
    PULUH = auto()
    BELAS = auto()
    RATUS = auto()
    SERATUS = auto()
    SCALE = auto()  # ribu, juta, ... and their abbreviations
    SE_SCALE = auto()  # seribu, sejuta, ...: "one" built in
    PART = auto()  # setengah, seperempat
    KOMA = auto()  # spoken decimal mark
    MINUS = auto()


@dataclass(frozen=True)
class _Token:
    kind: _Kind
    value: Decimal = Decimal(0)
    raw: str = ""


_THOUSAND = Decimal(1_000)
_MILLION = Decimal(1_000_000)
_BILLION = Decimal(1_000_000_000)
_TRILLION = Decimal(1_000_000_000_000)

_DIGIT_WORDS = {
    "nol": 0, "kosong": 0, "satu": 1, "dua": 2, "tiga": 3, "empat": 4, "lima": 5,
    "enam": 6, "tujuh": 7, "delapan": 8, "sembilan": 9,
}  # fmt: skip
_SCALE_WORDS = {
    "ribu": _THOUSAND, "rebu": _THOUSAND, "thousand": _THOUSAND,
    "juta": _MILLION, "million": _MILLION, "mio": _MILLION, "millions": _MILLION,
    "miliar": _BILLION, "milyar": _BILLION, "miliyar": _BILLION, "billion": _BILLION,
    "triliun": _TRILLION, "trilyun": _TRILLION, "trillion": _TRILLION,
}  # fmt: skip
# Abbreviations are only recognised as whole tokens, never inside a glued word, so
# "kmt" cannot be read as k + m + t. "m" is miliar as in Indonesian writing ("Rp1,2 M").
_SCALE_ABBREVIATIONS = {
    "k": _THOUSAND, "rb": _THOUSAND, "rbu": _THOUSAND,
    "jt": _MILLION, "jta": _MILLION,
    "m": _BILLION, "mly": _BILLION, "mlyr": _BILLION,
    "t": _TRILLION, "tn": _TRILLION, "trl": _TRILLION,
}  # fmt: skip
_SE_SCALE_WORDS = {
    "seribu": _THOUSAND, "sejuta": _MILLION, "semiliar": _BILLION, "semilyar": _BILLION,
    "setriliun": _TRILLION,
}  # fmt: skip
_PART_WORDS = {"setengah": Decimal("0.5"), "seperempat": Decimal("0.25")}
# In English "2.5m" is 2.5 million and "1.2b" 1.2 billion ("m" is miliar in Indonesian writing).
_ENGLISH_ABBREVIATIONS = {"m": _MILLION, "mn": _MILLION, "mil": _MILLION, "b": _BILLION, "bn": _BILLION}


@cache
def _vocabulary() -> dict[str, _Token]:
    """Full words (no abbreviations) that may also appear glued ("limaratus")."""
    vocab: dict[str, _Token] = {}
    for word, value in _DIGIT_WORDS.items():
        vocab[word] = _Token(_Kind.DIGIT, Decimal(value), word)
    vocab["sepuluh"] = _Token(_Kind.TEEN, Decimal(10), "sepuluh")
    vocab["sebelas"] = _Token(_Kind.TEEN, Decimal(11), "sebelas")
    vocab["puluh"] = _Token(_Kind.PULUH, raw="puluh")
    vocab["belas"] = _Token(_Kind.BELAS, raw="belas")
    vocab["ratus"] = _Token(_Kind.RATUS, raw="ratus")
    vocab["seratus"] = _Token(_Kind.SERATUS, raw="seratus")
    for word, value in _SCALE_WORDS.items():
        vocab[word] = _Token(_Kind.SCALE, value, word)
    for word, value in _SE_SCALE_WORDS.items():
        vocab[word] = _Token(_Kind.SE_SCALE, value, word)
    for word, value in _PART_WORDS.items():
        vocab[word] = _Token(_Kind.PART, value, word)
    vocab["koma"] = _Token(_Kind.KOMA, raw="koma")
    vocab["minus"] = _Token(_Kind.MINUS, raw="minus")
    return vocab


_LEXER = re.compile(
    r"""
    (?P<frac>\d+/\d+)                             # 1/2, as in "2 1/2 juta"
    |(?P<num>\d{1,3}(?:[ \u00a0]\d{3})+(?![\d.,])  # spaced thousands: 2 500 000
           |\d+(?:[.,]\d+)*)                       # 2.500.000 / 2,5 / 2500
    |(?P<word>[a-z]+)
    |(?P<minus>[-\u2212])
    |(?P<skip>\s+
            |(?<=[a-z])\.                          # abbreviation dot: "Rp.", "rb."
            |\.\s*$)                               # full stop ending the message
    """,
    re.VERBOSE,
)
# "Rp 2.000.000,-" and "Rp 2.000.000.-": the dash closes the figure, it is not a sign.
_TRAILING_DASH = re.compile(r"[.,]?\s*-+\s*$")
_FIRST_GROUP = re.compile(r"[1-9]\d{0,2}")
_LATER_GROUP = re.compile(r"\d{3}")


class _NotANumber(Exception):
    """Internal: the text does not follow the grammar; mapped to code "not_a_number"."""


def _segment(word: str) -> list[_Token] | None:
    """Split a glued word ("duaratuslimapuluh") into known words, or None."""
    vocab = _vocabulary()
    if word in vocab:
        return [vocab[word]]
    # Longest match first, backtracking: the vocabulary is tiny so this is instant.
    for end in range(len(word) - 1, 2, -1):
        head = vocab.get(word[:end])
        if head is None:
            continue
        rest = _segment(word[end:])
        if rest is not None:
            return [head, *rest]
    return None


def _lex(text: str, ignored: frozenset[str], english: bool = False) -> list[_Token]:
    """Turn the lower-cased text into tokens; anything unrecognised is not a number."""
    text = _TRAILING_DASH.sub("", text)
    tokens: list[_Token] = []
    pos = 0
    while pos < len(text):
        match = _LEXER.match(text, pos)
        if match is None:
            raise _NotANumber
        pos = match.end()
        if match.lastgroup == "frac":
            tokens.append(_fraction(match.group()))
        elif match.lastgroup == "num":
            tokens.append(_Token(_Kind.NUM, raw=match.group()))
        elif match.lastgroup == "minus":
            tokens.append(_Token(_Kind.MINUS, raw="-"))
        elif match.lastgroup == "word":
            tokens.extend(_word_tokens(match.group(), ignored, english))
    return tokens


def _fraction(raw: str) -> _Token:
    """A proper fraction ("1/2", "3/4") read like "setengah"."""
    top, bottom = (Decimal(part) for part in raw.split("/"))
    if bottom == 0 or not 0 < top < bottom:
        raise _NotANumber
    return _Token(_Kind.PART, top / bottom, raw)


def _word_tokens(word: str, ignored: frozenset[str], english: bool = False) -> list[_Token]:
    if word in ignored:
        return []
    if english and word in _ENGLISH_ABBREVIATIONS:
        return [_Token(_Kind.SCALE, _ENGLISH_ABBREVIATIONS[word], word)]
    if word in _SCALE_ABBREVIATIONS:
        return [_Token(_Kind.SCALE, _SCALE_ABBREVIATIONS[word], word)]
    segmented = _segment(word)
    if segmented is None:
        raise _NotANumber
    return segmented


def _valid_thousands(groups: Sequence[str]) -> bool:
    return bool(_FIRST_GROUP.fullmatch(groups[0])) and all(
        _LATER_GROUP.fullmatch(group) for group in groups[1:]
    )


def _read_literal(raw: str, before_scale: bool) -> Decimal:
    """Value of a digit literal under the separator rule in the module docstring."""
    raw = raw.replace("\u00a0", " ")
    if " " in raw:
        return Decimal(raw.replace(" ", ""))  # the lexer already checked the grouping
    has_dot, has_comma = "." in raw, "," in raw
    if not (has_dot or has_comma):
        return Decimal(raw)
    if has_dot and has_comma:
        decimal_mark = "," if raw.rfind(",") > raw.rfind(".") else "."
        thousands_mark = "." if decimal_mark == "," else ","
        whole, _, fraction = raw.partition(decimal_mark)
        if decimal_mark in fraction or thousands_mark in fraction:
            raise _NotANumber
        if not _valid_thousands(whole.split(thousands_mark)):
            raise _NotANumber
        return Decimal(f"{whole.replace(thousands_mark, '')}.{fraction}")
    mark = "." if has_dot else ","
    parts = raw.split(mark)
    if len(parts) > 2:
        if not _valid_thousands(parts):
            raise _NotANumber
        return Decimal("".join(parts))
    whole, fraction = parts
    # "2,500 jt" keeps the Indonesian decimal comma; "2.500 jt" is Rp2.500 juta.
    if len(fraction) == 3 and not (before_scale and mark == ","):
        if not _valid_thousands(parts):
            raise _NotANumber
        return Decimal(whole + fraction)
    return Decimal(f"{whole}.{fraction}")


class _Reader:
    """Left-to-right reader of number tokens.

    A value is a sum of groups, each an optional scale (ribu, juta, ...) in strictly
    decreasing order. Within a group: hundreds, then tens or teens, then units, then an
    optional fraction (setengah, or "koma" followed by digits).
    """

    def __init__(self, tokens: Sequence[_Token]) -> None:
        self.tokens = tokens
        self.total = Decimal(0)
        self.last_scale: Decimal | None = None
        self._reset_group()

    def _reset_group(self) -> None:
        self.group = Decimal(0)
        # Smallest place filled so far: 4 empty, 3 hundreds, 2 tens, 1 units/teens.
        self.level = 4
        self.pending: Decimal | None = None  # a unit or literal not yet placed
        self.pending_literal = False
        self.fraction: Decimal | None = None
        self.koma_digits: str | None = None  # not None once "koma" was read

    def _has_group(self) -> bool:
        return self.level < 4 or self.pending is not None or self.fraction is not None

    def _close_group(self) -> Decimal:
        value = self.group + (self.pending or 0)
        if self.koma_digits is not None:
            if not self.koma_digits:
                raise _NotANumber
            value += Decimal(f"0.{self.koma_digits}")
        if self.fraction is not None:
            value += self.fraction
        return value

    def _next_kind(self, index: int) -> _Kind | None:
        return self.tokens[index + 1].kind if index + 1 < len(self.tokens) else None

    def read(self) -> Decimal:
        for index, token in enumerate(self.tokens):
            if self.koma_digits is not None:
                if self._read_koma_digit(token):
                    continue
                if token.kind is not _Kind.SCALE:  # "satu koma lima puluh"
                    raise _NotANumber
            _HANDLERS[token.kind](self, token, index)
        if not self._has_group():
            if self.last_scale is None:  # nothing but currency or unit words (or nothing)
                raise _NotANumber
            return self.total
        if self.last_scale is not None and self.last_scale > _THOUSAND and self.pending_literal:
            return self.total + self._trailing_digits()
        return self.total + self._close_group()

    def _trailing_digits(self) -> Decimal:
        """Digits after a scale with no unit of their own, as people type them: "2jt500" is
        2.500.000 (the next scale down) and "2jt5" 2,5 juta. Two digits ("1jt50": 1.050.000 or
        1.500.000?) or anything else after the scale stays unread: money is not guessed."""
        raw = self.tokens[-1].raw
        assert self.last_scale is not None
        if self.level < 4 or self.fraction is not None or self.koma_digits is not None or not raw.isdigit():
            raise _NotANumber
        if len(raw) == 3:
            return Decimal(raw) * self.last_scale / _THOUSAND
        if len(raw) == 1:
            return Decimal(raw) * self.last_scale / 10
        raise _NotANumber

    def _read_koma_digit(self, token: _Token) -> bool:
        """After "koma", digits are read one by one ("satu koma dua lima" = 1,25)."""
        assert self.koma_digits is not None
        if token.kind is _Kind.DIGIT:
            self.koma_digits += str(int(token.value))
            return True
        if token.kind is _Kind.NUM and token.raw.isdigit():
            self.koma_digits += token.raw
            return True
        return False

    def _start_unit(self) -> None:
        if self.pending is not None or self.fraction is not None or self.level <= 1:
            raise _NotANumber
        if self.koma_digits is not None:
            raise _NotANumber

    def _on_digit(self, token: _Token, index: int) -> None:
        self._start_unit()
        self.pending = token.value

    def _on_num(self, token: _Token, index: int) -> None:
        self._start_unit()
        if self.level < 4:  # "seratus 50": words then digits in one group
            raise _NotANumber
        self.pending = _read_literal(token.raw, self._next_kind(index) is _Kind.SCALE)
        self.pending_literal = True

    def _multiplier_unit(self, top_level: int) -> Decimal:
        """The unit before puluh/belas/ratus: a whole 1..9, in a free place."""
        unit = self.pending
        if unit is None or unit != unit.to_integral_value() or not 1 <= unit <= 9:
            raise _NotANumber
        if self.level <= top_level or self.fraction is not None:
            raise _NotANumber
        self.pending = None
        self.pending_literal = False
        return unit

    def _on_teen(self, token: _Token, index: int) -> None:
        if self.pending is not None or self.fraction is not None or self.level <= 2:
            raise _NotANumber
        self.group += token.value
        self.level = 1

    def _on_puluh(self, token: _Token, index: int) -> None:
        self.group += self._multiplier_unit(2) * 10
        self.level = 2

    def _on_belas(self, token: _Token, index: int) -> None:
        self.group += 10 + self._multiplier_unit(2)
        self.level = 1

    def _on_ratus(self, token: _Token, index: int) -> None:
        self.group += self._multiplier_unit(3) * 100
        self.level = 3

    def _on_seratus(self, token: _Token, index: int) -> None:
        if self._has_group():
            raise _NotANumber
        self.group += 100
        self.level = 3

    def _on_part(self, token: _Token, index: int) -> None:
        if self.fraction is not None or self.koma_digits is not None:
            raise _NotANumber
        is_last = index == len(self.tokens) - 1
        if not self._has_group() and self.last_scale is not None and is_last:
            # "sejuta setengah", "2 juta setengah": half of the unit just named.
            self.total += self.last_scale * token.value
            return
        self.fraction = token.value

    def _on_koma(self, token: _Token, index: int) -> None:
        if self.fraction is not None or not (self.level < 4 or self.pending is not None):
            raise _NotANumber
        self.koma_digits = ""

    def _add_scaled(self, value: Decimal, scale: Decimal) -> None:
        if self.last_scale is not None and scale >= self.last_scale:
            raise _NotANumber  # "500 ribu 2 juta", "2 juta juta"
        self.total += value * scale
        self.last_scale = scale
        self._reset_group()

    def _on_scale(self, token: _Token, index: int) -> None:
        if not self._has_group():  # a bare "juta"
            raise _NotANumber
        self._add_scaled(self._close_group(), token.value)

    def _on_se_scale(self, token: _Token, index: int) -> None:
        if self._has_group():
            raise _NotANumber
        self._add_scaled(Decimal(1), token.value)

    def _on_minus(self, token: _Token, index: int) -> None:
        raise _NotANumber  # a leading sign was consumed before reading


_HANDLERS: dict[_Kind, Callable[[_Reader, _Token, int], None]] = {
    _Kind.NUM: _Reader._on_num,
    _Kind.DIGIT: _Reader._on_digit,
    _Kind.TEEN: _Reader._on_teen,
    _Kind.PULUH: _Reader._on_puluh,
    _Kind.BELAS: _Reader._on_belas,
    _Kind.RATUS: _Reader._on_ratus,
    _Kind.SERATUS: _Reader._on_seratus,
    _Kind.SCALE: _Reader._on_scale,
    _Kind.SE_SCALE: _Reader._on_se_scale,
    _Kind.PART: _Reader._on_part,
    _Kind.KOMA: _Reader._on_koma,
    _Kind.MINUS: _Reader._on_minus,
}


def _split_sign(tokens: list[_Token]) -> tuple[bool, list[_Token]]:
    if tokens and tokens[0].kind is _Kind.MINUS:
        return True, tokens[1:]
    return False, tokens


def _read(text: str | None, ignored: frozenset[str], max_value: int, english: bool = False) -> int:
    """Shared pipeline: empty -> grammar -> sign -> whole number -> cap."""
    if text is None or not text.strip():
        raise AmountError("empty", text)
    if len(text) > _MAX_TEXT_LENGTH:
        raise AmountError("not_a_number", text)
    try:
        negative, tokens = _split_sign(_lex(text.strip().lower(), ignored, english))
        value = _Reader(tokens).read()
    except (_NotANumber, InvalidOperation):
        raise AmountError("not_a_number", text) from None
    if negative and value != 0:
        raise AmountError("negative", text)
    if value != value.to_integral_value():
        raise AmountError("fraction", text)
    if value > max_value:
        raise AmountError("too_large", text)
    return int(value)


def parse_amount(text: str, *, max_value: int = MAX_MONTHLY_AMOUNT, english: bool = False) -> int:
    """Read a rupiah amount such as "2,5jt", "Rp 2.000.000,-", "2 1/2 juta", "2jt500" or
    "dua setengah juta"; with `english`, "2.5m" is 2.5 million (in Indonesian "m" is miliar).

    Raises `AmountError` with code "empty", "not_a_number", "negative", "too_large"
    (above `max_value`, inclusive cap) or "fraction" (part of a rupiah, which almost
    always means a missing unit: "2,5" instead of "2,5 jt").
    """
    return _read(text, _CURRENCY_WORDS, max_value, english)


def parse_count(
    text: str,
    *,
    max_value: int = MAX_COUNT,
    unit_words: frozenset[str] = COUNT_UNIT_WORDS,
) -> int:
    """Read a whole count such as "5", "5 orang", "dua puluh", "1,5rb pcs".

    Same grammar as `parse_amount` without currency words; `unit_words` are nouns that
    may follow the number. Raises `AmountError` with the same codes; "fraction" when
    the count is not whole ("2,5 orang").
    """
    return _read(text, unit_words, max_value)
