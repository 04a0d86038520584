"""Several processes on one PostgreSQL database, as in a deployment for many users: two real
`umkm-bot run` processes in webhook mode (`python -m bot.cli run`, one port each, the outbox left
to others) and two real `umkm-bot worker` processes, against the fake Bot API of this test.

Twenty users each go through consent, onboarding (name, sector, district, products), two figures
and a question, one step after the other, each step's update POSTed to the two webhooks in turn;
some updates go to both at once (Telegram retrying on another connection), some pairs arrive out
of order or at the same moment at both processes, some replies fail with a 502 (so they go to the
outbox), and each user gets a few messages queued in the outbox as a broadcast would queue them.
Every update is handled exactly once, no step of anyone's conversation is lost, and the two
workers send every outbox message once.

Also measured: each process's resident memory after the run (printed; see the README's
deployment section).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from bot.config import load_settings
from bot.search_service import build
from bot.storage import ConversationState, Database, Figure, OutboxMessage, ProcessedUpdate, Repositories, User
from bot.telegram.runner import SECRET_HEADER
from tests.e2e.fake_bot_api import FakeBotApi, FakeUser
from tests.fixture_knowledge import write_knowledge

pytestmark = [
    pytest.mark.slow,
    pytest.mark.postgres,
    pytest.mark.parametrize("database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True),
]

ROOT = Path(__file__).resolve().parents[2]  # the checkout whose code the processes run
SECRET = "several-processes-secret-5e2a"
USERS = 20
BROADCAST = 3  # outbox messages queued for each user
START_TIMEOUT = 180.0  # four processes starting at once on a loaded 2-core machine
STEP_TIMEOUT = 90.0


# -- the processes ------------------------------------------------------------------------------


@dataclass
class Process:
    """One `python -m bot.cli ...` child, its output in a file."""

    name: str
    args: list[str]
    env: dict[str, str]
    log: Path
    port: int | None = None
    popen: subprocess.Popen[bytes] | None = None

    def start(self) -> Process:
        with self.log.open("wb") as out:
            self.popen = subprocess.Popen(
                [sys.executable, "-m", "bot.cli", *self.args], cwd=ROOT, env=self.env, stdout=out,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        return self

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""

    def rss_mib(self) -> float:
        """Resident memory (VmRSS) in MiB."""
        assert self.popen is not None
        for line in Path(f"/proc/{self.popen.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise AssertionError(f"no VmRSS for {self.name}")

    def stop(self, timeout: float = 20.0) -> int | None:
        if self.popen is None:
            return None
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(10)
        return self.popen.returncode


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _config(root: Path, name: str, port: int) -> Path:
    """One process's config.toml: webhook mode on `port` (behind one public URL, as behind a reverse
    proxy), the outbox and the scheduler left to the `worker` processes, short delivery timings;
    the data and knowledge folders shared."""
    path = root / f"{name}.toml"
    path.write_text(
        f"""
[data]
dir = "var"
[knowledge]
dir = "knowledge"
[search]
auto_rebuild = false
[telegram]
mode = "webhook"
webhook_listen = "127.0.0.1"
webhook_port = {port}
webhook_path = "telegram"
webhook_public_url = "https://umkm.example.org"
connect_timeout = 5.0
read_timeout = 10.0
[delivery]
in_process = false
poll_interval = 0.2
per_chat_interval = 0.1
backoff_base = 0.2
backoff_max = 1.0
read_timeout = 10.0
[engagement]
in_process = false
scheduler_interval = 2.0
""",
        encoding="utf-8",
    )
    return path


def _env(api: FakeBotApi, database_url: str, application_name: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("UMKM_", "TELEGRAM_", "DATABASE_URL"))}
    url = make_url(database_url).update_query_dict({"application_name": application_name})
    env.update(
        TELEGRAM_BOT_TOKEN=api.token,
        TELEGRAM_BASE_URL=api.base_url,
        TELEGRAM_WEBHOOK_SECRET=SECRET,
        DATABASE_URL=url.render_as_string(hide_password=False),
        PYTHONUNBUFFERED="1",
    )
    return env


@dataclass
class Deployment:
    bots: list[Process]
    workers: list[Process]

    @property
    def all(self) -> list[Process]:
        return [*self.bots, *self.workers]

    def logs(self) -> str:
        return "\n".join(f"----- {p.name} -----\n{p.output()[-6000:]}" for p in self.all)


@pytest.fixture
def deployment(tmp_path: Path, fake_api: FakeBotApi, database_url: str, embedder) -> Iterator[Deployment]:  # type: ignore[no-untyped-def]
    """Two bots and two workers started together on the test's schema (each migrates at start-up:
    the advisory lock lets one do it), sharing one prebuilt index of the fixture knowledge."""
    write_knowledge(tmp_path / "knowledge")
    bots = []
    for n in (1, 2):
        port = _free_port()
        config = _config(tmp_path, f"bot-{n}", port)
        bots.append(Process(f"bot-{n}", ["-v", "--config", str(config), "run"],
                            _env(fake_api, database_url, f"umkm-bot-{n}"), tmp_path / f"bot-{n}.log", port))  # fmt: skip
    # The index the processes load, built here with the encoder the session has loaded already.
    build(load_settings(tmp_path / "bot-1.toml"), embedder, progress=False)
    workers = [
        Process(f"worker-{n}", ["-v", "--config", str(tmp_path / "bot-1.toml"), "worker"],
                _env(fake_api, database_url, f"umkm-worker-{n}"), tmp_path / f"worker-{n}.log")  # fmt: skip
        for n in (1, 2)
    ]
    running = Deployment(bots, workers)
    for process in running.all:
        process.start()
    try:
        yield running
    finally:
        codes = {p.name: p.stop() for p in running.all}
        print(f"exit codes: {codes}")


async def _wait_ready(running: Deployment) -> float:
    """Wait until both webhook servers answer /healthz; seconds it took."""
    started = time.monotonic()
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http:
        for bot in running.bots:
            while True:
                dead = [p.name for p in running.all if not p.alive()]
                assert not dead, f"{dead} exited during start-up:\n{running.logs()}"
                assert time.monotonic() - started < START_TIMEOUT, f"not ready:\n{running.logs()}"
                try:
                    async with http.get(f"http://127.0.0.1:{bot.port}/healthz") as response:
                        if response.status == 200 and (await response.json()) == {"ok": True}:
                            break
                except (aiohttp.ClientError, TimeoutError):
                    pass
                await asyncio.sleep(0.25)
    return time.monotonic() - started


# -- the users ----------------------------------------------------------------------------------


@dataclass
class Traffic:
    """What the test sent: every update id, and how many went to both bots."""

    api: FakeBotApi
    http: aiohttp.ClientSession
    ports: list[int]
    database: Database
    update_ids: set[int] = field(default_factory=set)
    duplicated: int = 0
    broadcast: dict[str, int] = field(default_factory=dict)

    async def post(self, update: dict[str, Any], port: int) -> None:
        self.update_ids.add(int(update["update_id"]))
        url = f"http://127.0.0.1:{port}/telegram"
        async with self.http.post(url, json=update, headers={SECRET_HEADER: SECRET}) as response:
            assert response.status == 200, await response.text()

    async def step(self, user: FakeUser, update: dict[str, Any], fragments: list[str], ports: list[int],
                   *, then: dict[str, Any] | None = None, then_port: int | None = None) -> None:  # fmt: skip
        """POST `update` to `ports` at once (two ports: a duplicate), optionally `then` right after
        to `then_port` without waiting, and wait until the chat received each of `fragments`."""
        mark = len(self.api.calls)
        if len(ports) > 1:
            self.duplicated += len(ports) - 1
        await asyncio.gather(*(self.post(update, port) for port in ports))
        if then is not None:
            assert then_port is not None
            await self.post(then, then_port)
        for fragment in fragments:
            await self.api.wait_for(
                "sendMessage",
                lambda c, f=fragment: c.ok and c.params.get("chat_id") == user.id and f in str(c.params.get("text")),
                timeout=STEP_TIMEOUT,
                since=mark,
            )

    def text(self, user: FakeUser, text: str) -> dict[str, Any]:
        return self.api.make_update_json("text", user, text=text)

    def queue_broadcast(self, user: FakeUser) -> None:
        """What a coach's broadcast does: outbox rows for this user, for the workers to send."""
        with self.database.transaction() as session:
            repos = Repositories(session)
            stored = repos.users.get("telegram", str(user.id))
            assert stored is not None
            for n in range(BROADCAST):
                body = f"Kabar {n + 1} untuk {user.first_name}"
                assert repos.outbox.enqueue(stored, "broadcast", {"text": body}, f"kabar:{user.id}:{n}") is not None
                self.broadcast[body] = user.id


def _user(n: int) -> FakeUser:
    return FakeUser(880_000 + n, f"Pengguna{n}")


def _expected(n: int) -> dict[str, Any]:
    return {"name": f"Ibu Nomor{n}", "sector": "food", "district": f"Kota{n}", "products": f"keripik rasa {n}",
            "omzet": (n + 1) * 1_000_000, "modal": (n + 20) * 1_000_000}  # fmt: skip


def _rupiah(value: int) -> str:
    return "Rp" + f"{value:,}".replace(",", ".")


async def _conversation(traffic: Traffic, n: int) -> None:
    """One user's whole conversation; step k goes to bot (n + k) % 2, some to both."""
    user, want, ports = _user(n), _expected(n), traffic.ports

    def bot(k: int) -> list[int]:
        return [ports[(n + k) % 2]]

    both = list(ports)
    api = traffic.api
    await traffic.step(user, traffic.text(user, "/start"), ["UU PDP"], both if n % 4 == 0 else bot(0))
    notice = next(c for c in reversed(api.calls_to("sendMessage"))
                  if c.ok and c.params.get("chat_id") == user.id and "UU PDP" in str(c.params.get("text")))  # fmt: skip
    agree = next(b["callback_data"] for row in notice.params["reply_markup"]["inline_keyboard"] for b in row
                 if "Setuju" in b["text"])  # fmt: skip
    consent = api.make_update_json("callback", user, data=agree, message=notice.result)
    await traffic.step(user, consent, ["Siapa nama Anda"], both if n % 4 == 1 else bot(1))
    await asyncio.to_thread(traffic.queue_broadcast, user)
    await traffic.step(user, traffic.text(user, want["name"]), ["bidang apa"], both if n % 2 == 0 else bot(2))
    await traffic.step(user, traffic.text(user, "makanan"), ["kota/kabupaten mana"], both if n % 2 == 1 else bot(3))
    if n % 5 == 0:  # the next reply to this chat fails: it goes to the outbox, a worker sends it
        api.fail_method("sendMessage", 502, "Bad Gateway", chat_id=user.id, times=1)
    await traffic.step(user, traffic.text(user, want["district"]), ["produk utama"], bot(4))
    await traffic.step(user, traffic.text(user, want["products"]), [f"Siap, {want['name']}"], both if n % 3 == 0 else bot(5))
    omzet = traffic.text(user, f"/catat omzet {want['omzet'] // 1_000_000}jt")
    modal = traffic.text(user, f"/catat modal {want['modal'] // 1_000_000}jt")
    saved = [f"tercatat: <b>{_rupiah(want['omzet'])}", f"tercatat: <b>{_rupiah(want['modal'])}"]
    if n % 2:  # out of order: the later update reaches one bot before the earlier one the other
        await traffic.step(user, modal, saved, bot(6), then=omzet, then_port=bot(7)[0])
    else:  # at the same moment, one at each bot: the user's row lock puts one after the other
        await traffic.step(user, omzet, saved, bot(6), then=modal, then_port=bot(7)[0])
    await traffic.step(user, traffic.text(user, "qris bayar gak"), ["Daftar QRIS"], both if n % 3 == 1 else bot(8))


# Each step's reply, which must reach the chat exactly once.
def _fragments(n: int) -> list[str]:
    want = _expected(n)
    return ["UU PDP", "Siapa nama Anda", "bidang apa", "kota/kabupaten mana", "produk utama", f"Siap, {want['name']}",
            f"tercatat: <b>{_rupiah(want['omzet'])}", f"tercatat: <b>{_rupiah(want['modal'])}", "Daftar QRIS"]  # fmt: skip


def _dump(api: FakeBotApi, running: Deployment) -> str:
    """Every Bot API call and every process's whole log, into a file next to the logs; its path."""
    path = running.bots[0].log.with_name("calls.txt")
    path.write_text(api.describe_calls(limit=100_000) + "\n" + "\n".join(
        f"----- {p.name} -----\n{p.output()}" for p in running.all), encoding="utf-8")  # fmt: skip
    return f"see {path}"


@pytest.fixture
async def traffic(fake_api: FakeBotApi, deployment: Deployment, database_url: str) -> AsyncIterator[Traffic]:
    database = Database(database_url)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
        yield Traffic(fake_api, http, [b.port for b in deployment.bots if b.port], database)
    database.dispose()


async def test_two_bots_and_two_workers_handle_each_update_once_and_send_each_message_once(fake_api: FakeBotApi, deployment: Deployment, traffic: Traffic) -> None:  # type: ignore[no-untyped-def]
    ready = await _wait_ready(deployment)
    await asyncio.sleep(1.0)  # the workers' first claims
    at_start = {p.name: round(p.rss_mib(), 1) for p in deployment.all}
    started = time.monotonic()
    results = await asyncio.gather(*(_conversation(traffic, n) for n in range(USERS)), return_exceptions=True)
    failed = [(n, r) for n, r in enumerate(results) if isinstance(r, BaseException)]
    assert not failed, f"{failed[:3]}\n{deployment.logs()}"
    # The workers drain the broadcast (and the replies the 502s left in the outbox).
    deadline = time.monotonic() + STEP_TIMEOUT
    while True:
        sent = [t for t in fake_api.sent_texts() if t.startswith("Kabar ")]
        if len(sent) >= len(traffic.broadcast) or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.2)
    await asyncio.sleep(1.5)  # time for a message sent twice to show up
    elapsed = time.monotonic() - started
    rss = {p.name: round(p.rss_mib(), 1) for p in deployment.all}
    print(f"\nready after {ready:.1f}s; {len(traffic.update_ids)} updates ({traffic.duplicated} duplicates) "
          f"and {len(traffic.broadcast)} broadcast messages in {elapsed:.1f}s; "
          f"RSS MiB when ready: {json.dumps(at_start)}, after the run: {json.dumps(rss)}")  # fmt: skip
    logs = deployment.logs()

    # Each bot registered the one public URL behind the proxy, with the secret.
    hooks = [c.params for c in fake_api.calls_to("setWebhook") if c.ok]
    assert [(h["url"], h["secret_token"]) for h in hooks] == [("https://umkm.example.org/telegram", SECRET)] * 2
    # Every update was handled, once: claimed once, each step's reply once, duplicates skipped.
    with traffic.database.transaction() as session:
        claimed = set(session.scalars(select(ProcessedUpdate.update_id)))
    assert claimed == traffic.update_ids
    skipped = sum(p.output().count("already handled; skipped") for p in deployment.bots)
    assert skipped == traffic.duplicated, logs
    for n in range(USERS):
        texts = fake_api.sent_texts(_user(n).id)
        for fragment in _fragments(n):
            assert sum(fragment in t for t in texts) == 1, (n, fragment, texts, _dump(fake_api, deployment))
    # Every conversation ended where it should: profile, figures, no dialogue left open.
    with traffic.database.transaction() as session:
        for n in range(USERS):
            want = _expected(n)
            user = session.scalars(select(User).where(User.external_id == str(_user(n).id))).one()
            assert user.consent_at is not None
            assert (user.name, user.sector, user.district, user.products) == (
                want["name"], want["sector"], want["district"], want["products"])  # fmt: skip
            figures = session.execute(select(Figure.kind, Figure.value, Figure.superseded_at)
                                      .where(Figure.user_id == user.id)).all()  # fmt: skip
            assert sorted((k, v) for k, v, _ in figures) == sorted([("modal", want["modal"]), ("omzet", want["omzet"])])
            assert all(s is None for _, _, s in figures)
            assert session.scalars(select(ConversationState).where(ConversationState.user_id == user.id)).all() == []
        outbox = session.execute(select(OutboxMessage.kind, OutboxMessage.state, OutboxMessage.chat_id)).all()
    # The two workers sent every outbox message once.
    sent = [t for t in fake_api.sent_texts() if t.startswith("Kabar ")]
    assert sorted(sent) == sorted(traffic.broadcast), logs
    assert {state for _, state, _ in outbox} == {"sent"}, outbox
    assert sum(kind == "broadcast" for kind, _, _ in outbox) == len(traffic.broadcast)
    # Replies refused with a 502 went this way (unless a worker's message took the 502 first).
    print(f"replies delivered through the outbox: {sum(kind == 'reply' for kind, _, _ in outbox)}")
    for process in deployment.all:
        assert process.alive(), f"{process.name} died:\n{process.output()[-4000:]}"
        assert "Traceback" not in process.output(), f"{process.name}:\n{process.output()[-6000:]}"
    # Stopped, each worker says what it did: together, every outbox row once.
    shares = {}
    for worker in deployment.workers:
        assert worker.stop() == 0, worker.output()[-4000:]
        [line] = [line for line in worker.output().splitlines() if "delivery worker" in line and "stopped:" in line]
        shares[worker.name] = json.loads(line.split("stopped: ", 1)[1])
    print(f"sent by each worker: { {name: stats['sent'] for name, stats in shares.items()} }")
    assert sum(stats["sent"] for stats in shares.values()) == len(outbox), shares
    assert not any(stats["uncertain"] or stats["failed"] for stats in shares.values()), shares
