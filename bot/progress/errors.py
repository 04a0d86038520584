"""Exceptions for user input the progress parsers cannot accept.

They carry a machine `code` and the offending `text`, never a sentence: the bot picks a
Jinja2 template by code, so wording and language stay out of Python.
"""

from __future__ import annotations

from typing import ClassVar


class ProgressInputError(ValueError):
    """Base class: `code` names the problem, `text` is what the user typed."""

    codes: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, code: str, text: str | None = None) -> None:
        # Fail loudly on a typo in a code: the bot would otherwise look up a template
        # that does not exist and the user would see nothing useful.
        if code not in self.codes:
            raise ValueError(f"{type(self).__name__} has no code {code!r}")
        super().__init__(code, text)
        self.code = code
        self.text = text

    def __str__(self) -> str:
        return f"{self.code}: {self.text!r}"


class AmountError(ProgressInputError):
    """A rupiah amount or a count could not be read (see `bot.progress.numbers`)."""

    codes = frozenset({"empty", "not_a_number", "negative", "too_large", "fraction"})


class MonthError(ProgressInputError):
    """A month could not be read or is not allowed (see `bot.progress.months`)."""

    codes = frozenset({"unknown", "future", "too_old"})
