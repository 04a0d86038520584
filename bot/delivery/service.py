"""Delivery and scheduling running beside a front in one process: the outbox worker for a channel
and (when configured) the scheduler, started and stopped together, with `wake()` for a front that
has just queued messages."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Collection

from bot.config import Settings
from bot.delivery.message import ChannelSender
from bot.delivery.run import build_worker, serve_worker
from bot.delivery.scheduler import Scheduler
from bot.delivery.worker import DeliveryWorker
from bot.storage import Database

__all__ = ["BackgroundDelivery"]

log = logging.getLogger(__name__)


class BackgroundDelivery:
    """The worker (and scheduler) as asyncio tasks of the caller's event loop."""

    def __init__(
        self,
        settings: Settings,
        database: Database,
        sender: ChannelSender | None,
        *,
        channel: str = "telegram",
        chat_ids: Collection[str] | None = None,
        scheduler: bool = True,
    ) -> None:
        self.worker: DeliveryWorker | None = None
        if sender is not None:
            self.worker = build_worker(settings, database, sender, channel=channel, chat_ids=chat_ids)
        self.scheduler = Scheduler(database, settings) if scheduler else None
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        self._stop = asyncio.Event()
        if self.worker is not None:
            self._tasks.append(asyncio.create_task(serve_worker(self.worker, self._stop), name="delivery"))
        if self.scheduler is not None:
            self._tasks.append(asyncio.create_task(self._schedule(), name="scheduler"))

    async def _schedule(self) -> None:
        assert self.scheduler is not None
        await self.scheduler.run(self._stop, after_tick=self.wake)

    def wake(self) -> None:
        """Something was queued: the worker looks now rather than at its next poll."""
        if self.worker is not None:
            self.worker.wake()

    async def stop(self) -> None:
        self._stop.set()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
