"""Real `umkm-bot` processes against the fake Telegram Bot API, for tests that kill and restart.

    api = ApiThread().start()                      # FakeBotApi in a background event loop
    world = BotWorld(tmp_path, api, knowledge, index)  # a config.toml, a data folder, the index
    bot = world.start()                            # python -m bot.cli --config … run (polling)
    api.queue_text(user, "/start"); api.wait_text(user.id, "UU PDP")
    bot.kill()                                     # SIGKILL: no clean stop of any kind
    bot = world.start()                            # the same config and database, a new process
    build = world.spawn("build-index", "--quiet")  # any other command; build.wait() for its code
    ...
    world.stop_all(); api.stop()

`ApiThread` runs tests/e2e/fake_bot_api.FakeBotApi in an event loop of its own thread, so a
synchronous test can queue updates and wait for calls while subprocesses talk to it over HTTP.
To kill a process inside a request, delay that request at the fake server
(`api.call(api.api.delay_method, "sendMessage", 60, times=1)`) and wait until it has arrived
(`api.wait_delayed("sendMessage")`): no guessed sleeps.

A webhook process: pass `config={"telegram": {"mode": "webhook", "webhook_port": free_port(),
"webhook_public_url": "http://127.0.0.1:<port>"}}`; the fake server then POSTs queued updates to
it (with WEBHOOK_SECRET), retrying until a 2xx, as Telegram does.

`BotWorld` writes one config.toml (data folder, knowledge folder, short timeouts, the given
overrides) and starts `python -m bot.cli` subprocesses from the worktree the tests run in (never
the `umkm-bot` console script, which may belong to another checkout), with the fake server's URL
in TELEGRAM_BASE_URL, a token of their own, DATABASE_URL (SQLite in the data folder unless a
PostgreSQL URL is given, e.g. from the `database_url` fixture), and their output in a log file
per process (`BotProcess.output()`; `world.outputs()` is worth printing at teardown: pytest shows
it when the test failed).

The index is not built per process: `BotWorld` copies an index built once for the session
(tests/conftest.py `built_index`, the fixture knowledge with the default encoder) into the data
folder, and the config points at the same knowledge folder, so a start only loads it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

from tests.e2e.fake_bot_api import Call, FakeBotApi, FakeUser

__all__ = ["ApiThread", "BotProcess", "BotWorld", "ROOT", "WEBHOOK_SECRET", "free_port", "toml", "wait_until"]

T = TypeVar("T")
ROOT = Path(__file__).resolve().parent.parent  # the checkout whose code the processes run
# Not the e2e token: a process that reached a real Telegram by mistake would be refused.
PROCESS_TOKEN = "987654321:AAProcessTestTokenForCrashRestart-xyz"
WEBHOOK_SECRET = "process-test-webhook-secret"
# Environment a test process may have that must not leak into a bot process.
_SCRUB = ("DATABASE_URL", "TELEGRAM_BOT_TOKEN", "TELEGRAM_BASE_URL", "TELEGRAM_WEBHOOK_SECRET", "UMKM_DATA_DIR",
          "UMKM_ADMIN_TELEGRAM_IDS", "TELEGRAM_BOT_USERNAME")


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now (for a webhook process to listen on)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until(check: Callable[[], T], *, timeout: float = 30, what: str = "condition", every: float = 0.05) -> T:
    """Poll `check()` until it returns something truthy; return it. AssertionError on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(every)


class ApiThread:
    """A FakeBotApi served from a background thread's event loop. Every method is safe to call
    from the test's thread; `call(fn)` runs any function on the server's loop."""

    def __init__(self, token: str = PROCESS_TOKEN, **options: Any) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="fake-bot-api", daemon=True)
        self.api = FakeBotApi(token=token, **options)

    def start(self) -> ApiThread:
        self._thread.start()
        self.run(self.api.start())
        return self

    def stop(self) -> None:
        try:
            self.run(self.api.stop(), timeout=10)
            self.run(self._cancel_the_rest(), timeout=10)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(10)

    async def _cancel_the_rest(self) -> None:
        """Requests still delayed when the test ends (their client was killed)."""
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float = 120) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        async def invoke() -> T:
            return fn(*args, **kwargs)

        return self.run(invoke())

    @property
    def token(self) -> str:
        return self.api.token

    @property
    def base_url(self) -> str:
        return self.api.base_url

    # -- the usual moves ---------------------------------------------------------------------

    def queue_text(self, user: FakeUser, text: str) -> int:
        return self.call(self.api.queue_text, user, text)

    def queue_callback(self, user: FakeUser, data: str) -> int:
        return self.call(self.api.queue_callback, user, data)

    def calls(self) -> list[Call]:
        return self.call(lambda: list(self.api.calls))

    def mark(self) -> int:
        """How many calls so far: pass as `since` to wait for what comes next."""
        return self.call(lambda: len(self.api.calls))

    def wait_for(self, method: str, predicate: Callable[[Call], bool] | None = None, *, timeout: float = 60,
                 count: int = 1, since: int = 0) -> list[Call]:
        return self.run(self.api.wait_for(method, predicate, timeout, count, since=since), timeout + 10)

    def wait_text(self, chat_id: int, fragment: str, *, timeout: float = 60, count: int = 1, since: int = 0) -> list[Call]:
        """Wait until `chat_id` received `count` messages containing `fragment` (successful calls)."""
        return self.wait_for(
            "sendMessage",
            lambda c: c.ok and c.params.get("chat_id") == chat_id and fragment in str(c.params.get("text", "")),
            timeout=timeout, count=count, since=since,
        )  # fmt: skip

    def wait_delayed(self, method: str, *, count: int = 1, timeout: float = 60) -> None:
        """Wait until `count` requests of `method` held back by `api.delay_method` have arrived
        (the process is then inside that request: a good moment to kill it)."""
        wait_until(lambda: self.call(lambda: sum(c.method == method for c in self.api.delayed)) >= count,
                   timeout=timeout, what=f"a delayed {method} request")

    def texts_to(self, chat_id: int) -> list[str]:
        return self.call(self.api.sent_texts, chat_id)

    def received_per_chat(self) -> dict[int, int]:
        return self.call(self.api.received_per_chat)

    def pending_update_ids(self) -> list[int]:
        """Updates Telegram still holds (not confirmed by an offset past them)."""
        return [int(u["update_id"]) for u in self.call(lambda: self.api.pending_updates)]


def toml(data: dict[str, dict[str, Any]]) -> str:
    """The config sections as TOML (strings, numbers, booleans and lists of them)."""

    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int | float):
            return repr(v)
        if isinstance(v, list | tuple):
            return "[" + ", ".join(value(x) for x in v) + "]"
        text = str(v).replace("\\", "\\\\").replace('"', '\\"')
        return f'"{text}"'

    lines: list[str] = []
    for section, values in data.items():
        lines.append(f"[{section}]")
        lines += [f"{key} = {value(v)}" for key, v in values.items()]
        lines.append("")
    return "\n".join(lines)


class BotProcess:
    """One `python -m bot.cli` subprocess (or a test's wrapper of it); its stdout and stderr go
    to `log_path`."""

    def __init__(self, args: list[str], env: dict[str, str], log_path: Path, *, module: str = "bot.cli") -> None:
        self.args = args
        self.log_path = log_path
        self._log = log_path.open("ab")
        self.started_at = time.monotonic()
        self.popen = subprocess.Popen(
            [sys.executable, "-m", module, *args], cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT
        )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def output(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def kill(self) -> None:
        """SIGKILL, then reap it (a zombie would still look alive to a lease check)."""
        if self.alive():
            os.kill(self.popen.pid, signal.SIGKILL)
        self.popen.wait(30)
        self._log.close()

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM (a clean stop) and wait; the exit code."""
        if self.alive():
            self.popen.send_signal(signal.SIGTERM)
        try:
            return self.popen.wait(timeout)
        finally:
            if self.alive():
                self.popen.kill()
                self.popen.wait(10)
            self._log.close()

    def wait(self, timeout: float = 120) -> int:
        try:
            return self.popen.wait(timeout)
        finally:
            self._log.close()


class BotWorld:
    """A data folder, a config.toml and the processes started on them (see the module doc)."""

    def __init__(
        self,
        root: Path,
        api: ApiThread,
        knowledge: Path,
        index: Path | None,
        *,
        database_url: str | None = None,
        config: dict[str, dict[str, Any]] | None = None,
    ) -> None:
        self.root = root
        self.api = api
        self.data_dir = root / "var"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if index is not None:
            # As `build-index` leaves it: var/index a link to a versioned folder beside it.
            version = self.data_dir / ".index-v-fixture"
            shutil.copytree(index.resolve(), version)
            (self.data_dir / "index").symlink_to(version.name)
        self.database_url = database_url or f"sqlite:///{self.data_dir / 'umkm.db'}"
        sections: dict[str, dict[str, Any]] = {
            "data": {"dir": str(self.data_dir)},
            # No evaluation file: the copied index was trained without one.
            "knowledge": {"dir": str(knowledge), "eval_file": str(root / "no-eval.yaml")},
            "search": {"auto_rebuild": False},
            # "typing…" before a text is handled: tests hold a handling on its delayed request.
            "telegram": {"connect_timeout": 3.0, "read_timeout": 5.0, "typing_after": 0},
            "delivery": {"backoff_base": 0.2, "backoff_max": 1.0, "poll_interval": 0.2, "per_chat_interval": 0.0,
                         "claim_seconds": 3.0, "read_timeout": 10.0},
            # No quiet hours: a test must not depend on the time of day it runs at.
            "engagement": {"scheduler_interval": 0.5, "scheduler_lease_seconds": 30.0, "quiet_start": "00:00",
                           "quiet_end": "00:00"},
        }  # fmt: skip
        for section, values in (config or {}).items():
            sections.setdefault(section, {}).update(values)
        self.webhook = sections.get("telegram", {}).get("mode") == "webhook"
        self.config = root / "config.toml"
        self.config.write_text(toml(sections), encoding="utf-8")
        self.processes: list[BotProcess] = []

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in _SCRUB}
        env.update(
            TELEGRAM_WEBHOOK_SECRET=WEBHOOK_SECRET,
            TELEGRAM_BOT_TOKEN=self.api.token,
            TELEGRAM_BASE_URL=self.api.base_url,
            DATABASE_URL=self.database_url,
            PYTHONUNBUFFERED="1",
            PTB_TIMEDELTA="1",
        )
        env.update(extra)
        return env

    def spawn(self, *args: str, env: dict[str, str] | None = None, module: str = "bot.cli",
              before: tuple[str, ...] = ()) -> BotProcess:
        """`python -m <module> <before> --config <config> -v <args>`, not waited for; `module`
        is bot.cli (umkm-bot) unless a test wraps it (tests/pausing_cli.py)."""
        log = self.root / f"process-{len(self.processes) + 1}-{args[0]}.log"
        process = BotProcess([*before, "--config", str(self.config), "-v", *args], env or self.env(), log,
                             module=module)
        self.processes.append(process)
        return process

    def start(self, timeout: float = 120) -> BotProcess:
        """`run`, returned once it polls the fake server, or in webhook mode (`[telegram] mode =
        "webhook"` in the config) once it has set its webhook: the index is loaded, the delivery
        worker and scheduler started."""
        since = self.api.mark()
        process = self.spawn("run")
        ready = "setWebhook" if self.webhook else "getUpdates"

        def serving() -> bool:
            if not process.alive():
                raise AssertionError(f"the bot exited with {process.popen.returncode}:\n{process.output()}")
            return any(c.method == ready for c in self.api.calls()[since:])

        try:
            wait_until(serving, timeout=timeout, what=f"the bot's first {ready}", every=0.1)
        except AssertionError:
            process.kill()
            raise
        return process

    def stop_all(self) -> None:
        for process in self.processes:
            if process.alive():
                with contextlib.suppress(Exception):
                    process.kill()

    def outputs(self) -> str:
        """Every process's output, for a failing test's report."""
        return "\n".join(f"--- {p.log_path.name} (pid {p.pid})\n{p.output()}" for p in self.processes)
