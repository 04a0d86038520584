"""The terminal chat's channel: the front hands in a function that shows the message."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable

from bot.delivery.message import OutgoingMessage, SendOutcome, Status

__all__ = ["CallbackSender"]

log = logging.getLogger(__name__)


class CallbackSender:
    """Calls `show(message)` (sync or async) for each message; there is no network between
    the worker and the person, so every message counts as sent once the function returned."""

    def __init__(
        self, show: Callable[[OutgoingMessage], Awaitable[None] | None], *, channel: str = "terminal"
    ) -> None:
        self._show = show
        self.channel = channel

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def send(self, message: OutgoingMessage) -> SendOutcome:
        try:
            result = self._show(message)
            if inspect.isawaitable(result):
                await result
        except Exception as exc:  # the front's bug must not stop delivery of the others
            log.error("showing outbox row %d failed: %s", message.row_id, type(exc).__name__)
            return SendOutcome.of(Status.FAILED, f"display failed: {type(exc).__name__}")
        return SendOutcome.sent()
