"""Telegram update ids already handled (at-most-once processing of redeliveries)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.storage.models import ProcessedUpdate
from bot.storage.repos._common import moment, rowcount

__all__ = ["UpdateLogRepository"]

_TABLE = ProcessedUpdate.__table__


class UpdateLogRepository:
    """Processed update ids of one session; never commits.

    Claim the update in the same transaction that handles it: if handling fails, the
    claim is rolled back with it and a redelivery is handled again.
    """

    def __init__(self, session: Session) -> None:
        self.session = session

    def claim(self, update_id: int, at: datetime | None = None) -> bool:
        """True the first time an update id is seen, False for a duplicate."""
        values = {"update_id": update_id, "processed_at": moment(at)}
        dialect = self.session.get_bind().dialect.name
        if dialect in ("postgresql", "sqlite"):
            # ON CONFLICT DO NOTHING: a concurrent claim waits for the first one to
            # commit or roll back, then inserts nothing or its own row. RETURNING tells
            # which (rowcount of an INSERT is not reliable across drivers).
            module = postgresql if dialect == "postgresql" else sqlite
            stmt = (
                module.insert(_TABLE)
                .values(values)
                .on_conflict_do_nothing()
                .returning(_TABLE.c.update_id)
            )
            return self.session.execute(stmt).first() is not None
        try:
            with self.session.begin_nested():
                self.session.execute(insert(_TABLE).values(values))
        except IntegrityError:
            return False
        return True

    def purge(self, before: datetime) -> int:
        """Forget update ids processed before `before` (Telegram redelivers for a day
        at most); returns how many were removed."""
        stmt = delete(_TABLE).where(_TABLE.c.processed_at < moment(before))
        return rowcount(self.session.execute(stmt))
