"""Fixtures for coaching: a conversation on SQLite and PostgreSQL, an admin, a coach and members."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from bot.config import Settings
from bot.core import Conversation, Incoming
from bot.storage import Database, OutboxMessage, Repositories
from index import SearchIndex
from tests.core.conftest import Chat

NOW = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)


class Clock:
    """A settable clock for the conversation."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def coaching_settings(tmp_path) -> Settings:  # type: ignore[no-untyped-def]
    settings = Settings()
    settings.data.dir = tmp_path / "var"
    settings.coaching.admin_terminal_users = ["admin"]
    settings.telegram.bot_username = "pendamping_test_bot"
    return settings


@pytest.fixture
def talk(coaching_settings: Settings, search_index: SearchIndex, database: Database, clock: Clock):  # type: ignore[no-untyped-def]
    """A conversation on the parametrised database; `talk("name")` is a Chat for that user."""
    conversation = Conversation(coaching_settings, search_index, database, now=clock)

    def chat(name: str) -> Chat:
        return Chat(conversation, user_id=name)

    chat.conversation = conversation  # type: ignore[attr-defined]
    return chat


def consented(chat: Chat) -> Chat:
    """The user has consented (once; a second call finds them consented already)."""
    chat.say("/start")
    if chat.last[0].buttons:
        chat.press("Setuju")
        chat.say("/batal")
    return chat


def make_coach(talk: Callable[[str], Chat], name: str, institution: str = "Dinas Koperasi Gresik") -> Chat:
    """A consented coach made through an admin's invite link, as in production."""
    admin = consented(talk("admin"))
    database: Database = talk("x").conversation.database
    with database.transaction() as session:
        repos = Repositories(session)
        found = [i for i in repos.coaches.institutions() if i.name == institution]
        institution_id = found[0].id if found else repos.coaches.add_institution(institution).id
    invite = admin.say(f"/undang_pendamping {institution_id}")[0].text
    payload = invite.split("start=")[1].split()[0]
    coach = talk(name)
    coach.say(f"/start {payload}")
    coach.press("Setuju")
    coach.press("Terima")
    coach.say("/profil")
    coach.press("Nama")
    coach.say(name.title())
    return coach


def make_cohort(coach: Chat, name: str = "Sentra Batik") -> str:
    """Create a cohort through the guided flow; returns the join payload (k_...)."""
    coach.say("/kelompok_baru")
    coach.say(name)
    coach.press("Sentra")
    coach.press("Lewati")
    reply = coach.press("WIB")[0]
    return "k_" + reply.text.split("start=k_")[1].split()[0]


def join(talk: Callable[[str], Chat], name: str, payload: str) -> Chat:
    member = talk(name)
    member.say(f"/start {payload}")
    member.press("Setuju")
    member.press("Gabung")
    if "Siapa nama" in member.text:
        member.say(name.title())
        member.press("Lewati")
        member.press("Lewati")
        member.press("Lewati")
    return member


def outbox_rows(database: Database) -> list[OutboxMessage]:
    with database.transaction() as session:
        return list(session.query(OutboxMessage).order_by(OutboxMessage.id))


def press_data(chat: Chat, data: str):  # type: ignore[no-untyped-def]
    return chat.send(Incoming(chat.user, "button", data=data))
