"""Fixtures for end-to-end tests against the fake Telegram Bot API (see fake_bot_api.py)."""

from __future__ import annotations

import asyncio
import datetime as dt
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from telegram.ext import Application

from bot.config import Settings
from bot.core import Conversation
from bot.delivery import telegram_sender
from bot.delivery.service import BackgroundDelivery
from bot.storage import Database
from bot.storage.migrate import upgrade
from bot.telegram.app import build_application
from bot.telegram.polling import HandledUpdates, serve_polling
from index import load_index, load_knowledge
from index.entries import Entry, Source
from index.store import build_index
from tests.e2e.fake_bot_api import DEFAULT_TOKEN, FakeBotApi, FakeUser
from tests.fixture_knowledge import write_knowledge


@pytest.fixture
def bot_token() -> str:
    return DEFAULT_TOKEN


@pytest.fixture
async def fake_api(bot_token: str) -> AsyncIterator[FakeBotApi]:
    """A started fake Bot API server; stopped after the test."""
    async with FakeBotApi(token=bot_token) as api:
        yield api


@pytest.fixture
def fake_user() -> FakeUser:
    return FakeUser(id=424242, first_name="Siti", last_name="Aminah", username="siti_warung")


LONG_ID = "panduan-panjang-ekspor"


def build_long_index(root: Path, embedder):  # type: ignore[no-untyped-def]
    """The fixture knowledge plus one entry whose answer card is over 6,000 characters, built and
    loaded under `root`."""
    entries = load_knowledge(write_knowledge(root / "knowledge"))
    long_entry = Entry(
        id=LONG_ID, title="Panduan panjang dokumen ekspor kerajinan", title_en="Long export guide",
        topic="market", tags=("ekspor",), questions=("panduan panjang dokumen ekspor kerajinan",) * 6,
        questions_en=("export guide", "export documents"), related=(),
        sources=(Source(name="Kemendag", url="https://kemendag.go.id"),), updated=dt.date(2026, 11, 1),
        summary="Ringkasan dokumen ekspor.",
        steps=tuple(f"Langkah ekspor nomor {n}: " + "siapkan dokumen dengan teliti " * 8 for n in range(25)),
        help="Dinas Perdagangan.", body="", path="market/long.md",
    )
    build_index(root / "knowledge", root / "index", embedder, entries=[*entries, long_entry])
    return load_index(root / "index", embedder)


@pytest.fixture(scope="module")
def long_index(tmp_path_factory, embedder):  # type: ignore[no-untyped-def]  # noqa: F811
    """The fixture knowledge plus one entry whose answer card is over 6,000 characters."""
    return build_long_index(tmp_path_factory.mktemp("long"), embedder)


@pytest.fixture
def settings(tmp_path: Path, fake_api: FakeBotApi) -> Settings:
    settings = Settings()
    settings.data.dir = tmp_path / "var"
    settings.data.dir.mkdir()
    settings.telegram.base_url = fake_api.base_url
    settings.telegram.base_file_url = fake_api.base_file_url
    return settings


@pytest.fixture
def conversation(settings: Settings, long_index) -> Conversation:  # type: ignore[no-untyped-def]
    upgrade(settings.database_url)
    database = Database(settings.database_url)
    yield Conversation(settings, long_index, database)
    database.dispose()


_POLLING: weakref.WeakKeyDictionary[Application, asyncio.Task[None]] = weakref.WeakKeyDictionary()


def still_polling(application: Application) -> bool:
    """True while the Application runs and its polling loop (started by polling_bot) has not ended."""
    serving = _POLLING.get(application)
    return bool(application.running and serving is not None and not serving.done())


@asynccontextmanager
async def polling_bot(
    settings: Settings, conversation: Conversation, api: FakeBotApi, *, delivery: bool = False
) -> AsyncIterator[Application]:
    """The real Application from build_application, polling the fake server with the loop
    `umkm-bot run` uses (bot/telegram/polling.py); with `delivery`, the real outbox worker and
    scheduler run inside it as in `umkm-bot run`. Yields the Application (to check that it is
    still running)."""
    background = None
    if delivery:
        background = BackgroundDelivery(settings, conversation.database, telegram_sender(settings, api.token))
    handled = HandledUpdates()
    application = build_application(settings, conversation, api.token, background, handled)
    stop = asyncio.Event()
    # Every kind of update, not only ALLOWED_UPDATES: tests send edits, channel posts and the like
    # to check the handlers ignore what Telegram would only send if asked.
    serving = asyncio.create_task(serve_polling(application, handled, stop, timeout=1))
    _POLLING[application] = serving
    while not application.running and not serving.done():
        await asyncio.sleep(0.01)
    try:
        if serving.done():
            serving.result()  # what kept it from starting
        yield application
    finally:
        stop.set()
        await serving


@pytest.fixture
async def running_bot(settings: Settings, conversation: Conversation, fake_api: FakeBotApi) -> AsyncIterator[None]:
    async with polling_bot(settings, conversation, fake_api):
        yield


async def next_text(api: FakeBotApi, user: FakeUser, fragment: str) -> dict:  # type: ignore[type-arg]
    """Wait for the bot to send a message containing `fragment`; its parameters."""
    calls = await api.wait_for("sendMessage", lambda c: fragment in str(c.params.get("text", "")), timeout=30)
    return calls[-1].params
