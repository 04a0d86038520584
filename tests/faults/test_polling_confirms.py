"""Polling (bot/telegram/polling.py) confirms an update to Telegram only once it is handled, and
still handles different people's updates at the same time. In-process, against the fake Bot API;
tests/faults/test_crash_restart.py kills a real process in the middle."""

from __future__ import annotations

import asyncio

import pytest

from bot.config import Settings
from bot.core import Conversation
from bot.delivery import telegram_sender
from bot.delivery.service import BackgroundDelivery
from bot.telegram.app import ALLOWED_UPDATES, build_application
from bot.telegram.polling import HandledUpdates, serve_polling
from tests.e2e.fake_bot_api import FakeBotApi, FakeUser
from tests.faults.conftest import SQLITE_ONLY, eventually, sent_to

SLOW = FakeUser(616161, "Lambat")
QUICK = FakeUser(626262, "Cepat")


def test_the_offset_waits_at_the_oldest_unfinished_update() -> None:
    handled = HandledUpdates()
    assert handled.offset is None and not handled.waiting_behind
    assert handled.take(10) and handled.take(11) and handled.take(12)
    assert not handled.take(11)  # handed out again while 10 is unfinished: not queued twice
    handled.finished(11)
    handled.finished(12)
    assert handled.offset == 10 and handled.waiting_behind
    handled.finished(10)
    assert handled.offset == 13 and not handled.waiting_behind
    handled.finished(10)  # twice (a duplicate) changes nothing
    assert handled.offset == 13


@pytest.mark.slow
@SQLITE_ONLY
async def test_a_slow_update_is_confirmed_only_once_handled_while_others_go_ahead(
    settings: Settings, conversation: Conversation, fake_api: FakeBotApi
) -> None:
    settings.telegram.read_timeout = 10.0  # the slow request is waited for, not given up on
    settings.telegram.typing_after = 0  # "typing…" before the handling, so that it holds the handling
    handled = HandledUpdates()
    background = BackgroundDelivery(settings, conversation.database, telegram_sender(settings, fake_api.token))
    application = build_application(settings, conversation, fake_api.token, background, handled)
    stop = asyncio.Event()
    serving = asyncio.create_task(serve_polling(application, handled, stop, timeout=1, allowed_updates=ALLOWED_UPDATES))
    try:
        fake_api.delay_method("sendChatAction", 5.0, times=1, chat_id=SLOW.id)  # "typing…" hangs
        slow = fake_api.queue_text(SLOW, "cara daftar qris")
        await eventually(lambda: all(q.delivered for q in fake_api._queue), what="the slow update fetched")
        quick = fake_api.queue_text(QUICK, "cara ngitung hpp")
        await sent_to(fake_api, QUICK.id, "HPP")  # another person is not held up
        pending = [u["update_id"] for u in fake_api.pending_updates]
        assert slow in pending  # not handled yet: Telegram would send it again after a crash
        await sent_to(fake_api, SLOW.id, "QRIS")
        await eventually(lambda: not fake_api.pending_updates, what="both updates confirmed")
        assert quick > slow
    finally:
        stop.set()
        await asyncio.wait_for(serving, 30)
    assert len([t for t in fake_api.sent_texts(SLOW.id) if "QRIS" in t]) == 1
    # Polled calmly while the slow one ran: no busy loop of getUpdates.
    assert len(fake_api.calls_to("getUpdates")) < 40
