"""Fixtures for the conversation core: real SQLite database, real (small) search index."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import Settings
from bot.core import Conversation, Incoming, Reply, UserRef
from bot.storage import Database
from bot.storage.migrate import upgrade
from index import SearchIndex


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    settings = Settings()
    settings.data.dir = tmp_path / "var"
    settings.data.dir.mkdir()
    return settings


@pytest.fixture
def core_database(settings: Settings) -> Database:
    upgrade(settings.database_url)
    database = Database(settings.database_url)
    yield database
    database.dispose()


@pytest.fixture
def conversation(settings: Settings, search_index: SearchIndex, core_database: Database) -> Conversation:  # noqa: F811
    return Conversation(settings, search_index, core_database)


class Chat:
    """A test user talking to the core: `say` text, `press` a button by label fragment."""

    def __init__(self, conversation: Conversation, user_id: str = "1001", language: str = "id") -> None:
        self.conversation = conversation
        self.user = UserRef("terminal", user_id, "Siti", language)
        self.last: list[Reply] = []

    def send(self, incoming: Incoming) -> list[Reply]:
        self.last = self.conversation.handle(incoming)
        return self.last

    def say(self, text: str) -> list[Reply]:
        if text.startswith("/"):
            command, _, args = text[1:].partition(" ")
            return self.send(Incoming(self.user, "command", command=command, args=args))
        return self.send(Incoming(self.user, "text", text=text))

    def press(self, fragment: str) -> list[Reply]:
        for reply in reversed(self.last):
            for row in reply.buttons:
                for button in row:
                    if fragment in button.label:
                        return self.send(Incoming(self.user, "button", data=button.data))
        labels = [b.label for r in self.last for row in r.buttons for b in row]
        raise AssertionError(f"no button with {fragment!r}; buttons: {labels}")

    def consent(self) -> None:
        self.say("/start")
        self.press("Setuju")
        self.say("/batal")

    @property
    def text(self) -> str:
        return "\n".join(r.text for r in self.last)


@pytest.fixture
def chat(conversation: Conversation) -> Chat:
    return Chat(conversation)
