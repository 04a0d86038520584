"""Tests of the fake Bot API server, driven by the real python-telegram-bot (no mocks)."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
from telegram import (
    Bot,
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken, RetryAfter
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from tests.e2e.fake_bot_api import (
    DEFAULT_TOKEN,
    FakeBotApi,
    FakeUser,
    MarkupError,
    make_png,
    make_update_json,
    parse_markup,
)


@pytest.fixture
async def bot(fake_api: FakeBotApi) -> AsyncIterator[Bot]:
    async with Bot(
        DEFAULT_TOKEN, base_url=fake_api.base_url, base_file_url=fake_api.base_file_url
    ) as the_bot:
        yield the_bot


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ------------------------------------------------------------------ basic methods


async def test_get_me(bot: Bot, fake_api: FakeBotApi) -> None:
    me = await bot.get_me()
    assert me.is_bot
    assert me.id == 123456789
    assert me.username == fake_api.bot_username
    assert bot.username == fake_api.bot_username  # set by Bot.initialize()
    assert fake_api.calls_to("getMe")


async def test_send_message_round_trips_text_and_inline_keyboard(
    bot: Bot, fake_api: FakeBotApi, fake_user: FakeUser
) -> None:
    markup = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton("Ya", callback_data="konfirmasi:ya")],
            [InlineKeyboardButton("Panduan", url="https://example.com/panduan")],
        ]
    )
    first = await bot.send_message(fake_user.id, "Halo, Bu Siti!", reply_markup=markup)
    second = await bot.send_message(fake_user.id, "Pesan kedua")

    assert first.text == "Halo, Bu Siti!"
    assert first.reply_markup == markup
    assert first.chat.id == fake_user.id and first.chat.type == "private"
    assert first.from_user.id == bot.id and first.from_user.is_bot
    assert first.date is not None
    assert (first.message_id, second.message_id) == (1, 2)
    assert second.reply_markup is None

    [call] = fake_api.calls_to("sendMessage")[:1]
    assert call.params["chat_id"] == fake_user.id  # decoded to int
    assert call.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "konfirmasi:ya"
    texts = [m["text"] for m in fake_api.sent_messages(chat_id=fake_user.id)]
    assert texts == ["Halo, Bu Siti!", "Pesan kedua"]
    assert fake_api.sent_messages(chat_id=999) == []


async def test_send_photo_records_png_bytes(
    bot: Bot, fake_api: FakeBotApi, fake_user: FakeUser
) -> None:
    png = make_png(200, 100)
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Unduh CSV", callback_data="csv")]])
    message = await bot.send_photo(
        fake_user.id,
        photo=png,
        caption="Grafik <b>omzet</b>",
        parse_mode="HTML",
        reply_markup=keyboard,
    )

    assert message.caption == "Grafik omzet"
    assert message.reply_markup == keyboard  # multipart form field decoded from JSON
    assert message.photo[-1].width == 200 and message.photo[-1].height == 100
    [payload] = fake_api.sent_messages(fake_user.id)
    assert payload["method"] == "sendPhoto"
    assert payload["photo"].is_png and payload["caption"] == "Grafik <b>omzet</b>"
    assert payload["photo"].data == png
    # the bot can fetch what it sent
    photo_file = await message.photo[-1].get_file()
    assert bytes(await photo_file.download_as_bytearray()) == png


async def test_send_document_records_csv(
    bot: Bot, fake_api: FakeBotApi, fake_user: FakeUser
) -> None:
    csv = b"tanggal,omzet\n2024-05-01,150000\n"
    message = await bot.send_document(fake_user.id, document=csv, filename="omzet.csv")

    assert message.document.file_name == "omzet.csv"
    assert message.document.mime_type == "text/csv"
    assert message.document.file_size == len(csv)
    upload = fake_api.sent_messages(fake_user.id)[0]["document"]
    assert upload.filename == "omzet.csv"
    assert upload.text().splitlines()[0] == "tanggal,omzet"


async def test_commands_are_stored(bot: Bot, fake_api: FakeBotApi) -> None:
    await bot.set_my_commands([BotCommand("start", "Mulai"), BotCommand("bantuan", "Bantuan")])
    assert [c.command for c in await bot.get_my_commands()] == ["start", "bantuan"]
    assert fake_api.my_commands()[1]["description"] == "Bantuan"
    await bot.delete_my_commands()
    assert await bot.get_my_commands() == ()
    with pytest.raises(BadRequest, match="(?i)bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Mulai", "uppercase is not allowed")])


async def test_chat_action_and_webhook_housekeeping(
    bot: Bot, fake_api: FakeBotApi, fake_user: FakeUser
) -> None:
    assert await bot.send_chat_action(fake_user.id, "typing")
    with pytest.raises(BadRequest, match="(?i)wrong parameter action"):
        await bot.send_chat_action(fake_user.id, "thinking")
    assert await bot.delete_webhook()
    info = await bot.get_webhook_info()
    assert info.url == "" and info.pending_update_count == 0
    assert await bot.close() is True
    assert await bot.log_out() is True


# ------------------------------------------------------------------ errors


async def test_wrong_token_is_rejected(fake_api: FakeBotApi) -> None:
    bot = Bot("987654321:wrong-token", base_url=fake_api.base_url)
    with pytest.raises(InvalidToken):
        await bot.get_me()
    url = f"{fake_api.base_url}987654321:wrong/getMe"
    async with aiohttp.ClientSession() as session, session.post(url) as response:
        assert response.status == 401
        assert await response.json() == {
            "ok": False,
            "error_code": 401,
            "description": "Unauthorized",
        }


async def test_unknown_method_is_404(fake_api: FakeBotApi) -> None:
    async with aiohttp.ClientSession() as session:
        url = f"{fake_api.base_url}{DEFAULT_TOKEN}/sendTelepathy"
        async with session.post(url, json={"chat_id": 1}) as response:
            assert response.status == 404
            assert await response.json() == {
                "ok": False,
                "error_code": 404,
                "description": "Not Found: method not found",
            }
        # methods are case-insensitive, GET with a query string works, JSON bodies work
        async with session.get(f"{fake_api.base_url}{DEFAULT_TOKEN}/getme") as response:
            assert (await response.json())["result"]["is_bot"] is True
        url = f"{fake_api.base_url}{DEFAULT_TOKEN}/sendMessage"
        body = {"chat_id": 5, "text": "123", "reply_markup": '{"inline_keyboard": []}'}
        async with session.post(url, json=body) as response:
            assert (await response.json())["result"]["text"] == "123"
    call = fake_api.calls_to("sendMessage")[0]
    assert call.params == {"chat_id": 5, "text": "123", "reply_markup": {"inline_keyboard": []}}


async def test_fail_method_raises_bad_request(
    bot: Bot, fake_api: FakeBotApi, fake_user: FakeUser
) -> None:
    fake_api.fail_method("setMyCommands", 400, "Bad Request: fake rejection of commands")
    with pytest.raises(BadRequest, match="(?i)fake rejection of commands"):
        await bot.set_my_commands([BotCommand("start", "Mulai")])
    assert not fake_api.calls_to("setMyCommands")[0].ok
    # other methods keep working
    await bot.send_message(fake_user.id, "tetap jalan")

    fake_api.clear_failures()
    fake_api.fail_method("sendMessage", 403, times=1)
    with pytest.raises(Forbidden):
        await bot.send_message(fake_user.id, "gagal sekali")
    await bot.send_message(fake_user.id, "berhasil lagi")


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_rate_limit_once(bot: Bot, fake_api: FakeBotApi, fake_user: FakeUser) -> None:
    fake_api.rate_limit("sendMessage", retry_after=1)
    with pytest.raises(RetryAfter):
        await bot.send_message(fake_user.id, "terlalu cepat")
    failed = fake_api.calls_to("sendMessage")[0]
    assert failed.status == 429
    assert failed.response["parameters"] == {"retry_after": 1}
    await bot.send_message(fake_user.id, "sekarang boleh")
    assert [m["text"] for m in fake_api.sent_messages()] == ["sekarang boleh"]


async def test_blocked_user_gives_forbidden(
    bot: Bot, fake_api: FakeBotApi, fake_user: FakeUser
) -> None:
    fake_api.block_user(fake_user.id)
    with pytest.raises(Forbidden, match="(?i)blocked"):
        await bot.send_message(fake_user.id, "pengingat")


async def test_telegram_validation_errors(
    bot: Bot, fake_api: FakeBotApi, fake_user: FakeUser
) -> None:
    with pytest.raises(BadRequest, match="(?i)can't parse entities: unsupported start tag"):
        await bot.send_message(fake_user.id, "Omzet < 5 juta", parse_mode="HTML")
    ok = await bot.send_message(fake_user.id, "<b>Omzet</b> &lt; 5 juta", parse_mode="HTML")
    assert ok.text == "Omzet < 5 juta"
    with pytest.raises(BadRequest, match="(?i)character '.' is reserved"):
        await bot.send_message(fake_user.id, "Omzet naik 5%.", parse_mode="MarkdownV2")
    await bot.send_message(fake_user.id, r"*Omzet* naik 5%\.", parse_mode="MarkdownV2")
    with pytest.raises(BadRequest, match="(?i)message is too long"):
        await bot.send_message(fake_user.id, "x" * 4097)
    with pytest.raises(BadRequest, match="(?i)message text is empty"):
        await bot.send_message(fake_user.id, "  ")
    with pytest.raises(BadRequest, match="(?i)button_data_invalid"):
        long_data = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="d" * 65)]])
        await bot.send_message(fake_user.id, "tombol", reply_markup=long_data)
    with pytest.raises(BadRequest, match="(?i)image_process_failed"):
        await bot.send_photo(fake_user.id, photo=b"not,an,image\n", filename="x.csv")


@pytest.mark.parametrize(
    ("text", "mode", "error"),
    [
        ("🏟 🏟&lt;<abac aba>", "HTML", 'Unsupported start tag "abac" at byte offset 13'),
        ("🏟 🏟&lt;<i    aba  =  ", "HTML", 'Unclosed start tag "i" at byte offset 13'),
        ("🏟 🏟&lt;<i>a</em   >", "HTML", "Unmatched end tag at byte offset 17, expected"),
        ("🏟 🏟&lt;<b></b></", "HTML", "Unexpected end tag at byte offset 20"),
        ("<b>tebal", "HTML", 'Can\'t find end tag corresponding to start tag "b"'),
        ("🏟 🏟_abac * asd ", "MarkdownV2", "Can't find end of Bold entity at byte offset 15"),
        ("🏟 🏟__🏟 _🏟___", "MarkdownV2", "Can't find end of Italic entity at byte offset 23"),
        ("🏟 🏟```a ", "MarkdownV2", "Can't find end of PreCode entity at byte offset 9"),
        ("[telegram\\.org](asd\\)", "MarkdownV2", "Can't find end of a URL at byte offset 16"),
        ("harga Rp10.000", "MarkdownV2", "Character '.' is reserved"),
        ("nama_usaha", "Markdown", "Can't find end of the entity starting at byte offset 4"),
    ],
)
def test_parse_markup_errors_match_tdlib(text: str, mode: str, error: str) -> None:
    with pytest.raises(MarkupError) as info:
        parse_markup(text, mode)
    assert str(info.value).startswith(error)


@pytest.mark.parametrize(
    ("text", "mode", "plain"),
    [
        ("🏟 🏟<i>🏟 &gt;<b aba   =   caba>&lt🏟</b></i>", "HTML", "🏟 🏟🏟 ><🏟"),
        ('<a href="https://t.me">x</a> & <span class="tg-spoiler">y</span>', "HTML", "x & y"),
        ("<blockquote expandable>a&lt;<pre  >b;</></>", "HTML", "a<b;"),
        ("🏟 🏟__🏟 _🏟_\\___", "MarkdownV2", "🏟 🏟🏟 🏟_"),
        ("[telegram\\.org](https://telegram.dog?\\\\\\()", "MarkdownV2", "telegram.org"),
        (">asd\n>q||e||w||\nasdad", "MarkdownV2", "asd\nqew\nasdad"),
        ("🏟 🏟```🏟\n🏟```", "MarkdownV2", "🏟 🏟🏟"),
        ("*tebal* _miring_ `kode` [tautan](https://t.me)", "Markdown", "tebal miring kode tautan"),
    ],
)
def test_parse_markup_valid(text: str, mode: str, plain: str) -> None:
    assert parse_markup(text, mode) == plain


# ------------------------------------------------------------------ updates


async def test_get_updates_in_order_and_offset_confirms(
    bot: Bot, fake_api: FakeBotApi, fake_user: FakeUser
) -> None:
    sent = await bot.send_message(
        fake_user.id,
        "Pilih:",
        reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("Ya", callback_data="ya")]]),
    )
    first = fake_api.queue_text(fake_user, "/start kode_undangan")
    second = fake_api.queue_text(fake_user, "halo")
    third = fake_api.queue_callback(fake_user, "ya")

    updates = await bot.get_updates()
    assert [u.update_id for u in updates] == [first, second, third]
    start = updates[0].message
    assert start.text == "/start kode_undangan"
    assert start.entities[0].type == "bot_command"
    assert (start.entities[0].offset, start.entities[0].length) == (0, len("/start"))
    assert start.from_user.language_code == "id" and start.chat.id == fake_user.id
    assert start.message_id == sent.message_id + 1  # message ids are per chat
    assert updates[1].message.entities == ()
    query = updates[2].callback_query
    assert query.data == "ya" and query.message.message_id == sent.message_id
    assert query.message.reply_markup.inline_keyboard[0][0].callback_data == "ya"
    assert await bot.answer_callback_query(query.id, text="Oke")

    # not confirmed yet: delivered again; limit honoured
    assert [u.update_id for u in await bot.get_updates(limit=1)] == [first]
    assert [u.update_id for u in await bot.get_updates(offset=second)] == [second, third]
    assert await bot.get_updates(offset=third + 1) == ()
    assert fake_api.pending_updates == []


async def test_long_poll_returns_early_when_update_is_queued(fake_user: FakeUser) -> None:
    async with (
        FakeBotApi(max_long_poll=5.0) as api,
        Bot(DEFAULT_TOKEN, base_url=api.base_url) as bot,
    ):
        started = time.monotonic()
        poll = asyncio.create_task(bot.get_updates(timeout=5))
        await asyncio.sleep(0.3)
        assert not poll.done()
        update_id = api.queue_text(fake_user, "ada orang?")
        updates = await asyncio.wait_for(poll, 2)
        assert [u.update_id for u in updates] == [update_id]
        assert time.monotonic() - started < 2


async def test_long_poll_times_out_empty_and_is_capped(fake_user: FakeUser) -> None:
    async with (
        FakeBotApi(max_long_poll=0.3) as api,
        Bot(DEFAULT_TOKEN, base_url=api.base_url) as bot,
    ):
        started = time.monotonic()
        assert await bot.get_updates(timeout=30) == ()
        assert 0.25 < time.monotonic() - started < 2


async def test_media_updates_parse_and_files_download(
    bot: Bot, fake_api: FakeBotApi, fake_user: FakeUser
) -> None:
    fake_api.queue_sticker(fake_user)
    fake_api.queue_photo(fake_user, caption="Foto produk")
    fake_api.queue_voice(fake_user)
    fake_api.queue_document(fake_user, content=b"a,b\n1,2\n", file_name="stok.csv")
    fake_api.queue_location(fake_user)
    sticker, photo, voice, document, location = [u.message for u in await bot.get_updates()]

    assert sticker.sticker.emoji and sticker.sticker.type == "regular"
    assert photo.caption == "Foto produk" and photo.photo[-1].width == 2
    photo_bytes = await (await photo.photo[-1].get_file()).download_as_bytearray()
    assert bytes(photo_bytes) == make_png()
    assert voice.voice.mime_type == "audio/ogg"
    assert document.document.file_name == "stok.csv"
    assert document.document.mime_type == "text/csv"
    doc_bytes = await (await document.document.get_file()).download_as_bytearray()
    assert bytes(doc_bytes) == b"a,b\n1,2\n"
    assert round(location.location.latitude, 2) == -6.21


async def test_duplicate_update_is_redelivered(
    bot: Bot, fake_api: FakeBotApi, fake_user: FakeUser
) -> None:
    update_id = fake_api.queue_text(fake_user, "catat penjualan 50000")
    [update] = await bot.get_updates()
    assert await bot.get_updates(offset=update_id + 1) == ()

    assert fake_api.queue_duplicate(update_id) == update_id
    [again] = await bot.get_updates(offset=update_id + 1)
    assert again.update_id == update_id
    assert again.message.text == update.message.text
    assert await bot.get_updates(offset=update_id + 1) == ()


async def test_edits_and_not_modified(bot: Bot, fake_api: FakeBotApi, fake_user: FakeUser) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Lanjut", callback_data="lanjut")]])
    sent = await bot.send_message(fake_user.id, "Langkah 1", reply_markup=keyboard)
    edited = await bot.edit_message_text("Langkah 2", fake_user.id, sent.message_id)
    assert edited.text == "Langkah 2" and edited.edit_date is not None
    assert edited.reply_markup is None  # editing without reply_markup removes the keyboard
    with pytest.raises(BadRequest, match="(?i)message is not modified"):
        await bot.edit_message_text("Langkah 2", fake_user.id, sent.message_id)
    with_markup = await bot.edit_message_reply_markup(
        fake_user.id, sent.message_id, reply_markup=keyboard
    )
    assert with_markup.reply_markup == keyboard
    with pytest.raises(BadRequest, match="(?i)message to edit not found"):
        await bot.edit_message_text("x", fake_user.id, 999)
    assert fake_api.last_bot_message(fake_user.id)["text"] == "Langkah 2"
    assert [m["method"] for m in fake_api.sent_messages()] == ["sendMessage", "editMessageText"]


async def test_wait_for_reports_what_was_sent(
    bot: Bot, fake_api: FakeBotApi, fake_user: FakeUser
) -> None:
    await bot.send_message(fake_user.id, "Selamat datang")
    [call] = await fake_api.wait_for("sendMessage", lambda c: "datang" in c.params["text"])
    assert call.ok and call.result["message_id"] == 1

    with pytest.raises(AssertionError) as info:
        await fake_api.wait_for("sendPhoto", timeout=0.2)
    message = str(info.value)
    assert "sendPhoto" in message and "Selamat datang" in message

    later = asyncio.get_running_loop().call_later(
        0.1, lambda: asyncio.ensure_future(bot.send_message(fake_user.id, "kedua"))
    )
    calls = await fake_api.wait_for("sendMessage", count=2, timeout=3)
    assert [c.params["text"] for c in calls] == ["Selamat datang", "kedua"]
    later.cancel()


# ------------------------------------------------------------------ the real Application


async def _echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.effective_message.reply_text(f"echo: {update.effective_message.text}")


async def _on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.callback_query.answer()
    await update.callback_query.edit_message_text(f"dipilih: {update.callback_query.data}")


def _build_app(api: FakeBotApi) -> Application:
    app = (
        ApplicationBuilder()
        .token(api.token)
        .base_url(api.base_url)
        .base_file_url(api.base_file_url)
        .build()
    )
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, _echo))
    app.add_handler(CallbackQueryHandler(_on_button))
    return app


async def test_application_polling_echoes(fake_api: FakeBotApi, fake_user: FakeUser) -> None:
    application = _build_app(fake_api)
    async with application:
        await application.start()
        await application.updater.start_polling(poll_interval=0, timeout=1)
        try:
            fake_api.queue_text(fake_user, "halo bot")
            [reply] = await fake_api.wait_for("sendMessage", timeout=5)
            assert reply.params == {"chat_id": fake_user.id, "text": "echo: halo bot"}

            fake_api.queue_callback(fake_user, "paket_a")
            await fake_api.wait_for("answerCallbackQuery", timeout=5)
            [edit] = await fake_api.wait_for("editMessageText", timeout=5)
            assert edit.ok and edit.params["text"] == "dipilih: paket_a"
            assert edit.params["message_id"] == reply.result["message_id"]
        finally:
            await application.updater.stop()
            await application.stop()
    assert fake_api.server_errors == []
    assert fake_api.pending_updates == []  # Updater.stop confirmed the offset


async def test_application_webhook_receives_pushed_and_posted_updates(
    fake_api: FakeBotApi, fake_user: FakeUser
) -> None:
    port = _free_port()
    application = _build_app(fake_api)
    async with application:
        await application.start()
        await application.updater.start_webhook(
            listen="127.0.0.1",
            port=port,
            url_path="hook",
            webhook_url=f"http://127.0.0.1:{port}/hook",
            secret_token="rahasia",
        )
        try:
            assert fake_api.webhook["url"] == f"http://127.0.0.1:{port}/hook"
            with pytest.raises(Conflict):
                await application.bot.get_updates()
            # pushed by the fake, with the secret token header
            fake_api.queue_text(fake_user, "lewat webhook")
            await fake_api.wait_for("sendMessage", timeout=5)
            # POSTed by the test itself
            update = fake_api.make_update_json("text", fake_user, text="dipost manual")
            async with (
                aiohttp.ClientSession() as session,
                session.post(
                    f"http://127.0.0.1:{port}/hook",
                    json=update,
                    headers={"X-Telegram-Bot-Api-Secret-Token": "rahasia"},
                ) as response,
            ):
                assert response.status == 200
            await fake_api.wait_for("sendMessage", count=2, timeout=5)
        finally:
            await application.updater.stop()
            await application.stop()
    assert fake_api.sent_texts(fake_user.id) == ["echo: lewat webhook", "echo: dipost manual"]
    assert fake_api.webhook_errors == []


def test_make_update_json_is_a_valid_update(fake_user: FakeUser) -> None:
    bot_message = {
        "message_id": 7,
        "from": {"id": 1, "is_bot": True, "first_name": "Bot"},
        "chat": fake_user.private_chat(),
        "date": 0,
        "text": "pilih",
    }
    cases = [
        make_update_json("text", fake_user, update_id=1, text="/bantuan@umkm_bot"),
        make_update_json("callback", fake_user, update_id=2, data="x", message=bot_message),
        make_update_json("document", fake_user, update_id=3, file_name="a.pdf"),
        make_update_json("contact", fake_user, update_id=4),
    ]
    updates = [Update.de_json(data, None) for data in cases]
    assert updates[0].message.entities[0].length == len("/bantuan@umkm_bot")
    assert updates[1].callback_query.message.message_id == 7
    assert updates[2].message.document.mime_type == "application/pdf"
    assert updates[3].message.contact.user_id == fake_user.id
