"""Retention: records that are only needed for a while are removed once they are old enough —
processed Telegram update ids, abandoned dialogue states, spent dashboard links and sessions —
and finished outbox rows lose their text (a copy of a message someone already has). The rows
themselves stay: their dedupe keys keep "once" meaning once, and their states feed reports."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import delete, update

from bot.config import Settings
from bot.storage import ConversationState, Database, OutboxMessage, Repositories, WebLogin, WebSession
from bot.storage.repos._common import rowcount

__all__ = ["purge_old_records"]

log = logging.getLogger(__name__)


def purge_old_records(database: Database, settings: Settings, now: datetime) -> dict[str, int]:
    """Delete what the [retention] settings say is old enough; rows deleted per kind."""
    keep = settings.retention
    counts: dict[str, int] = {}
    with database.transaction() as session:
        repos = Repositories(session)
        counts["processed_updates"] = repos.updates.purge(now - timedelta(days=keep.processed_update_days))
        counts["conversation_states"] = rowcount(
            session.execute(
                delete(ConversationState).where(ConversationState.updated_at < now - timedelta(days=keep.state_days))
            )
        )
        counts["web_logins"] = rowcount(session.execute(delete(WebLogin).where(WebLogin.expires_at < now)))
        counts["web_sessions"] = rowcount(session.execute(delete(WebSession).where(WebSession.expires_at < now)))
        finished = OutboxMessage.state.in_(("sent", "blocked", "failed", "uncertain"))
        old = OutboxMessage.updated_at < now - timedelta(days=keep.outbox_days)
        counts["outbox_texts"] = rowcount(
            session.execute(
                update(OutboxMessage)
                .where(finished, old, OutboxMessage.about_user_id.is_not(None) | OutboxMessage.payload.is_not(None))
                .values(payload={}, about_user_id=None)
            )
        )
    if any(counts.values()):
        log.info("retention removed %s", {k: v for k, v in counts.items() if v})
    return counts
