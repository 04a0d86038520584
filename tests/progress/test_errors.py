"""Input errors carry a known machine code and the user's text."""

from __future__ import annotations

import pytest

from bot.progress.errors import AmountError, MonthError


def test_error_keeps_code_and_text() -> None:
    error = MonthError("future", "bulan depan")
    assert (error.code, error.text) == ("future", "bulan depan")
    assert isinstance(error, ValueError)


@pytest.mark.parametrize(("cls", "code"), [(AmountError, "unknown"), (MonthError, "negative")])
def test_unknown_code_is_rejected(cls: type[ValueError], code: str) -> None:
    # A typo in a code would make the bot look up a template that does not exist.
    with pytest.raises(ValueError, match="has no code"):
        cls(code, "x")
