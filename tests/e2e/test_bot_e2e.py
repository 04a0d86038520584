"""The real python-telegram-bot Application, wired by build_application, against the fake
Bot API server: what a user does on Telegram and what the bot sends back."""

from __future__ import annotations

import asyncio
import logging
import socket
import time

import aiohttp

from bot.telegram.app import build_application, silence_token_logging
from bot.telegram.runner import SECRET_HEADER, serve_webhook
from tests.e2e.conftest import next_text as _next_text
from tests.e2e.conftest import polling_bot
from tests.e2e.fake_bot_api import FakeBotApi, FakeUser


def _texts(api: FakeBotApi, user: FakeUser) -> list[str]:
    return api.sent_texts(user.id)


async def test_onboarding_with_consent_and_escaped_name(running_bot, fake_api: FakeBotApi, fake_user: FakeUser) -> None:  # type: ignore[no-untyped-def]
    fake_api.queue_text(fake_user, "/start kohort-7")
    notice = await _next_text(fake_api, fake_user, "UU PDP")
    assert notice["parse_mode"] == "HTML"
    buttons = notice["reply_markup"]["inline_keyboard"][0]
    assert [b["text"] for b in buttons] == ["✅ Setuju", "Tidak"]
    fake_api.queue_callback(fake_user, buttons[0]["callback_data"])
    await _next_text(fake_api, fake_user, "Siapa nama Anda")
    await fake_api.wait_for("answerCallbackQuery")
    fake_api.queue_text(fake_user, "Siti <b>& Co")
    await _next_text(fake_api, fake_user, "bidang apa")
    fake_api.queue_text(fake_user, "/batal")
    await _next_text(fake_api, fake_user, "Dibatalkan")
    fake_api.queue_text(fake_user, "/profil")
    profile = await _next_text(fake_api, fake_user, "Profil usaha")
    assert "Siti &lt;b&gt;&amp; Co" in profile["text"]


async def test_without_consent_only_the_notice(running_bot, fake_api: FakeBotApi, fake_user: FakeUser) -> None:  # type: ignore[no-untyped-def]
    fake_api.queue_text(fake_user, "/start")
    notice = await _next_text(fake_api, fake_user, "UU PDP")
    fake_api.queue_callback(fake_user, notice["reply_markup"]["inline_keyboard"][0][1]["callback_data"])
    await _next_text(fake_api, fake_user, "tidak ada data pribadi")
    fake_api.queue_text(fake_user, "/profil")
    await _next_text(fake_api, fake_user, "persetujuan Anda")


async def test_question_answered_with_typing_and_buttons(settings, conversation, fake_api: FakeBotApi, fake_user: FakeUser) -> None:  # type: ignore[no-untyped-def]
    settings.telegram.typing_after = 0  # "typing…" at once, however quick the answer
    async with polling_bot(settings, conversation, fake_api):
        await _question_answered_with_typing_and_buttons(fake_api, fake_user)


async def test_quick_answer_without_typing(settings, conversation, fake_api: FakeBotApi, fake_user: FakeUser) -> None:  # type: ignore[no-untyped-def]
    settings.telegram.typing_after = 10  # longer than any answer here, even on a busy machine
    async with polling_bot(settings, conversation, fake_api):
        fake_api.queue_text(fake_user, "qris bayar gak")
        await _next_text(fake_api, fake_user, "QRIS")
    assert not fake_api.calls_to("sendChatAction")


async def test_slow_answer_shows_typing(settings, conversation, fake_api: FakeBotApi, fake_user: FakeUser) -> None:  # type: ignore[no-untyped-def]
    settings.telegram.typing_after = 0.2
    handle = conversation.handle

    def slow_handle(*args, **kwargs):  # type: ignore[no-untyped-def]
        time.sleep(1.0)  # a slow answer: the encoder on a busy machine
        return handle(*args, **kwargs)

    conversation.handle = slow_handle  # type: ignore[method-assign]
    async with polling_bot(settings, conversation, fake_api):
        fake_api.queue_text(fake_user, "gmn cara bikin nib di oss")
        await _next_text(fake_api, fake_user, "Cara mengurus NIB")
        typing = fake_api.calls_to("sendChatAction")
        answer = fake_api.calls_to("sendMessage")[-1]
        assert len(typing) == 1 and typing[0].params.get("action") == "typing"
        assert typing[0].at < answer.at


async def _question_answered_with_typing_and_buttons(fake_api: FakeBotApi, fake_user: FakeUser) -> None:
    fake_api.queue_text(fake_user, "gmn cara bikin nib di oss")
    card = await _next_text(fake_api, fake_user, "Cara mengurus NIB")
    await fake_api.wait_for("sendChatAction", lambda c: c.params.get("action") == "typing")
    labels = [b["text"] for row in card["reply_markup"]["inline_keyboard"] for b in row]
    assert "🧑‍🏫 Tanya pendamping" in labels
    fake_api.queue_text(fake_user, "siapa juara liga inggris musim ini")
    await _next_text(fake_api, fake_user, "belum punya jawaban")


async def test_button_press_edits_topic_page(running_bot, fake_api: FakeBotApi, fake_user: FakeUser) -> None:  # type: ignore[no-untyped-def]
    fake_api.queue_text(fake_user, "/topik")
    topics = await _next_text(fake_api, fake_user, "Pilih topik")
    finance = next(b for row in topics["reply_markup"]["inline_keyboard"] for b in row if "Keuangan" in b["text"])
    fake_api.queue_callback(fake_user, finance["callback_data"])
    edited = await fake_api.wait_for("editMessageText", timeout=30)
    assert "Keuangan" in edited[-1].params["text"]


async def test_long_answer_is_split_under_the_limit(running_bot, fake_api: FakeBotApi, fake_user: FakeUser) -> None:  # type: ignore[no-untyped-def]
    fake_api.queue_text(fake_user, "panduan panjang dokumen ekspor kerajinan")
    [card] = await fake_api.wait_for("sendMessage", lambda c: "Sumber:" in c.params.get("text", ""), timeout=30)
    assert len(card.params["text"]) <= 2300  # the short card: two phone screens
    buttons = [b for row in card.params["reply_markup"]["inline_keyboard"] for b in row]
    steps = next(b["callback_data"] for b in buttons if "Langkah-langkah" in b["text"])
    fake_api.queue_callback(fake_user, steps)
    await fake_api.wait_for("sendMessage", lambda c: "Langkah ekspor nomor 24" in c.params.get("text", ""), timeout=30)
    texts = [c.params["text"] for c in fake_api.calls_to("sendMessage")[1:]]
    assert sum(len(t) for t in texts) > 6000
    assert len(texts) >= 2 and all(len(t) <= 4096 for t in texts)


async def test_greeting_is_greeted_back_in_telegram_html(running_bot, fake_api: FakeBotApi, fake_user: FakeUser) -> None:  # type: ignore[no-untyped-def]
    fake_api.queue_text(fake_user, "assalamualaikum, selamat pagi kak")
    reply = await _next_text(fake_api, fake_user, "Saya Pendamping UMKM")
    assert reply["parse_mode"] == "HTML" and "<i>" in reply["text"] and "/topik" in reply["text"]


async def test_sticker_gets_a_polite_text_only_reply(running_bot, fake_api: FakeBotApi, fake_user: FakeUser) -> None:  # type: ignore[no-untyped-def]
    fake_api.queue_sticker(fake_user)
    await _next_text(fake_api, fake_user, "membaca pesan teks")


async def test_duplicate_update_is_handled_once(running_bot, fake_api: FakeBotApi, fake_user: FakeUser) -> None:  # type: ignore[no-untyped-def]
    update_id = fake_api.queue_text(fake_user, "/bantuan")
    await _next_text(fake_api, fake_user, "Cara memakai")
    fake_api.queue_duplicate(update_id)
    fake_api.queue_text(fake_user, "/batal")
    await _next_text(fake_api, fake_user, "Tidak ada langkah")
    assert sum("Cara memakai" in t for t in _texts(fake_api, fake_user)) == 1


async def test_rejected_non_essential_methods_do_not_stop_answers(settings, conversation, fake_api, fake_user) -> None:  # type: ignore[no-untyped-def]
    fake_api.fail_method("setMyCommands", error_code=400, description="Bad Request: nope")
    fake_api.fail_method("sendChatAction", error_code=400, description="Bad Request: nope")
    settings.telegram.typing_after = 0
    async with polling_bot(settings, conversation, fake_api):
        fake_api.queue_text(fake_user, "qris bayar gak")
        await _next_text(fake_api, fake_user, "QRIS")


async def test_token_never_reaches_the_logs(settings, conversation, fake_api, fake_user, caplog) -> None:  # type: ignore[no-untyped-def]
    silence_token_logging()
    caplog.set_level(logging.DEBUG)
    async with polling_bot(settings, conversation, fake_api):
        fake_api.queue_text(fake_user, "/bantuan")
        await _next_text(fake_api, fake_user, "Cara memakai")
    assert caplog.records
    assert not [r for r in caplog.records if fake_api.token in r.getMessage()]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_webhook_checks_the_secret_and_serves_healthz(settings, conversation, fake_api, fake_user) -> None:  # type: ignore[no-untyped-def]
    port = _free_port()
    settings.telegram.webhook_port = port
    settings.telegram.webhook_public_url = f"http://127.0.0.1:{port}"
    application = build_application(settings, conversation, fake_api.token)
    stop = asyncio.Event()
    server = asyncio.create_task(serve_webhook(application, settings, "s3cret", stop))
    url = f"http://127.0.0.1:{port}/telegram"
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(100):
                try:
                    async with http.get(f"http://127.0.0.1:{port}/healthz") as health:
                        if health.status == 200:
                            break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.05)
            update = fake_api.make_update_json("text", fake_user, text="/bantuan")
            async with http.post(url, json=update, headers={SECRET_HEADER: "wrong"}) as denied:
                assert denied.status == 403
            async with http.post(url, json=update, headers={SECRET_HEADER: "s3cret"}) as accepted:
                assert accepted.status == 200
            await _next_text(fake_api, fake_user, "Cara memakai")
        assert fake_api.calls_to("setWebhook")[0].params["secret_token"] == "s3cret"
    finally:
        stop.set()
        await server
