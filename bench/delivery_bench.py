"""Delivery benchmark: the outbox worker against the fake Bot API, figures measured at the server.

Run:  .venv/bin/python bench/delivery_bench.py            (about 3 minutes; prints a Markdown table)
      .venv/bin/python bench/delivery_bench.py --full     (the rate run sends all 10,000: ~7 minutes)
      options: --only rate|throughput, --postgres URL (default $TEST_POSTGRES_URL or the local server)

(a) rate: a 10,000-message broadcast at the default limit of 25/s, stopped after 60 s worth of
    messages (1,500): the achieved rate as a share of the limit (floor 0.95) and the busiest
    one-second window at the server (sliding; must not exceed the limit). On SQLite with one
    worker, and on PostgreSQL with two workers sharing the rate table.
(b) throughput: no rate limit, 10,000 messages end to end: one worker on SQLite (floor 500/s),
    and 1, 2 and 4 worker processes on PostgreSQL.

The fake Bot API server runs in a process of its own (so it does not take the worker's event
loop), and so does every worker, with its own engine and connection pool, as `umkm-bot worker`
processes would. Each recipient is a different chat, as in a broadcast. Default [delivery]
settings (batch 50, 16 requests in flight) unless stated.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.pg_schema import create_schema, drop_schema  # noqa: E402

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TOKEN = "123456789:AAHfakeTokenForEndToEndTests-abcdefghijk"
BROADCAST = 10_000
RATE = 25.0
RATE_SECONDS = 60


# -- the fake Bot API in its own process ---------------------------------------------------------


def serve() -> None:
    """Run the fake server; one JSON line per command on stdin: stats, reset, quit."""
    from tests.e2e.fake_bot_api import FakeBotApi

    async def main() -> None:
        api = FakeBotApi(token=TOKEN)
        await api.start()
        print(json.dumps({"port": api.port}), flush=True)
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        while line := (await reader.readline()).decode().strip():
            if line == "stats":
                calls = [
                    (c.arrived_at, c.params.get("chat_id"), c.ok) for c in api.calls if c.method == "sendMessage"
                ]
                print(json.dumps({"calls": calls}), flush=True)
            elif line == "count":
                print(json.dumps({"ok": sum(1 for c in api.calls if c.ok and c.method == "sendMessage")}), flush=True)
            elif line == "reset":
                api.calls.clear()
                api._messages.clear()  # noqa: SLF001 - keep the server's memory flat between runs
                api._message_source.clear()  # noqa: SLF001
                print(json.dumps({"ok": True}), flush=True)
            else:
                break
        await api.stop()

    asyncio.run(main())


class Server:
    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT
        )
        self.port = self._ask(None)["port"]
        self.base_url = f"http://127.0.0.1:{self.port}/bot"

    def _ask(self, command: str | None) -> dict[str, Any]:
        assert self.proc.stdin and self.proc.stdout
        if command:
            self.proc.stdin.write(command + "\n")
            self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def stats(self) -> list[tuple[float, int, bool]]:
        return [tuple(c) for c in self._ask("stats")["calls"]]  # type: ignore[misc]

    def count(self) -> int:
        return int(self._ask("count")["ok"])

    def reset(self) -> None:
        self._ask("reset")

    def close(self) -> None:
        assert self.proc.stdin
        self.proc.stdin.write("quit\n")
        self.proc.stdin.flush()
        self.proc.wait(timeout=10)


# -- a worker process --------------------------------------------------------------------------


def work(args: argparse.Namespace) -> None:
    """One worker: drain (throughput) or run until SIGTERM (rate); prints its figures as JSON."""
    import logging

    from bot.config import Settings
    from bot.delivery import DeliveryWorker, rate_gate, telegram_sender, unlimited_gate
    from bot.storage import Database

    logging.basicConfig(level=logging.WARNING)

    async def main() -> dict[str, Any]:
        settings = Settings()
        settings.telegram.base_url = args.base_url
        if args.rate:
            settings.delivery.global_rate = args.rate
        for pair in args.set:
            name, value = pair.split("=", 1)
            setattr(settings.delivery, name, type(getattr(settings.delivery, name))(value))
        database = Database(args.url)
        sender = telegram_sender(settings, TOKEN)
        gate = rate_gate(settings, database) if args.rate else unlimited_gate()
        worker = DeliveryWorker(database, sender, settings.delivery, gate=gate)
        left: list[float] = []  # when each request left the worker, to tell its jitter from the server's
        send = sender.send

        async def timed_send(message):  # type: ignore[no-untyped-def]
            left.append(time.monotonic())
            return await send(message)

        sender.send = timed_send  # type: ignore[method-assign]
        await sender.start()
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        print(json.dumps({"ready": True}), flush=True)
        started = time.monotonic()
        cpu_before = time.process_time()
        try:
            if args.rate:
                await worker.run(stop)
            else:
                await worker.drain(600)
        finally:
            ended = time.monotonic()
            await sender.close()
            gate.close()
            worker.close()
            database.dispose()
        return {
            "started": started,
            "ended": ended,
            "cpu": time.process_time() - cpu_before,  # this process, all threads, startup excluded
            "left": left if args.rate else [],
            **worker.stats.as_dict(),
        }

    print(json.dumps(asyncio.run(main())), flush=True)


def start_workers(n: int, url: str, base_url: str, rate: float | None) -> list[subprocess.Popen[str]]:
    command = [sys.executable, __file__, "worker", "--url", url, "--base-url", base_url]
    if rate:
        command += ["--rate", str(rate)]
    procs = [subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=ROOT) for _ in range(n)]
    for proc in procs:  # wait until each has imported everything and is about to start
        assert proc.stdout
        json.loads(proc.stdout.readline())
    return procs


def finish(procs: list[subprocess.Popen[str]]) -> list[dict[str, Any]]:
    out = []
    for proc in procs:
        stdout, _ = proc.communicate(timeout=900)
        if proc.returncode != 0:
            raise SystemExit(f"a worker failed with exit code {proc.returncode}")
        out.append(json.loads(stdout.strip().splitlines()[-1]))
    return out


# -- databases ---------------------------------------------------------------------------------


def fresh_database(kind: str, pg_url: str, folder: Path) -> tuple[str, str | None]:
    """A migrated, empty database: (url, PostgreSQL schema to drop afterwards)."""

    from bot.storage.migrate import upgrade

    schema = None
    if kind == "sqlite":
        url = f"sqlite:///{folder / uuid.uuid4().hex / 'umkm.db'}"
    else:
        scoped, schema = create_schema(pg_url)
        url = scoped.render_as_string(hide_password=False)
    upgrade(url)
    return url, schema


def drop_database(schema: str | None, pg_url: str) -> None:
    if schema is not None:
        drop_schema(pg_url, schema)


def queue_broadcast(url: str, n: int) -> float:
    """n recipients (users) and one outbox row each, as a broadcast writes them; seconds taken."""
    from sqlalchemy import insert, select

    from bot.storage import Database
    from bot.storage.models import User
    from bot.storage.repos import OutboxRepository
    from bot.storage.types import utcnow

    database = Database(url)
    started = time.perf_counter()
    now = utcnow()
    with database.transaction() as session:
        session.execute(
            insert(User),
            [{"channel": "telegram", "external_id": str(10_000_000 + i), "created_at": now, "updated_at": now}
             for i in range(n)],
        )
        users = session.scalars(select(User).where(User.channel == "telegram").order_by(User.id)).all()
        outbox = OutboxRepository(session)
        for i, user in enumerate(users):
            outbox.enqueue(user, "broadcast", {"text": f"<b>Siaran</b> nomor {i}: pelatihan UMKM Sabtu ini."},
                           f"broadcast:1:{user.id}", subject_type="broadcast", subject_id=1)
    database.dispose()
    return time.perf_counter() - started


# -- the runs ----------------------------------------------------------------------------------


def busiest_window(times: list[float], width: float = 1.0) -> int:
    times = sorted(times)
    best = start = 0
    for end, t in enumerate(times):
        while times[start] <= t - width:
            start += 1
        best = max(best, end - start + 1)
    return best


def rate_run(server: Server, kind: str, workers: int, pg_url: str, folder: Path, total: int) -> dict[str, Any]:
    url, schema = fresh_database(kind, pg_url, folder)
    queue_broadcast(url, BROADCAST)
    server.reset()
    procs = start_workers(workers, url, server.base_url, RATE)
    while server.count() < total:
        time.sleep(0.2)
    for proc in procs:
        proc.send_signal(signal.SIGTERM)
    results = finish(procs)
    calls = sorted(server.stats())
    drop_database(schema, pg_url)
    times = [t for t, _, _ in calls][:total]
    left = sorted(t for r in results for t in r["left"])[:total]
    rate = (len(times) - 1) / (times[-1] - times[0])
    return {
        "run": f"(a) rate {RATE:g}/s",
        "db": kind,
        "workers": workers,
        "messages": len(times),
        "seconds": times[-1] - times[0],
        "per_second": rate,
        "note": f"ratio {rate / RATE:.3f} of the limit; busiest 1 s window {busiest_window(times)} at the server, "
        f"{busiest_window(left)} as the requests left the workers (limit {RATE:g})",
        "ok": rate / RATE >= 0.95 and busiest_window(times) <= RATE,
    }


def throughput_run(server: Server, kind: str, workers: int, pg_url: str, folder: Path) -> dict[str, Any]:
    url, schema = fresh_database(kind, pg_url, folder)
    queue_broadcast(url, BROADCAST)
    server.reset()
    procs = start_workers(workers, url, server.base_url, None)
    results = finish(procs)
    calls = server.stats()
    drop_database(schema, pg_url)
    sent = sum(r["sent"] for r in results)
    per_chat: dict[int, int] = {}
    for _, chat, ok in calls:
        if ok:
            per_chat[chat] = per_chat.get(chat, 0) + 1
    twice = sum(1 for n in per_chat.values() if n > 1)
    elapsed = max(r["ended"] for r in results) - min(r["started"] for r in results)
    rate = sent / elapsed
    floor = 500 if kind == "sqlite" else None
    return {
        "run": "(b) no limit",
        "db": kind,
        "workers": workers,
        "messages": sent,
        "seconds": elapsed,
        "per_second": rate,
        "note": f"received {len(per_chat)} chats, {twice} twice; worker CPU "
        f"{sum(r['cpu'] for r in results) / max(sent, 1) * 1000:.2f} ms/message"
        + (f"; floor {floor}/s" if floor else ""),
        "ok": sent == BROADCAST and twice == 0 and (floor is None or rate >= floor),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("serve")
    worker = sub.add_parser("worker")
    worker.add_argument("--url", required=True)
    worker.add_argument("--base-url", required=True)
    worker.add_argument("--rate", type=float)
    worker.add_argument("--set", action="append", default=[], help="a [delivery] setting: name=value")
    parser.add_argument("--full", action="store_true", help="the rate run sends all 10,000 messages")
    parser.add_argument("--only", choices=("rate", "throughput"))
    parser.add_argument("--postgres", default=os.environ.get("TEST_POSTGRES_URL", DEFAULT_PG))
    args = parser.parse_args()
    if args.command == "serve":
        serve()
        return
    if args.command == "worker":
        work(args)
        return

    rows = []
    server = Server()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            if args.only != "throughput":
                total = BROADCAST if args.full else int(RATE * RATE_SECONDS)
                rows.append(rate_run(server, "sqlite", 1, args.postgres, folder, total))
                rows.append(rate_run(server, "postgresql", 2, args.postgres, folder, total))
            if args.only != "rate":
                rows.append(throughput_run(server, "sqlite", 1, args.postgres, folder))
                for n in (1, 2, 4):
                    rows.append(throughput_run(server, "postgresql", n, args.postgres, folder))
    finally:
        server.close()

    print(f"\n`{shlex.join([Path(sys.executable).name, 'bench/delivery_bench.py', *sys.argv[1:]])}`"
          f" on {os.cpu_count()} cores\n")
    print("| run | database | workers | messages | seconds | msg/s | notes | ok |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['run']} | {r['db']} | {r['workers']} | {r['messages']:,} | {r['seconds']:.1f} | "
              f"{r['per_second']:.0f} | {r['note']} | {'yes' if r['ok'] else 'NO'} |")


if __name__ == "__main__":
    main()
