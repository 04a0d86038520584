"""Helpers shared by the repositories."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import cast

from sqlalchemy import CursorResult, Result

from bot.storage.types import utcnow


def moment(at: datetime | None) -> datetime:
    """`at` in UTC, or now; naive values are refused here, before they reach a flush."""
    if at is None:
        return utcnow()
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"naive datetime {at!r}: pass a timezone-aware value")
    return at.astimezone(UTC)


def rowcount(result: Result[object]) -> int:
    """Rows touched by an INSERT/UPDATE/DELETE statement."""
    return cast(CursorResult[object], result).rowcount


def check_choice(field: str, value: str | None, choices: tuple[str, ...]) -> None:
    """Fail early with a readable message instead of a CHECK constraint error."""
    if value is not None and value not in choices:
        raise ValueError(f"{field} must be one of {', '.join(choices)}; got {value!r}")
