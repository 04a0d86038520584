"""Coaching tables: institutions, coaches, invites, cohorts, memberships, hand-off threads and
knowledge drafts. Every change here needs a migration."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.choices import COHORT_KINDS, INSTITUTION_KINDS, TIMEZONES
from bot.storage.models import Base, in_values, user_fk
from bot.storage.types import utcnow

__all__ = [
    "AUTHORS",
    "COHORT_KINDS",
    "INSTITUTION_KINDS",
    "THREAD_STATES",
    "TIMEZONES",
    "Coach",
    "CoachInvite",
    "Cohort",
    "HandoffMessage",
    "HandoffThread",
    "Institution",
    "KnowledgeDraft",
    "Membership",
]

THREAD_STATES = ("open", "answered", "closed")
AUTHORS = ("member", "coach")


class Institution(Base):
    """A district cooperative office, an NGO, a company programme or a cooperative."""

    __tablename__ = "institutions"
    __table_args__ = (CheckConstraint(in_values("kind", INSTITUTION_KINDS), name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(160))
    kind: Mapped[str] = mapped_column(String(16))
    district: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Coach(Base):
    """A user who coaches for one institution. Erased with the user (a coach who still runs
    cohorts cannot be erased: the cohorts' foreign key refuses it)."""

    __tablename__ = "coaches"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(user_fk(), unique=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CoachInvite(Base):
    """A one-time link that makes whoever accepts it a coach of an institution.
    Only the SHA-256 of the code is kept, so a database leak yields no usable link."""

    __tablename__ = "coach_invites"

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id", ondelete="CASCADE"))
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    used_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Cohort(Base):
    """A group a coach looks after: a sentra, a KUB, a cooperative, a training intake."""

    __tablename__ = "cohorts"
    __table_args__ = (
        CheckConstraint(in_values("kind", COHORT_KINDS), name="kind"),
        CheckConstraint(in_values("timezone", TIMEZONES), name="timezone"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    coach_id: Mapped[int] = mapped_column(ForeignKey("coaches.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(16))
    district: Mapped[str | None] = mapped_column(String(128))
    timezone: Mapped[str] = mapped_column(String(32))
    # Printed on posters and shared in groups, so it is kept in clear (unlike coach invites).
    join_code: Mapped[str] = mapped_column(String(32), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    archived_at: Mapped[datetime | None]
    # Weekly check-in: local weekday (0 = Monday) and time "HH:MM"; None: no check-ins.
    checkin_weekday: Mapped[int | None]
    checkin_time: Mapped[str | None] = mapped_column(String(5))
    next_checkin_at: Mapped[datetime | None] = mapped_column(index=True)


class Membership(Base):
    """An entrepreneur in a cohort. `left_at` set: the coach no longer sees them."""

    __tablename__ = "memberships"
    __table_args__ = (
        UniqueConstraint("cohort_id", "user_id"),
        Index(None, "user_id", "left_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(user_fk())
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)
    left_at: Mapped[datetime | None]
    # The UMKM class when joining, so "naik kelas since joining" needs no history scan.
    class_at_join: Mapped[str | None] = mapped_column(String(16))


class HandoffThread(Base):
    """A question an entrepreneur sent to a coach, with what the bot had answered."""

    __tablename__ = "handoff_threads"
    __table_args__ = (
        CheckConstraint(in_values("status", THREAD_STATES), name="status"),
        Index(None, "coach_id", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(user_fk(), index=True)
    coach_id: Mapped[int | None] = mapped_column(ForeignKey("coaches.id", ondelete="SET NULL"))
    cohort_id: Mapped[int | None] = mapped_column(ForeignKey("cohorts.id", ondelete="SET NULL"))
    question_log_id: Mapped[int | None] = mapped_column(ForeignKey("question_log.id", ondelete="SET NULL"))
    # The entry the bot answered with; None when it had no answer.
    entry_id: Mapped[str | None] = mapped_column(String(96))
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    answered_at: Mapped[datetime | None]


class HandoffMessage(Base):
    """One message of a hand-off thread, from the member or the coach."""

    __tablename__ = "handoff_messages"
    __table_args__ = (CheckConstraint(in_values("author", AUTHORS), name="author"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("handoff_threads.id", ondelete="CASCADE"), index=True)
    author: Mapped[str] = mapped_column(String(8))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class KnowledgeDraft(Base):
    """A coach's answer saved for an editor to turn into a knowledge entry; never indexed.
    It carries the member's question, so it is erased with that member (`user_id`)."""

    __tablename__ = "knowledge_drafts"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(user_fk())
    coach_id: Mapped[int | None] = mapped_column(ForeignKey("coaches.id", ondelete="SET NULL"))
    thread_id: Mapped[int | None] = mapped_column(ForeignKey("handoff_threads.id", ondelete="SET NULL"))
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    # The entry the bot answered with, as a hint for the editor's topic and related links.
    entry_id: Mapped[str | None] = mapped_column(String(96))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    exported_at: Mapped[datetime | None]
