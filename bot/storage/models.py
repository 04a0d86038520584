"""The tables, as SQLAlchemy 2.x typed models. Every change here needs a migration."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from bot.progress.sectors import Sector
from bot.storage.types import UTCDateTime, utcnow

__all__ = [
    "CHANNELS",
    "FEEDBACK_VALUES",
    "QUESTION_SOURCES",
    "FIGURE_KINDS",
    "LOCALES",
    "SECTORS",
    "Base",
    "ClassHistory",
    "ConversationState",
    "Figure",
    "MilestoneEvent",
    "MilestoneProgress",
    "ProcessedUpdate",
    "QuestionLog",
    "User",
]

CHANNELS = ("telegram", "terminal")
LOCALES = ("id", "en")
SECTORS = tuple(sector.value for sector in Sector)  # a CHECK constraint: new sectors need a migration
FEEDBACK_VALUES = ("up", "down")
# How a card reached the user: their own question, a "which one?" option, a related entry's
# button, browsing /topik, or a link in a reminder or check-in.
QUESTION_SOURCES = ("search", "clarify", "related", "browse", "link")
FIGURE_KINDS = ("omzet", "modal", "workers", "units")

# Deterministic constraint names: SQLite batch migrations and downgrades must be able
# to name a constraint to drop it, and both databases then agree on the names.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def in_values(column: str, values: tuple[str, ...]) -> str:
    """A CHECK constraint's SQL: `column IN ('a', 'b')`."""
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"


class Base(DeclarativeBase):
    """Declarative base with the naming convention and the UTC timestamp type."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON()}


def user_fk() -> Any:
    # Everything about a user goes with the user (right to erasure).
    return ForeignKey("users.id", ondelete="CASCADE")



class User(Base):
    """One person on one channel. Personal fields stay empty until consent_at is set."""

    __tablename__ = "users"
    __table_args__ = (
        UniqueConstraint("channel", "external_id"),
        CheckConstraint(in_values("channel", CHANNELS), name="channel"),
        CheckConstraint(in_values("locale", LOCALES), name="locale"),
        CheckConstraint(in_values("sector", SECTORS), name="sector"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(64))  # Telegram user id as text
    locale: Mapped[str] = mapped_column(String(8), default="id")
    consent_at: Mapped[datetime | None]
    start_payload: Mapped[str | None] = mapped_column(String(64))  # deep link, max 64
    name: Mapped[str | None] = mapped_column(String(128))
    sector: Mapped[str | None] = mapped_column(String(16))
    district: Mapped[str | None] = mapped_column(String(128))
    products: Mapped[str | None] = mapped_column(Text)
    # Last handled message after consent: coaches see who has gone quiet.
    last_active_at: Mapped[datetime | None]
    # The member switched weekly check-ins off (/pengingat_saya).
    checkins_off: Mapped[bool] = mapped_column(default=False)
    # Telegram said the user blocked the bot: later sends skip them until they write again.
    blocked_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    def __repr__(self) -> str:
        return f"User(id={self.id!r}, channel={self.channel!r}, external_id={self.external_id!r})"


class ConversationState(Base):
    """Where a user is in a multi-step dialogue; kept in the database to survive restarts."""

    __tablename__ = "conversation_states"

    user_id: Mapped[int] = mapped_column(user_fk(), primary_key=True)
    state: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class QuestionLog(Base):
    """A question, what the search returned, and the user's thumbs up/down."""

    __tablename__ = "question_log"
    __table_args__ = (
        # The coaches' digest reads unanswered questions by date.
        Index(None, "answered", "created_at"),
        CheckConstraint(in_values("feedback", FEEDBACK_VALUES), name="feedback"),
        CheckConstraint(in_values("source", QUESTION_SOURCES), name="source"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(user_fk(), index=True)
    source: Mapped[str] = mapped_column(String(16), default="search")
    text: Mapped[str] = mapped_column(Text)
    normalized: Mapped[str] = mapped_column(Text)
    top_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    top_scores: Mapped[list[float]] = mapped_column(JSON, default=list)
    answered: Mapped[bool]
    feedback: Mapped[str | None] = mapped_column(String(8))
    feedback_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ProcessedUpdate(Base):
    """Telegram update ids already handled, so a redelivered update is handled once."""

    __tablename__ = "processed_updates"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    processed_at: Mapped[datetime] = mapped_column(default=utcnow)


class MilestoneProgress(Base):
    """The current done/not-done state of one milestone for one user."""

    __tablename__ = "milestone_progress"
    __table_args__ = (UniqueConstraint("user_id", "milestone_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(user_fk())
    milestone_id: Mapped[str] = mapped_column(String(64))
    done: Mapped[bool]
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)


class MilestoneEvent(Base):
    """Every toggle of a milestone, for "milestones done over time" reports."""

    __tablename__ = "milestone_events"
    __table_args__ = (Index(None, "user_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(user_fk())
    milestone_id: Mapped[str] = mapped_column(String(64))
    done: Mapped[bool]
    at: Mapped[datetime] = mapped_column(default=utcnow)


class Figure(Base):
    """A monthly business figure. Corrections add a row and mark the old one superseded."""

    __tablename__ = "figures"
    __table_args__ = (
        Index(None, "user_id", "kind", "month"),
        # At most one current value per user, kind and month; superseded rows are history.
        Index(
            "uq_figures_current",
            "user_id",
            "kind",
            "month",
            unique=True,
            sqlite_where="superseded_at IS NULL",
            postgresql_where="superseded_at IS NULL",
        ),
        CheckConstraint(in_values("kind", FIGURE_KINDS), name="kind"),
        CheckConstraint("value >= 0", name="value_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(user_fk())
    kind: Mapped[str] = mapped_column(String(16))
    month: Mapped[date] = mapped_column(Date)  # always the first day of the month
    value: Mapped[int] = mapped_column(BigInteger)  # rupiah, or a count
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    superseded_at: Mapped[datetime | None]


class ClassHistory(Base):
    """The moments a user's UMKM size class changed."""

    __tablename__ = "class_history"
    __table_args__ = (Index(None, "user_id", "as_of"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(user_fk())
    umkm_class: Mapped[str] = mapped_column(String(16))
    as_of: Mapped[date] = mapped_column(Date)
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
