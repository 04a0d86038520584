"""Entry points for the CLI and the fronts: one worker until told to stop."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection

from bot.config import Settings
from bot.delivery.message import ChannelSender
from bot.delivery.rate import RateGate, memory_gate, postgres_gate, unlimited_gate
from bot.delivery.worker import DeliveryWorker
from bot.storage import Database

__all__ = ["build_worker", "delivery_rate", "rate_gate", "run_worker", "serve_worker"]

log = logging.getLogger(__name__)


def delivery_rate(settings: Settings) -> float:
    """Messages per second over all workers: `paid_broadcast_rate` when paid broadcasts are on."""
    d = settings.delivery
    return d.paid_broadcast_rate if d.paid_broadcast else d.global_rate


def rate_gate(
    settings: Settings, database: Database, *, channel: str = "telegram", shared: bool | None = None
) -> RateGate:
    """The rate for a worker of `channel`. Telegram: shared by all workers through PostgreSQL when
    `shared` (default: on PostgreSQL), else counted in this process (SQLite: one worker). The
    terminal chat has no rate."""
    if channel != "telegram":
        return unlimited_gate()
    shared = database.dialect == "postgresql" if shared is None else shared
    if shared:
        if database.dialect != "postgresql":
            raise ValueError("a shared rate needs PostgreSQL")
        return postgres_gate(database.url, delivery_rate(settings))
    return memory_gate(delivery_rate(settings))


def build_worker(
    settings: Settings,
    database: Database,
    sender: ChannelSender,
    *,
    channel: str = "telegram",
    chat_ids: Collection[str] | None = None,
    shared_rate: bool | None = None,
) -> DeliveryWorker:
    """A worker for `channel` (only the rows to `chat_ids`, when given) with its rate gate. On
    SQLite a second worker waits for the first (see bot.delivery.worker); on PostgreSQL run as
    many as you like."""
    gate = rate_gate(settings, database, channel=channel, shared=shared_rate)
    worker = DeliveryWorker(database, sender, settings.delivery, gate=gate, channel=channel, chat_ids=chat_ids)
    log.info(
        "delivery worker %s: channel %s, rate %s, %s",
        worker.name,
        channel,
        gate.description,
        "one at a time (SQLite lease)" if worker.exclusive else "shared outbox",
    )
    return worker


async def serve_worker(worker: DeliveryWorker, stop: asyncio.Event) -> None:
    """Start the worker's sender, deliver until `stop` is set, then close sender, gate and worker."""
    try:
        await worker.sender.start()
        await worker.run(stop)
    finally:
        await worker.sender.close()
        worker.gate.close()
        worker.close()


async def run_worker(
    settings: Settings,
    database: Database,
    sender: ChannelSender,
    stop: asyncio.Event,
    *,
    channel: str = "telegram",
    chat_ids: Collection[str] | None = None,
    shared_rate: bool | None = None,
) -> None:
    """Deliver the outbox rows of `channel` until `stop` is set (see build_worker)."""
    worker = build_worker(settings, database, sender, channel=channel, chat_ids=chat_ids, shared_rate=shared_rate)
    await serve_worker(worker, stop)
