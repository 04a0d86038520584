"""Long polling that confirms an update to Telegram only once the bot has handled it.

python-telegram-bot's Updater asks for the next batch (`getUpdates` with `offset` = last id + 1,
which tells Telegram to forget everything below it) as soon as it has put a batch in the
Application's queue, before a single handler has run. A process killed while it handles an update
has then already confirmed it, and Telegram never sends it again: the person's message is lost
without an answer. Here the offset only moves past an update once its handling has finished
(replied, or failed and told the person so); after a crash Telegram sends the unfinished ones again,
and the core's claim of each update id (`processed_updates`, in the same transaction as the
update's effects) makes a redelivered update that had in fact been handled a no-op.

Updates are still handled concurrently (different people at once, one person in order, see
`PerUserUpdateProcessor`): while one person's update is slow, later ones are fetched and handled;
the offset waits at the oldest unfinished one, and the updates above it that `getUpdates` hands out
again are recognised by their id and not queued twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import warnings
from collections.abc import Sequence
from typing import Any

from telegram import Update
from telegram.error import Conflict, InvalidToken, RetryAfter, TelegramError
from telegram.ext import Application, ExtBot
from telegram.warnings import PTBUserWarning

__all__ = ["HandledUpdates", "poll_until", "serve_polling"]

log = logging.getLogger(__name__)


class HandledUpdates:
    """Which fetched updates are still being handled, and so how far Telegram may forget."""

    def __init__(self) -> None:
        self._unfinished: set[int] = set()
        self._highest: int | None = None  # the highest update id ever queued by this process
        self.changed = asyncio.Event()

    def take(self, update_id: int) -> bool:
        """True the first time this process sees `update_id` (queue it), False for an update that
        getUpdates hands out again because an older one is not finished yet."""
        if self._highest is not None and update_id <= self._highest:
            return False
        self._highest = update_id
        self._unfinished.add(update_id)
        return True

    def finished(self, update_id: int) -> None:
        """The update has been handled (or its failure reported): it may be confirmed."""
        if update_id in self._unfinished:
            self._unfinished.discard(update_id)
            self.changed.set()

    @property
    def offset(self) -> int | None:
        """The getUpdates offset: the oldest unfinished update, else the one after the highest."""
        if self._unfinished:
            return min(self._unfinished)
        return None if self._highest is None else self._highest + 1

    @property
    def waiting_behind(self) -> bool:
        """True while an update is unfinished: getUpdates then hands it out again at once, so
        long polling would not wait; poll when one finishes (or after a short pause) instead."""
        return bool(self._unfinished)

    @property
    def unfinished(self) -> int:
        return len(self._unfinished)


async def poll_until(
    application: Application,
    handled: HandledUpdates,
    stop: asyncio.Event,
    *,
    timeout: float = 10.0,
    read_timeout: float = 5.0,
    allowed_updates: Sequence[str] | None = None,
    idle: float = 0.2,
    retry_max: float = 30.0,
    min_interval: float = 0.01,
) -> None:
    """Fetch updates into `application.update_queue` until `stop` is set; `handled` must be told
    when each update is finished (`PerUserUpdateProcessor(on_finished=handled.finished)`). Network
    errors and Telegram outages are retried with a growing pause; a 409 Conflict (another process
    polls, or a webhook is set) and an invalid token are logged and retried slowly / stop.

    While an update is unfinished, getUpdates hands it out again at once instead of waiting for new
    ones, so the next fetch waits for one to finish (the offset may then move on), or `idle`
    seconds for updates from other people, and at least `min_interval` after the last fetch. When
    none is unfinished, the fetch long-polls (`timeout`) at once: a lone person's next message is
    not held up."""
    bot = application.bot
    loop = asyncio.get_running_loop()
    pause = 0.0
    last_fetch = float("-inf")
    while not stop.is_set():
        if not pause and handled.waiting_behind:
            await _first_of(handled.changed, stop, idle)
            pause = max(0.0, min_interval - (loop.time() - last_fetch))
        if pause:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), pause)
            if stop.is_set():
                break
        handled.changed.clear()  # from here on, a finished update wakes the wait above
        last_fetch = loop.time()
        long_poll = 0.0 if handled.waiting_behind else timeout
        try:
            raw = await _get_updates(bot, handled.offset, long_poll, read_timeout + long_poll, allowed_updates)
        except InvalidToken:
            log.critical("Telegram refused the bot token; polling stops")
            raise
        except RetryAfter as exc:
            retry_after = exc.retry_after
            pause = retry_after if isinstance(retry_after, int | float) else retry_after.total_seconds()
            continue
        except Conflict as exc:
            log.error("getUpdates conflict (%s); polling again in %.0f s", exc.message, retry_max)
            pause = retry_max
            continue
        except TelegramError as exc:  # NetworkError, TimedOut, 5xx
            pause = min(retry_max, max(1.0, pause * 2))
            log.warning("getUpdates failed (%s); polling again in %.0f s", type(exc).__name__, pause)
            continue
        pause = 0.0
        for data in raw:
            update_id = data.get("update_id") if isinstance(data, dict) else None
            if not isinstance(update_id, int) or not handled.take(update_id):
                continue  # one handed out again (already queued), or not an update at all
            try:
                update = Update.de_json(data, bot)
            except Exception:  # a malformed update must not stop polling for everyone else
                log.exception("update %s could not be read; it is skipped", update_id)
                handled.finished(update_id)
                continue
            bot.insert_callback_data(update)
            await application.update_queue.put(update)


async def _get_updates(
    bot: ExtBot, offset: int | None, timeout: float, read_timeout: float, allowed_updates: Sequence[str] | None
) -> list[Any]:
    """getUpdates as raw JSON: the updates handed out again while an older one is unfinished are
    recognised by their id, so only new ones are turned into `Update` objects (parsing them all on
    every fetch cost more than the rest of polling under load)."""
    kwargs: dict[str, Any] = {"offset": offset, "timeout": timeout, "allowed_updates": allowed_updates}
    with warnings.catch_warnings():
        # PTB asks to use get_updates for a known endpoint; it would parse every update it returns.
        warnings.filterwarnings("ignore", message=r".*Bot\.getUpdates.*", category=PTBUserWarning)
        result = await bot.do_api_request(
            "getUpdates", api_kwargs={k: v for k, v in kwargs.items() if v is not None}, read_timeout=read_timeout
        )
    return result if isinstance(result, list) else []


async def _first_of(event: asyncio.Event, stop: asyncio.Event, seconds: float) -> None:
    """Wait until `event` or `stop` is set, or `seconds` have passed."""
    waits = {asyncio.ensure_future(event.wait()), asyncio.ensure_future(stop.wait())}
    try:
        await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiting in waits:
            waiting.cancel()


async def _confirm(application: Application, handled: HandledUpdates, allowed_updates: Sequence[str] | None) -> None:
    """Tell Telegram that everything finished so far is handled (a clean stop)."""
    if handled.offset is None:
        return
    try:
        await application.bot.get_updates(offset=handled.offset, timeout=0, allowed_updates=allowed_updates)
    except TelegramError as exc:
        log.warning("could not confirm the handled updates (%s); they come again and are skipped", exc)


async def serve_polling(
    application: Application,
    handled: HandledUpdates,
    stop: asyncio.Event,
    *,
    timeout: float = 10.0,
    allowed_updates: Sequence[str] | None = None,
) -> None:
    """Run the Application with `poll_until` until `stop` is set (SIGINT / SIGTERM), then let the
    updates in hand finish and confirm them."""
    async with application:
        # A webhook left from webhook mode makes getUpdates fail with 409.
        await application.bot.delete_webhook()
        await application.start()
        # PTB runs post_init only from its own run_polling: the menu, the bot's username, and the
        # in-process delivery worker and scheduler start here.
        if application.post_init is not None:
            await application.post_init(application)
        poller = asyncio.create_task(
            poll_until(application, handled, stop, timeout=timeout, allowed_updates=allowed_updates),
            name="polling",
        )
        stopping = asyncio.create_task(stop.wait())
        try:
            await asyncio.wait({poller, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
            # A long poll in progress is abandoned: what it would fetch stays at Telegram.
            poller.cancel()
            [failure] = await asyncio.gather(poller, return_exceptions=True)
            await application.stop()  # handles the updates already queued
            await _confirm(application, handled, allowed_updates)
            if application.post_shutdown is not None:
                await application.post_shutdown(application)
        if isinstance(failure, Exception):
            raise failure  # what stopped polling (an invalid token)
