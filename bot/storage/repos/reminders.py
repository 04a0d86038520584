"""Reminders and their occurrences."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.storage.engagement_models import AUDIENCES, REMINDER_STATES, Reminder, ReminderOccurrence
from bot.storage.repos._common import check_choice, moment

__all__ = ["ReminderRepository"]

_OCCURRENCES = ReminderOccurrence.__table__


class ReminderRepository:
    """Reminders of one session; never commits."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(
        self,
        cohort_id: int,
        coach_id: int | None,
        text: str,
        start_local: str,
        timezone: str,
        rrule: str | None,
        next_at: datetime | None,
        *,
        audience: str = "cohort",
        audience_milestone: str | None = None,
        audience_user_id: int | None = None,
    ) -> Reminder:
        check_choice("audience", audience, AUDIENCES)
        row = Reminder(
            cohort_id=cohort_id,
            coach_id=coach_id,
            text=text,
            start_local=start_local,
            timezone=timezone,
            rrule=rrule,
            next_at=None if next_at is None else moment(next_at),
            audience=audience,
            audience_milestone=audience_milestone,
            audience_user_id=audience_user_id,
            status="active" if next_at is not None else "done",
        )
        self.session.add(row)
        self.session.flush()
        return row

    def by_id(self, reminder_id: int) -> Reminder | None:
        return self.session.get(Reminder, reminder_id)

    def for_cohorts(self, cohort_ids: list[int], *, include_ended: bool = False) -> list[Reminder]:
        """Reminders of these cohorts, next due first (ended ones last)."""
        if not cohort_ids:
            return []
        stmt = select(Reminder).where(Reminder.cohort_id.in_(cohort_ids))
        if not include_ended:
            stmt = stmt.where(Reminder.status.in_(("active", "paused")))
        return list(self.session.scalars(stmt.order_by(Reminder.next_at.is_(None), Reminder.next_at, Reminder.id)))

    def set_status(self, reminder: Reminder, status: str) -> None:
        check_choice("status", status, REMINDER_STATES)
        reminder.status = status

    def due(self, now: datetime, limit: int = 100) -> list[Reminder]:
        """Active reminders whose next occurrence is due, oldest first (uses the index on
        status and next_at). Locked on PostgreSQL so a concurrent scheduler skips them."""
        stmt = (
            select(Reminder)
            .where(Reminder.status == "active", Reminder.next_at <= moment(now))
            .order_by(Reminder.next_at, Reminder.id)
            .limit(limit)
        )
        if self.session.get_bind().dialect.name == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        return list(self.session.scalars(stmt))

    def add_occurrence(self, reminder_id: int, occurs_at: datetime, state: str, recipients: int) -> int | None:
        """Record an occurrence; its id, or None if it was recorded before (never queue it twice)."""
        module = postgresql if self.session.get_bind().dialect.name == "postgresql" else sqlite
        stmt = (
            module.insert(_OCCURRENCES)
            .values(
                reminder_id=reminder_id,
                occurs_at=moment(occurs_at),
                state=state,
                recipients=recipients,
                created_at=moment(None),
            )
            .on_conflict_do_nothing(index_elements=["reminder_id", "occurs_at"])
            .returning(_OCCURRENCES.c.id)
        )
        return self.session.execute(stmt).scalar()

    def set_recipients(self, occurrence_id: int, recipients: int) -> None:
        occurrence = self.session.get(ReminderOccurrence, occurrence_id)
        if occurrence is not None:
            occurrence.recipients = recipients

    def occurrences(self, reminder_id: int, limit: int = 20) -> list[ReminderOccurrence]:
        """The latest occurrences, newest first."""
        stmt = (
            select(ReminderOccurrence)
            .where(ReminderOccurrence.reminder_id == reminder_id)
            .order_by(ReminderOccurrence.occurs_at.desc())
            .limit(limit)
        )
        return list(self.session.scalars(stmt))
