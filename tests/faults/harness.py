"""The real Application (polling, with its in-process delivery worker) against the fake Bot API,
running in an event loop of its own thread, so that synchronous code — hypothesis examples —
can hand it one raw update at a time and wait until the Application has finished with it."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from telegram import Update
from telegram.ext import ContextTypes, TypeHandler

from bot.config import Settings
from bot.core import Conversation
from tests.e2e.conftest import polling_bot, still_polling
from tests.e2e.fake_bot_api import DEFAULT_TOKEN, FakeBotApi

__all__ = ["BotThread"]

T = TypeVar("T")
# Placeholder for a callback query's message: the last message the bot sent to that chat.
LAST_BOT_MESSAGE = "<last bot message>"


class BotThread:
    """`start()`, then `send(update)` as often as needed (returns the update id once handled),
    then `stop()`. `api` is the fake server (read it between sends)."""

    def __init__(self, settings: Settings, conversation: Conversation, token: str = DEFAULT_TOKEN) -> None:
        self.settings = settings
        self.conversation = conversation
        self.token = token
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="bot-under-test", daemon=True)
        self._stack = contextlib.AsyncExitStack()
        self._handled: set[int] = set()
        self._changed: asyncio.Event | None = None
        self.api: FakeBotApi | None = None
        self.application: Any = None

    def _run(self, coroutine: Coroutine[Any, Any, T], timeout: float = 60) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def start(self) -> BotThread:
        self._thread.start()
        self._run(self._start())
        return self

    async def _start(self) -> None:
        self.api = await FakeBotApi(token=self.token).start()
        self.settings.telegram.base_url = self.api.base_url
        self.settings.telegram.base_file_url = self.api.base_file_url
        self._changed = asyncio.Event()
        self.application = await self._stack.enter_async_context(
            polling_bot(self.settings, self.conversation, self.api, delivery=True)
        )
        # Runs after the bot's own handlers (a later group), also when they failed.
        self.application.add_handler(TypeHandler(Update, self._mark_handled), group=99)

    async def _mark_handled(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        self._handled.add(update.update_id)
        assert self._changed is not None
        self._changed.set()

    def send(self, update: dict[str, Any], timeout: float = 60) -> int:
        """Queue a raw update (its message may be LAST_BOT_MESSAGE) and wait until handled."""
        return self._run(self._send(update), timeout)

    async def _send(self, update: dict[str, Any]) -> int:
        assert self.api is not None and self._changed is not None
        query = update.get("callback_query")
        if query is not None and query.get("message") == LAST_BOT_MESSAGE:
            chat_id = int(query["from"]["id"])
            query["message"] = self.api.last_bot_message(chat_id) or _stand_in_message(chat_id, self.api)
        update_id = self.api.queue_raw(update)
        while update_id not in self._handled:
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), 0.5)
        return update_id

    def running(self) -> bool:
        return bool(self._run(self._running()))

    async def _running(self) -> bool:
        return still_polling(self.application)

    def settle(self, seconds: float = 0.5) -> None:
        """Let the worker deliver what the last updates queued for others."""
        self._run(asyncio.sleep(seconds))

    def stop(self) -> None:
        try:
            self._run(self._stack.aclose())
            if self.api is not None:
                self._run(self.api.stop())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(10)


def _stand_in_message(chat_id: int, api: FakeBotApi) -> dict[str, Any]:
    """A message of the bot's in that chat, for a button pressed before the bot said anything."""
    return {
        "message_id": 1,
        "from": {"id": api.bot_id, "is_bot": True, "first_name": api.bot_first_name, "username": api.bot_username},
        "chat": {"id": chat_id, "type": "private", "first_name": "?"},
        "date": 1_700_000_000,
        "text": "…",
    }
