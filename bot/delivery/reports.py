"""What the admin sees of the outbox: counts per state, and the rows that need a look."""

from __future__ import annotations

from typing import Any

from bot.storage.repos import Repositories

__all__ = ["outbox_problems", "outbox_report"]


def outbox_report(repos: Repositories) -> dict[str, int]:
    """Rows per state, every state present (zeros included)."""
    return repos.outbox.counts()


def outbox_problems(repos: Repositories, limit: int = 100) -> list[dict[str, Any]]:
    """Failed and uncertain rows, newest first, as JSON-ready dicts without the message text or
    the recipient's chat id."""
    return [
        {
            "id": row.id,
            "kind": row.kind,
            "state": row.state,
            "attempts": row.attempts,
            "last_error": row.last_error,
            "created_at": row.created_at.isoformat(),
            "updated_at": row.updated_at.isoformat(),
            "channel": row.channel,
        }
        for row in repos.outbox.problems(limit)
    ]
