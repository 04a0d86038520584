"""Crashes and restarts of a real `umkm-bot run` process (tests/processes.py): SIGKILL in the
middle of handling an update, a conversation step, a broadcast and a reminder run, then a new
process on the same database. Nothing is lost without being reported, nothing arrives twice, and
the person never sees a traceback."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.coaching.audience import Audience
from bot.coaching.broadcasts import broadcast_report, send_broadcast
from bot.coaching.quiet_hours import QuietHours
from bot.coaching.recurrence import Schedule, daily
from bot.coaching.reminders import create_reminder
from bot.storage import Database, OutboxMessage, ReminderOccurrence, Repositories, User, utcnow
from bot.storage.migrate import upgrade
from bot.storage.models import ConversationState
from tests.e2e.fake_bot_api import Call, FakeUser
from tests.processes import ApiThread, BotWorld, free_port, wait_until
from tests.seed import seed_cohort

pytestmark = pytest.mark.slow  # each test starts two or three bot processes

USER = FakeUser(515151, "Siti", username="siti_crash")


@pytest.fixture
def api() -> Iterator[ApiThread]:
    thread = ApiThread().start()
    yield thread
    thread.stop()


@pytest.fixture
def world(tmp_path: Path, api: ApiThread, built_index: tuple[Path, Path]) -> Iterator[BotWorld]:
    knowledge, index = built_index
    world = BotWorld(tmp_path / "bot", api, knowledge, index)
    yield world
    world.stop_all()
    print(world.outputs())  # shown when the test failed


def test_an_update_killed_mid_handling_is_handled_after_the_restart_once(world: BotWorld, api: ApiThread) -> None:
    """PTB's Updater confirmed a batch (the next getUpdates offset) before handling it: a kill
    lost the message. Polling now confirms an update only once handled."""
    bot = world.start()
    # Handling hangs in the "typing…" request, before the core has run.
    api.call(api.api.delay_method, "sendChatAction", 60, times=1)
    update_id = api.queue_text(USER, "cara daftar qris")
    api.wait_delayed("sendChatAction")
    polls = api.mark()
    api.wait_for("getUpdates", since=polls, count=2)  # it went on polling meanwhile
    assert update_id in api.pending_update_ids()  # not confirmed: it is not handled yet
    assert not api.texts_to(USER.id)
    bot.kill()

    bot = world.start()
    api.wait_text(USER.id, "QRIS")
    wait_until(lambda: update_id not in api.pending_update_ids(), what="the update to be confirmed")
    time.sleep(1.0)  # a second copy would arrive now
    answers = [t for t in api.texts_to(USER.id) if "QRIS" in t]
    assert len(answers) == 1, api.texts_to(USER.id)
    # A clean stop (SIGTERM) finishes what it has and confirms it.
    since = api.mark()
    later = api.queue_text(USER, "cara ngitung hpp")
    api.wait_text(USER.id, "HPP", since=since)
    assert bot.stop() == 0
    assert later not in api.pending_update_ids()


def test_a_webhook_update_killed_mid_handling_comes_again_and_is_handled_once(
    tmp_path: Path, api: ApiThread, built_index: tuple[Path, Path]
) -> None:
    """The webhook answered 200 as soon as the update was queued: Telegram forgot it, and a kill
    lost it. It now answers once the update is handled."""
    port = free_port()
    world = BotWorld(tmp_path / "bot", api, *built_index, config={
        "telegram": {"mode": "webhook", "webhook_port": port, "webhook_public_url": f"http://127.0.0.1:{port}"}})  # fmt: skip
    try:
        bot = world.start()
        api.call(api.api.delay_method, "sendChatAction", 60, times=1)
        update_id = api.queue_text(USER, "cara daftar qris")
        api.wait_delayed("sendChatAction")
        assert update_id in api.pending_update_ids()  # no answer yet: Telegram keeps it
        bot.kill()
        world.start()  # the same port; Telegram sends the update again
        api.wait_text(USER.id, "QRIS")
        wait_until(lambda: update_id not in api.pending_update_ids(), what="the update to be taken")
        time.sleep(1.0)  # a second copy would arrive now
    finally:
        world.stop_all()
        print(world.outputs())
    answers = [t for t in api.texts_to(USER.id) if "QRIS" in t]
    assert len(answers) == 1, api.texts_to(USER.id)


# -- a conversation step ---------------------------------------------------------------------


def _buttons(call: Call) -> dict[str, str]:
    markup = call.params.get("reply_markup") or {}
    return {b["text"]: b.get("callback_data", "") for row in markup.get("inline_keyboard", []) for b in row}


def _person(world: BotWorld, external_id: int) -> tuple[User | None, ConversationState | None]:
    database = Database(world.database_url)
    try:
        with database.transaction() as session:
            user = Repositories(session).users.get("telegram", str(external_id))
            state = session.get(ConversationState, user.id) if user is not None else None
            session.expunge_all()
            return user, state
    finally:
        database.dispose()


def test_a_conversation_step_killed_before_or_after_its_commit_carries_on(world: BotWorld, api: ApiThread) -> None:
    bot = world.start()
    api.queue_text(USER, "/start")
    [notice] = api.wait_text(USER.id, "UU PDP")
    api.queue_callback(USER, _buttons(notice)["✅ Setuju"])
    api.wait_text(USER.id, "Siapa nama")

    # Killed before the step's transaction: nothing of it is written; it runs after the restart.
    api.call(api.api.delay_method, "sendChatAction", 60, times=1)
    api.queue_text(USER, "Siti Aminah")
    api.wait_delayed("sendChatAction")
    bot.kill()
    user, state = _person(world, USER.id)
    assert user is not None and user.name is None
    assert state is not None and (state.state, state.data) == ("onboarding", {"field": "name"})
    bot = world.start()
    api.wait_text(USER.id, "bidang apa")
    user, state = _person(world, USER.id)
    assert user.name == "Siti Aminah" and state.data == {"field": "sector"}

    # Killed after the commit, while the reply is on its way: the step is not run a second time
    # (the update comes again and is skipped), and the person carries on where they are.
    api.call(api.api.delay_method, "sendMessage", 4, times=1, chat_id=USER.id)
    api.queue_text(USER, "kuliner")
    api.wait_delayed("sendMessage")  # the reply's request is at Telegram
    assert _person(world, USER.id)[1].data == {"field": "district"}  # committed before it left
    bot.kill()
    world.start()
    api.wait_text(USER.id, "Di kota/kabupaten mana")  # the request the killed process had made
    api.queue_text(USER, "Gresik")
    api.wait_text(USER.id, "Apa produk utama")
    api.queue_text(USER, "keripik tempe")
    api.wait_text(USER.id, "Siap, Siti Aminah!")

    user, state = _person(world, USER.id)
    assert (user.name, user.sector, user.district, user.products) == ("Siti Aminah", "food", "Gresik", "keripik tempe")
    assert state is None
    texts = api.texts_to(USER.id)
    for prompt in ("Siapa nama Anda?", "bidang apa?", "Di kota/kabupaten mana", "Apa produk utama"):
        assert sum(prompt in t for t in texts) == 1, api.call(api.api.describe_calls)
    assert not any("gangguan" in t for t in texts)  # never the error message
    assert "Traceback" not in world.outputs()


# -- a broadcast -----------------------------------------------------------------------------

FIRST_CHAT = 800_000


def _seed_cohort(database: Database, size: int) -> int:
    """A coach and a WIB cohort of `size` consented members with chats 800000…; the cohort id."""
    return seed_cohort(database, size, first_chat=FIRST_CHAT, code="crashcode", at=utcnow())


def _outbox(database: Database, **where: object) -> dict[int, OutboxMessage]:
    """Outbox rows by chat id."""
    with database.transaction() as session:
        stmt = select(OutboxMessage)
        for key, value in where.items():
            stmt = stmt.where(getattr(OutboxMessage, key) == value)
        rows = list(session.scalars(stmt))
        session.expunge_all()
    return {int(r.chat_id): r for r in rows}


@pytest.fixture
def seeded(database_url: str) -> Iterator[Database]:
    upgrade(database_url)
    database = Database(database_url)
    yield database
    database.dispose()


@pytest.mark.postgres
def test_a_broadcast_killed_while_sending_finishes_with_none_lost_and_none_twice(
    tmp_path: Path, api: ApiThread, built_index: tuple[Path, Path], database_url: str, seeded: Database
) -> None:
    size = 200
    cohort_id = _seed_cohort(seeded, size)
    with seeded.transaction() as session:
        repos = Repositories(session)
        broadcast = send_broadcast(repos, [repos.cohorts.by_id(cohort_id)], "Halo {{ nama }}, pameran hari Sabtu.",
                                   Audience(), utcnow(), QuietHours("00:00", "00:00"), coach_id=None, sender="Rina")
        broadcast_id = broadcast.id
    world = BotWorld(tmp_path / "bot", api, *built_index, database_url=database_url,
                     config={"delivery": {"global_rate": 60.0, "max_in_flight": 16}})
    try:
        # Every request takes 0.3 s at Telegram: about 16 are in flight at any moment.
        api.call(api.api.delay_method, "sendMessage", 0.3, times=None)
        bot = world.start()
        wait_until(lambda: len(api.received_per_chat()) >= 60, what="60 recipients served", timeout=60)
        bot.kill()
        at_kill = _outbox(seeded, kind="broadcast")
        in_flight = {chat for chat, row in at_kill.items() if row.state == "sending"}
        assert in_flight, "the kill was meant to land with requests in flight"

        api.call(api.api._delays.clear)
        world.start()
        wait_until(lambda: all(r.state in ("sent", "uncertain") for r in _outbox(seeded, kind="broadcast").values()),
                   what="every row to be settled", timeout=90)
    finally:
        world.stop_all()
        print(world.outputs())

    final = _outbox(seeded, kind="broadcast")
    received = api.received_per_chat()
    everyone = {FIRST_CHAT + n for n in range(size)}
    assert set(final) == everyone
    assert max(received.values()) == 1  # none twice
    sent = {chat for chat, row in final.items() if row.state == "sent"}
    uncertain = {chat for chat, row in final.items() if row.state == "uncertain"}
    assert sent | uncertain == everyone
    assert all(received.get(chat) == 1 for chat in sent)  # every "sent" arrived, once
    # Only the rows marked `sending` at the kill are uncertain (the worker marks no more than it
    # can send soon): never resent, whether or not their request had left, and reported as such.
    assert uncertain == in_flight and len(uncertain) <= 16
    missing = everyone - set(received)
    assert missing <= uncertain  # nobody is left without a word unless the report says so
    print(f"uncertain {len(uncertain)} of which never arrived {len(missing)}")
    with seeded.transaction() as session:
        repos = Repositories(session)
        report = broadcast_report(repos, repos.broadcasts.by_id(broadcast_id))
    assert (report["sent"], report["uncertain"], report["pending"]) == (len(sent), len(uncertain), 0)


# -- a reminder run --------------------------------------------------------------------------


# SQLite only: the kill-specific rules are the broadcast's (tested on both), and the scheduler's
# exactly-once queuing on PostgreSQL is tested in-process (tests/coaching).
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_reminder_occurrence_killed_in_its_run_is_sent_once(
    tmp_path: Path, api: ApiThread, built_index: tuple[Path, Path], database_url: str, seeded: Database
) -> None:
    cohort_id = _seed_cohort(seeded, 3)
    now = utcnow()
    local = now.astimezone(ZoneInfo("Asia/Jakarta")).replace(tzinfo=None, second=0, microsecond=0)
    with seeded.transaction() as session:
        repos = Repositories(session)
        cohort = repos.cohorts.by_id(cohort_id)
        create_reminder(repos, cohort, None, "Jangan lupa catat omzet, {{ nama }}!",
                        Schedule(local - timedelta(minutes=1), "Asia/Jakarta", daily()), Audience(),
                        now - timedelta(minutes=3))  # fmt: skip
    first, second, third = FIRST_CHAT, FIRST_CHAT + 1, FIRST_CHAT + 2
    # A retry 4 to 8 seconds after a failure: the second row is surely waiting at the kill.
    world = BotWorld(tmp_path / "bot", api, *built_index, database_url=database_url,
                     config={"delivery": {"backoff_base": 8.0, "backoff_max": 8.0}})
    try:
        # The first member's request is at Telegram when the process dies; the second's chat
        # answers 502 until then (the row waits for a retry); the third's went through.
        api.call(api.api.delay_method, "sendMessage", 3, times=1, chat_id=first)
        api.call(api.api.fail_method, "sendMessage", 502, chat_id=second)
        bot = world.start()
        api.wait_text(third, "Jangan lupa catat omzet")
        api.wait_for("sendMessage", lambda c: c.params.get("chat_id") == second and c.status == 502)
        api.wait_delayed("sendMessage")
        bot.kill()
        assert _outbox(seeded, kind="reminder")[second].state == "pending"
        api.call(api.api.clear_failures)
        world.start()
        wait_until(lambda: {r.state for r in _outbox(seeded, kind="reminder").values()} <= {"sent", "uncertain"},
                   what="every row to be settled", timeout=60)
        time.sleep(1.5)  # three scheduler passes: nothing is queued again
    finally:
        world.stop_all()
        print(world.outputs())

    rows = _outbox(seeded, kind="reminder")
    assert {chat: row.state for chat, row in rows.items()} == {first: "uncertain", second: "sent", third: "sent"}
    assert {chat: api.received_per_chat().get(chat) for chat in rows} == {first: 1, second: 1, third: 1}
    with seeded.transaction() as session:
        occurrences = list(session.scalars(select(ReminderOccurrence)))
        assert [(o.state, o.recipients) for o in occurrences] == [("queued", 3)]
