"""python-telegram-bot front: thin handlers that turn updates into core input and replies into
Bot API calls. Everything the bot says comes from the core."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import (
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    MenuButtonWebApp,
    Message,
    Update,
    WebAppInfo,
)
from telegram import User as TelegramUser
from telegram.constants import ChatAction, ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    BaseUpdateProcessor,
    CallbackQueryHandler,
    ContextTypes,
    Defaults,
    MessageHandler,
    filters,
)

from bot.config import Settings
from bot.core import Conversation, Incoming, Reply, UserRef
from bot.core.messages import Button, split_message
from bot.delivery.message import Status
from bot.delivery.plain import html_to_plain
from bot.delivery.service import BackgroundDelivery
from bot.delivery.telegram_sender import classify_error
from bot.rendering import LOCALES, label, render

log = logging.getLogger(__name__)
CHANNEL = "telegram"


class PerUserUpdateProcessor(BaseUpdateProcessor):
    """Different users' updates run concurrently; one user's updates run in arrival order."""

    def __init__(self, max_concurrent_updates: int) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: defaultdict[object, asyncio.Lock] = defaultdict(asyncio.Lock)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = _user_key(update)
        lock = self._locks[key]
        try:
            async with lock:
                await coroutine
        finally:
            if not lock.locked() and not getattr(lock, "_waiters", None):
                self._locks.pop(key, None)

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        self._locks.clear()


def _user_key(update: object) -> object:
    if isinstance(update, Update) and update.effective_user is not None:
        return update.effective_user.id
    return id(update)  # updates without a user have nothing to keep in order with


def to_incoming(update: Update) -> Incoming | None:
    """The core's view of an update, or None for updates the bot ignores (edits, channels)."""
    user = update.effective_user
    if user is None:
        return None
    ref = UserRef(CHANNEL, str(user.id), user.first_name, user.language_code)
    if update.callback_query is not None:
        return Incoming(ref, "button", data=update.callback_query.data or "")
    message = update.message
    if message is None:
        return None
    if message.text is not None:
        text = message.text
        if text.startswith("/") and len(text) > 1:
            command, _, args = text[1:].partition(" ")
            return Incoming(ref, "command", command=command.split("@")[0].lower(), args=args.strip())
        replied = message.reply_to_message
        return Incoming(ref, "text", text=text, reply_to=None if replied is None else replied.message_id)
    for kind in ("photo", "sticker", "voice", "audio", "video", "video_note", "document", "location", "contact"):
        if getattr(message, kind, None):
            return Incoming(ref, "media", media=kind, text=message.caption or "")
    return Incoming(ref, "media", media="other", text=message.caption or "")


def _markup(reply: Reply) -> InlineKeyboardMarkup | None:
    if not reply.buttons:
        return None
    return InlineKeyboardMarkup([[_button(b) for b in row] for row in reply.buttons])


def _button(button: Button) -> InlineKeyboardButton:
    if button.kind == "url":
        return InlineKeyboardButton(button.label, url=button.url)
    if button.kind == "web_app":
        return InlineKeyboardButton(button.label, web_app=WebAppInfo(url=button.web_app_url or ""))
    return InlineKeyboardButton(button.label, callback_data=button.data)


async def _send_one(
    context: ContextTypes.DEFAULT_TYPE, chat_id: int, reply: Reply, pressed: Message | None, *, plain: bool
) -> None:
    """One reply: long text split (buttons on the last part), an edit for paging, a file."""
    markup = _markup(reply)
    text = html_to_plain(reply.text) if plain else reply.text
    mode = None if plain else ParseMode.HTML
    if reply.menu_button is not None and reply.menu_button.web_app_url:
        menu = MenuButtonWebApp(reply.menu_button.label, WebAppInfo(url=reply.menu_button.web_app_url))
        await _best_effort(context.bot.set_chat_menu_button(chat_id, menu), "setChatMenuButton")
    if reply.attachment is not None:
        file = InputFile(reply.attachment.content, filename=reply.attachment.filename)
        send = context.bot.send_photo if reply.attachment.kind == "photo" else context.bot.send_document
        await send(chat_id, file, caption=text[:1024], reply_markup=markup, parse_mode=mode)
        return
    parts = split_message(text)
    if reply.edit and pressed is not None and len(parts) == 1:
        await pressed.edit_text(parts[0], reply_markup=markup, parse_mode=mode)
        return
    for n, part in enumerate(parts):
        last = n == len(parts) - 1
        await context.bot.send_message(chat_id, part, reply_markup=markup if last else None, parse_mode=mode)


async def send_replies(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    replies: list[Reply],
    conversation: Conversation | None = None,
    on_queued: Callable[[], None] | None = None,
) -> None:
    """Send the core's replies to the person who wrote. HTML Telegram cannot parse goes once more
    as plain text; when Telegram is down or the connection breaks, what is left goes to the
    outbox and arrives once the fault clears; a user who blocked the bot is marked."""
    chat_id = update.effective_chat.id if update.effective_chat else None
    if chat_id is None:
        return
    pressed: Message | None = None
    if update.callback_query is not None and isinstance(update.callback_query.message, Message):
        pressed = update.callback_query.message
    for index, reply in enumerate(replies):
        try:
            try:
                await _send_one(context, chat_id, reply, pressed, plain=False)
            except BadRequest as exc:
                if "can't parse entities" not in exc.message.lower():
                    raise
                log.warning("update %s: reply HTML refused, sent as plain text", update.update_id)
                await _send_one(context, chat_id, reply, pressed, plain=True)
        except TelegramError as exc:
            outcome = classify_error(exc)
            if outcome.status is Status.RETRY and conversation is not None and update.effective_user is not None:
                ref = _ref(update.effective_user)
                queued = await asyncio.to_thread(
                    conversation.queue_replies, ref, replies[index:], f"reply:{update.update_id}"
                )
                log.warning(
                    "update %s: %d reply(ies) left for the outbox (%s)", update.update_id, queued, outcome.error
                )
                if on_queued is not None:
                    on_queued()
                return
            if outcome.status is Status.BLOCKED and conversation is not None and update.effective_user is not None:
                await asyncio.to_thread(conversation.mark_blocked, _ref(update.effective_user))
                return
            # Uncertain (it may have arrived) or refused for good: never sent twice.
            log.warning("update %s: a reply was not confirmed (%s)", update.update_id, outcome.error)


def _ref(user: TelegramUser) -> UserRef:
    return UserRef(CHANNEL, str(user.id), user.first_name, user.language_code)


async def _best_effort(call: Awaitable[Any], what: str) -> None:
    """Non-essential Bot API calls (typing, answering a button) must not stop the answer."""
    try:
        await call
    except TelegramError as exc:
        log.warning("%s failed: %s", what, exc)


def make_handler(conversation: Conversation, on_queued: Callable[[], None] | None = None):  # type: ignore[no-untyped-def]
    """The one update handler: call the core in a worker thread (which claims the update id in
    the same transaction), reply; `on_queued` wakes the in-process delivery worker."""

    async def handle(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        incoming = to_incoming(update)
        if incoming is None:
            return
        if update.callback_query is not None:
            await _best_effort(update.callback_query.answer(), "answerCallbackQuery")
        elif incoming.kind == "text" and update.effective_chat is not None:
            await _best_effort(
                context.bot.send_chat_action(update.effective_chat.id, ChatAction.TYPING), "sendChatAction"
            )
        # Encoding, FAISS and the database block: keep them off the event loop.
        replies = await asyncio.to_thread(conversation.handle, incoming, update.update_id)
        if replies is None:
            log.info("update %s already handled; skipped", update.update_id)
            return
        if on_queued is not None:
            on_queued()  # the unit of work may have queued messages for others
        await send_replies(update, context, replies, conversation, on_queued)

    return handle


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the failure with the update id (no names, no texts) and tell the user; their update
    was not marked handled, so nothing is half-done."""
    update_id = update.update_id if isinstance(update, Update) else None
    log.error("update %s failed: %s", update_id, type(context.error).__name__, exc_info=context.error)
    if isinstance(update, Update) and update.effective_chat is not None:
        language = (update.effective_user.language_code if update.effective_user else None) or ""
        locale = "en" if language.startswith("en") else "id"
        await _best_effort(context.bot.send_message(update.effective_chat.id, render(locale, "error")), "error reply")


def build_application(
    settings: Settings, conversation: Conversation, token: str, background: BackgroundDelivery | None = None
) -> Application:
    """The python-telegram-bot Application with every handler wired; `background` (the outbox
    worker and the scheduler) starts and stops with it."""

    async def post_init(application: Application) -> None:
        if not settings.bot_username and application.bot.username:
            settings.telegram.bot_username = application.bot.username  # for t.me join links
        if background is not None:
            await background.start()
        # The menu in each language, from the routing table's commands marked for it.
        names = [route.names[0] for route in conversation.routes.commands if route.menu]
        for locale in LOCALES:
            commands = [BotCommand(name, label(locale, "menu_command", name)) for name in names]
            await _best_effort(
                application.bot.set_my_commands(commands, language_code=None if locale == "id" else locale),
                "setMyCommands",
            )

    async def post_shutdown(application: Application) -> None:
        if background is not None:
            await background.stop()

    application = (
        ApplicationBuilder()
        .token(token)
        .base_url(settings.telegram_base_url)
        .base_file_url(settings.telegram_base_file_url)
        .defaults(Defaults(parse_mode=ParseMode.HTML))
        .rate_limiter(AIORateLimiter(max_retries=2))
        .concurrent_updates(PerUserUpdateProcessor(settings.telegram.concurrent_updates))
        .post_init(post_init)
        .post_shutdown(post_shutdown)
        .build()
    )
    handler = make_handler(conversation, None if background is None else background.wake)
    application.add_handler(CallbackQueryHandler(handler))
    application.add_handler(MessageHandler(filters.ALL & ~filters.UpdateType.EDITED, handler))
    application.add_error_handler(on_error)
    return application


def silence_token_logging() -> None:
    """Keep the bot token out of logs: httpx logs request URLs (token included) at INFO, and
    python-telegram-bot logs its base URL and every request's parameters at DEBUG."""
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    logging.getLogger("telegram").setLevel(logging.INFO)
