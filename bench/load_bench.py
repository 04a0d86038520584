"""Load benchmark: simulated users asking questions through the fake Bot API to the real Application.

Run:  .venv/bin/python bench/load_bench.py              (about 15 minutes: 3 load runs, then a 10-minute soak)
      .venv/bin/python bench/load_bench.py --quick      (a smoke run: fewer questions, a 30-second soak)
      options: --postgres URL (PostgreSQL, own schema dropped after; default SQLite), --soak-seconds S,
               --no-floors (exit 0 even when a floor fails)

Questions: N users (1, 10, 100), each a consented member (seeded through the core: /start, the consent
button, /batal) asking real domain questions from the eval file, one after another (closed loop: the next
question goes when the reply to the previous one arrived). Latency is from the moment the update is queued
at the fake server to the moment the server receives the sendMessage for that chat; throughput is replies
per second over the run. Beside it, in the same run and for the same questions:
  - echo: a minimal python-telegram-bot Application (one MessageHandler that replies with the text, the
    same number of concurrent updates, no rate limiter), against its own fake server in the same process:
    the framework's ceiling;
  - search: `SearchIndex.search` alone (the call the core makes for a question), on a fresh cache, in a
    thread pool the size of asyncio's default executor (what `asyncio.to_thread` uses), at most N at once:
    the model's ceiling.
Each user count runs echo, bot and search back to back, so a noisy neighbour slows all three alike.
Floors: throughput >= 0.8 x min(echo, search); p99 <= 3 x p50 at 10 users; no error (an exception logged
by the bot, an update without a reply, a reply that is the error message, a failed Bot API call).

Soak: the real bot for --soak-seconds at half the throughput measured with 10 users (open loop, 10 users in
turn): resident memory after a warm-up (the first 60 s) against the end (floor: grows less than 10%), open
file descriptors and database connections (pool; on PostgreSQL also pg_stat_activity) after the warm-up
against the end, once the load stopped (floor: no more than after the warm-up).

Processes: the fake servers (and the simulated users, who react to each reply as it arrives) in one, the
real bot (with its in-process delivery worker and scheduler, as `umkm-bot run`), the echo bot, and the
search ceiling each in their own, so none takes another's event loop; this one only coordinates.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import random
import shlex
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.pg_schema import create_schema, drop_schema  # noqa: E402

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TOKEN = "123456789:AAHfakeTokenForEndToEndTests-abcdefghijk"
DATA_DIR = ROOT / "var" / "bench" / "load"  # the index is built here once (rebuilt when stale)
USER_BASE = 880_000_000
USER_COUNTS = (1, 10, 100)
SOAK_USERS = 10


def plan_sizes(quick: bool) -> dict[str, Any]:
    """Questions per user for each user count, and the warm-up (sent to each bot before timing)."""
    if quick:
        return {"warmup": 10, "per_user": {1: 20, 10: 8, 100: 2}, "soak_warmup": 10, "sample": 5}
    return {"warmup": 30, "per_user": {1: 80, 10: 30, 100: 6}, "soak_warmup": 60, "sample": 10}


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (p99 of 300 values is the 297th smallest)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-q * len(ordered) // 100))))
    return ordered[rank - 1]


# -- child processes speak one JSON object per line on stdin/stdout -------------------------------


class Child:
    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, __file__, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT
        )
        self.first = self.read()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def read(self) -> dict[str, Any]:
        assert self.proc.stdout
        line = self.proc.stdout.readline()
        if not line:
            raise SystemExit(f"child {self.proc.args[2:]} ended with exit code {self.proc.wait()}")
        return json.loads(line)

    def ask(self, **command: Any) -> dict[str, Any]:
        assert self.proc.stdin
        self.proc.stdin.write(json.dumps(command) + "\n")
        self.proc.stdin.flush()
        return self.read()

    def close(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(SystemExit, BrokenPipeError, json.JSONDecodeError):
                self.ask(cmd="quit")
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()


async def serve_commands(handle) -> None:  # type: ignore[no-untyped-def]
    """Read JSON commands from stdin in this event loop; answer each with `await handle(cmd)`."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=2**26)  # a plan of every question is one line
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := (await reader.readline()).decode().strip():
        command = json.loads(line)
        if command["cmd"] == "quit":
            break
        print(json.dumps(await handle(command)), flush=True)
    print(json.dumps({"ok": True}), flush=True)


# -- the fake Bot API servers and the simulated users (one process) -------------------------------


class Load:
    """Simulated users on one fake server: each question queued as an update; a sendMessage to the
    user's chat is the reply to their oldest unanswered question. Closed loop: the reply queues the
    user's next question. Open loop: questions go out at a fixed rate, users in turn."""

    def __init__(self, api: Any, plan: dict[int, list[str]]) -> None:
        self.api = api
        self.plan = {uid: deque(questions) for uid, questions in plan.items()}
        self.total = sum(len(q) for q in plan.values())
        self.pending: dict[int, deque[float]] = {uid: deque() for uid in plan}
        self.records: list[tuple[int, float, float, int, str]] = []  # user, queued, replied, status, text
        self.unexpected = 0
        self.closed = True
        self.done = asyncio.Event()
        self.started = time.monotonic()

    def send(self, uid: int) -> None:
        from tests.e2e.fake_bot_api import FakeUser

        text = self.plan[uid].popleft()
        self.pending[uid].append(time.monotonic())
        self.api.queue_text(FakeUser(uid, f"Pengguna{uid % 1000}"), text)

    def start_closed(self) -> None:
        for uid in self.plan:
            self.send(uid)

    async def open_loop(self, rate: float, seconds: float) -> None:
        """`rate` questions per second for `seconds`, the users in turn, each user's questions cycled."""
        self.closed = False
        self.total = 10**9  # known when the last question went out
        users = list(self.plan)
        cycle = {uid: list(self.plan[uid]) for uid in users}
        interval, n, start = 1.0 / rate, 0, time.monotonic()
        while (due := start + n * interval) < start + seconds:
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            uid = users[n % len(users)]
            if not self.plan[uid]:
                self.plan[uid].extend(cycle[uid])
            self.send(uid)
            n += 1
        self.total = n

    def on_reply(self, call: Any) -> None:
        chat = call.params.get("chat_id")
        queue = self.pending.get(chat)
        if not queue:
            self.unexpected += 1
            return
        queued = queue.popleft()
        self.records.append((chat, queued, call.arrived_at, call.status, str(call.params.get("text", ""))[:200]))
        if self.closed and self.plan[chat]:
            self.send(chat)
        if len(self.records) >= self.total and (self.closed or not any(self.pending.values())):
            self.done.set()

    def result(self) -> dict[str, Any]:
        return {
            "records": self.records,
            "missing": sum(len(q) for q in self.pending.values()),
            "unexpected": self.unexpected,
            "total": self.total,
        }


def serve() -> None:
    from tests.e2e.fake_bot_api import FakeBotApi

    class DrivenApi(FakeBotApi):
        load: Load | None = None

        def _record(self, call: Any) -> None:
            super()._record(call)
            if call.method == "sendMessage" and self.load is not None:
                self.load.on_reply(call)
            if len(self.calls) > 2000:  # nothing here reads old calls; keep the server's memory flat
                del self.calls[:1000]

        def forget(self) -> None:
            self.calls.clear()
            for name in ("_messages", "_message_source", "_seen_updates", "_chats", "_next_message_id",
                         "_last_bot_message"):
                getattr(self, name).clear()

    async def main() -> None:
        apis = {name: DrivenApi(token=TOKEN) for name in ("bot", "echo")}
        for api in apis.values():
            await api.start()
        print(json.dumps({name: api.base_url for name, api in apis.items()}), flush=True)
        runs: dict[str, asyncio.Task[None]] = {}

        async def handle(command: dict[str, Any]) -> dict[str, Any]:
            api = apis[command["api"]]
            if command["cmd"] == "start":
                api.forget()
                api.load = load = Load(api, {int(k): v for k, v in command["plan"].items()})
                if command.get("rate"):
                    runs[command["api"]] = asyncio.create_task(load.open_loop(command["rate"], command["seconds"]))
                else:
                    load.start_closed()
                return {"ok": True}
            if command["cmd"] == "progress":
                load = api.load
                assert load is not None
                return {"replies": len(load.records), "queued": load.total}
            if command["cmd"] == "result":
                load = api.load
                assert load is not None
                if command["api"] in runs:
                    await runs.pop(command["api"])
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(load.done.wait(), command["timeout"])
                api.load = None
                return load.result()
            raise ValueError(command)

        await serve_commands(handle)
        for api in apis.values():
            await api.stop()

    asyncio.run(main())


# -- the bots (one process each) ------------------------------------------------------------------


class ErrorCount(logging.Handler):
    """Counts records at ERROR and above (the bot's error handler logs every failed update)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.count = 0
        self.first: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1
        if len(self.first) < 5:
            self.first.append(f"{record.name}: {record.getMessage()}")


def bench_settings(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from bot.config import load_settings

    settings = load_settings(ROOT / "config.toml")
    settings.data.dir = Path(args.data_dir)
    if getattr(args, "base_url", None):
        settings.telegram.base_url = args.base_url
        settings.telegram.base_file_url = args.base_url.removesuffix("/bot") + "/file/bot"
    if getattr(args, "db", None):
        settings.database.url = args.db
    return settings


# Innermost Python frames of a thread that waits (in C) rather than runs: epoll, a queue, a lock
# (Database.transaction waits for the SQLite lock in lock.acquire).
IDLE_LEAVES = frozenset({"select", "poll", "wait", "_worker", "get", "acquire", "sleep", "readline", "run_forever",
                         "_run_once", "accept", "recv", "_wait_for_tstate_lock", "transaction"})


class Sampler(threading.Thread):
    """A poor man's py-spy (not installed here): every 2 ms, each thread's Python stack; functions
    counted once per sample they are on a busy stack (a stack whose innermost frame is not waiting)."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.inclusive: dict[str, int] = {}
        self.samples = 0
        self.stopped = threading.Event()

    def run(self) -> None:
        me = threading.get_ident()
        while not self.stopped.wait(0.002):
            for ident, frame in sys._current_frames().items():  # noqa: SLF001
                if ident == me or frame.f_code.co_name in IDLE_LEAVES:
                    continue
                self.samples += 1
                seen = set()
                f: Any = frame
                while f is not None:
                    key = f"{Path(f.f_code.co_filename).name}:{f.f_code.co_name}"
                    if key not in seen:
                        seen.add(key)
                        self.inclusive[key] = self.inclusive.get(key, 0) + 1
                    f = f.f_back

    def report(self, out: Path) -> None:
        top = sorted(self.inclusive.items(), key=lambda kv: -kv[1])[:80]
        out.write_text("\n".join(f"{n / max(self.samples, 1) * 100:5.1f}% {key}" for key, n in top) + "\n")


def run_bot(args: argparse.Namespace) -> None:
    """The real Application as `umkm-bot run` builds it (delivery worker and scheduler inside), or
    the minimal echo bot; long-polling the fake server until told to quit."""
    from telegram import Update
    from telegram.ext import Application, ApplicationBuilder, ContextTypes, MessageHandler, filters

    from bot.telegram.app import ALLOWED_UPDATES, build_application, silence_token_logging
    from bot.telegram.polling import serve_polling

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    errors = ErrorCount()
    logging.getLogger().addHandler(errors)
    silence_token_logging()
    settings = bench_settings(args)
    database = None

    if args.kind == "echo":

        async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            assert update.message is not None
            await update.message.reply_text(update.message.text or "")

        application: Application = (
            ApplicationBuilder().token(TOKEN).base_url(settings.telegram_base_url)
            .concurrent_updates(settings.telegram.concurrent_updates).build()
        )
        application.add_handler(MessageHandler(filters.TEXT, echo))
    else:
        from bot.core import Conversation, Incoming
        from bot.core.callbacks import encode
        from bot.core.messages import UserRef
        from bot.delivery import telegram_sender
        from bot.delivery.service import BackgroundDelivery
        from bot.search_service import open_index
        from bot.storage import Database
        from bot.storage.migrate import upgrade
        from bot.telegram.polling import HandledUpdates

        upgrade(args.db)
        database = Database(args.db)
        index = open_index(settings, auto_rebuild=False)
        conversation = Conversation(settings, index, database)
        for uid in range(USER_BASE, USER_BASE + args.users):  # consented members, outside any timing
            ref = UserRef("telegram", str(uid), f"Pengguna{uid % 1000}", "id")
            conversation.handle(Incoming(ref, "command", command="start"))
            conversation.handle(Incoming(ref, "button", data=encode("consent", "yes", "", "id")))
            conversation.handle(Incoming(ref, "command", command="batal"))
        background = BackgroundDelivery(settings, database, telegram_sender(settings, TOKEN))
        handled = HandledUpdates()
        application = build_application(settings, conversation, TOKEN, background, handled)

    def stats() -> dict[str, Any]:
        out: dict[str, Any] = {"errors": errors.count, "first_errors": errors.first,
                               "threads": threading.active_count()}
        if database is not None:
            pool = database.engine.pool
            out.update(checkedout=pool.checkedout(), checkedin=pool.checkedin())  # type: ignore[attr-defined]
        return out

    async def main() -> None:
        limiter = application.bot.rate_limiter
        overall = getattr(limiter, "_base_limiter", None)  # AIORateLimiter's 30 requests/s for the bot
        sampler = Sampler()

        async def handle(command: dict[str, Any]) -> dict[str, Any]:
            if command["cmd"] == "profile":
                if command["on"]:
                    sampler.start()
                else:
                    sampler.stopped.set()
                    sampler.report(Path(command["out"]))
            if command["cmd"] == "forget" and args.kind == "real":
                forget_questions(index)
            elif command["cmd"] == "cap" and limiter is not None:
                limiter._base_limiter = overall if command["on"] else None  # noqa: SLF001
            return stats()

        if args.kind == "real":
            # As `umkm-bot run` polls: the project's loop that confirms an update once it is handled.
            stop = asyncio.Event()
            polling = asyncio.create_task(
                serve_polling(application, handled, stop, allowed_updates=ALLOWED_UPDATES)
            )
            while not application.running and not polling.done():
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.5)  # post_init (the menu, the delivery worker) and the first poll
            print(json.dumps({"ready": True}), flush=True)
            try:
                await serve_commands(handle)
            finally:
                stop.set()
                await polling
        else:
            async with application:  # the echo bot polls the framework's way (PTB's Updater)
                await application.start()
                await application.updater.start_polling(poll_interval=0, timeout=10,
                                                        allowed_updates=ALLOWED_UPDATES)
                print(json.dumps({"ready": True}), flush=True)
                try:
                    await serve_commands(handle)
                finally:
                    await application.updater.stop()
                    await application.stop()
        if database is not None:
            database.dispose()

    asyncio.run(main())


# -- the search ceiling (one process) -------------------------------------------------------------


def forget_questions(index: Any) -> None:
    """Empty the search's result cache and the per-text caches: the next questions are unseen."""
    from index import charngrams, normalize, scope

    index._cache.clear()  # noqa: SLF001
    normalize.clean_text.cache_clear()
    scope._features.cache_clear()  # noqa: SLF001
    charngrams._pieces.cache_clear()  # noqa: SLF001


def run_search(args: argparse.Namespace) -> None:
    """`SearchIndex.search` alone, as the core calls it; builds the index first when missing or stale."""
    from concurrent.futures import ThreadPoolExecutor

    from bot.search_service import open_index

    settings = bench_settings(args)
    index = open_index(settings, auto_rebuild=True)
    k = max(3, settings.search.k)
    # asyncio.to_thread runs in the loop's default executor: min(32, cores + 4) threads.
    executor_size = min(32, (os.cpu_count() or 1) + 4)
    print(json.dumps({"ready": True, "executor": executor_size}), flush=True)

    async def handle(command: dict[str, Any]) -> dict[str, Any]:
        questions = command["questions"]
        if command.get("warmup"):
            for q in questions:
                index.search(q, k=k)
            return {"ok": True}
        threads = min(command["users"], settings.telegram.concurrent_updates, executor_size)
        singles, concurrents, cpu = [], [], []
        for _ in range(3):  # the median of three, each on a fresh cache
            forget_questions(index)
            start, cpu_start = time.perf_counter(), time.process_time()
            for q in questions:
                index.search(q, k=k)
            singles.append(len(questions) / (time.perf_counter() - start))
            cpu.append((time.process_time() - cpu_start) / len(questions) * 1000)
            forget_questions(index)
            with ThreadPoolExecutor(threads) as pool:
                start = time.perf_counter()
                list(pool.map(lambda q: index.search(q, k=k), questions))
                concurrents.append(len(questions) / (time.perf_counter() - start))
        return {"single": statistics.median(singles), "concurrent": statistics.median(concurrents),
                "threads": threads, "cpu_ms": statistics.median(cpu)}

    asyncio.run(serve_commands(handle))


# -- databases ------------------------------------------------------------------------------------


def fresh_database(pg_url: str | None, folder: Path) -> tuple[str, str, str | None]:
    """A migrated, empty database: (url for migrations, url for the bot, PostgreSQL schema)."""

    from bot.storage.migrate import upgrade

    if pg_url is None:
        url = f"sqlite:///{folder / 'umkm.db'}"
        upgrade(url)
        return url, url, None
    url, schema = create_schema(pg_url, "bench_load")
    upgrade(url.render_as_string(hide_password=False))
    bot_url = url.update_query_dict({"application_name": schema})  # counted in pg_stat_activity
    return url.render_as_string(hide_password=False), bot_url.render_as_string(hide_password=False), schema


def pg_connections(pg_url: str, schema: str) -> int:
    from sqlalchemy import create_engine, text

    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        n = connection.execute(
            text("SELECT count(*) FROM pg_stat_activity WHERE application_name = :name"), {"name": schema}
        ).scalar_one()
    admin.dispose()
    return int(n)


def drop_database(pg_url: str | None, schema: str | None) -> None:
    if pg_url is not None and schema is not None:
        drop_schema(pg_url, schema)


# -- the runs -------------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, all its threads."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_status(pid: int) -> tuple[float, int]:
    """Resident memory (MB) and open file descriptors of a process."""
    rss = 0.0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1]) / 1024
    return rss, len(os.listdir(f"/proc/{pid}/fd"))


def error_texts() -> set[str]:
    from bot.rendering import LOCALES, render

    return {render(locale, "error").strip() for locale in LOCALES}


def load_run(server: Child, api: str, plan: dict[int, list[str]], bot: Child, errors: set[str]) -> dict[str, Any]:
    """One closed-loop run; figures measured at the server."""
    before = bot.ask(cmd="stats")["errors"]
    total = sum(len(q) for q in plan.values())
    cpu = cpu_seconds(bot.pid), cpu_seconds(server.pid)
    server.ask(cmd="start", api=api, plan=plan)
    out = server.ask(cmd="result", api=api, timeout=60 + total)
    cpu = cpu_seconds(bot.pid) - cpu[0], cpu_seconds(server.pid) - cpu[1]
    logged = bot.ask(cmd="stats")["errors"] - before
    records = out["records"]
    latencies = [(replied - queued) * 1000 for _, queued, replied, _, _ in records]
    failed = sum(1 for r in records if r[3] != 200)
    error_replies = sum(1 for r in records if r[4].strip() in errors)
    first = min((r[1] for r in records), default=0.0)
    last = max((r[2] for r in records), default=0.0)
    return {
        "replies": len(records),
        "per_second": (len(records) / (last - first)) if last > first else 0.0,
        "p50": statistics.median(latencies) if latencies else float("nan"),
        "p99": percentile(latencies, 99),
        "errors": out["missing"] + out["unexpected"] + failed + error_replies + logged,
        "cpu_ms": cpu[0] / max(len(records), 1) * 1000,  # the bot process, per question
        "server_cpu_ms": cpu[1] / max(len(records), 1) * 1000,  # the fake server and the simulated users
        "detail": {"missing": out["missing"], "unexpected": out["unexpected"], "failed_calls": failed,
                   "error_replies": error_replies, "logged_errors": logged},
    }


def soak(server: Child, bot: Child, plan: dict[int, list[str]], rate: float, seconds: float, warmup: float,
         sample: float, pg: tuple[str, str] | None) -> dict[str, Any]:
    """Open loop at `rate` for `seconds`, sampling the bot process; then the figures after the load."""
    before = bot.ask(cmd="stats")["errors"]
    server.ask(cmd="start", api="bot", plan=plan, rate=rate, seconds=seconds)
    start = time.monotonic()
    samples: list[dict[str, Any]] = []
    while (elapsed := time.monotonic() - start) < seconds:
        rss, fds = proc_status(bot.pid)
        stats = bot.ask(cmd="stats")
        sample_row = {"t": elapsed, "rss": rss, "fds": fds, "conns": stats["checkedout"] + stats["checkedin"],
                      "checkedout": stats["checkedout"]}
        if pg:
            sample_row["pg"] = pg_connections(*pg)
        samples.append(sample_row)
        print(f"  soak {elapsed:5.0f} s: RSS {rss:.1f} MB, {fds} fds, pool {sample_row['conns']} connections "
              f"({stats['checkedout']} in use)" + (f", pg_stat_activity {sample_row['pg']}" if pg else ""),
              file=sys.stderr, flush=True)
        time.sleep(max(0.0, min(sample, seconds - (time.monotonic() - start))))
    out = server.ask(cmd="result", api="bot", timeout=60)
    time.sleep(2)  # the delivery worker's and scheduler's transactions finish
    rss, fds = proc_status(bot.pid)
    stats = bot.ask(cmd="stats")
    end = {"rss": rss, "fds": fds, "conns": stats["checkedout"] + stats["checkedin"],
           "checkedout": stats["checkedout"]}
    if pg:
        end["pg"] = pg_connections(*pg)
    warm = next((s for s in samples if s["t"] >= warmup), samples[-1])
    records = out["records"]
    latencies = [(replied - queued) * 1000 for _, queued, replied, _, _ in records]
    return {
        "rate": rate, "seconds": seconds, "questions": len(records), "warm": warm, "end": end,
        "peak_rss": max(s["rss"] for s in samples + [end]),
        "errors": out["missing"] + out["unexpected"] + sum(1 for r in records if r[3] != 200)
        + bot.ask(cmd="stats")["errors"] - before,
        "p50": statistics.median(latencies) if latencies else float("nan"), "p99": percentile(latencies, 99),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("serve")
    child = sub.add_parser("bot")
    child.add_argument("--kind", choices=("real", "echo"), required=True)
    child.add_argument("--base-url", required=True)
    child.add_argument("--db")
    child.add_argument("--data-dir", required=True)
    child.add_argument("--users", type=int, default=0)
    search = sub.add_parser("search")
    search.add_argument("--data-dir", required=True)
    parser.add_argument("--quick", action="store_true", help="a smoke run: fewer questions, a 30-second soak")
    parser.add_argument("--soak-seconds", type=float, help="default 600 (30 with --quick); 0 skips the soak")
    parser.add_argument("--postgres", nargs="?", const=os.environ.get("TEST_POSTGRES_URL", DEFAULT_PG),
                        help=f"PostgreSQL instead of SQLite (URL; default $TEST_POSTGRES_URL or {DEFAULT_PG})")
    parser.add_argument("--profile", metavar="FILE", help="sample the bot's stacks during the 10-user run without "
                        "the cap; the busiest functions (share of busy samples) go to FILE")
    parser.add_argument("--no-floors", action="store_true", help="exit 0 even when a floor fails")
    args = parser.parse_args()
    if args.command == "serve":
        return serve()
    if args.command == "bot":
        return run_bot(args)
    if args.command == "search":
        return run_search(args)

    from index.evaluate import load_eval_set

    sizes = plan_sizes(args.quick)
    soak_seconds = args.soak_seconds if args.soak_seconds is not None else (30.0 if args.quick else 600.0)
    settings = bench_settings(argparse.Namespace(data_dir=DATA_DIR))
    questions = [q.q for q in load_eval_set(settings.knowledge.eval_file).domain]
    random.Random(12).shuffle(questions)  # a mix of topics and languages in every slice
    errors = error_texts()
    DATA_DIR.mkdir(parents=True, exist_ok=True)

    children: list[Child] = []
    schema = None
    rows: list[dict[str, Any]] = []
    soaked: dict[str, Any] | None = None
    with tempfile.TemporaryDirectory() as tmp:
        try:
            print("loading the index (built once into var/bench/load when missing or stale)…", file=sys.stderr)
            searcher = Child("search", "--data-dir", str(DATA_DIR))
            children.append(searcher)
            server = Child("serve")
            children.append(server)
            migrate_url, bot_url, schema = fresh_database(args.postgres, Path(tmp))
            real = Child("bot", "--kind", "real", "--base-url", server.first["bot"], "--db", bot_url,
                         "--data-dir", str(DATA_DIR), "--users", str(max(USER_COUNTS)))
            children.append(real)
            echo = Child("bot", "--kind", "echo", "--base-url", server.first["echo"], "--data-dir", str(DATA_DIR))
            children.append(echo)

            cursor = 0

            def take(n: int) -> list[str]:
                nonlocal cursor
                out = [questions[(cursor + i) % len(questions)] for i in range(n)]
                cursor += n
                return out

            def plan_for(users: int, per_user: int) -> dict[int, list[str]]:
                slice_ = take(users * per_user)
                return {USER_BASE + u: slice_[u::users] for u in range(users)}

            warm = plan_for(10, max(1, sizes["warmup"] // 10))
            print("warming up (not timed)…", file=sys.stderr)
            load_run(server, "echo", warm, echo, errors)
            load_run(server, "bot", warm, real, errors)
            searcher.ask(cmd="measure", warmup=True, questions=[q for qs in warm.values() for q in qs])
            for users in USER_COUNTS:
                plan = plan_for(users, sizes["per_user"][users])
                flat = [q for qs in plan.values() for q in qs]
                e = load_run(server, "echo", plan, echo, errors)
                real.ask(cmd="forget")
                b = load_run(server, "bot", plan, real, errors)
                real.ask(cmd="forget")
                real.ask(cmd="cap", on=False)
                if args.profile and users == 10:
                    real.ask(cmd="profile", on=True)
                u = load_run(server, "bot", plan, real, errors)
                if args.profile and users == 10:
                    real.ask(cmd="profile", on=False, out=str(Path(args.profile).resolve()))
                real.ask(cmd="cap", on=True)
                s = searcher.ask(cmd="measure", users=users, questions=flat)
                rows.append({"users": users, "questions": len(flat), "bot": b, "uncapped": u, "echo": e, "search": s})
                print(f"  {users} users: bot {b['per_second']:.1f}/s, without the 30/s cap {u['per_second']:.1f}/s, "
                      f"echo {e['per_second']:.1f}/s, search {s['concurrent']:.1f}/s", file=sys.stderr, flush=True)

            ten = next(r for r in rows if r["users"] == 10)
            if soak_seconds > 0:
                rate = ten["bot"]["per_second"] / 2
                print(f"soak: {soak_seconds:.0f} s at {rate:.1f} questions/s…", file=sys.stderr, flush=True)
                soak_plan = {USER_BASE + u: questions[u::SOAK_USERS] for u in range(SOAK_USERS)}
                pg = (args.postgres, schema) if schema else None
                soaked = soak(server, real, soak_plan, rate, soak_seconds, min(sizes["soak_warmup"], soak_seconds / 3),
                              sizes["sample"], pg)
        finally:
            for c in reversed(children):
                c.close()
            drop_database(args.postgres, schema)

    ok = report(args, rows, soaked)
    if not ok and not args.no_floors:
        sys.exit(1)


def report(args: argparse.Namespace, rows: list[dict[str, Any]], soaked: dict[str, Any] | None) -> bool:
    database = "PostgreSQL" if args.postgres else "SQLite"
    command = shlex.join([Path(sys.executable).name, "bench/load_bench.py", *sys.argv[1:]])
    print(f"\n`{command}` on {os.cpu_count()} cores, {database}; each user asks the next question when the "
          f"reply to the last arrived; latency from the update queued at the fake server to its sendMessage\n")
    print("| users | questions | bot q/s | p50 ms | p99 ms | echo bot q/s | search q/s (threads) | "
          "bot / min(echo, search) | p99 / p50 | errors | floors |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    all_ok = True
    lines = []
    for r in rows:
        e, s = r["echo"], r["search"]
        ceiling = min(e["per_second"], s["concurrent"])
        for key in ("bot", "uncapped"):
            b = r[key]
            ratio = b["per_second"] / ceiling if ceiling else 0.0
            spread = b["p99"] / b["p50"] if b["p50"] else float("inf")
            errors = b["errors"] + e["errors"]
            verdicts = [("throughput", ratio >= 0.8), ("no error", errors == 0)]
            if r["users"] == 10:
                verdicts.append(("p99 <= 3 x p50", spread <= 3))
            failed = [name for name, good in verdicts if not good]
            if key == "bot":
                all_ok &= not failed
            detail = "" if not b["errors"] else " (" + ", ".join(
                f"{k} {v}" for k, v in b["detail"].items() if v) + ")"
            lines.append((key, f"| {r['users']} | {r['questions']} | {b['per_second']:.1f} | {b['p50']:.0f} | "
                          f"{b['p99']:.0f} | {e['per_second']:.1f} | {s['concurrent']:.1f} ({s['threads']}; "
                          f"1 thread {s['single']:.1f}) | {ratio:.2f} | {spread:.2f} | {errors}{detail} | "
                          f"{'PASS' if not failed else 'FAIL: ' + ', '.join(failed)} |"))
    print("\n".join(line for key, line in lines if key == "bot"))
    print("\nThe same bot with the rate limiter's overall cap lifted (AIORateLimiter allows Telegram's 30 "
          "requests/s per bot: one sendMessage per answer, plus a sendChatAction when an answer takes longer "
          "than [telegram] typing_after); same questions, same run:\n")
    print("| users | questions | bot q/s | p50 ms | p99 ms | echo bot q/s | search q/s (threads) | "
          "bot / min(echo, search) | p99 / p50 | errors | floors |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    print("\n".join(line for key, line in lines if key == "uncapped"))
    print("\nCPU time per question (all threads of the process), ms:\n")
    print("| users | bot process | bot process, cap lifted | echo bot process | fake server + users (bot run) | "
          "search alone |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['users']} | {r['bot']['cpu_ms']:.1f} | {r['uncapped']['cpu_ms']:.1f} | "
              f"{r['echo']['cpu_ms']:.1f} | {r['bot']['server_cpu_ms']:.1f} | {r['search']['cpu_ms']:.1f} |")
    one = next((r for r in rows if r["users"] == 1), None)
    if one is not None:
        # One person waits for each answer: nothing overlaps, so receiving, searching and replying
        # add up. A bot costing nothing beyond the echo bot's round trip and the search is the bound.
        echo, search = one["echo"]["per_second"], one["search"]["single"]
        bound = 1 / (1 / echo + 1 / search) if echo and search else 0.0
        ceiling = min(echo, one["search"]["concurrent"])
        print(f"\nAt 1 user the path is serial: even a bot costing nothing beyond the echo bot's round trip "
              f"({1000 / echo:.2f} ms) plus the search ({1000 / search:.2f} ms) would answer {bound:.1f} q/s = "
              f"{bound / ceiling:.2f} x min(echo, search); the bot answered {one['uncapped']['per_second']:.1f} "
              f"q/s with the cap lifted ({one['uncapped']['per_second'] / bound:.2f} of that bound).")
    if soaked is not None:
        w, end = soaked["warm"], soaked["end"]
        growth = (end["rss"] - w["rss"]) / w["rss"] * 100
        fds_ok = end["fds"] <= w["fds"]
        conns_ok = end["checkedout"] == 0 and end["conns"] <= max(w["conns"], 5) and (
            "pg" not in end or end["pg"] <= max(w["pg"], 5))
        verdicts = [("memory", growth < 10), ("fds", fds_ok), ("connections", conns_ok),
                    ("no error", soaked["errors"] == 0)]
        failed = [name for name, good in verdicts if not good]
        all_ok &= not failed
        pg = f"; pg_stat_activity {w['pg']} → {end['pg']}" if "pg" in end else ""
        print(f"\nSoak: {soaked['seconds']:.0f} s at {soaked['rate']:.1f} questions/s (half the 10-user throughput), "
              f"{soaked['questions']} questions, p50 {soaked['p50']:.0f} ms, p99 {soaked['p99']:.0f} ms, "
              f"{soaked['errors']} errors\n")
        print("| | after warm-up ({:.0f} s) | end | floor | |".format(w["t"]))
        print("|---|---|---|---|---|")
        print(f"| resident memory MB | {w['rss']:.1f} | {end['rss']:.1f} (peak {soaked['peak_rss']:.1f}) | "
              f"growth < 10% | {growth:+.1f}% {'PASS' if growth < 10 else 'FAIL'} |")
        print(f"| open file descriptors | {w['fds']} | {end['fds']} | no more than after warm-up | "
              f"{'PASS' if fds_ok else 'FAIL'} |")
        print(f"| database connections (pool: open, in use) | {w['conns']}, {w['checkedout']} | "
              f"{end['conns']}, {end['checkedout']}{pg} | none in use at the end, pool not growing | "
              f"{'PASS' if conns_ok else 'FAIL'} |")
        print(f"\nSoak: {'PASS' if not failed else 'FAIL: ' + ', '.join(failed)}")
    print(f"\nFloors: {'all PASS' if all_ok else 'FAIL'}")
    return all_ok


if __name__ == "__main__":
    main()
