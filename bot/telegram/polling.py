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
from collections.abc import Sequence

from telegram.error import Conflict, InvalidToken, RetryAfter, TelegramError
from telegram.ext import Application

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
    allowed_updates: Sequence[str] | None = None,
    idle: float = 0.5,
    retry_max: float = 30.0,
    refetch_interval: float = 0.05,
) -> None:
    """Fetch updates into `application.update_queue` until `stop` is set; `handled` must be told
    when each update is finished (`PerUserUpdateProcessor(on_finished=handled.finished)`). Network
    errors and Telegram outages are retried with a growing pause; a 409 Conflict (another process
    polls, or a webhook is set) and an invalid token are logged and retried slowly / stop."""
    bot = application.bot
    loop = asyncio.get_running_loop()
    pause = 0.0
    last_fetch = float("-inf")
    while not stop.is_set():
        if handled.waiting_behind and not pause:
            # getUpdates then hands out every unfinished update again: fetching after each finished
            # update downloads and parses them all each time (quadratic under load); at most one
            # fetch per refetch_interval lets finishes arrive together.
            pause = max(0.0, refetch_interval - (loop.time() - last_fetch))
        if pause:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), pause)
            if stop.is_set():
                break
        handled.changed.clear()  # from here on, a finished update wakes the wait below
        last_fetch = loop.time()
        try:
            updates = await bot.get_updates(
                offset=handled.offset,
                timeout=0 if handled.waiting_behind else timeout,
                allowed_updates=allowed_updates,
            )
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
        fresh = [u for u in updates if handled.take(u.update_id)]
        for update in fresh:
            await application.update_queue.put(update)
        if not fresh and handled.waiting_behind:
            # Only updates already being handled came back (getUpdates did not wait): wait until
            # one finishes, or a little while for new ones, instead of spinning.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(handled.changed.wait(), idle)


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
