"""Engagement tables: reminders and their occurrences, training events with RSVPs and attendance,
broadcasts. Every change here needs a migration.

Times are stored in UTC; each reminder and event also keeps the time zone its wall-clock times
were given in (WIB, WITA or WIT), because recurrence is expanded on the local calendar.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.choices import AUDIENCES, TIMEZONES
from bot.storage.models import Base, in_values, user_fk
from bot.storage.types import utcnow

__all__ = [
    "AUDIENCES",
    "REMINDER_STATES",
    "RSVP_ANSWERS",
    "Broadcast",
    "Event",
    "Reminder",
    "ReminderOccurrence",
    "Rsvp",
]

REMINDER_STATES = ("active", "paused", "cancelled", "done")
OCCURRENCE_STATES = ("queued", "missed")
EVENT_STATES = ("open", "cancelled")
RSVP_ANSWERS = ("yes", "no", "maybe")


def _cohort_fk() -> ForeignKey:
    return ForeignKey("cohorts.id", ondelete="CASCADE")


def _coach_fk() -> ForeignKey:
    return ForeignKey("coaches.id", ondelete="SET NULL")


class Reminder(Base):
    """A one-off or recurring message to an audience of a cohort, in the cohort's time zone."""

    __tablename__ = "reminders"
    __table_args__ = (
        CheckConstraint(in_values("audience", AUDIENCES), name="audience"),
        CheckConstraint(in_values("status", REMINDER_STATES), name="status"),
        CheckConstraint(in_values("timezone", TIMEZONES), name="timezone"),
        # The scheduler's query: active reminders whose next occurrence is due.
        Index(None, "status", "next_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(_cohort_fk(), index=True)
    coach_id: Mapped[int | None] = mapped_column(_coach_fk())
    audience: Mapped[str] = mapped_column(String(24))
    audience_milestone: Mapped[str | None] = mapped_column(String(64))
    audience_user_id: Mapped[int | None] = mapped_column(user_fk())
    # The coach's text, a Jinja2 template rendered per recipient in a sandbox.
    text: Mapped[str] = mapped_column(Text)
    # The first occurrence as local wall-clock time ("2026-12-01T08:00") and its zone.
    start_local: Mapped[str] = mapped_column(String(19))
    timezone: Mapped[str] = mapped_column(String(32))
    # iCalendar RRULE (RFC 5545) without DTSTART, e.g. "FREQ=WEEKLY;BYDAY=MO,TH"; None: one-off.
    rrule: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), default="active")
    next_at: Mapped[datetime | None]  # UTC; None when nothing is left to send
    last_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ReminderOccurrence(Base):
    """One occurrence of a reminder: queued (with how many recipients) or missed while down."""

    __tablename__ = "reminder_occurrences"
    __table_args__ = (
        UniqueConstraint("reminder_id", "occurs_at"),
        CheckConstraint(in_values("state", OCCURRENCE_STATES), name="state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reminder_id: Mapped[int] = mapped_column(ForeignKey("reminders.id", ondelete="CASCADE"))
    occurs_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(8))
    recipients: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Event(Base):
    """A training or meeting with RSVP, quota and waiting list."""

    __tablename__ = "events"
    __table_args__ = (
        CheckConstraint(in_values("audience", AUDIENCES), name="audience"),
        CheckConstraint(in_values("status", EVENT_STATES), name="status"),
        CheckConstraint(in_values("timezone", TIMEZONES), name="timezone"),
        # The scheduler's query: events with a notice (reminder, rating request) due.
        Index(None, "status", "next_notice_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(_cohort_fk(), index=True)
    coach_id: Mapped[int | None] = mapped_column(_coach_fk())
    title: Mapped[str] = mapped_column(String(160))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    timezone: Mapped[str] = mapped_column(String(32))
    place: Mapped[str | None] = mapped_column(String(255))
    online_link: Mapped[str | None] = mapped_column(String(500))
    description: Mapped[str | None] = mapped_column(Text)
    quota: Mapped[int | None]
    rsvp_closes_at: Mapped[datetime]
    audience: Mapped[str] = mapped_column(String(24), default="cohort")
    audience_milestone: Mapped[str | None] = mapped_column(String(64))
    audience_user_id: Mapped[int | None] = mapped_column(user_fk())
    status: Mapped[str] = mapped_column(String(16), default="open")
    next_notice_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Rsvp(Base):
    """An invited member's answer, place on the waiting list, attendance and rating."""

    __tablename__ = "rsvps"
    __table_args__ = (
        UniqueConstraint("event_id", "user_id"),
        CheckConstraint(in_values("answer", RSVP_ANSWERS), name="answer"),
        CheckConstraint("rating BETWEEN 1 AND 5", name="rating"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(user_fk(), index=True)
    answer: Mapped[str | None] = mapped_column(String(8))  # None: invited, no answer yet
    # "yes" beyond the quota waits here, in order of answering; None: not waiting.
    waitlisted_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    attended: Mapped[bool | None]
    attendance_at: Mapped[datetime | None]
    rating: Mapped[int | None]
    comment: Mapped[str | None] = mapped_column(Text)
    rated_at: Mapped[datetime | None]
    invited_at: Mapped[datetime] = mapped_column(default=utcnow)


class Broadcast(Base):
    """A one-off message from a coach to an audience of a cohort, or from an admin to an
    institution; its delivery report is the outbox rows with subject ("broadcast", id)."""

    __tablename__ = "broadcasts"
    __table_args__ = (CheckConstraint(in_values("audience", AUDIENCES), name="audience"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int | None] = mapped_column(_cohort_fk())
    institution_id: Mapped[int | None] = mapped_column(ForeignKey("institutions.id", ondelete="CASCADE"))
    coach_id: Mapped[int | None] = mapped_column(_coach_fk())
    text: Mapped[str] = mapped_column(Text)
    audience: Mapped[str] = mapped_column(String(24), default="cohort")
    audience_milestone: Mapped[str | None] = mapped_column(String(64))
    audience_user_id: Mapped[int | None] = mapped_column(user_fk())
    recipients: Mapped[int] = mapped_column(default=0)
    skipped_blocked: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
