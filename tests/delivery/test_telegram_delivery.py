"""The worker and the Telegram sender against the fake Bot API, on SQLite and PostgreSQL: every
answer the Bot API can give, and what becomes of the row."""

from __future__ import annotations

import asyncio
import socket

from bot.config import Settings
from bot.delivery import telegram_sender
from bot.storage import Database
from bot.storage.repos import Repositories
from tests.delivery.conftest import Enqueue, row, states
from tests.e2e.fake_bot_api import DEFAULT_TOKEN, FakeBotApi

CHAT = "424242"


async def test_html_and_buttons_are_sent_and_the_message_id_recorded(database: Database, fake_api: FakeBotApi, sender, make_worker, enqueue: Enqueue) -> None:
    buttons = [[{"label": "Jawab", "data": "reply:7"}, {"label": "Tutup", "data": "close:7"}]]
    [row_id] = enqueue([(CHAT, "Pertanyaan dari <b>anggota</b>: harga &amp; ongkir?")], buttons=buttons)

    stats = await make_worker(sender).drain(10)

    assert stats.sent == 1
    [call] = fake_api.calls_to("sendMessage")
    assert call.ok and call.params["parse_mode"] == "HTML"
    assert call.params["text"] == "Pertanyaan dari <b>anggota</b>: harga &amp; ongkir?"
    keyboard = call.params["reply_markup"]["inline_keyboard"]
    assert [[b["callback_data"] for b in r] for r in keyboard] == [["reply:7", "close:7"]]
    sent = row(database, row_id)
    assert sent["state"] == "sent" and sent["attempts"] == 1 and sent["sent_at"] is not None
    assert sent["sent_message_id"] == call.result["message_id"]
    # A coach's native reply names this message id: the row is found through it.
    with database.transaction() as session:
        found = Repositories(session).outbox.by_sent_message(sent["user_id"], call.result["message_id"])
        assert found is not None and found.id == row_id


async def test_a_document_goes_with_its_caption_and_a_long_text_goes_first(database: Database, fake_api: FakeBotApi, sender, make_worker, enqueue: Enqueue) -> None:
    csv = b"tanggal,omzet\n2026-11-01,150000\n"
    [short] = enqueue([(CHAT, "Laporan <b>November</b>")], document=("laporan.csv", csv), kind="short")
    [long] = enqueue([("515151", "Rincian: " + "omzet naik " * 150)], document=("rincian.csv", csv), kind="long")

    await make_worker(sender).drain(10)

    assert states(database) == {"sent": 2}
    documents = fake_api.calls_to("sendDocument")
    assert [c.ok for c in documents] == [True, True]
    with_caption = next(c for c in documents if c.params["chat_id"] == int(CHAT))
    assert with_caption.params["caption"] == "Laporan <b>November</b>"
    assert with_caption.files["document"].data == csv and with_caption.files["document"].filename == "laporan.csv"
    assert row(database, short)["sent_message_id"] == with_caption.result["message_id"]
    # Over 1,024 characters: the text as a message first, then the file without a caption.
    [text] = fake_api.calls_to("sendMessage")
    alone = next(c for c in documents if c.params["chat_id"] == 515151)
    assert text.params["chat_id"] == 515151 and "caption" not in alone.params
    assert text.at <= alone.arrived_at
    assert row(database, long)["sent_message_id"] == text.result["message_id"]


async def test_429_is_waited_out_then_sent_once_without_counting_an_attempt(database: Database, fake_api: FakeBotApi, sender, make_worker, enqueue: Enqueue) -> None:
    fake_api.rate_limit("sendMessage", retry_after=1, times=1)
    [row_id] = enqueue([(CHAT, "Pengingat pertemuan")])

    stats = await make_worker(sender).drain(10)

    first, second = fake_api.calls_to("sendMessage")
    assert first.status == 429 and second.ok
    assert second.arrived_at - first.at >= 0.95  # retry_after 1 s, measured at the server
    assert stats.rate_limited == 1 and stats.sent == 1
    sent = row(database, row_id)
    assert sent["state"] == "sent" and sent["attempts"] == 1
    assert fake_api.received_per_chat() == {int(CHAT): 1}


async def test_a_429_pauses_every_send_of_the_worker(database: Database, fake_api: FakeBotApi, sender, make_worker, enqueue: Enqueue) -> None:
    fake_api.rate_limit("sendMessage", retry_after=1, times=1)
    enqueue([(CHAT, "satu")])
    worker = make_worker(sender)
    drained = asyncio.create_task(worker.drain(10))
    await fake_api.wait_for("sendMessage", lambda c: c.status == 429)
    limited_at = fake_api.calls_to("sendMessage")[0].at
    enqueue([("777", "dua"), ("778", "tiga")])  # other chats, queued during the pause
    worker.wake()
    await drained

    later = [c for c in fake_api.calls_to("sendMessage") if c.ok]
    assert len(later) == 3
    assert min(c.arrived_at for c in later) - limited_at >= 0.95


async def test_a_user_who_blocked_the_bot_is_marked_blocked_and_never_retried(database: Database, fake_api: FakeBotApi, sender, make_worker, enqueue: Enqueue) -> None:
    fake_api.block_user(int(CHAT))
    [row_id] = enqueue([(CHAT, "Halo")])
    worker = make_worker(sender)

    stats = await worker.drain(10)
    await worker.drain(1)

    assert stats.blocked == 1
    blocked = row(database, row_id)
    assert blocked["state"] == "blocked" and "blocked" in blocked["last_error"]
    assert len(fake_api.calls_to("sendMessage")) == 1


async def test_chat_not_found_is_blocked_too(database: Database, fake_api: FakeBotApi, sender, make_worker, enqueue: Enqueue) -> None:
    fake_api.forget_chat(int(CHAT))
    [row_id] = enqueue([(CHAT, "Halo")])

    await make_worker(sender).drain(10)

    gone = row(database, row_id)
    assert gone["state"] == "blocked" and "chat not found" in gone["last_error"].lower()
    assert len(fake_api.calls_to("sendMessage")) == 1


async def test_html_telegram_cannot_parse_is_sent_once_more_as_plain_text(database: Database, fake_api: FakeBotApi, sender, make_worker, enqueue: Enqueue) -> None:
    [row_id] = enqueue([(CHAT, "Untung <5% &amp; <b>biaya</b> naik")])

    await make_worker(sender).drain(10)

    refused, plain = fake_api.calls_to("sendMessage")
    assert refused.status == 400 and "can't parse entities" in refused.description
    assert plain.ok and plain.params.get("parse_mode") is None
    assert plain.params["text"] == "Untung <5% & biaya naik"
    assert row(database, row_id)["state"] == "sent"


async def test_a_bad_request_is_failed_without_retry(database: Database, fake_api: FakeBotApi, sender, make_worker, enqueue: Enqueue) -> None:
    [row_id] = enqueue([(CHAT, "x" * 5000)])  # over 4,096 characters

    await make_worker(sender).drain(10)

    failed = row(database, row_id)
    assert failed["state"] == "failed" and "too long" in failed["last_error"]
    assert len(fake_api.calls_to("sendMessage")) == 1


async def test_a_502_is_retried_with_backoff_then_sent(database: Database, fake_api: FakeBotApi, sender, make_worker, enqueue: Enqueue) -> None:
    fake_api.fail_method("sendMessage", 502, times=2)
    [row_id] = enqueue([(CHAT, "Halo")])

    stats = await make_worker(sender).drain(10)

    assert [c.status for c in fake_api.calls_to("sendMessage")] == [502, 502, 200]
    assert stats.retried == 2 and stats.sent == 1
    sent = row(database, row_id)
    assert sent["state"] == "sent" and sent["attempts"] == 3 and sent["last_error"] is None


async def test_a_502_forever_fails_after_max_attempts(database: Database, fake_api: FakeBotApi, settings: Settings, sender, make_worker, enqueue: Enqueue) -> None:
    fake_api.fail_method("sendMessage", 502)
    [row_id] = enqueue([(CHAT, "Halo")])

    await make_worker(sender).drain(10)

    assert len(fake_api.calls_to("sendMessage")) == settings.delivery.max_attempts
    failed = row(database, row_id)
    assert failed["state"] == "failed" and failed["attempts"] == settings.delivery.max_attempts
    assert f"gave up after {settings.delivery.max_attempts} attempts" in failed["last_error"]


async def test_a_read_timeout_after_sending_is_uncertain_and_not_resent(database: Database, fake_api: FakeBotApi, settings: Settings, make_worker, enqueue: Enqueue) -> None:
    settings.delivery.read_timeout = 0.2
    fake_api.delay_method("sendMessage", 0.6, times=1)
    [row_id] = enqueue([(CHAT, "Halo")])
    sender = telegram_sender(settings, DEFAULT_TOKEN)
    await sender.start()
    try:
        worker = make_worker(sender)
        stats = await worker.drain(10)
        await asyncio.sleep(0.6)  # the slow answer lands at the server meanwhile
        await worker.drain(1)
    finally:
        await sender.close()

    assert stats.uncertain == 1
    uncertain = row(database, row_id)
    assert uncertain["state"] == "uncertain" and "ReadTimeout" in uncertain["last_error"]
    # It did arrive: exactly once, never a second copy.
    assert fake_api.received_per_chat() == {int(CHAT): 1}


async def test_a_refused_connection_is_retried_never_uncertain(database: Database, settings: Settings, make_worker, enqueue: Enqueue) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.telegram.base_url = f"http://127.0.0.1:{port}/bot"
    [row_id] = enqueue([(CHAT, "Halo")])
    sender = telegram_sender(settings, DEFAULT_TOKEN)
    await sender.start()
    try:
        stats = await make_worker(sender).drain(10)
    finally:
        await sender.close()

    assert stats.retried == settings.delivery.max_attempts - 1 and stats.failed == 1
    failed = row(database, row_id)
    assert failed["state"] == "failed" and "ConnectError (not sent)" in failed["last_error"]
    assert DEFAULT_TOKEN not in failed["last_error"]


async def test_a_migrated_chat_is_followed_once_and_stored(database: Database, fake_api: FakeBotApi, sender, make_worker, enqueue: Enqueue) -> None:
    fake_api.migrate_chat(-4001, -1004001)
    fake_api.migrate_chat(-4002, -1004002)
    fake_api.migrate_chat(-1004002, -1009999)  # migrated again: not followed twice
    [moved, twice] = enqueue([("-4001", "Untuk grup"), ("-4002", "Untuk grup lain")])

    await make_worker(sender).drain(10)

    followed = row(database, moved)
    assert followed["state"] == "sent" and followed["chat_id"] == "-1004001"
    assert fake_api.received_per_chat() == {-1004001: 1}
    assert [c.params["chat_id"] for c in fake_api.calls_to("sendMessage")].count(-1009999) == 0
    gave_up = row(database, twice)
    assert gave_up["state"] == "failed" and gave_up["chat_id"] == "-1004002"


async def test_paid_broadcast_is_asked_for_when_configured(database: Database, fake_api: FakeBotApi, settings: Settings, make_worker, enqueue: Enqueue) -> None:
    settings.delivery.paid_broadcast = True
    enqueue([(CHAT, "Siaran")])
    sender = telegram_sender(settings, DEFAULT_TOKEN)
    await sender.start()
    try:
        await make_worker(sender).drain(10)
    finally:
        await sender.close()

    [call] = fake_api.calls_to("sendMessage")
    assert call.ok and call.params["allow_paid_broadcast"] is True
