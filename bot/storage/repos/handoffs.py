"""Hand-off threads (a member's question to a coach and the replies) and knowledge drafts."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bot.storage.coaching_models import AUTHORS, HandoffMessage, HandoffThread, KnowledgeDraft
from bot.storage.repos._common import check_choice, moment

__all__ = ["HandoffRepository"]


class HandoffRepository:
    """Threads, their messages and drafts of one session; never commits."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def open_thread(
        self,
        user_id: int,
        coach_id: int,
        cohort_id: int | None,
        text: str,
        *,
        question_log_id: int | None = None,
        entry_id: str | None = None,
        at: datetime | None = None,
    ) -> HandoffThread:
        """A new thread with the member's first message."""
        now = moment(at)
        thread = HandoffThread(
            user_id=user_id,
            coach_id=coach_id,
            cohort_id=cohort_id,
            question_log_id=question_log_id,
            entry_id=entry_id,
            status="open",
            created_at=now,
            updated_at=now,
        )
        self.session.add(thread)
        self.session.flush()
        self.add_message(thread, "member", text, at=now)
        return thread

    def thread(self, thread_id: int) -> HandoffThread | None:
        return self.session.get(HandoffThread, thread_id)

    def add_message(self, thread: HandoffThread, author: str, text: str, at: datetime | None = None) -> HandoffMessage:
        """Append a message; a coach's reply answers the thread, a member's follow-up reopens it."""
        check_choice("author", author, AUTHORS)
        now = moment(at)
        message = HandoffMessage(thread_id=thread.id, author=author, text=text, created_at=now)
        self.session.add(message)
        thread.updated_at = now
        if author == "coach":
            thread.status = "answered"
            thread.answered_at = now
        else:
            thread.status = "open"
        self.session.flush()
        return message

    def messages(self, thread_id: int) -> list[HandoffMessage]:
        """A thread's messages, oldest first."""
        stmt = (
            select(HandoffMessage)
            .where(HandoffMessage.thread_id == thread_id)
            .order_by(HandoffMessage.created_at, HandoffMessage.id)
        )
        return list(self.session.scalars(stmt))

    def first_question(self, thread_id: int) -> str:
        """The member's first message of a thread."""
        messages = self.messages(thread_id)
        return next((m.text for m in messages if m.author == "member"), "")

    def last_reply(self, thread_id: int) -> str | None:
        """The coach's latest reply on a thread, if any."""
        replies = [m.text for m in self.messages(thread_id) if m.author == "coach"]
        return replies[-1] if replies else None

    def for_coach(
        self, coach_id: int | None, status: str | None = "open", limit: int | None = None
    ) -> list[HandoffThread]:
        """A coach's threads (all coaches' for None), oldest first."""
        stmt = select(HandoffThread).order_by(HandoffThread.created_at, HandoffThread.id).limit(limit)
        if coach_id is not None:
            stmt = stmt.where(HandoffThread.coach_id == coach_id)
        if status is not None:
            stmt = stmt.where(HandoffThread.status == status)
        return list(self.session.scalars(stmt))

    def for_member(self, user_id: int, coach_id: int | None = None) -> list[HandoffThread]:
        """A member's threads (with one coach, or all), newest first."""
        stmt = select(HandoffThread).where(HandoffThread.user_id == user_id)
        if coach_id is not None:
            stmt = stmt.where(HandoffThread.coach_id == coach_id)
        return list(self.session.scalars(stmt.order_by(HandoffThread.created_at.desc(), HandoffThread.id.desc())))

    def open_counts(self, coach_id: int | None, user_ids: Iterable[int]) -> dict[int, int]:
        """Open threads per member (with one coach, or any coach for None)."""
        ids = list(user_ids)
        if not ids:
            return {}
        stmt = (
            select(HandoffThread.user_id, func.count())
            .where(HandoffThread.user_id.in_(ids), HandoffThread.status == "open")
            .group_by(HandoffThread.user_id)
        )
        if coach_id is not None:
            stmt = stmt.where(HandoffThread.coach_id == coach_id)
        return {user_id: count for user_id, count in self.session.execute(stmt)}

    # -- knowledge drafts ---------------------------------------------------------------------

    def add_draft(
        self, thread: HandoffThread, question: str, answer: str, at: datetime | None = None
    ) -> KnowledgeDraft:
        """Save a coach's answer to a member's question for an editor."""
        draft = KnowledgeDraft(
            user_id=thread.user_id,
            coach_id=thread.coach_id,
            thread_id=thread.id,
            question=question,
            answer=answer,
            entry_id=thread.entry_id,
            created_at=moment(at),
        )
        self.session.add(draft)
        self.session.flush()
        return draft

    def drafts(self, *, unexported_only: bool = False) -> list[KnowledgeDraft]:
        """Knowledge drafts, oldest first."""
        stmt = select(KnowledgeDraft).order_by(KnowledgeDraft.created_at, KnowledgeDraft.id)
        if unexported_only:
            stmt = stmt.where(KnowledgeDraft.exported_at.is_(None))
        return list(self.session.scalars(stmt))

    def mark_exported(self, draft_ids: Iterable[int], at: datetime | None = None) -> None:
        ids = list(draft_ids)
        if ids:
            self.session.execute(
                update(KnowledgeDraft).where(KnowledgeDraft.id.in_(ids)).values(exported_at=moment(at))
            )
