"""The delivery worker: claims due outbox rows, sends them within the rate limits, and marks
what became of each.

One pass of a row: `claim` (one short transaction, after `recover`) -> a rate permit -> `mark_sending`
-> the request, on the event loop, at most `max_in_flight` at once -> the outcome recorded. Nothing
is sent from inside a transaction. Database work runs in one thread of the worker's own, and the
pump groups it: each of its transactions records every outcome that came in since the last one
*and* marks `sending` every row whose permit came meanwhile, so a high rate costs a commit per
group, not two per message.

Three coroutines share the work: the feeder claims rows while the queue of claimed rows runs
low; the dispatcher takes permits for the rows that fit into the free request slots; the pump
writes to the database and starts the requests whose rows it marked `sending` (each group once
the rate lets it leave, each request once more paced where it leaves: see bot.delivery.rate).
Each request is a task that hands its outcome back to the pump.

On SQLite only one worker runs at a time: it holds the lease `delivery-worker` and renews it.
A second one started meanwhile *waits* (`run`) until the lease is free (the first stopped, or
died and its lease expired), then takes over; `drain` does not wait and raises `WorkerBusy`.
On PostgreSQL any number of workers share the outbox (`FOR UPDATE SKIP LOCKED` in `claim`).
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import json
import logging
import os
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Collection
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy.exc import OperationalError

from bot.config import DeliverySection
from bot.delivery.backoff import backoff_delay
from bot.delivery.message import ChannelSender, OutgoingMessage, PayloadError, SendOutcome, Status
from bot.delivery.rate import RateGate, memory_gate
from bot.storage import Database
from bot.storage.db import run_with_retry
from bot.storage.repos import LeaseRepository, OutboxRepository
from bot.storage.types import utcnow

__all__ = ["LEASE_NAME", "DeliveryWorker", "WorkerBusy", "WorkerStats", "worker_name"]

log = logging.getLogger(__name__)
T = TypeVar("T")

LEASE_NAME = "delivery-worker"
LEASE_SECONDS = 30.0  # a dead SQLite worker's successor waits at most this long
SUMMARY_EVERY = 60.0  # seconds between INFO summaries while running
_CLAIM_SAFETY = 0.25  # do not start a row in the last quarter of its claim (at most 5 s)
_MIN_IDLE = 0.01
_DB_ATTEMPTS = 5


class WorkerBusy(RuntimeError):
    """Another delivery worker holds the SQLite lease."""


def worker_name() -> str:
    """host:pid:random, unique per worker object (the claim and lease holder)."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass
class WorkerStats:
    """What a worker did: rows claimed, and outcomes recorded."""

    claimed: int = 0
    sent: int = 0
    blocked: int = 0
    failed: int = 0
    uncertain: int = 0
    retried: int = 0
    rate_limited: int = 0
    recovered: int = 0  # rows a dead worker left `sending`, now `uncertain`

    def as_dict(self) -> dict[str, int]:
        return asdict(self)

    def minus(self, before: WorkerStats) -> WorkerStats:
        return WorkerStats(**{k: v - getattr(before, k) for k, v in asdict(self).items()})


@dataclass
class _Claimed:
    message: OutgoingMessage
    usable_until: float  # time.monotonic() after which the claim may have lapsed


Result = tuple[OutgoingMessage, SendOutcome, datetime]


@dataclass
class _Group:
    """Rows that got their permits together: marked `sending` in one transaction."""

    rows: list[_Claimed]


@dataclass
class _Session:
    """State of one serving session (between taking up work and stopping)."""

    halt: asyncio.Event
    deadline: float | None  # drain: loop time by which to be done
    ready: deque[_Claimed] = field(default_factory=deque)
    groups: list[_Group] = field(default_factory=list)  # permits taken, to be marked sending
    results: list[Result] = field(default_factory=list)  # outcomes to be recorded
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    dispatching: int = 0  # rows taken from `ready`, waiting for their permits
    slots: int = 0  # request slots taken: from the permit to the outcome
    pumping: bool = False
    timed_out: bool = False
    # Each coroutine sleeps on its own event: claim again / take permits / write.
    to_feed: asyncio.Event = field(default_factory=asyncio.Event)
    to_dispatch: asyncio.Event = field(default_factory=asyncio.Event)
    to_pump: asyncio.Event = field(default_factory=asyncio.Event)
    # Monotonic times worth another claim: a paced chat frees up, a retry falls due.
    wakes: list[float] = field(default_factory=list)

    def stop(self) -> None:
        self.halt.set()
        self.wake_all()

    def wake_all(self) -> None:
        self.to_feed.set()
        self.to_dispatch.set()
        self.to_pump.set()

    def idle(self) -> bool:
        """Nothing claimed, on its way, in flight or to be written."""
        return not (self.ready or self.dispatching or self.slots or self.groups or self.results or self.pumping)

    def wake_at(self, at: float) -> None:
        now = time.monotonic()
        while self.wakes and self.wakes[0] <= now:  # keeps the heap to the last few seconds
            heapq.heappop(self.wakes)
        heapq.heappush(self.wakes, at)

    def next_wake(self) -> float | None:
        now = time.monotonic()
        while self.wakes and self.wakes[0] <= now:
            heapq.heappop(self.wakes)
        return self.wakes[0] if self.wakes else None


class DeliveryWorker:
    """Delivers the outbox rows of one channel (and, for the terminal chat, of some chats)."""

    def __init__(
        self,
        database: Database,
        sender: ChannelSender,
        settings: DeliverySection,
        *,
        gate: RateGate | None = None,
        channel: str | None = None,
        chat_ids: Collection[str] | None = None,
        name: str | None = None,
        exclusive: bool | None = None,
        lease_seconds: float = LEASE_SECONDS,
    ) -> None:
        """`gate` defaults to an in-memory rate of `global_rate` (or `paid_broadcast_rate`);
        `exclusive` (take the SQLite lease, renewed every third of `lease_seconds`) defaults to
        True on SQLite."""
        self.database = database
        self.sender = sender
        self.settings = settings
        self.channel = channel or sender.channel
        self.chat_ids = sorted(chat_ids) if chat_ids is not None else None
        self.name = name or worker_name()
        self.exclusive = database.dialect == "sqlite" if exclusive is None else exclusive
        self.lease_name = _lease_name(self.channel, self.chat_ids)
        self.lease_seconds = lease_seconds
        self.gate = gate or memory_gate(
            settings.paid_broadcast_rate if settings.paid_broadcast else settings.global_rate
        )
        self.stats = WorkerStats()
        self._stats_lock = threading.Lock()
        # The pump's writes stand between a permit and its request, so on PostgreSQL they get a
        # thread (and connection) of their own and never wait behind a claim, which can queue on
        # the other workers' claims. SQLite has one writer at a time anyway: one thread.
        self._pump_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="delivery-db")
        self._side_thread = (
            self._pump_thread
            if database.dialect == "sqlite"
            else ThreadPoolExecutor(max_workers=1, thread_name_prefix="delivery-claim")
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        self._session: _Session | None = None
        self._last_summary = time.monotonic()

    # -- public ---------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until `stop` is set; then finish the requests in flight and return. A failure
        (the database gone for longer than a few retries) is logged and the worker starts over
        after a pause, so a bot process does not lose its worker silently. On the way out, what
        this worker did is logged (INFO), so that the share of each of N workers can be seen."""
        pause = self.settings.poll_interval
        while not stop.is_set():
            try:
                await self._run(stop)
            except Exception as exc:
                # Type and row-free message only: SQL errors carry statements and parameters.
                log.error("delivery worker %s failed (%s); starting over in %.0fs", self.name,
                          type(exc).__name__, pause)
                log.debug("delivery worker failure", exc_info=True)
                await _wait(stop, pause)
                pause = min(pause * 2, 60.0)
        log.info("delivery worker %s stopped: %s", self.name, json.dumps(self.stats.as_dict()))

    async def _run(self, stop: asyncio.Event) -> None:
        if not self.exclusive:
            await self._serve(stop, deadline=None)
            return
        told = False
        while not stop.is_set():
            holder = await self._db(self._take_lease)
            if holder is not None:
                if not told:
                    log.warning(
                        "another delivery worker holds the lease %r on this SQLite database; "
                        "this one waits and takes over when it stops",
                        self.lease_name,
                    )
                    told = True
                await _wait(stop, self.lease_seconds / 3)
                continue
            told = False
            await self._serve_with_lease(stop, deadline=None)

    async def drain(self, timeout: float = 30.0) -> WorkerStats:
        """Deliver until nothing is due and nothing falls due before `timeout` seconds have
        passed; returns what this call did. Raises TimeoutError when due rows are left, and
        WorkerBusy on SQLite when another worker holds the lease."""
        before = WorkerStats(**self.stats.as_dict())
        deadline = asyncio.get_running_loop().time() + timeout
        never = asyncio.Event()
        if self.exclusive:
            holder = await self._db(self._take_lease)
            if holder is not None:
                raise WorkerBusy(f"another delivery worker ({holder}) holds the lease {self.lease_name!r}")
            session = await self._serve_with_lease(never, deadline=deadline)
        else:
            session = await self._serve(never, deadline=deadline)
        if session.timed_out:
            raise TimeoutError(f"outbox not drained after {timeout}s ({self.stats.minus(before).as_dict()})")
        return self.stats.minus(before)

    def wake(self) -> None:
        """New rows were queued: look now instead of at the next poll. Safe from any thread."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._poke()
        else:
            loop.call_soon_threadsafe(self._poke)

    def close(self) -> None:
        """Stop the database thread (the sender and the gate belong to the caller)."""
        self._pump_thread.shutdown(wait=True)
        self._side_thread.shutdown(wait=True)

    # -- the steps (also used by tests to play a worker that dies midway) ------------------------

    async def claim(self) -> list[OutgoingMessage]:
        """Recover rows dead workers left `sending`, then claim up to `batch_size` due rows."""
        return [c.message for c in await self._db(self._claim)]

    async def mark_sending(self, messages: Collection[OutgoingMessage]) -> list[OutgoingMessage]:
        """Mark claimed rows `sending`; the ones that moved (still ours), to be sent now."""
        moved = set(await self._db_pump(self._write, [], [m.row_id for m in messages]))
        return [m for m in messages if m.row_id in moved]

    # -- serving -----------------------------------------------------------------------------

    async def _serve_with_lease(self, stop: asyncio.Event, deadline: float | None) -> _Session:
        lost = asyncio.Event()
        keeper = asyncio.create_task(self._keep_lease(lost))
        try:
            return await self._serve(stop, deadline, lost)
        finally:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper
            if not lost.is_set():
                await self._db(self._release_lease)

    async def _serve(self, stop: asyncio.Event, deadline: float | None, *more_stops: asyncio.Event) -> _Session:
        self._loop = asyncio.get_running_loop()
        session = _Session(halt=asyncio.Event(), deadline=deadline)
        self._session = session
        watchers = [asyncio.create_task(_relay(e, session)) for e in (stop, *more_stops)]
        loops = [
            asyncio.create_task(self._feed(session), name="delivery-feed"),
            asyncio.create_task(self._dispatch(session), name="delivery-dispatch"),
        ]
        pump = asyncio.create_task(self._pump(session), name="delivery-pump")
        pump.add_done_callback(lambda _: session.stop())  # a pump that failed stops the rest
        try:
            await asyncio.gather(*loops)
        finally:
            # Halt, and let the coroutines leave at their next step rather than cancel them: a
            # pump cancelled between `mark_sending` and the requests would strand its rows.
            session.stop()
            await asyncio.gather(*loops, return_exceptions=True)
            # The pump finishes the groups it was given, then waits for the requests in flight
            # (not cancelled either: a cancelled request may still arrive) and writes them down.
            await asyncio.gather(pump, return_exceptions=True)
            if session.results:
                await self._db_pump(self._write, session.results, [])
                session.results = []
            leftover = [c.message.row_id for c in session.ready]
            if leftover:
                await self._db(self._release, leftover)
            for task in watchers:
                task.cancel()
            self._session = None
            if pump.done() and not pump.cancelled() and pump.exception() is not None:
                raise pump.exception()  # type: ignore[misc]
        return session

    async def _feed(self, s: _Session) -> None:
        """Keep enough claimed rows ready; in a drain, notice when nothing more is due."""
        low_water = max(self.settings.max_in_flight, self.settings.batch_size // 2)
        while not s.halt.is_set():
            if s.deadline is not None and self._loop_time() > s.deadline:
                s.timed_out = not await self._db(self._nothing_due_before, s.deadline)
                s.stop()
                return
            if len(s.ready) >= low_water:
                await _sleep_on(s.to_feed, None)
                continue
            claimed = await self._db(self._claim)
            if claimed:
                s.ready.extend(claimed)
                self._count(claimed=len(claimed))
                s.to_dispatch.set()
                continue
            if s.deadline is not None and s.idle() and await self._db(self._nothing_due_before, s.deadline):
                s.stop()  # drained
                return
            await _sleep_on(s.to_feed, self._idle_wait(s))

    async def _dispatch(self, s: _Session) -> None:
        """Take permits for as many ready rows as there are free request slots (at most a
        burst of the rate at once) and hand them to the pump."""
        burst = self.gate.max_burst or self.settings.max_in_flight
        low_water = max(self.settings.max_in_flight, self.settings.batch_size // 2)
        while not s.halt.is_set():
            free = self.settings.max_in_flight - s.slots
            if not s.ready or free <= 0:
                await _sleep_on(s.to_dispatch, None)
                continue
            rows: list[_Claimed] = []
            now = time.monotonic()
            while s.ready and len(rows) < min(free, burst):
                claimed = s.ready.popleft()
                if claimed.usable_until > now:
                    rows.append(claimed)  # else: the claim lapses; the row comes back later
            if len(s.ready) < low_water:
                s.to_feed.set()
            if not rows:
                continue
            s.slots += len(rows)
            s.dispatching += len(rows)
            permitted = False
            try:
                permitted = await _unless_halted(self.gate.acquire(len(rows)), s.halt)
            finally:
                s.dispatching -= len(rows)
                if not permitted:  # halted (or the gate failed): give the rows back
                    s.slots -= len(rows)
                    s.ready.extendleft(reversed(rows))  # released when the session ends
                s.to_pump.set()
            if not permitted:
                return
            s.groups.append(_Group(rows))
            s.to_pump.set()

    async def _pump(self, s: _Session) -> None:
        """Write outcomes and mark groups `sending`, all that came in meanwhile in one
        transaction; then start the requests of the rows that moved."""
        pace = self.gate.extra
        while True:
            if not s.results and not s.groups:
                if s.halt.is_set() and not s.slots and not s.dispatching:
                    return  # every request in flight has come back and been written
                await _sleep_on(s.to_pump, None)
                continue
            results, s.results = s.results, []
            groups, s.groups = s.groups, []
            ids = [c.message.row_id for g in groups for c in g.rows]
            s.pumping = True
            try:
                moved = set(await self._db_pump(self._write, results, ids))
            finally:
                s.pumping = False
            for group in groups:
                going = [c.message.with_pacing(pace) for c in group.rows if c.message.row_id in moved]
                s.slots -= len(group.rows) - len(going)  # the others were taken after our claim lapsed
                if going:
                    _track(s, asyncio.create_task(self._launch(s, going)))
            if results:
                self._after_record(s, results)
                s.to_feed.set()  # the outbox changed: rows may be claimable now
            s.to_dispatch.set()

    async def _launch(self, s: _Session, messages: list[OutgoingMessage]) -> None:
        """Start the requests of one group as soon as the rate allows them to leave now."""
        try:
            await self.gate.just_in_time(len(messages))
        except Exception as exc:  # the shared rate table is unreachable: the rows are `sending`
            log.error("the just-in-time rate check failed (%s); sending anyway", type(exc).__name__)
        for message in messages:
            _track(s, asyncio.create_task(self._send(s, message)))

    async def _send(self, s: _Session, message: OutgoingMessage) -> None:
        try:
            await self.gate.depart()
            outcome = await self.sender.send(message)
        except Exception as exc:  # a sender bug: the request may have gone out
            log.error("sending outbox row %d raised %s", message.row_id, type(exc).__name__)
            outcome = SendOutcome.of(Status.UNCERTAIN, f"sender raised {type(exc).__name__}")
        except asyncio.CancelledError:
            # The loop is going down: the row stays `sending` and becomes `uncertain` later.
            s.slots -= 1
            s.to_pump.set()
            raise
        if outcome.status is Status.RATE_LIMITED:
            log.warning(
                "429 from the channel: pausing this worker for %.1fs (row %d)", outcome.retry_after, message.row_id
            )
            self.gate.pause(outcome.retry_after)
        s.results.append((message, outcome, utcnow()))
        s.slots -= 1
        s.to_pump.set()
        s.to_dispatch.set()

    def _after_record(self, s: _Session, batch: list[Result]) -> None:
        """Logs, and when a claim is worth trying again (a paced chat frees up, a retry)."""
        now = time.monotonic()
        pacing = self.settings.per_chat_interval
        for message, outcome, _ in batch:
            status = outcome.status
            if status is Status.SENT and pacing > 0:
                s.wake_at(now + pacing)
            elif status is Status.RETRY:
                s.wake_at(now + _MIN_IDLE)  # the row holds its retry time; look again soon
            elif status is Status.RATE_LIMITED:
                s.wake_at(now + outcome.retry_after)
            elif status in (Status.BLOCKED, Status.FAILED, Status.UNCERTAIN):
                log.warning("outbox row %d %s: %s", message.row_id, status.value, outcome.error)
        if now - self._last_summary > SUMMARY_EVERY:
            self._last_summary = now
            log.info("delivery worker %s: %s", self.name, self.stats.as_dict())

    def _count(self, **counts: int) -> None:
        """Add to the stats (from the loop or a database thread)."""
        with self._stats_lock:
            for key, n in counts.items():
                setattr(self.stats, key, getattr(self.stats, key) + n)

    # -- waiting ------------------------------------------------------------------------------

    def _idle_wait(self, s: _Session) -> float:
        wait = self.settings.poll_interval
        wake = s.next_wake()
        if wake is not None:
            wait = min(wait, wake - time.monotonic())
        if s.deadline is not None:
            wait = min(wait, s.deadline - self._loop_time())
        return max(wait, _MIN_IDLE)

    def _poke(self) -> None:
        if self._session is not None:
            self._session.to_feed.set()

    def _loop_time(self) -> float:
        assert self._loop is not None
        return self._loop.time()

    # -- the database side (runs in the worker's database thread) -----------------------------

    async def _db(self, fn: Callable[..., T], *args: Any) -> T:
        """Run `fn` (which opens its own transaction) in the claim thread."""
        return await self._in_thread(self._side_thread, fn, *args)

    async def _db_pump(self, fn: Callable[..., T], *args: Any) -> T:
        """Run `fn` in the pump's thread."""
        return await self._in_thread(self._pump_thread, fn, *args)

    async def _in_thread(self, executor: ThreadPoolExecutor, fn: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        attempt = 0
        while True:
            try:
                return await loop.run_in_executor(executor, _with_retry, fn, *args)
            except OperationalError as exc:
                # The database went away for a moment (a restart, a lock held too long): try
                # again a few times; anything else is a bug and stops the worker.
                attempt += 1
                if attempt > _DB_ATTEMPTS:
                    raise
                log.warning("database unavailable to the delivery worker (%s); retrying", type(exc).__name__)
                await asyncio.sleep(min(self.settings.poll_interval * attempt, 30.0))

    def _claim(self) -> list[_Claimed]:
        d = self.settings
        with self.database.transaction() as session:
            outbox = OutboxRepository(session)
            recovered = outbox.recover()
            if recovered:
                self._count(recovered=recovered)
                log.warning("%d outbox rows left sending by a stopped worker are now uncertain", recovered)
            started = time.monotonic()
            rows = outbox.claim(
                self.name,
                d.batch_size,
                lease=timedelta(seconds=d.claim_seconds),
                per_chat_interval=timedelta(seconds=d.per_chat_interval),
                channel=self.channel,
                chat_ids=self.chat_ids,
            )
            usable_until = started + d.claim_seconds - min(5.0, d.claim_seconds * _CLAIM_SAFETY)
            claimed = []
            for row in rows:
                try:
                    message = OutgoingMessage.from_payload(
                        row.id, row.channel, row.chat_id, row.kind, row.payload, row.attempts
                    )
                except PayloadError as exc:
                    log.warning("outbox row %d has a bad payload: %s", row.id, exc)
                    outbox.mark_final(row.id, "failed", f"bad payload: {exc}")
                    self._count(failed=1)
                    continue
                claimed.append(_Claimed(message, usable_until))
        if claimed:
            log.debug("claimed %d rows: %s", len(claimed), [c.message.row_id for c in claimed])
        return claimed

    def _write(self, results: list[Result], sending: list[int]) -> list[int]:
        """One transaction: record `results`, then mark the rows `sending` (the ids that
        moved are returned). Recording first frees those chats for the next claim."""
        d = self.settings
        counts: dict[str, int] = {}
        with self.database.transaction() as session:
            outbox = OutboxRepository(session)
            sent: list[tuple[int, int | None, datetime, str | None]] = []
            for message, outcome, at in results:
                status = outcome.status
                key = status.value
                if status is Status.SENT:
                    sent.append((message.row_id, outcome.message_id, at, outcome.chat_id))
                elif status is Status.RATE_LIMITED:
                    retry_at = at + timedelta(seconds=outcome.retry_after)
                    outbox.reschedule(
                        message.row_id, retry_at, outcome.error, count_attempt=False, chat_id=outcome.chat_id
                    )
                elif status is Status.RETRY:
                    attempts = message.attempts + 1
                    if attempts >= d.max_attempts:
                        error = f"gave up after {attempts} attempts: {outcome.error}"
                        outbox.mark_final(message.row_id, "failed", error, at, chat_id=outcome.chat_id)
                        key = "failed"
                    else:
                        delay = backoff_delay(attempts, d.backoff_base, d.backoff_max)
                        retry_at = at + timedelta(seconds=delay)
                        outbox.reschedule(message.row_id, retry_at, outcome.error, chat_id=outcome.chat_id)
                        key = "retried"
                else:
                    outbox.mark_final(message.row_id, status.value, outcome.error, at, chat_id=outcome.chat_id)
                counts[key] = counts.get(key, 0) + 1
            outbox.mark_sent_many(sent)
            moved = outbox.mark_sending(sending, self.name, lease=timedelta(seconds=d.claim_seconds)) if sending else []
        self._count(**counts)
        if results or sending:
            log.debug("recorded %d outcomes %s; %d of %d rows now sending", len(results), counts, len(moved),
                      len(sending))
        return moved

    def _release(self, ids: list[int]) -> None:
        with self.database.transaction() as session:
            OutboxRepository(session).release(ids, self.name)

    def _nothing_due_before(self, deadline: float) -> bool:
        """No pending row of ours is due now or before the loop time `deadline`."""
        assert self._loop is not None
        until = utcnow() + timedelta(seconds=max(0.0, deadline - self._loop.time()))
        with self.database.transaction() as session:
            next_due = OutboxRepository(session).next_due_at(channel=self.channel, chat_ids=self.chat_ids)
        return next_due is None or next_due > until

    def _take_lease(self) -> str | None:
        """Take or renew the lease; None when we hold it, else who does."""
        with self.database.transaction() as session:
            leases = LeaseRepository(session)
            if leases.acquire(self.lease_name, self.name, timedelta(seconds=self.lease_seconds)):
                return None
            return leases.holder(self.lease_name) or "unknown"

    def _release_lease(self) -> None:
        with self.database.transaction() as session:
            LeaseRepository(session).release(self.lease_name, self.name)

    async def _keep_lease(self, lost: asyncio.Event) -> None:
        while True:
            await asyncio.sleep(self.lease_seconds / 3)
            if await self._db(self._take_lease) is not None:
                log.error("delivery worker %s lost its lease; stopping", self.name)
                lost.set()
                return


def _track(s: _Session, task: asyncio.Task[None]) -> None:
    """Keep a strong reference to the task while it runs."""
    s.tasks.add(task)
    task.add_done_callback(s.tasks.discard)


def _with_retry(fn: Callable[..., T], *args: Any) -> T:
    return run_with_retry(lambda: fn(*args))


def _lease_name(channel: str, chat_ids: list[str] | None) -> str:
    if channel == "telegram" and chat_ids is None:
        return LEASE_NAME
    suffix = f":{','.join(chat_ids)}" if chat_ids is not None else ""
    return f"{LEASE_NAME}:{channel}{suffix}"[:64]


def _earliest(current: float, candidate: float) -> float:
    return candidate if not current else min(current, candidate)


async def _relay(event: asyncio.Event, s: _Session) -> None:
    await event.wait()
    s.stop()


async def _sleep_on(event: asyncio.Event, timeout: float | None) -> None:
    """Sleep until `event` is set (or `timeout`), and clear it for the next sleep. The caller
    checked its condition just before, with no await in between, so nothing is missed."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), timeout)
    event.clear()


async def _wait(event: asyncio.Event, timeout: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), timeout)


async def _unless_halted(coro: Any, halt: asyncio.Event) -> bool:
    """Run `coro` unless `halt` is set first (then cancel it); True when it ran to the end."""
    task = asyncio.ensure_future(coro)
    stopper = asyncio.ensure_future(halt.wait())
    try:
        await asyncio.wait([task, stopper], return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopper.cancel()
    if task.done():
        task.result()
        return True
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    return False
