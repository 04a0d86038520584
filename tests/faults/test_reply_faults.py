"""Telegram misbehaves while the bot answers a user: through the real Application (polling) with
the real in-process delivery worker, on SQLite and PostgreSQL. Whatever the fault, the answer
arrives once the fault clears (or, where Telegram may already have it, is never sent twice), the
update is handled once, the failure is logged with the update id, and the Application runs on."""

from __future__ import annotations

import asyncio
import logging

import pytest
from telegram.ext import Application

from bot.delivery.plain import html_to_plain
from bot.storage import Database, OutboxMessage, ProcessedUpdate, QuestionLog, Repositories
from tests.e2e.conftest import polling_bot, still_polling
from tests.e2e.fake_bot_api import FAULTS, FakeBotApi, FakeUser
from tests.faults.conftest import SQLITE_ONLY, buttons, consent, count, eventually, sent_to, texts_to

SARI = FakeUser(7001, "Sari")
BUDI = FakeUser(7002, "Budi")
QUESTION, ANSWER = "qris bayar gak", "Daftar QRIS"


def _alive(application: Application) -> None:
    assert still_polling(application)


def _calls_to(api: FakeBotApi, user: FakeUser, method: str = "sendMessage") -> list:  # type: ignore[type-arg]
    return [c for c in api.calls_to(method) if c.params.get("chat_id") == user.id]


def _copies(api: FakeBotApi, user: FakeUser, fragment: str) -> int:
    return sum(fragment in text for text in texts_to(api, user.id))


def _blocked_at(database: Database, user: FakeUser):  # type: ignore[no-untyped-def]
    with database.transaction() as session:
        return Repositories(session).users.get("telegram", str(user.id)).blocked_at


def _handled_once(database: Database, update_id: int) -> None:
    assert count(database, ProcessedUpdate, ProcessedUpdate.update_id == update_id) == 1
    assert count(database, QuestionLog) == 1  # the question was answered (and recorded) once


@pytest.mark.parametrize("fault", ["bad_gateway", "unavailable", "internal"])
async def test_a_5xx_on_the_answer_sends_it_through_the_outbox_once(settings, conversation, fake_api: FakeBotApi, logbook, fault: str) -> None:  # type: ignore[no-untyped-def]
    async with polling_bot(settings, conversation, fake_api, delivery=True) as application:
        await consent(fake_api, SARI)
        fake_api.fail_method("sendMessage", *FAULTS[fault], times=1, chat_id=SARI.id)
        update_id = fake_api.queue_text(SARI, QUESTION)
        fake_api.queue_text(BUDI, "/bantuan")  # another chat is not held up
        await sent_to(fake_api, SARI.id, ANSWER)
        await sent_to(fake_api, BUDI.id, "Cara memakai")
        await asyncio.sleep(0.5)  # room for a second copy, were there one
        _alive(application)
    refused = [c for c in _calls_to(fake_api, SARI) if c.status == FAULTS[fault][0]]
    assert len(refused) == 1 and ANSWER in refused[0].params["text"]
    assert _copies(fake_api, SARI, ANSWER) == 1
    database = conversation.database
    assert count(database, OutboxMessage, OutboxMessage.kind == "reply", OutboxMessage.state == "sent") == 1
    _handled_once(database, update_id)
    assert logbook.matching(f"update {update_id}: 1 reply piece(s) left for the outbox", logging.WARNING)


@SQLITE_ONLY
async def test_a_429_is_waited_out_and_the_answer_sent_once(settings, conversation, fake_api: FakeBotApi) -> None:  # type: ignore[no-untyped-def]
    async with polling_bot(settings, conversation, fake_api, delivery=True) as application:
        await consent(fake_api, SARI)
        fake_api.rate_limit("sendMessage", retry_after=1, times=1, chat_id=SARI.id)
        update_id = fake_api.queue_text(SARI, QUESTION)
        await sent_to(fake_api, SARI.id, ANSWER)
        await asyncio.sleep(0.3)
        _alive(application)
    limited, sent = [c for c in _calls_to(fake_api, SARI) if ANSWER in c.params["text"]]
    assert limited.status == 429 and sent.ok
    assert sent.arrived_at - limited.at >= 0.95  # retry_after honoured, measured at the server
    assert _copies(fake_api, SARI, ANSWER) == 1
    assert count(conversation.database, OutboxMessage) == 0  # the Application's own retry did it
    _handled_once(conversation.database, update_id)


async def test_a_429_that_outlasts_the_retries_goes_through_the_outbox(settings, conversation, fake_api: FakeBotApi, logbook) -> None:  # type: ignore[no-untyped-def]
    async with polling_bot(settings, conversation, fake_api, delivery=True) as application:
        await consent(fake_api, SARI)
        fake_api.rate_limit("sendMessage", retry_after=1, times=3, chat_id=SARI.id)
        update_id = fake_api.queue_text(SARI, QUESTION)
        await sent_to(fake_api, SARI.id, ANSWER, timeout=30)
        await asyncio.sleep(0.3)
        _alive(application)
    statuses = [c.status for c in _calls_to(fake_api, SARI) if ANSWER in c.params["text"]]
    assert statuses == [429, 429, 429, 200]
    assert _copies(fake_api, SARI, ANSWER) == 1
    assert count(conversation.database, OutboxMessage, OutboxMessage.state == "sent") == 1
    _handled_once(conversation.database, update_id)
    assert logbook.matching(f"update {update_id}: 1 reply piece(s) left for the outbox (429")


@pytest.mark.parametrize("fault", ["blocked", "deactivated", "chat_not_found"])
async def test_a_user_who_blocked_the_bot_is_marked_and_answered_again_once_back(settings, conversation, fake_api: FakeBotApi, logbook, fault: str) -> None:  # type: ignore[no-untyped-def]
    database = conversation.database
    async with polling_bot(settings, conversation, fake_api, delivery=True) as application:
        await consent(fake_api, SARI)
        fake_api.fail_method("sendMessage", *FAULTS[fault], times=1, chat_id=SARI.id)
        update_id = fake_api.queue_text(SARI, QUESTION)
        await eventually(lambda: _blocked_at(database, SARI) is not None, what="the user marked blocked")
        assert count(database, OutboxMessage) == 0  # nothing waits to be resent to a closed chat
        assert logbook.matching(f"update {update_id}: the chat is gone or blocked the bot")
        # They unblock the bot and write again: answered, and no longer marked.
        fake_api.queue_text(SARI, "/bantuan")
        await sent_to(fake_api, SARI.id, "Cara memakai")
        _alive(application)
    assert _blocked_at(database, SARI) is None
    assert _copies(fake_api, SARI, ANSWER) == 0 and len([c for c in _calls_to(fake_api, SARI) if ANSWER in c.params["text"]]) == 1
    _handled_once(database, update_id)


@SQLITE_ONLY
async def test_a_refused_too_long_message_is_logged_not_retried(settings, conversation, fake_api: FakeBotApi, logbook) -> None:  # type: ignore[no-untyped-def]
    async with polling_bot(settings, conversation, fake_api, delivery=True) as application:
        await consent(fake_api, SARI)
        fake_api.fail_method("sendMessage", *FAULTS["too_long"], times=1, chat_id=SARI.id)
        update_id = fake_api.queue_text(SARI, QUESTION)
        await eventually(lambda: bool(logbook.matching(f"update {update_id}: a reply piece was not confirmed")))
        fake_api.queue_text(SARI, "/bantuan")
        await sent_to(fake_api, SARI.id, "Cara memakai")
        _alive(application)
    assert [c.status for c in _calls_to(fake_api, SARI) if ANSWER in c.params["text"]] == [400]
    assert count(conversation.database, OutboxMessage) == 0 and _blocked_at(conversation.database, SARI) is None
    _handled_once(conversation.database, update_id)


@SQLITE_ONLY
async def test_html_telegram_cannot_parse_is_sent_once_more_as_plain_text(settings, conversation, fake_api: FakeBotApi, logbook) -> None:  # type: ignore[no-untyped-def]
    async with polling_bot(settings, conversation, fake_api, delivery=True) as application:
        await consent(fake_api, SARI)
        fake_api.fail_method("sendMessage", *FAULTS["bad_html"], times=1, chat_id=SARI.id)
        update_id = fake_api.queue_text(SARI, QUESTION)
        await sent_to(fake_api, SARI.id, ANSWER)
        await asyncio.sleep(0.3)
        _alive(application)
    refused, plain = [c for c in _calls_to(fake_api, SARI) if ANSWER in c.params["text"]]
    assert refused.status == 400 and refused.params["parse_mode"] == "HTML" and "<b>" in refused.params["text"]
    assert plain.ok and plain.params.get("parse_mode") is None
    assert plain.params["text"] == html_to_plain(refused.params["text"])
    assert plain.params["reply_markup"] == refused.params["reply_markup"]  # the buttons come along
    assert logbook.matching(f"update {update_id}: reply HTML refused, sent as plain text")
    _handled_once(conversation.database, update_id)


@SQLITE_ONLY
async def test_a_reply_slower_than_the_timeout_is_not_sent_twice(settings, conversation, fake_api: FakeBotApi, logbook) -> None:  # type: ignore[no-untyped-def]
    async with polling_bot(settings, conversation, fake_api, delivery=True) as application:
        await consent(fake_api, SARI)
        fake_api.delay_method("sendMessage", settings.telegram.read_timeout + 1.0, times=1, chat_id=SARI.id)
        update_id = fake_api.queue_text(SARI, QUESTION)
        await eventually(lambda: bool(logbook.matching(f"update {update_id}: a reply piece was not confirmed")))
        # The slow answer did get through: exactly one copy, never a resend.
        await sent_to(fake_api, SARI.id, ANSWER, timeout=10)
        await asyncio.sleep(0.5)
        _alive(application)
    assert "ReadTimeout after the request was sent" in logbook.text()
    assert len([c for c in _calls_to(fake_api, SARI) if ANSWER in c.params["text"]]) == 1
    assert _copies(fake_api, SARI, ANSWER) == 1
    assert count(conversation.database, OutboxMessage) == 0
    _handled_once(conversation.database, update_id)


@SQLITE_ONLY
@pytest.mark.parametrize("after_handling", [False, True], ids=["before", "after"])
async def test_a_dropped_connection_is_never_answered_twice(settings, conversation, fake_api: FakeBotApi, logbook, after_handling: bool) -> None:  # type: ignore[no-untyped-def]
    """The connection closes without an answer. The bot cannot tell whether Telegram took the
    message, so it does not resend: one copy when it was taken, none when it was not (the
    user's next message is answered as usual)."""
    async with polling_bot(settings, conversation, fake_api, delivery=True) as application:
        await consent(fake_api, SARI)
        fake_api.drop_connection("sendMessage", chat_id=SARI.id, after_handling=after_handling)
        update_id = fake_api.queue_text(SARI, QUESTION)
        await eventually(lambda: bool(logbook.matching(f"update {update_id}: a reply piece was not confirmed")))
        fake_api.queue_text(SARI, "/bantuan")
        await sent_to(fake_api, SARI.id, "Cara memakai")
        _alive(application)
    assert "RemoteProtocolError" in "\n".join(logbook.matching(f"update {update_id}"))
    assert _copies(fake_api, SARI, ANSWER) == (1 if after_handling else 0)
    assert count(conversation.database, OutboxMessage) == 0
    _handled_once(conversation.database, update_id)


async def test_a_fault_part_way_through_a_long_answer_sends_the_rest_once(settings, conversation, fake_api: FakeBotApi) -> None:  # type: ignore[no-untyped-def]
    async with polling_bot(settings, conversation, fake_api, delivery=True) as application:
        await consent(fake_api, SARI)
        fake_api.queue_text(SARI, "panduan panjang dokumen ekspor kerajinan")
        [card] = await sent_to(fake_api, SARI.id, "Sumber:")
        steps = next(data for text, data in buttons(card.params).items() if "Langkah-langkah" in text)
        since = len(fake_api.calls)
        fake_api.fail_method("sendMessage", 502, times=1, chat_id=SARI.id, after=1)  # the second part fails
        fake_api.queue_callback(SARI, steps)
        await sent_to(fake_api, SARI.id, "Langkah ekspor nomor 24:")
        await asyncio.sleep(0.5)
        _alive(application)
    calls = [c for c in fake_api.calls[since:] if c.method == "sendMessage" and c.params.get("chat_id") == SARI.id]
    parts = [c.params["text"] for c in calls if c.ok]
    assert [c.status for c in calls][:2] == [200, 502] and len(parts) >= 2
    for n in range(25):  # every step exactly once, in order
        assert sum(f"Langkah ekspor nomor {n}:" in p for p in parts) == 1, n
    joined = "\n".join(parts)
    assert [joined.index(f"nomor {n}:") for n in range(25)] == sorted(joined.index(f"nomor {n}:") for n in range(25))
    assert all(len(p.encode("utf-16-le")) // 2 <= 4096 for p in parts)
    sent = count(conversation.database, OutboxMessage, OutboxMessage.kind == "reply", OutboxMessage.state == "sent")
    assert sent == len(parts) - 1  # the first part went directly, the rest through the outbox


@SQLITE_ONLY
async def test_a_page_turn_telegram_could_not_make_arrives_as_a_message(settings, conversation, fake_api: FakeBotApi) -> None:  # type: ignore[no-untyped-def]
    async with polling_bot(settings, conversation, fake_api, delivery=True) as application:
        await consent(fake_api, SARI)
        fake_api.queue_text(SARI, "/topik")
        [topics] = await sent_to(fake_api, SARI.id, "Pilih topik")
        finance = next(data for text, data in buttons(topics.params).items() if "Keuangan" in text)
        fake_api.fail_method("editMessageText", 503, times=1, chat_id=SARI.id)
        fake_api.queue_callback(SARI, finance, topics.result)
        [page] = await sent_to(fake_api, SARI.id, "Keuangan")
        await asyncio.sleep(0.3)
        _alive(application)
    assert [c.status for c in _calls_to(fake_api, SARI, "editMessageText")] == [503]
    assert "Menghitung HPP" in str(page.params["reply_markup"])  # the page, with its buttons
    assert count(conversation.database, OutboxMessage, OutboxMessage.state == "sent") == 1
