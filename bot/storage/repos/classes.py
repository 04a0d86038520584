"""UMKM size class history: the moments a user's class changed."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.storage.models import ClassHistory
from bot.storage.repos._common import moment

__all__ = ["ClassHistoryRepository"]


class ClassHistoryRepository:
    """Class history of one session; never commits."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def latest(self, user_id: int) -> ClassHistory | None:
        """The most recent class (by as_of, then by when it was recorded)."""
        stmt = (
            select(ClassHistory)
            .where(ClassHistory.user_id == user_id)
            .order_by(
                ClassHistory.as_of.desc(), ClassHistory.recorded_at.desc(), ClassHistory.id.desc()
            )
            .limit(1)
        )
        return self.session.scalars(stmt).first()

    def add(
        self, user_id: int, umkm_class: str, as_of: date, at: datetime | None = None
    ) -> ClassHistory:
        """Append a class change."""
        row = ClassHistory(
            user_id=user_id, umkm_class=umkm_class, as_of=as_of, recorded_at=moment(at)
        )
        self.session.add(row)
        self.session.flush()
        return row

    def add_if_changed(
        self, user_id: int, umkm_class: str, as_of: date, at: datetime | None = None
    ) -> ClassHistory | None:
        """Append only if the class differs from the latest one; the new row or None."""
        latest = self.latest(user_id)
        if latest is not None and latest.umkm_class == umkm_class:
            return None
        return self.add(user_id, umkm_class, as_of, at)

    def history(self, user_id: int) -> list[ClassHistory]:
        """All class changes, oldest first."""
        stmt = (
            select(ClassHistory)
            .where(ClassHistory.user_id == user_id)
            .order_by(ClassHistory.as_of, ClassHistory.recorded_at, ClassHistory.id)
        )
        return list(self.session.scalars(stmt))

    def latest_for_users(self, user_ids: Iterable[int]) -> dict[int, str]:
        """The current class of several users at once (a cohort); users never classified are absent."""
        ids = list(user_ids)
        if not ids:
            return {}
        ranked = (
            select(
                ClassHistory.user_id,
                ClassHistory.umkm_class,
                func.row_number()
                .over(
                    partition_by=ClassHistory.user_id,
                    order_by=(ClassHistory.as_of.desc(), ClassHistory.recorded_at.desc(), ClassHistory.id.desc()),
                )
                .label("n"),
            )
            .where(ClassHistory.user_id.in_(ids))
            .subquery()
        )
        stmt = select(ranked.c.user_id, ranked.c.umkm_class).where(ranked.c.n == 1)
        return {user_id: umkm_class for user_id, umkm_class in self.session.execute(stmt)}
