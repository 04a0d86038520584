"""Milestones: the current done state per user, plus every toggle as an event."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.storage.models import MilestoneEvent, MilestoneProgress
from bot.storage.repos._common import moment

__all__ = ["MilestoneRepository"]


class MilestoneRepository:
    """Milestone progress of one session; never commits."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def _progress(self, user_id: int, milestone_id: str) -> MilestoneProgress | None:
        stmt = select(MilestoneProgress).where(
            MilestoneProgress.user_id == user_id, MilestoneProgress.milestone_id == milestone_id
        )
        return self.session.scalars(stmt).one_or_none()

    def set_done(
        self, user_id: int, milestone_id: str, done: bool, at: datetime | None = None
    ) -> bool:
        """Mark a milestone done or not done; True if that changed anything.

        An unchanged state adds no event, so a double tap is not counted twice.
        A concurrent first toggle fails on the unique constraint: use run_with_retry.
        """
        when = moment(at)
        progress = self._progress(user_id, milestone_id)
        if progress is None:
            if not done:  # never done and still not done
                return False
            self.session.add(
                MilestoneProgress(
                    user_id=user_id, milestone_id=milestone_id, done=True, changed_at=when
                )
            )
        elif progress.done == done:
            return False
        else:
            progress.done = done
            progress.changed_at = when
        self.session.add(
            MilestoneEvent(user_id=user_id, milestone_id=milestone_id, done=done, at=when)
        )
        return True

    def done_ids(self, user_id: int) -> set[str]:
        """Ids of the milestones the user has done now."""
        stmt = select(MilestoneProgress.milestone_id).where(
            MilestoneProgress.user_id == user_id, MilestoneProgress.done.is_(True)
        )
        return set(self.session.scalars(stmt))

    def events(self, user_id: int) -> list[MilestoneEvent]:
        """Every toggle, oldest first."""
        stmt = (
            select(MilestoneEvent)
            .where(MilestoneEvent.user_id == user_id)
            .order_by(MilestoneEvent.at, MilestoneEvent.id)
        )
        return list(self.session.scalars(stmt))

    def done_for_users(self, user_ids: Iterable[int]) -> dict[int, set[str]]:
        """Done milestone ids for several users at once (a cohort), in one query."""
        ids = list(user_ids)
        done: dict[int, set[str]] = {user_id: set() for user_id in ids}
        if not ids:
            return done
        stmt = select(MilestoneProgress.user_id, MilestoneProgress.milestone_id).where(
            MilestoneProgress.user_id.in_(ids), MilestoneProgress.done.is_(True)
        )
        for user_id, milestone_id in self.session.execute(stmt):
            done[user_id].add(milestone_id)
        return done

    def events_for_users(self, user_ids: Iterable[int]) -> list[MilestoneEvent]:
        """Every toggle of several users at once (a cohort's milestones over time), oldest first."""
        ids = list(user_ids)
        if not ids:
            return []
        stmt = (
            select(MilestoneEvent)
            .where(MilestoneEvent.user_id.in_(ids))
            .order_by(MilestoneEvent.at, MilestoneEvent.id)
        )
        return list(self.session.scalars(stmt))
