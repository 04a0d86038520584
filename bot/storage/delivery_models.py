"""Delivery tables: the outbox of messages to people other than the sender, and leases that let
one process at a time do a job. Every change here needs a migration."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models import Base, in_values, user_fk
from bot.storage.types import utcnow

__all__ = ["OUTBOX_STATES", "Lease", "OutboxMessage"]

# pending: waiting (maybe claimed by a worker, see claimed_until); sending: the request may be
# on its way; sent; blocked: the recipient blocked the bot or the chat is gone (never retried);
# failed: gave up after retries; uncertain: we cannot know whether it arrived (never resent).
OUTBOX_STATES = ("pending", "sending", "sent", "blocked", "failed", "uncertain")


class OutboxMessage(Base):
    """One message to one recipient, written in the transaction of the change that caused it."""

    __tablename__ = "outbox"
    __table_args__ = (
        CheckConstraint(in_values("state", OUTBOX_STATES), name="state"),
        # The claim query: due pending rows in order.
        Index(None, "state", "next_attempt_at"),
        # Per-chat pacing: is something in flight or just sent to this chat?
        Index(None, "channel", "chat_id", "sent_at"),
        # Reports per broadcast, reminder occurrence, invitation or hand-off thread.
        Index(None, "subject_type", "subject_id"),
        # A native Telegram reply names the message it answers.
        Index(None, "user_id", "sent_message_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(user_fk())  # the recipient
    # Whose data the message carries (a member's question to a coach): erased with them.
    about_user_id: Mapped[int | None] = mapped_column(user_fk())
    channel: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    # {"text": HTML, "buttons": [[{"label", "data"}]], "document": {"filename", "base64"}}
    payload: Mapped[dict[str, Any]]
    subject_type: Mapped[str | None] = mapped_column(String(32))
    subject_id: Mapped[int | None]
    # The same logical message is never queued twice: a unique key per message and recipient.
    dedupe_key: Mapped[str] = mapped_column(String(191), unique=True)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    urgent: Mapped[bool] = mapped_column(default=False)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(300))
    sent_message_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Lease(Base):
    """A named job one process at a time may do (the scheduler, the SQLite worker) until
    `expires_at`; the holder renews it, and another process takes over when it lapses."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime]
    acquired_at: Mapped[datetime] = mapped_column(default=utcnow)
