"""Hostile input, property-based: random updates (tests/faults/strategies.py) sent as raw JSON
through the real Application (polling, with its in-process worker) by a member, a coach of
another institution and a stranger, on SQLite and PostgreSQL, in a world where member A's data
holds distinctive secrets. For every update:

- nothing unhandled: no record at ERROR or above from any logger (the error handler never fires);
- a reply in the private chat, or the deliberate answer for its kind: silence for edited
  messages, channel posts, group messages that are not commands and buttons pressed outside the
  private chat; exactly one short "talk to me privately" for a command in a group;
- nothing stored for what the bot turns away: every table's row count unchanged by a group or
  channel update or an edit, and by a forged or truncated button the bot refuses (an expired
  button, not for this account, consent needed) only the update's claim;
- no one else sees A's data: no secret of A's in anything sent to anyone but A and A's coach,
  and nothing sent to A at all;
- the Application keeps running.
"""

from __future__ import annotations

import copy
import json
import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from sqlalchemy import select, text

from bot.config import Settings
from bot.core import Conversation
from bot.rendering import LOCALES, render
from bot.storage import Database, Figure, HandoffThread, QuestionLog, Repositories
from bot.storage.migrate import upgrade
from index import SearchIndex
from tests.conftest import _postgres_schema_url
from tests.e2e.fake_bot_api import MESSAGE_METHODS, Call, FakeUser
from tests.faults.conftest import LogBook, row_counts
from tests.faults.harness import BotThread
from tests.faults.strategies import PRIVATE_ONLY, REPLY, SILENCE, Hostile, hostile_updates
from tests.faults.world import ADMIN, EVE, RINA, SECRETS, STRANGER, A, B, World, build_world

EXAMPLES = {"sqlite": 250, "postgresql": 100}


@dataclass
class Scene:
    bot: BotThread
    world: World
    book: LogBook
    database: Database
    conversation: Conversation
    backend: str


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def scene(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, faults_index: SearchIndex) -> Iterator[Scene]:
    """The world, built through the core, and the real Application running on it."""
    root = tmp_path_factory.mktemp("hostile")
    schema = None
    if request.param == "sqlite":
        url = f"sqlite:///{root / 'umkm.db'}"
    else:
        admin = request.getfixturevalue("postgres_admin_engine")
        schema = f"t_{uuid.uuid4().hex}"
        with admin.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = _postgres_schema_url(admin, schema)
    config = Settings()
    config.data.dir = root / "var"
    config.data.dir.mkdir()
    config.database.url = url
    config.coaching.admin_telegram_ids = [ADMIN.id]
    config.telegram.bot_username = "pendamping_umkm_test_bot"
    config.delivery.poll_interval = 0.2
    config.delivery.per_chat_interval = 0.1
    upgrade(url)
    database = Database(url)
    conversation = Conversation(config, faults_index, database)
    world = build_world(conversation)
    book = LogBook()
    root_logger = logging.getLogger()
    level = root_logger.level
    root_logger.setLevel(logging.DEBUG)
    root_logger.addHandler(book)
    bot = BotThread(config, conversation).start()
    try:
        yield Scene(bot, world, book, database, conversation, request.param)
    finally:
        bot.stop()
        root_logger.removeHandler(book)
        root_logger.setLevel(level)
        database.dispose()
        if schema is not None:
            with request.getfixturevalue("postgres_admin_engine").connect() as connection:
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


def _seen(call: Call) -> str:
    """Everything a chat shows of a message: text or caption, buttons, and any file's content."""
    parts = [str(call.params.get("text") or call.params.get("caption") or ""), json.dumps(call.params.get("reply_markup") or {}, ensure_ascii=False)]
    for upload in call.files.values():
        parts.append(upload.data.decode("utf-8", "replace"))
    return "\n".join(parts)


def _leaks(calls: list[Call]) -> list[tuple[Any, str]]:
    """(chat, secret) for each secret of A's in a message to anyone but A and A's coach."""
    return [
        (c.params.get("chat_id"), secret)
        for c in calls
        if c.method in MESSAGE_METHODS and c.params.get("chat_id") not in (A.id, RINA.id)
        for secret in SECRETS
        if secret in _seen(c)
    ]


REFUSALS = tuple(render(locale, name) for locale in LOCALES for name in ("expired_button", "not_allowed", "needs_consent"))


def _refusal(call: Call) -> bool:
    """The bot turned a button down (it may still be a real action for someone else)."""
    return str(call.params.get("text") or "") in REFUSALS


def _check(scene: Scene, hostile: Hostile) -> None:
    bot, book, api = scene.bot, scene.book, scene.bot.api
    assert api is not None
    rows_before = row_counts(scene.database)
    calls_before, records_before = len(api.calls), len(book.records)

    bot.send(copy.deepcopy(hostile.update))

    new = [c for c in api.calls[calls_before:] if c.method in MESSAGE_METHODS]
    errors = [line for r, line in zip(book.records[records_before:], book.lines[records_before:], strict=False) if r.levelno >= logging.ERROR]
    assert not errors, errors
    to_chat = [c for c in new if hostile.chat_id is not None and c.params.get("chat_id") == hostile.chat_id]
    to_sender = [c for c in new if c.params.get("chat_id") == hostile.sender.id]
    if hostile.expect == REPLY:
        assert to_chat, f"no answer to a {hostile.kind}"
    elif hostile.expect == SILENCE:
        assert not to_chat and not to_sender, [c.summary() for c in to_chat + to_sender]
    else:
        assert hostile.expect == PRIVATE_ONLY
        assert len(to_chat) == 1 and not to_sender, [c.summary() for c in to_chat + to_sender]
        assert "chat pribadi" in to_chat[0].params["text"] or "private chat" in to_chat[0].params["text"]
    rows_after = row_counts(scene.database)
    changed = {t: rows_after[t] - rows_before[t] for t in rows_after if rows_after[t] != rows_before[t]}
    if hostile.expect != REPLY:
        assert not changed, changed  # nothing stored, not even the update's claim
    elif hostile.forged_button and any(_refusal(c) for c in to_chat):
        assert changed in ({}, {"processed_updates": 1}), changed
    assert not [c for c in new if c.params.get("chat_id") == A.id], "a hostile update reached A"
    assert not _leaks(new)
    assert bot.running()


def _private_text(sender: FakeUser, text: str) -> Hostile:
    """A plain private message, for the examples every run tries first."""
    message = {"message_id": 1, "from": sender.to_dict(), "chat": sender.private_chat(), "date": 1_700_000_000, "text": text}
    if text.startswith("/"):
        message["entities"] = [{"offset": 0, "length": len(text.split(" ")[0]), "type": "bot_command"}]
    return Hostile("text", sender, {"message": message}, REPLY, sender.id)


def test_hostile_updates_are_answered_or_ignored_never_crash_store_or_leak(scene: Scene) -> None:
    actions = [route.action for route in scene.conversation.routes.buttons]
    updates = hostile_updates([B, EVE, STRANGER], actions, scene.world.id_strings())

    @settings(
        max_examples=EXAMPLES[scene.backend], deadline=None, derandomize=True, database=None,
        suppress_health_check=list(HealthCheck), print_blob=True,
    )  # fmt: skip
    @given(hostile=updates)
    @example(hostile=_private_text(B, "harga\x00 qris\x00"))  # PostgreSQL refuses NUL in text
    @example(hostile=_private_text(B, "nib \ud800 oss"))  # an unpaired surrogate: valid JSON only
    @example(hostile=_private_text(EVE, "😀" * 4100))  # over the limit in UTF-16 units, under it in characters
    @example(hostile=_private_text(STRANGER, "/start " + "k_" + "x" * 300))  # a deep link far over 64
    @example(hostile=_private_text(B, "/catat omzet " + "9" * 400))
    def run(hostile: Hostile) -> None:
        _check(scene, hostile)

    run()


def test_after_the_storm_nothing_leaked_and_as_data_is_intact(scene: Scene) -> None:
    """Run after the property test on the same world: what the worker delivered meanwhile
    leaked nothing either, and A's data is as it was."""
    scene.bot.settle(1.0)
    api = scene.bot.api
    assert api is not None and not _leaks(api.calls)
    assert not api.server_errors
    with scene.database.transaction() as session:
        repos = Repositories(session)
        a = repos.users.get("telegram", str(A.id))
        assert a is not None and a.name == "Zanzibarwati" and a.district == "Kecamatan Quuxtown"
        assert session.scalars(select(Figure.value).where(Figure.user_id == a.id)).all() == [7654321]
        assert any("Vexillologi" in q for q in session.scalars(select(QuestionLog.text).where(QuestionLog.user_id == a.id)))
        assert session.scalars(select(HandoffThread).where(HandoffThread.user_id == a.id)).one() is not None
    assert scene.bot.running()
