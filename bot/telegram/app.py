"""python-telegram-bot front: thin handlers that turn updates into core input and replies into
Bot API calls. Everything the bot says comes from the core."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Awaitable
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
from telegram.constants import ChatAction, ParseMode
from telegram.error import TelegramError
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


async def send_replies(update: Update, context: ContextTypes.DEFAULT_TYPE, replies: list[Reply]) -> None:
    """Send the core's replies: long text split, buttons on the last part, edits for paging."""
    chat_id = update.effective_chat.id if update.effective_chat else None
    if chat_id is None:
        return
    pressed: Message | None = None
    if update.callback_query is not None and isinstance(update.callback_query.message, Message):
        pressed = update.callback_query.message
    for reply in replies:
        markup = _markup(reply)
        if reply.menu_button is not None and reply.menu_button.web_app_url:
            menu = MenuButtonWebApp(reply.menu_button.label, WebAppInfo(url=reply.menu_button.web_app_url))
            await _best_effort(context.bot.set_chat_menu_button(chat_id, menu), "setChatMenuButton")
        if reply.attachment is not None:
            file = InputFile(reply.attachment.content, filename=reply.attachment.filename)
            if reply.attachment.kind == "photo":
                await context.bot.send_photo(chat_id, file, caption=reply.text[:1024], reply_markup=markup)
            else:
                await context.bot.send_document(chat_id, file, caption=reply.text[:1024], reply_markup=markup)
            continue
        parts = split_message(reply.text)
        if reply.edit and pressed is not None and len(parts) == 1:
            await pressed.edit_text(parts[0], reply_markup=markup)
            continue
        for n, part in enumerate(parts):
            last = n == len(parts) - 1
            await context.bot.send_message(chat_id, part, reply_markup=markup if last else None)


async def _best_effort(call: Awaitable[Any], what: str) -> None:
    """Non-essential Bot API calls (typing, answering a button) must not stop the answer."""
    try:
        await call
    except TelegramError as exc:
        log.warning("%s failed: %s", what, exc)


def make_handler(conversation: Conversation):  # type: ignore[no-untyped-def]
    """The one update handler: claim the update id, call the core in a worker thread, reply."""

    async def handle(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        incoming = to_incoming(update)
        if incoming is None:
            return
        if not await asyncio.to_thread(conversation.first_delivery, update.update_id):
            log.info("update %s already handled; skipped", update.update_id)
            return
        if update.callback_query is not None:
            await _best_effort(update.callback_query.answer(), "answerCallbackQuery")
        elif incoming.kind == "text" and update.effective_chat is not None:
            await _best_effort(
                context.bot.send_chat_action(update.effective_chat.id, ChatAction.TYPING), "sendChatAction"
            )
        # Encoding, FAISS and the database block: keep them off the event loop.
        replies = await asyncio.to_thread(conversation.handle, incoming)
        await send_replies(update, context, replies)

    return handle


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the failure and tell the user; their message stays in the question log or the chat."""
    log.error("update handling failed", exc_info=context.error)
    if isinstance(update, Update) and update.effective_chat is not None:
        language = (update.effective_user.language_code if update.effective_user else None) or ""
        locale = "en" if language.startswith("en") else "id"
        await _best_effort(
            context.bot.send_message(update.effective_chat.id, render(locale, "error")), "error reply"
        )


def build_application(settings: Settings, conversation: Conversation, token: str) -> Application:
    """The python-telegram-bot Application with every handler wired."""

    async def post_init(application: Application) -> None:
        # The menu in each language, from the routing table's commands marked for it.
        names = [route.names[0] for route in conversation.routes.commands if route.menu]
        for locale in LOCALES:
            commands = [BotCommand(name, label(locale, "menu_command", name)) for name in names]
            await _best_effort(
                application.bot.set_my_commands(commands, language_code=None if locale == "id" else locale),
                "setMyCommands",
            )

    application = (
        ApplicationBuilder()
        .token(token)
        .base_url(settings.telegram_base_url)
        .base_file_url(settings.telegram_base_file_url)
        .defaults(Defaults(parse_mode=ParseMode.HTML))
        .rate_limiter(AIORateLimiter(max_retries=2))
        .concurrent_updates(PerUserUpdateProcessor(settings.telegram.concurrent_updates))
        .post_init(post_init)
        .build()
    )
    handler = make_handler(conversation)
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
