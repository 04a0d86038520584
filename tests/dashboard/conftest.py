"""Fixtures for the coach dashboard: the real Dashboard served over HTTP from a thread (so plain
clients and a real browser can talk to it), a world of two coaches of two institutions, their
cohorts and members made through the real conversation, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import re
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from aiohttp import web
from sqlalchemy import select

from bot.config import Settings
from bot.dashboard.auth import start_session
from bot.dashboard.server import COOKIE, Dashboard
from bot.storage import Database, HandoffThread, Repositories
from tests.coaching.conftest import (  # noqa: F401 - fixtures used here
    Clock,
    clock,
    coaching_settings,
    consented,
    join,
    make_coach,
    make_cohort,
    talk,
)
from tests.core.conftest import Chat
from tests.dashboard.browser import browser  # noqa: F401 - the session's Chromium

BOT_TOKEN = "123456789:AAHdashboardTestToken-abcdefghijklmno"
LOGIN_CODE = re.compile(r"/dashboard/login\?code=([A-Za-z0-9_\-%]+)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerThread:
    """An aiohttp application served on 127.0.0.1 from its own thread and event loop."""

    def __init__(self, app: web.Application, port: int) -> None:
        self.app = app
        self.port = port
        self.loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="dashboard-test-server", daemon=True)
        self._runner: web.AppRunner | None = None

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self._runner = web.AppRunner(self.app)
        self.loop.run_until_complete(self._runner.setup())
        self.loop.run_until_complete(web.TCPSite(self._runner, "127.0.0.1", self.port).start())
        self._ready.set()
        self.loop.run_forever()
        self.loop.run_until_complete(self._runner.cleanup())
        self.loop.close()

    def start(self) -> ServerThread:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("dashboard test server did not start")
        return self

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@pytest.fixture
def dashboard_settings(coaching_settings: Settings) -> Settings:  # noqa: F811
    port = free_port()
    coaching_settings.dashboard.enabled = True
    coaching_settings.dashboard.public_url = f"http://127.0.0.1:{port}"
    return coaching_settings


@pytest.fixture
def server(dashboard_settings: Settings, database: Database, clock: Clock) -> Iterator[ServerThread]:  # noqa: F811
    """The dashboard on the test's database and clock, at the settings' public_url."""
    port = int(dashboard_settings.dashboard.public_url.rsplit(":", 1)[1])
    dashboard = Dashboard(dashboard_settings, database, BOT_TOKEN, now=clock)
    thread = ServerThread(dashboard.application(), port).start()
    yield thread
    thread.stop()


@dataclass
class World:
    """Coach Rina (Dinas Koperasi Gresik) with cohort "Sentra Batik" (members Siti, who asked a
    question, and Joko); coach Budi (Koperasi Maju) with his own cohort and member Wati."""

    rina: Chat
    budi: Chat
    siti: Chat
    joko: Chat
    wati: Chat
    database: Database
    ids: dict[str, int]


@pytest.fixture
def world(talk, dashboard_settings: Settings) -> World:  # type: ignore[no-untyped-def]  # noqa: F811
    rina = make_coach(talk, "rina")
    payload = make_cohort(rina, "Sentra Batik")
    siti = join(talk, "siti", payload)
    siti.say("/catat omzet 2,5jt")
    siti.say("/tanya_pendamping harga jual batik tulis berapa")
    siti.press("Kirim ke Rina")
    joko = join(talk, "joko", payload)
    budi = make_coach(talk, "budi", institution="Koperasi Maju")
    wati = join(talk, "wati", make_cohort(budi, "KUB Tenun"))
    database: Database = rina.conversation.database
    with database.transaction() as session:
        repos = Repositories(session)
        thread = session.scalars(select(HandoffThread)).one()
        cohorts = {c.name: c.id for c in repos.cohorts.for_coach(None)}
        ids = {
            "rina_cohort": cohorts["Sentra Batik"],
            "budi_cohort": cohorts["KUB Tenun"],
            "thread": thread.id,
            "siti": thread.user_id,
            "joko": repos.users.get("terminal", "joko").id,
            "wati": repos.users.get("terminal", "wati").id,
            "rina": repos.users.get("terminal", "rina").id,
            "budi": repos.users.get("terminal", "budi").id,
        }
    return World(rina, budi, siti, joko, wati, database, ids)


def login_code(chat: Chat) -> str:
    """/dasbor in the chat; the one-time code from the reply's login link."""
    replies = chat.say("/dasbor")
    links = [b.url for r in replies for row in r.buttons for b in row if b.url]
    found = LOGIN_CODE.search(" ".join([*(r.text for r in replies), *links]))
    assert found, f"no login link in {[r.text for r in replies]}"
    return found.group(1)


def client(server: ServerThread) -> httpx.Client:
    return httpx.Client(base_url=server.url, follow_redirects=False, timeout=20)


def signed_in(server: ServerThread, chat: Chat) -> httpx.Client:
    """A client with a session started through /dasbor's login link, as a coach does."""
    http = client(server)
    response = http.post("/dashboard/login", data={"code": login_code(chat)})
    assert response.status_code == 303, response.text
    assert COOKIE in http.cookies
    return http


def session_for_user(server: ServerThread, database: Database, user_id: int, clock: Clock) -> httpx.Client:  # noqa: F811
    """A client holding a session for any user (e.g. an entrepreneur, who cannot get one)."""
    with database.transaction() as session:
        token, _ = start_session(Repositories(session), user_id, clock(), 1)
    http = client(server)
    http.cookies.set(COOKIE, token, domain="127.0.0.1", path="/dashboard")
    return http


def csrf_of(http: httpx.Client, path: str = "/dashboard/") -> str:
    page = http.get(path)
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found, page.text[:500]
    return found.group(1)


def count(database: Database, model: Any, *where: Any) -> int:
    from sqlalchemy import func

    with database.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


Factory = Callable[..., Any]


def make_event(world: World, clock: Clock, quota: int | None = 1) -> int:  # noqa: F811
    """An event in Rina's cohort made with the engagement rules; Siti takes the one place, Joko
    waits. Returns the event id."""
    from datetime import timedelta

    from bot.coaching import events
    from bot.coaching.audience import Audience
    from bot.coaching.quiet_hours import QuietHours

    now = clock()
    with world.database.transaction() as session:
        repos = Repositories(session)
        cohort = repos.cohorts.by_id(world.ids["rina_cohort"])
        event, _ = events.create_event(
            repos, cohort, cohort.coach_id, title="Pelatihan foto produk", starts_at=now + timedelta(days=7),
            ends_at=now + timedelta(days=7, hours=3), rsvp_closes_at=now + timedelta(days=6), audience=Audience(),
            now=now, quiet=QuietHours("21:00", "06:00"), place="Balai Desa", quota=quota,
        )  # fmt: skip
        for name in ("siti", "joko"):
            events.answer_rsvp(repos, event.id, repos.users.by_id(world.ids[name]), "yes", now)
        return event.id


def make_reminder(world: World, clock: Clock) -> int:  # noqa: F811
    """A daily reminder in Rina's cohort, made with the engagement rules; its id."""
    from datetime import datetime

    from bot.coaching.audience import Audience
    from bot.coaching.recurrence import Schedule, daily
    from bot.coaching.reminders import create_reminder

    with world.database.transaction() as session:
        repos = Repositories(session)
        cohort = repos.cohorts.by_id(world.ids["rina_cohort"])
        reminder = create_reminder(
            repos, cohort, cohort.coach_id, "Jangan lupa catat omzet, {{ nama }}!",
            Schedule(datetime(2026, 12, 1, 9, 0), "Asia/Jakarta", daily()), Audience(), clock(),
        )  # fmt: skip
        return reminder.id
