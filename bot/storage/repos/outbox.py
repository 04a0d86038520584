"""The outbox: messages to people other than the sender, queued in the transaction of the change
that caused them and delivered later by a worker (bot.delivery)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, exists, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased

from bot.storage.delivery_models import OUTBOX_STATES, OutboxMessage
from bot.storage.models import User
from bot.storage.repos._common import moment, rowcount

__all__ = ["CLAIM_LOCK_ID", "OutboxRepository"]

# Serialises claims across PostgreSQL workers, so that "is something in flight to this chat?"
# sees the other workers' claims (SKIP LOCKED alone would let two workers take two rows of one
# chat in the same instant). A claim is one short statement, so the wait is short.
CLAIM_LOCK_ID = 0x4F555442  # "OUTB"
_TABLE = OutboxMessage.__table__
_ERROR_CHARS = 300
_QUEUED = "outbox_queued"  # key in Session.info


class OutboxRepository:
    """Outbox rows of one session; never commits."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def enqueue(
        self, recipient: User, kind: str, payload: dict[str, Any], dedupe_key: str, **options: Any
    ) -> int | None:
        """Queue one message for `recipient` (options as for `row`); the new row's id, or None
        when a message with the same dedupe key was queued before (the same logical message is
        never queued twice)."""
        return self.insert(self.row(recipient, kind, payload, dedupe_key, **options))

    def insert(self, row: dict[str, Any]) -> int | None:
        """Queue one row built with `row`; its id, or None for a dedupe key queued before."""
        return self.session.execute(self._insert([row])).scalar()

    def enqueue_many(self, rows: list[dict[str, Any]]) -> int:
        """Queue many messages (built with `row`) in few statements — a broadcast to thousands
        is one transaction of a few inserts, not thousands; how many were new."""
        queued = 0
        for start in range(0, len(rows), 500):
            queued += len(self.session.execute(self._insert(rows[start : start + 500])).all())
        return queued

    @staticmethod
    def row(
        recipient: User,
        kind: str,
        payload: dict[str, Any],
        dedupe_key: str,
        *,
        subject_type: str | None = None,
        subject_id: int | None = None,
        about_user_id: int | None = None,
        urgent: bool = False,
        not_before: datetime | None = None,
    ) -> dict[str, Any]:
        """The values of one outbox row for `recipient`."""
        if len(dedupe_key) > 191:
            raise ValueError("dedupe key over 191 characters")
        now = moment(None)
        return {
            "user_id": recipient.id,
            "about_user_id": about_user_id,
            "channel": recipient.channel,
            "chat_id": recipient.external_id,
            "kind": kind,
            "payload": payload,
            "subject_type": subject_type,
            "subject_id": subject_id,
            "dedupe_key": dedupe_key,
            "state": "pending",
            "urgent": urgent,
            "attempts": 0,
            "next_attempt_at": moment(not_before) if not_before else now,
            "created_at": now,
            "updated_at": now,
        }

    @staticmethod
    def queued_in(session: Session) -> bool:
        """Whether this session queued outbox rows (new or not): a front then wakes the worker."""
        return bool(session.info.get(_QUEUED))

    def _insert(self, rows: list[dict[str, Any]]) -> Any:
        self.session.info[_QUEUED] = True
        module = postgresql if self._dialect() == "postgresql" else sqlite
        return (
            module.insert(_TABLE)
            .values(rows)
            .on_conflict_do_nothing(index_elements=["dedupe_key"])
            .returning(_TABLE.c.id)
        )

    # -- the worker's side --------------------------------------------------------------------

    def claim(
        self,
        worker: str,
        limit: int,
        *,
        now: datetime | None = None,
        lease: timedelta = timedelta(seconds=60),
        per_chat_interval: timedelta = timedelta(seconds=1),
        channel: str | None = None,
        chat_ids: Sequence[str] | None = None,
    ) -> list[OutboxMessage]:
        """Claim up to `limit` due rows for `worker`: at most one per chat, none for a chat that
        has a message in flight or was sent to within `per_chat_interval` (Telegram allows about
        one message per second per chat). Claimed rows stay pending until `mark_sending`; a claim
        that lapses (a killed worker) simply makes them claimable again."""
        now = moment(now)
        if self._dialect() == "postgresql":
            self.session.execute(select(func.pg_advisory_xact_lock(CLAIM_LOCK_ID)))
        other = aliased(OutboxMessage)
        busy_chat = exists().where(
            other.channel == OutboxMessage.channel,
            other.chat_id == OutboxMessage.chat_id,
            other.id != OutboxMessage.id,
            or_(
                other.state == "sending",
                and_(other.state == "pending", other.claimed_until > now),
                other.sent_at > now - per_chat_interval,
            ),
        )
        # Candidates as bare (id, channel, chat_id): most are skipped, and loading whole rows
        # (payloads included) for them would cost more than the query. Urgent rows first, in a
        # query of their own: a single ORDER BY urgent DESC, next_attempt_at cannot follow the
        # (state, next_attempt_at) index, so it would test every due row of a broadcast for a
        # busy chat before sorting; each query below walks the index and stops at its LIMIT.
        chosen: list[int] = []
        chats: set[tuple[str, str]] = set()
        for urgent in (True, False):
            stmt = (
                select(OutboxMessage.id, OutboxMessage.channel, OutboxMessage.chat_id)
                .where(
                    OutboxMessage.state == "pending",
                    OutboxMessage.next_attempt_at <= now,
                    OutboxMessage.urgent == urgent,
                    or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until <= now),
                    ~busy_chat,
                )
                .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
                .limit((limit - len(chosen)) * 4)  # several rows of one chat may come first
            )
            if channel is not None:
                stmt = stmt.where(OutboxMessage.channel == channel)
            if chat_ids is not None:
                stmt = stmt.where(OutboxMessage.chat_id.in_(list(chat_ids)))
            if self._dialect() == "postgresql":
                stmt = stmt.with_for_update(skip_locked=True)
            for row_id, row_channel, row_chat in self.session.execute(stmt):
                if (row_channel, row_chat) in chats:
                    continue
                chats.add((row_channel, row_chat))
                chosen.append(row_id)
                if len(chosen) == limit:
                    break
            if len(chosen) == limit:
                break
        if not chosen:
            return []
        self.session.execute(
            update(_TABLE).where(_TABLE.c.id.in_(chosen)).values(claimed_by=worker, claimed_until=now + lease)
        )
        loaded = self.session.scalars(
            select(OutboxMessage).where(OutboxMessage.id.in_(chosen)).execution_options(populate_existing=True)
        )
        by_id = {row.id: row for row in loaded}
        return [by_id[row_id] for row_id in chosen]

    def mark_sending(
        self,
        ids: Iterable[int],
        worker: str,
        now: datetime | None = None,
        *,
        lease: timedelta = timedelta(seconds=60),
    ) -> list[int]:
        """The requests are about to go out: from here a crash leaves them `uncertain`, never
        resent. Only rows still claimed by `worker` (claim not lapsed) move, and their claim is
        extended by `lease` to cover the request, so `recover` does not take them mid-send.
        Returns the ids that moved: send those and only those."""
        now = moment(now)
        wanted = list(ids)
        if not wanted:
            return []
        stmt = (
            update(OutboxMessage)
            .where(
                OutboxMessage.id.in_(wanted),
                OutboxMessage.state == "pending",
                OutboxMessage.claimed_by == worker,
                OutboxMessage.claimed_until > now,
            )
            .values(
                state="sending",
                attempts=OutboxMessage.attempts + 1,
                claimed_until=now + lease,
                updated_at=now,
            )
            .returning(OutboxMessage.id)
        )
        return sorted(self.session.execute(stmt).scalars())

    def release(self, ids: Iterable[int], worker: str) -> int:
        """Give back claimed rows that `worker` will not send after all (it is stopping), so
        other workers need not wait for the claim to lapse. Returns how many."""
        wanted = list(ids)
        if not wanted:
            return 0
        stmt = (
            update(OutboxMessage)
            .where(
                OutboxMessage.id.in_(wanted),
                OutboxMessage.state == "pending",
                OutboxMessage.claimed_by == worker,
            )
            .values(claimed_by=None, claimed_until=None)
        )
        return rowcount(self.session.execute(stmt))

    def mark_sent(
        self, row_id: int, message_id: int | None, now: datetime | None = None, *, chat_id: str | None = None
    ) -> None:
        """Delivered as Telegram message `message_id`; `chat_id` when the chat had migrated
        (a group became a supergroup) and the message went to its new id."""
        self.mark_sent_many([(row_id, message_id, moment(now), chat_id)])

    def mark_sent_many(self, rows: Sequence[tuple[int, int | None, datetime, str | None]]) -> None:
        """`mark_sent` for many rows in one statement: (row id, message id, sent at, new chat id
        or None). A worker records the outcomes of all requests that finished meanwhile."""
        if not rows:
            return
        stmt = (
            update(_TABLE)
            .where(_TABLE.c.id == bindparam("b_id"))
            .values(
                state="sent",
                sent_at=bindparam("b_at"),
                sent_message_id=bindparam("b_message_id"),
                last_error=None,
                claimed_by=None,
                claimed_until=None,
                updated_at=bindparam("b_at"),
            )
        )
        params = [{"b_id": i, "b_message_id": m, "b_at": moment(at)} for i, m, at, _ in rows]
        self.session.execute(stmt, params)
        for row_id, _, _, chat_id in rows:
            if chat_id is not None:
                self.session.execute(update(_TABLE).where(_TABLE.c.id == row_id).values(chat_id=chat_id))

    def mark_final(
        self, row_id: int, state: str, error: str, now: datetime | None = None, *, chat_id: str | None = None
    ) -> None:
        """blocked, failed or uncertain: never sent again. A blocked recipient is marked, so later
        reminders and broadcasts skip them until they write to the bot again."""
        if state not in ("blocked", "failed", "uncertain"):
            raise ValueError(f"not a final failure state: {state}")
        values: dict[str, Any] = {"last_error": error[:_ERROR_CHARS], "updated_at": moment(now)}
        if chat_id is not None:
            values["chat_id"] = chat_id
        self._finish(row_id, state=state, **values)
        if state == "blocked":
            recipient = select(OutboxMessage.user_id).where(OutboxMessage.id == row_id).scalar_subquery()
            self.session.execute(
                update(User).where(User.id == recipient, User.blocked_at.is_(None)).values(blocked_at=moment(now))
            )

    def reschedule(
        self, row_id: int, at: datetime, error: str, *, count_attempt: bool = True, chat_id: str | None = None
    ) -> None:
        """Back to pending, due at `at` (a retry after backoff or a 429's retry_after). A 429 is
        Telegram asking us to wait, not a failed attempt, so it does not count."""
        values: dict[str, Any] = {
            "state": "pending",
            "next_attempt_at": moment(at),
            "last_error": error[:_ERROR_CHARS],
            "claimed_by": None,
            "claimed_until": None,
            "updated_at": moment(None),
        }
        if not count_attempt:
            values["attempts"] = OutboxMessage.attempts - 1
        if chat_id is not None:  # the group became a supergroup: follow it
            values["chat_id"] = chat_id
        self.session.execute(update(OutboxMessage).where(OutboxMessage.id == row_id).values(**values))

    def _finish(self, row_id: int, **values: Any) -> None:
        values.update(claimed_by=None, claimed_until=None)
        self.session.execute(update(OutboxMessage).where(OutboxMessage.id == row_id).values(**values))

    def recover(self, now: datetime | None = None) -> int:
        """Rows left `sending` by a worker whose claim lapsed (it was killed mid-request): we
        cannot know whether Telegram got them, so they become `uncertain` rather than risk a
        second copy. Returns how many."""
        now = moment(now)
        stmt = (
            update(OutboxMessage)
            .where(OutboxMessage.state == "sending", OutboxMessage.claimed_until <= now)
            .values(
                state="uncertain",
                last_error="worker stopped while sending",
                claimed_by=None,
                claimed_until=None,
                updated_at=now,
            )
        )
        return rowcount(self.session.execute(stmt))

    # -- reading ------------------------------------------------------------------------------

    def by_id(self, row_id: int) -> OutboxMessage | None:
        return self.session.get(OutboxMessage, row_id)

    def by_sent_message(self, user_id: int, message_id: int) -> OutboxMessage | None:
        """The outbox row that delivered Telegram message `message_id` to `user_id`."""
        stmt = select(OutboxMessage).where(
            OutboxMessage.user_id == user_id, OutboxMessage.sent_message_id == message_id
        )
        return self.session.scalars(stmt.limit(1)).first()

    def counts(self, *, subject_type: str | None = None, subject_id: int | None = None) -> dict[str, int]:
        """Rows per state (every state present, zeros included), overall or for one subject."""
        stmt = select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state)
        if subject_type is not None:
            stmt = stmt.where(OutboxMessage.subject_type == subject_type)
        if subject_id is not None:
            stmt = stmt.where(OutboxMessage.subject_id == subject_id)
        found = {state: count for state, count in self.session.execute(stmt)}
        return {state: int(found.get(state, 0)) for state in OUTBOX_STATES}

    def problems(self, limit: int = 100) -> list[OutboxMessage]:
        """Failed and uncertain rows, newest first."""
        stmt = (
            select(OutboxMessage)
            .where(OutboxMessage.state.in_(("failed", "uncertain")))
            .order_by(OutboxMessage.updated_at.desc(), OutboxMessage.id.desc())
            .limit(limit)
        )
        return list(self.session.scalars(stmt))

    def next_due_at(self, *, channel: str | None = None, chat_ids: Sequence[str] | None = None) -> datetime | None:
        """When the earliest pending row (claimed or not) is due; None when none is pending."""
        stmt = select(func.min(OutboxMessage.next_attempt_at)).where(OutboxMessage.state == "pending")
        if channel is not None:
            stmt = stmt.where(OutboxMessage.channel == channel)
        if chat_ids is not None:
            stmt = stmt.where(OutboxMessage.chat_id.in_(list(chat_ids)))
        found = self.session.execute(stmt).scalar()
        if found is not None and found.tzinfo is None:  # an aggregate skips the column type on SQLite
            found = found.replace(tzinfo=UTC)
        return found

    def _dialect(self) -> str:
        return self.session.get_bind().dialect.name

    def queued(self, dedupe_key: str) -> bool:
        """Whether a message with this dedupe key was ever queued."""
        return self.session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)) is not None
