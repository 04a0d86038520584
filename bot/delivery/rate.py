"""The global rate: permits for requests to the channel, from pyrate-limiter.

Telegram counts messages per bot token, over every process that uses it. One worker (SQLite, or
the worker inside `umkm-bot run`) keeps the count in memory (`InMemoryBucket`); several workers on
PostgreSQL share one count in a table of that database (`PostgresBucket`, created by
pyrate-limiter on first use, table `ratelimit___<name>`), so together they stay under the limit.

A permit is taken just before the request is marked `sending` and sent, so the request reaches
the server a few milliseconds after its permit; that delay varies (a commit, a busy event loop).
So that no one-second window *at the server* holds more than the limit, the window is a little
longer than a second (`WINDOW_MARGIN`), and permits come in small bursts (at most a fifth of
the limit per fifth of the window) instead of the whole second's worth at once.
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
import time
from collections.abc import Callable
from typing import Any

from pyrate_limiter import AbstractBucket, InMemoryBucket, Limiter, PostgresBucket, Rate, RateItem
from sqlalchemy.engine import make_url

__all__ = [
    "WINDOW_MARGIN",
    "RateGate",
    "memory_gate",
    "postgres_gate",
    "rates_for",
    "unlimited_gate",
]

log = logging.getLogger(__name__)

# Seconds added to the one-second window: covers the spread between taking a permit and the
# request's arrival. 30 ms costs 3% of the rate.
WINDOW_MARGIN = 0.03
# Permits come in bursts of at most limit / SUB_WINDOWS per window / SUB_WINDOWS.
SUB_WINDOWS = 5
_ITEM = "send"
_RETRY_FLOOR = 0.002  # seconds between tries when the shared table was busy


def rates_for(per_second: float, margin: float = WINDOW_MARGIN) -> list[Rate]:
    """pyrate-limiter rates for `per_second` messages per second: the main window (one second
    plus `margin`) and a sub-window that spreads them out. A rate below one per second becomes
    one message per 1/rate seconds."""
    if per_second <= 0:
        raise ValueError("rate must be positive")
    if per_second < 1:
        return [Rate(1, math.ceil((1 / per_second + margin) * 1000))]
    limit = int(per_second)
    burst = math.ceil(limit / SUB_WINDOWS)
    window = math.ceil((1 + margin) * 1000)
    if burst >= limit:
        return [Rate(limit, window)]
    # The sub-window must divide evenly (limit/window == burst/sub exactly), or it would be the
    # tighter rate and cost throughput; lengthen the window by a few ms until it does.
    step = limit // math.gcd(limit, burst)
    window = math.ceil(window / step) * step
    return [Rate(burst, window * burst // limit), Rate(limit, window)]


class RateGate:
    """Permits for one worker: `await acquire(n)` before n requests go out. `pause(seconds)`
    (a 429's retry_after) holds every further permit of this worker for that long.

    With `limiter=None` there is no rate (the terminal chat, benchmarks of the worker itself)."""

    def __init__(
        self,
        limiter: Limiter | None,
        bucket: AbstractBucket | None = None,
        *,
        blocking: bool = False,
        max_burst: int | None = None,
        description: str = "no limit",
    ) -> None:
        self._limiter = limiter
        self._bucket = bucket
        self._blocking = blocking  # the bucket talks to a database: call it from a thread
        self.max_burst = max_burst  # the most permits one acquire may ask for (None: any)
        self.description = description
        self._paused_until = 0.0
        self._lock = asyncio.Lock()
        self._thread_lock = threading.Lock()

    async def acquire(self, n: int = 1) -> None:
        """Wait until `n` requests may go out (and any pause is over)."""
        if n <= 0:
            return
        if self.max_burst is not None and n > self.max_burst:
            raise ValueError(f"at most {self.max_burst} permits at once")
        async with self._lock:  # one waiter at a time keeps the order fair
            await self._wait_pause()
            if self._limiter is None:
                return
            while True:
                wait = await (asyncio.to_thread(self._try, n) if self._blocking else _now(self._try, n))
                if wait is None:
                    break
                await asyncio.sleep(wait)
            # A 429 that came in while we waited holds this permit too.
            await self._wait_pause()

    async def acquire_one(self) -> None:
        await self.acquire(1)

    def pause(self, seconds: float) -> None:
        """Hold every further permit for `seconds` (Telegram's retry_after)."""
        self._paused_until = max(self._paused_until, time.monotonic() + seconds)

    @property
    def paused_for(self) -> float:
        return max(0.0, self._paused_until - time.monotonic())

    async def _wait_pause(self) -> None:
        while (left := self.paused_for) > 0:
            await asyncio.sleep(left)

    def _try(self, n: int) -> float | None:
        """None when `n` permits were taken, else seconds to wait before trying again."""
        assert self._limiter is not None and self._bucket is not None
        with self._thread_lock:
            # Non-blocking, so each try stamps the permit with the clock's time now (pyrate's
            # own blocking loop advances the old stamp by the time it slept instead).
            if self._limiter.try_acquire(_ITEM, n, blocking=False):
                return None
            item = RateItem(_ITEM, _clock(self._bucket), n)
            wait_ms = self._bucket.waiting(item)
        if not isinstance(wait_ms, int) or wait_ms < 0:
            raise ValueError(f"{n} permits can never be granted by {self.description}")
        return max(wait_ms / 1000, _RETRY_FLOOR)

    def close(self) -> None:
        """Stop pyrate-limiter's leak thread and close the bucket's connections."""
        if self._limiter is not None:
            self._limiter.close()


async def _now(fn: Callable[..., Any], *args: Any) -> Any:
    return fn(*args)


def _clock(bucket: AbstractBucket) -> int:
    now = bucket.now()
    assert isinstance(now, int)
    return now


def _limiter(bucket: AbstractBucket) -> Limiter:
    # buffer_ms is only used by pyrate's blocking waits, which the gate does not use.
    return Limiter(bucket, buffer_ms=0)


def memory_gate(per_second: float, *, margin: float = WINDOW_MARGIN) -> RateGate:
    """A rate kept in this process: right for one worker (SQLite, or in-process)."""
    rates = rates_for(per_second, margin)
    bucket = InMemoryBucket(rates)
    return RateGate(
        _limiter(bucket), bucket, max_burst=rates[0].limit, description=f"{per_second:g}/s in memory"
    )


def postgres_gate(
    database_url: str, per_second: float, *, name: str = "delivery_telegram", margin: float = WINDOW_MARGIN
) -> RateGate:
    """A rate shared by every worker on this PostgreSQL database (one table per `name`)."""
    from psycopg_pool import ConnectionPool

    conninfo = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    pool = ConnectionPool(conninfo, min_size=1, max_size=2, open=True, name="delivery-rate")
    rates = rates_for(per_second, margin)
    bucket = PostgresBucket(pool, name, rates)
    return RateGate(
        _limiter(bucket),
        bucket,
        blocking=True,
        max_burst=rates[0].limit,
        description=f"{per_second:g}/s shared in PostgreSQL",
    )


def unlimited_gate() -> RateGate:
    """No rate at all (a 429's pause still applies)."""
    return RateGate(None)
