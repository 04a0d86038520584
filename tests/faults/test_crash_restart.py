"""Crashes and restarts of a real `umkm-bot run` process (tests/processes.py): SIGKILL in the
middle of handling an update, a conversation step, a broadcast and a reminder run, then a new
process on the same database. Nothing is lost without being reported, nothing arrives twice, and
the person never sees a traceback."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.fake_bot_api import FakeUser
from tests.processes import ApiThread, BotWorld, wait_until

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


def _delivered(api: ApiThread, update_id: int) -> bool:
    return api.call(lambda: any(q.delivered for q in api.api._queue if q.update_id == update_id))


def test_an_update_killed_mid_handling_is_handled_after_the_restart_once(world: BotWorld, api: ApiThread) -> None:
    """PTB's Updater confirmed a batch (the next getUpdates offset) before handling it: a kill
    lost the message. Polling now confirms an update only once handled."""
    bot = world.start()
    # Handling hangs in the "typing…" request, before the core has run.
    api.call(api.api.delay_method, "sendChatAction", 60, times=1)
    update_id = api.queue_text(USER, "cara daftar qris")
    wait_until(lambda: _delivered(api, update_id), what="the update to be fetched")
    polls = api.mark()
    api.wait_for("getUpdates", since=polls, count=2)  # it went on polling meanwhile
    assert update_id in api.pending_update_ids()  # not confirmed: it is not handled yet
    assert not api.texts_to(USER.id)
    bot.kill()

    world.start()
    api.wait_text(USER.id, "QRIS")
    wait_until(lambda: update_id not in api.pending_update_ids(), what="the update to be confirmed")
    time.sleep(1.0)  # a second copy would arrive now
    answers = [t for t in api.texts_to(USER.id) if "QRIS" in t]
    assert len(answers) == 1, api.texts_to(USER.id)
