"""Training events, RSVPs (with the waiting list), attendance and ratings; broadcasts."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.storage.engagement_models import AUDIENCES, RSVP_ANSWERS, Broadcast, Event, Rsvp
from bot.storage.models import User
from bot.storage.repos._common import check_choice, moment

__all__ = ["BroadcastRepository", "EventRepository"]

_RSVPS = Rsvp.__table__


class EventRepository:
    """Events and their RSVPs of one session; never commits."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, **fields: Any) -> Event:
        """A new event (fields as in `Event`); times must be timezone-aware."""
        check_choice("audience", fields.get("audience", "cohort"), AUDIENCES)
        for name in ("starts_at", "ends_at", "rsvp_closes_at", "next_notice_at"):
            if fields.get(name) is not None:
                fields[name] = moment(fields[name])
        row = Event(**fields)
        self.session.add(row)
        self.session.flush()
        return row

    def by_id(self, event_id: int) -> Event | None:
        return self.session.get(Event, event_id)

    def for_cohorts(self, cohort_ids: list[int], *, since: datetime | None = None) -> list[Event]:
        """Events of these cohorts (ending after `since`), soonest first."""
        if not cohort_ids:
            return []
        stmt = select(Event).where(Event.cohort_id.in_(cohort_ids))
        if since is not None:
            stmt = stmt.where(Event.ends_at >= moment(since))
        return list(self.session.scalars(stmt.order_by(Event.starts_at, Event.id)))

    def due_notices(self, now: datetime, limit: int = 100) -> list[Event]:
        """Open events with a notice due (index on status and next_notice_at)."""
        stmt = (
            select(Event)
            .where(Event.status == "open", Event.next_notice_at <= moment(now))
            .order_by(Event.next_notice_at, Event.id)
            .limit(limit)
        )
        if self.session.get_bind().dialect.name == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        return list(self.session.scalars(stmt))

    # -- RSVPs --------------------------------------------------------------------------------

    def invite(self, event_id: int, user_id: int, at: datetime | None = None) -> bool:
        """Add an invitation (no answer yet); False if the user was invited already."""
        module = postgresql if self.session.get_bind().dialect.name == "postgresql" else sqlite
        stmt = (
            module.insert(_RSVPS)
            .values(event_id=event_id, user_id=user_id, invited_at=moment(at))
            .on_conflict_do_nothing(index_elements=["event_id", "user_id"])
            .returning(_RSVPS.c.id)
        )
        return self.session.execute(stmt).first() is not None

    def rsvp(self, event_id: int, user_id: int, *, lock: bool = False) -> Rsvp | None:
        stmt = select(Rsvp).where(Rsvp.event_id == event_id, Rsvp.user_id == user_id)
        if lock and self.session.get_bind().dialect.name == "postgresql":
            stmt = stmt.with_for_update()
        return self.session.scalars(stmt).one_or_none()

    def lock_event(self, event_id: int) -> Event | None:
        """The event row, locked for this transaction on PostgreSQL: RSVP changes to one event
        are serialised so the quota and the waiting list stay right (SQLite serialises writers)."""
        stmt = select(Event).where(Event.id == event_id)
        if self.session.get_bind().dialect.name == "postgresql":
            stmt = stmt.with_for_update()
        return self.session.scalars(stmt).one_or_none()

    def set_answer(self, rsvp: Rsvp, answer: str, *, waitlisted: bool, at: datetime | None = None) -> None:
        check_choice("answer", answer, RSVP_ANSWERS)
        now = moment(at)
        rsvp.answer = answer
        rsvp.answered_at = now
        rsvp.waitlisted_at = now if waitlisted else None
        self.session.flush()

    def rsvps(self, event_id: int) -> list[tuple[Rsvp, User]]:
        """Every invitation with its user, in answering order (unanswered last)."""
        stmt = (
            select(Rsvp, User)
            .join(User, User.id == Rsvp.user_id)
            .where(Rsvp.event_id == event_id)
            .order_by(Rsvp.answered_at.is_(None), Rsvp.answered_at, Rsvp.id)
        )
        return [(r, u) for r, u in self.session.execute(stmt)]

    def confirmed_count(self, event_id: int) -> int:
        """People holding a place: answered yes and not on the waiting list."""
        stmt = select(func.count()).where(Rsvp.event_id == event_id, Rsvp.answer == "yes", Rsvp.waitlisted_at.is_(None))
        return int(self.session.scalar(stmt) or 0)

    def first_waiting(self, event_id: int) -> Rsvp | None:
        """The earliest "yes" on the waiting list."""
        stmt = (
            select(Rsvp)
            .where(Rsvp.event_id == event_id, Rsvp.answer == "yes", Rsvp.waitlisted_at.is_not(None))
            .order_by(Rsvp.waitlisted_at, Rsvp.id)
            .limit(1)
        )
        return self.session.scalars(stmt).first()

    def counts(self, event_id: int) -> dict[str, int]:
        """yes (with a place), waiting, no, maybe, none (no answer yet), attended."""
        counts = {"yes": 0, "waiting": 0, "no": 0, "maybe": 0, "none": 0, "attended": 0}
        for rsvp, _ in self.rsvps(event_id):
            if rsvp.answer is None:
                counts["none"] += 1
            elif rsvp.answer == "yes" and rsvp.waitlisted_at is not None:
                counts["waiting"] += 1
            else:
                counts[rsvp.answer] += 1
            counts["attended"] += bool(rsvp.attended)
        return counts

    def attended_for_users(self, user_ids: Iterable[int]) -> dict[int, int]:
        """Events attended per user (for the cohort export)."""
        ids = list(user_ids)
        if not ids:
            return {}
        stmt = (
            select(Rsvp.user_id, func.count())
            .where(Rsvp.user_id.in_(ids), Rsvp.attended.is_(True))
            .group_by(Rsvp.user_id)
        )
        return {user_id: count for user_id, count in self.session.execute(stmt)}

    def for_user(self, user_id: int) -> list[tuple[Rsvp, Event]]:
        """A member's invitations with their events, newest event first."""
        stmt = (
            select(Rsvp, Event)
            .join(Event, Event.id == Rsvp.event_id)
            .where(Rsvp.user_id == user_id)
            .order_by(Event.starts_at.desc())
        )
        return [(r, e) for r, e in self.session.execute(stmt)]


class BroadcastRepository:
    """Broadcasts of one session; never commits."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, **fields: Any) -> Broadcast:
        check_choice("audience", fields.get("audience", "cohort"), AUDIENCES)
        row = Broadcast(**fields)
        self.session.add(row)
        self.session.flush()
        return row

    def by_id(self, broadcast_id: int) -> Broadcast | None:
        return self.session.get(Broadcast, broadcast_id)

    def for_cohorts(self, cohort_ids: list[int], limit: int = 10) -> list[Broadcast]:
        """The latest broadcasts to these cohorts, newest first."""
        if not cohort_ids:
            return []
        stmt = (
            select(Broadcast)
            .where(Broadcast.cohort_id.in_(cohort_ids))
            .order_by(Broadcast.created_at.desc(), Broadcast.id.desc())
            .limit(limit)
        )
        return list(self.session.scalars(stmt))
