"""The global rate: permits for requests to the channel, from pyrate-limiter.

Telegram counts messages per bot token, over every process that uses it. One worker (SQLite, or
the worker inside `umkm-bot run`) keeps the count in memory (`InMemoryBucket`); several workers on
PostgreSQL share one count in a table of that database (`PostgresBucket`, created by
pyrate-limiter on first use, table `ratelimit___<name>`), so together they stay under the limit.

So that no one-second window *at the server* holds more than the limit, requests are timed
where they leave (see RateGate), the window is a little longer than a second (`WINDOW_MARGIN`,
for the way from the worker to the server), and permits come in small bursts (at most a fifth
of the limit per fifth of the window) instead of the whole second's worth at once.
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


class _Permits:
    """One pyrate-limiter bucket, and waiting for room in it."""

    def __init__(self, bucket: AbstractBucket, *, blocking: bool) -> None:
        self.bucket = bucket
        # buffer_ms only pads pyrate's own blocking waits, which are not used here.
        self.limiter = Limiter(bucket, buffer_ms=0)
        self.blocking = blocking  # the bucket talks to a database: call it from a thread
        self._lock = threading.Lock()

    async def take(self, n: int) -> None:
        while (wait := await (asyncio.to_thread(self._try, n) if self.blocking else _now(self._try, n))) is not None:
            await asyncio.sleep(wait)

    def _try(self, n: int) -> float | None:
        """None when `n` permits were taken, else seconds to wait before trying again."""
        with self._lock:
            # Non-blocking, so each try stamps the permit with the clock's time now (pyrate's
            # own blocking loop advances the old stamp by the time it slept instead).
            if self.limiter.try_acquire(_ITEM, n, blocking=False):
                return None
            item = RateItem(_ITEM, _clock(self.bucket), n)
            wait_ms = self.bucket.waiting(item)
        # n never exceeds the burst (checked by the gate), so a negative wait only means that
        # the window moved on while we looked (or the shared table was busy): try again.
        assert isinstance(wait_ms, int)
        return max(wait_ms / 1000, _RETRY_FLOOR)

    def close(self) -> None:
        self.limiter.close()


class RateGate:
    """The rate for one worker, counted where rows are marked `sending` (`acquire`) and again
    where their requests leave (`just_in_time` for a group, `depart` for each request).

    The first keeps a worker from marking more rows `sending` than the rate lets out soon (rows
    waiting in `sending` would become `uncertain` if the worker died). The others time the
    requests themselves: the commit in between takes a varying time, and a request late by more
    than `WINDOW_MARGIN` would crowd the next second at the server. `depart` counts in memory,
    right before each request. Workers on PostgreSQL also count each group in a shared table
    (`<name>_send`, besides `<name>` for the marking), so a worker that stalled between marking
    and sending takes its turn late instead of bunching with the others. `pause(seconds)` (a
    429's retry_after) holds them all. Without permits (`unlimited_gate`) only the pause applies."""

    def __init__(
        self,
        permits: _Permits | None = None,
        pacer: _Permits | None = None,
        departures: _Permits | None = None,
        *,
        max_burst: int | None = None,
        description: str = "no limit",
    ) -> None:
        self._permits = permits
        self._pacer = pacer
        self._departures = departures
        self.max_burst = max_burst  # the most permits one acquire may ask for (None: any)
        self.description = description
        self._paused_until = 0.0
        self._lock = asyncio.Lock()
        self._pacer_lock = asyncio.Lock()
        self._departures_lock = asyncio.Lock()

    async def acquire(self, n: int = 1) -> None:
        """Wait until `n` more rows may be marked `sending` (and any pause is over)."""
        await self._take(self._permits, self._lock, n)

    async def just_in_time(self, n: int = 1) -> None:
        """Wait until a group of `n` requests may leave (and any pause is over)."""
        await self._take(self._pacer, self._pacer_lock, n)

    async def depart(self) -> None:
        """Right before one request: keep this worker's requests spaced as the rate says."""
        await self._take(self._departures, self._departures_lock, 1)

    async def extra(self) -> None:
        """A second request for the same row (a resend, a document after its text)."""
        await self.acquire(1)
        await self.just_in_time(1)
        await self.depart()

    async def _take(self, permits: _Permits | None, lock: asyncio.Lock, n: int) -> None:
        if n <= 0:
            return
        if self.max_burst is not None and n > self.max_burst:
            raise ValueError(f"at most {self.max_burst} permits at once")
        async with lock:  # one waiter at a time keeps the order fair
            await self._wait_pause()
            if permits is not None:
                await permits.take(n)

    def pause(self, seconds: float) -> None:
        """Hold every further permit for `seconds` (Telegram's retry_after)."""
        self._paused_until = max(self._paused_until, time.monotonic() + seconds)

    @property
    def paused_for(self) -> float:
        return max(0.0, self._paused_until - time.monotonic())

    async def _wait_pause(self) -> None:
        while (left := self.paused_for) > 0:
            await asyncio.sleep(left)

    def close(self) -> None:
        """Stop pyrate-limiter's leak threads and close the shared bucket's connections."""
        for permits in (self._permits, self._pacer, self._departures):
            if permits is not None:
                permits.close()


async def _now(fn: Callable[..., Any], *args: Any) -> Any:
    return fn(*args)


def _clock(bucket: AbstractBucket) -> int:
    now = bucket.now()
    assert isinstance(now, int)
    return now


def _memory(rates: list[Rate]) -> _Permits:
    return _Permits(InMemoryBucket(rates), blocking=False)


def memory_gate(per_second: float, *, margin: float = WINDOW_MARGIN) -> RateGate:
    """A rate kept in this process: right for one worker (SQLite, or in-process)."""
    rates = rates_for(per_second, margin)
    return RateGate(
        _memory(rates), None, _memory(rates), max_burst=rates[0].limit, description=f"{per_second:g}/s in memory"
    )


def postgres_gate(
    database_url: str, per_second: float, *, name: str = "delivery_telegram", margin: float = WINDOW_MARGIN
) -> RateGate:
    """A rate shared by every worker on this PostgreSQL database (one table per `name`)."""
    from psycopg_pool import ConnectionPool

    conninfo = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    pool = ConnectionPool(conninfo, min_size=1, max_size=3, open=True, name="delivery-rate")
    rates = rates_for(per_second, margin)
    marking = _Permits(PostgresBucket(pool, name, rates), blocking=True)
    leaving = _Permits(PostgresBucket(pool, f"{name}_send", rates), blocking=True)
    return RateGate(
        marking,
        leaving,
        _memory(rates),
        max_burst=rates[0].limit,
        description=f"{per_second:g}/s shared in PostgreSQL",
    )


def unlimited_gate() -> RateGate:
    """No rate at all (a 429's pause still applies)."""
    return RateGate()
