"""The one step between "the outbox row is written" and "the member's Telegram shows it": the
real delivery worker, pointed at a fake Bot API server, drains the due rows."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bot.config import Settings
from bot.delivery import build_worker, telegram_sender
from bot.storage import Database
from tests.e2e.fake_bot_api import FakeBotApi

__all__ = ["deliver_outbox"]


def deliver_outbox(settings: Settings, database: Database, bot_token: str) -> list[dict[str, Any]]:
    """Run the real delivery worker over every due outbox row against a fake Bot API server;
    the parameters of each sendMessage the server received."""

    async def deliver() -> list[dict[str, Any]]:
        async with FakeBotApi(token=bot_token) as api:
            local = settings.model_copy(deep=True)
            local.telegram.base_url, local.telegram.base_file_url = api.base_url, api.base_file_url
            worker = build_worker(local, database, telegram_sender(local, bot_token), shared_rate=False)
            await worker.sender.start()
            try:
                await worker.drain(timeout=30)
            finally:
                await worker.sender.close()
                worker.gate.close()
                worker.close()
            return [call.params for call in api.calls_to("sendMessage") if call.ok]

    # In a thread of its own: Playwright's sync API keeps an event loop running in this one.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, deliver()).result(timeout=60)
