"""The scheduler loop: every few seconds, the one process holding the "scheduler" lease turns what
fell due into outbox rows (bot.coaching.schedule) and, hourly, tidies old records (retention).

Another process takes over when the holder dies: the lease lapses after
`[engagement] scheduler_lease_seconds` unless renewed. Queuing is exactly-once anyway (unique
occurrences and dedupe keys); the lease only keeps the work from being done twice over.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Callable
from datetime import datetime, timedelta

from bot.coaching.schedule import PassResult, run_pass
from bot.config import Settings
from bot.retention import purge_old_records
from bot.storage import Database, Repositories, utcnow

__all__ = ["LEASE", "Scheduler"]

log = logging.getLogger(__name__)
LEASE = "scheduler"
# Silent-member flags and retention need not run every pass.
HOURLY = timedelta(hours=1)


class Scheduler:
    """One scheduler: `tick()` once, or `run(stop)` until stopped."""

    def __init__(
        self,
        database: Database,
        settings: Settings,
        *,
        holder: str | None = None,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        self.database = database
        self.settings = settings
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self.now = now
        self._last_hourly: datetime | None = None

    def _lease(self, moment: datetime) -> bool:
        ttl = timedelta(seconds=self.settings.engagement.scheduler_lease_seconds)
        with self.database.transaction() as session:
            return Repositories(session).leases.acquire(LEASE, self.holder, ttl, now=moment)

    def tick(self) -> PassResult | None:
        """Run one pass if this process holds (or can take) the lease; None when another does."""
        moment = self.now()
        if not self._lease(moment):
            return None
        hourly = self._last_hourly is None or moment - self._last_hourly >= HOURLY
        result = run_pass(self.database, self.settings, moment, silent_flags=hourly)
        if hourly:
            self._last_hourly = moment
            purge_old_records(self.database, self.settings, moment)
        if result.messages or result.missed:
            log.info(
                "scheduler queued %d message(s), %d occurrence(s), %d missed",
                result.messages,
                result.reminder_occurrences,
                result.missed,
            )
        return result

    def release(self) -> None:
        """Give the lease up on a clean stop, so another process need not wait for it to lapse."""
        with self.database.transaction() as session:
            Repositories(session).leases.release(LEASE, self.holder)

    async def run(self, stop: asyncio.Event, *, after_tick: Callable[[], None] | None = None) -> None:
        """Tick every `[engagement] scheduler_interval` seconds until `stop` is set; `after_tick`
        (waking an in-process worker) runs after each pass that queued messages."""
        interval = self.settings.engagement.scheduler_interval
        try:
            while not stop.is_set():
                try:
                    result = await asyncio.to_thread(self.tick)
                    if result is not None and result.messages and after_tick is not None:
                        after_tick()
                except Exception:  # noqa: BLE001 - a failed pass is logged and retried next tick
                    log.exception("scheduler pass failed")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=interval)
        finally:
            await asyncio.to_thread(self.release)
