"""Conversation state: where a user is in a multi-step dialogue."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import Session

from bot.storage.models import ConversationState
from bot.storage.repos._common import moment, rowcount

__all__ = ["StateRepository"]


class StateRepository:
    """Conversation states of one session; never commits."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, user_id: int) -> ConversationState | None:
        """The user's state, or None when no dialogue is in progress."""
        return self.session.get(ConversationState, user_id)

    def set(
        self,
        user_id: int,
        state: str,
        data: dict[str, Any] | None = None,
        at: datetime | None = None,
    ) -> ConversationState:
        """Replace the user's state and its data."""
        # A fresh dict each time: JSON columns do not track in-place changes, and the
        # caller's dict must not alias what is stored.
        payload = dict(data or {})
        row = self.get(user_id)
        if row is None:
            row = ConversationState(user_id=user_id, state=state, data=payload)
            self.session.add(row)
        else:
            row.state = state
            row.data = payload
        row.updated_at = moment(at)
        return row

    def clear(self, user_id: int) -> bool:
        """End any dialogue in progress; True if there was one."""
        stmt = delete(ConversationState).where(ConversationState.user_id == user_id)
        return rowcount(self.session.execute(stmt)) > 0
