"""Monthly figures (omzet, modal, workers, units) with corrections kept as history."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.storage.models import FIGURE_KINDS, Figure
from bot.storage.repos._common import check_choice, moment

__all__ = ["FigureRepository"]


class FigureRepository:
    """Figures of one session; never commits."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def _current_row(self, user_id: int, kind: str, month: date) -> Figure | None:
        stmt = (
            select(Figure)
            .where(
                Figure.user_id == user_id,
                Figure.kind == kind,
                Figure.month == month,
                Figure.superseded_at.is_(None),
            )
            # PostgreSQL: a concurrent correction of the same month waits here.
            .with_for_update()
        )
        return self.session.scalars(stmt).one_or_none()

    def record(
        self, user_id: int, kind: str, month: date, value: int, at: datetime | None = None
    ) -> tuple[Figure, Figure | None]:
        """Store a month's value; returns (current figure, the figure it replaced or None).

        A correction supersedes the current row and inserts a new one, in this
        transaction. Re-entering the current value changes nothing and returns
        (that figure, None). Two concurrent first entries for one month collide on the
        partial unique index: wrap the unit of work in run_with_retry.
        """
        check_choice("kind", kind, FIGURE_KINDS)
        if month.day != 1:
            raise ValueError(f"month must be the first day of a month, got {month}")
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"value must be a non-negative integer, got {value!r}")
        when = moment(at)
        old = self._current_row(user_id, kind, month)
        if old is not None:
            if old.value == value:
                return old, None
            old.superseded_at = when
            # Flush the UPDATE before the INSERT: both rows current at once would
            # violate the partial unique index.
            self.session.flush()
        new = Figure(user_id=user_id, kind=kind, month=month, value=value, created_at=when)
        self.session.add(new)
        self.session.flush()
        return new, old

    def current(self, user_id: int, kind: str) -> dict[date, int]:
        """Current value per month, in month order."""
        stmt = (
            select(Figure.month, Figure.value)
            .where(Figure.user_id == user_id, Figure.kind == kind, Figure.superseded_at.is_(None))
            .order_by(Figure.month)
        )
        return {month: value for month, value in self.session.execute(stmt)}

    def history(self, user_id: int, kind: str, month: date) -> list[Figure]:
        """Every value entered for one month, oldest first (the last is current)."""
        stmt = (
            select(Figure)
            .where(Figure.user_id == user_id, Figure.kind == kind, Figure.month == month)
            .order_by(Figure.created_at, Figure.id)
        )
        return list(self.session.scalars(stmt))

    def for_users(self, user_ids: Iterable[int], kind: str, since: date) -> dict[int, dict[date, int]]:
        """Current values of one kind from `since` on, for several users at once (a cohort)."""
        ids = list(user_ids)
        values: dict[int, dict[date, int]] = {user_id: {} for user_id in ids}
        if not ids:
            return values
        stmt = (
            select(Figure.user_id, Figure.month, Figure.value)
            .where(
                Figure.user_id.in_(ids),
                Figure.kind == kind,
                Figure.month >= since,
                Figure.superseded_at.is_(None),
            )
            .order_by(Figure.month)
        )
        for user_id, month, value in self.session.execute(stmt):
            values[user_id][month] = value
        return values
