"""Fixtures for the fault, hostile-input and security tests: the real Application (polling, with
the real in-process delivery worker) against the fake Bot API, on SQLite and PostgreSQL; a log
book that keeps every record of a run; helpers to talk and to count rows.

Only Telegram's servers are fake (tests/e2e/fake_bot_api.py); the bot, its core, its database
and its worker are the real ones.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.config import Settings
from bot.core import Conversation
from bot.storage import Base, Database
from bot.storage.migrate import upgrade
from bot.telegram.app import silence_token_logging
from index import SearchIndex
from tests.e2e.conftest import bot_token, build_long_index, fake_api  # noqa: F401 - fixtures used here
from tests.e2e.fake_bot_api import Call, FakeBotApi, FakeUser

# For tests where the database plays no part in the fault: run them on SQLite only, to keep the
# whole set fast (the database-facing ones run on both).
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture(scope="session")
def faults_index(tmp_path_factory: pytest.TempPathFactory, embedder) -> SearchIndex:  # type: ignore[no-untyped-def]
    """The fixture knowledge plus a long entry (a many-part answer), built once for the session."""
    return build_long_index(tmp_path_factory.mktemp("faults"), embedder)


@pytest.fixture
def settings(tmp_path: Path, fake_api: FakeBotApi, database_url: str) -> Settings:  # noqa: F811
    """Settings on the parametrised database, with short timeouts and retries so that a fault
    and its recovery fit in a second or two."""
    settings = Settings()
    settings.data.dir = tmp_path / "var"
    settings.data.dir.mkdir()
    settings.database.url = database_url
    settings.telegram.base_url = fake_api.base_url
    settings.telegram.base_file_url = fake_api.base_file_url
    settings.telegram.connect_timeout = 2.0
    settings.telegram.read_timeout = 2.0  # a slow reply test waits longer than this
    settings.delivery.backoff_base = 0.2
    settings.delivery.backoff_max = 1.0
    settings.delivery.poll_interval = 0.2
    settings.delivery.per_chat_interval = 0.1
    settings.delivery.read_timeout = 3.0
    return settings


@pytest.fixture
def conversation(settings: Settings, faults_index: SearchIndex) -> Iterator[Conversation]:
    upgrade(settings.database_url)
    database = Database(settings.database_url)
    yield Conversation(settings, faults_index, database)
    database.dispose()


class LogBook(logging.Handler):
    """Every log record of the run, formatted as a log file would hold it (tracebacks too)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        self.records: list[logging.LogRecord] = []
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        self.lines.append(self.format(record))

    def text(self, level: int = logging.DEBUG) -> str:
        """Everything logged at `level` or above, one record after the other."""
        return "\n".join(line for record, line in zip(self.records, self.lines, strict=True) if record.levelno >= level)

    def matching(self, fragment: str, level: int = logging.DEBUG) -> list[str]:
        return [line for r, line in zip(self.records, self.lines, strict=True) if r.levelno >= level and fragment in line]


@pytest.fixture
def logbook() -> Iterator[LogBook]:
    """Logging as `umkm-bot run` sets it up (token-bearing loggers silenced), with the root
    logger open down to DEBUG so that nothing else escapes the book."""
    silence_token_logging()
    book = LogBook()
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.DEBUG)
    root.addHandler(book)
    try:
        yield book
    finally:
        root.removeHandler(book)
        root.setLevel(level)


# -- talking ---------------------------------------------------------------------------------


def buttons(params: dict[str, Any]) -> dict[str, str]:
    """label -> callback data of a sent message's inline keyboard."""
    markup = params.get("reply_markup") or {}
    return {b["text"]: b.get("callback_data", "") for row in markup.get("inline_keyboard", []) for b in row}


def texts_to(api: FakeBotApi, chat_id: int) -> list[str]:
    """Every text and caption the chat received (successful calls), in order."""
    return api.sent_texts(chat_id)


async def sent_to(api: FakeBotApi, chat_id: int, fragment: str, *, timeout: float = 30, count: int = 1) -> list[Call]:
    """Wait until `chat_id` received `count` messages containing `fragment` (successful calls)."""
    return await api.wait_for(
        "sendMessage",
        lambda c: c.ok and c.params.get("chat_id") == chat_id and fragment in str(c.params.get("text", "")),
        timeout=timeout,
        count=count,
    )


async def consent(api: FakeBotApi, user: FakeUser) -> None:
    """The user starts the bot and agrees; onboarding is left for later."""
    api.queue_text(user, "/start")
    [notice] = await sent_to(api, user.id, "UU PDP")
    api.queue_callback(user, buttons(notice.params)["✅ Setuju"])
    await sent_to(api, user.id, "Siapa nama")
    api.queue_text(user, "/batal")
    await sent_to(api, user.id, "Dibatalkan")


async def eventually(check: Callable[[], bool], *, timeout: float = 15, what: str = "condition") -> None:
    """Wait until `check()` holds (a database row, a log line), polling every 50 ms."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.05)


# -- the database ----------------------------------------------------------------------------


def count(database: Database, model: Any, *where: Any) -> int:
    with database.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def row_counts(database: Database) -> dict[str, int]:
    """Rows per table, every table of the schema."""
    with database.transaction() as session:
        return {
            name: int(session.scalar(select(func.count()).select_from(table)) or 0)
            for name, table in Base.metadata.tables.items()
        }
