"""Wire the application's parts from settings: database, search index, conversation core."""

from __future__ import annotations

from dataclasses import dataclass

from bot.config import Settings
from bot.core import Conversation
from bot.search_service import open_index
from bot.storage import Database
from bot.storage.migrate import upgrade


@dataclass
class Application:
    """The core and what it owns; `close()` releases the database."""

    conversation: Conversation
    database: Database

    def close(self) -> None:
        self.database.dispose()


def open_application(settings: Settings) -> Application:
    """Upgrade the database schema, load (or rebuild) the index, and build the core."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.database_url)
    database = Database(settings.database_url)
    index = open_index(settings)
    return Application(Conversation(settings, index, database), database)
