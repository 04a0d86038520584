"""The question log: what was asked, what was found, and the user's feedback."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.storage.models import FEEDBACK_VALUES, QUESTION_SOURCES, QuestionLog
from bot.storage.repos._common import check_choice, moment, rowcount

__all__ = ["QuestionLogRepository"]


class QuestionLogRepository:
    """Question log entries of one session; never commits."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(
        self,
        user_id: int,
        text: str,
        normalized: str,
        top_ids: Sequence[str],
        top_scores: Sequence[float],
        answered: bool,
        at: datetime | None = None,
        *,
        source: str = "search",
    ) -> QuestionLog:
        """Log one question (or a card reached another way, see QUESTION_SOURCES) and the
        entries shown with their scores."""
        if len(top_ids) != len(top_scores):
            raise ValueError("top_ids and top_scores must have the same length")
        check_choice("source", source, QUESTION_SOURCES)
        entry = QuestionLog(
            user_id=user_id,
            text=text,
            normalized=normalized,
            top_ids=list(top_ids),
            top_scores=[float(s) for s in top_scores],
            answered=answered,
            source=source,
            created_at=moment(at),
        )
        self.session.add(entry)
        self.session.flush()  # the id goes into the feedback buttons' callback data
        return entry

    def set_feedback(
        self, question_id: int, user_id: int, value: str, at: datetime | None = None
    ) -> bool:
        """Store "up" or "down"; False if the question is not this user's (or is gone)."""
        check_choice("feedback", value, FEEDBACK_VALUES)
        stmt = (
            update(QuestionLog)
            .where(QuestionLog.id == question_id, QuestionLog.user_id == user_id)
            .values(feedback=value, feedback_at=moment(at))
        )
        return rowcount(self.session.execute(stmt)) == 1

    def unanswered_since(self, since: datetime) -> list[QuestionLog]:
        """Questions the search could not answer, asked at or after `since`, oldest first."""
        stmt = (
            select(QuestionLog)
            .where(QuestionLog.answered.is_(False), QuestionLog.created_at >= moment(since))
            .order_by(QuestionLog.created_at, QuestionLog.id)
        )
        return list(self.session.scalars(stmt))

    def for_user(self, user_id: int, limit: int | None = None) -> list[QuestionLog]:
        """The user's questions, newest first."""
        stmt = (
            select(QuestionLog)
            .where(QuestionLog.user_id == user_id)
            .order_by(QuestionLog.created_at.desc(), QuestionLog.id.desc())
            .limit(limit)
        )
        return list(self.session.scalars(stmt))

    def owned_by(self, question_id: int, user_id: int | None) -> bool:
        """Whether the question was asked by this user (button data can be forged)."""
        if user_id is None:
            return False
        row = self.session.get(QuestionLog, question_id)
        return row is not None and row.user_id == user_id

    def by_id(self, question_id: int) -> QuestionLog | None:
        return self.session.get(QuestionLog, question_id)
