"""python-telegram-bot front: thin handlers that turn updates into core input and replies into
Bot API calls. Everything the bot says comes from the core."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import BotCommand, Update
from telegram.constants import ChatAction, ParseMode
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
from bot.core import Conversation, Incoming
from bot.core.messages import clean_text
from bot.delivery.service import BackgroundDelivery
from bot.rendering import LOCALES, label, render
from bot.telegram.polling import HandledUpdates
from bot.telegram.private import in_private_chat, outside_private_chat
from bot.telegram.replies import CHANNEL, best_effort, send_replies, user_ref

__all__ = [
    "ALLOWED_UPDATES",
    "CHANNEL",
    "PerUserUpdateProcessor",
    "build_application",
    "make_handler",
    "on_error",
    "send_replies",
    "silence_token_logging",
    "to_incoming",
]

log = logging.getLogger(__name__)
# What the bot asks Telegram for, polling and webhook alike: new messages and button presses.
# Edited messages are not asked for (the bot answered the original; answering an edit would
# answer twice), nor channel posts or membership changes (nothing there for the bot).
ALLOWED_UPDATES = ["message", "callback_query"]


class PerUserUpdateProcessor(BaseUpdateProcessor):
    """Different users' updates run concurrently; one user's updates run in arrival order.
    `on_finished(update_id)` is called once an update's handling is over, replied or failed
    (polling confirms it to Telegram only then, see bot/telegram/polling.py)."""

    def __init__(self, max_concurrent_updates: int, on_finished: Callable[[int], None] | None = None) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: defaultdict[object, asyncio.Lock] = defaultdict(asyncio.Lock)
        self.on_finished = on_finished

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = _user_key(update)
        lock = self._locks[key]
        try:
            async with lock:
                await coroutine
        finally:
            if not lock.locked() and not getattr(lock, "_waiters", None):
                self._locks.pop(key, None)
            if self.on_finished is not None and isinstance(update, Update):
                self.on_finished(update.update_id)

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        self._locks.clear()


def _user_key(update: object) -> object:
    if isinstance(update, Update) and update.effective_user is not None:
        return update.effective_user.id
    return id(update)  # updates without a user have nothing to keep in order with


def to_incoming(update: Update) -> Incoming | None:
    """The core's view of an update from a private chat, or None for updates the bot ignores
    (edits, channel posts, anything without a person). Text is cleaned of what cannot be stored."""
    user = update.effective_user
    if user is None or not in_private_chat(update):
        return None
    ref = user_ref(user)
    if update.callback_query is not None:
        return Incoming(ref, "button", data=clean_text(update.callback_query.data or ""))
    message = update.message
    if message is None:
        return None
    if message.text is not None:
        text = clean_text(message.text)
        if text.startswith("/") and len(text) > 1:
            command, _, args = text[1:].partition(" ")
            return Incoming(ref, "command", command=command.split("@")[0].lower(), args=args.strip())
        replied = message.reply_to_message
        return Incoming(ref, "text", text=text, reply_to=None if replied is None else replied.message_id)
    caption = clean_text(message.caption or "")
    for kind in ("photo", "sticker", "voice", "audio", "video", "video_note", "document", "location", "contact"):
        if getattr(message, kind, None):
            return Incoming(ref, "media", media=kind, text=caption)
    return Incoming(ref, "media", media="other", text=caption)


def make_handler(  # type: ignore[no-untyped-def]
    conversation: Conversation, on_queued: Callable[[], None] | None = None, *, typing_after: float = 0.0
):
    """The one update handler: call the core in a worker thread (which claims the update id in
    the same transaction), reply; `on_queued` wakes the in-process delivery worker. A text whose
    answer takes longer than `typing_after` seconds shows "typing…" meanwhile (0: before handling it)."""

    async def handle(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if not in_private_chat(update):
            await outside_private_chat(update, context)
            return
        incoming = to_incoming(update)
        if incoming is None:
            return
        if update.callback_query is not None:
            await best_effort(update.callback_query.answer(), "answerCallbackQuery")
        chat = update.effective_chat
        show_typing = update.callback_query is None and incoming.kind == "text" and chat is not None
        if show_typing and typing_after <= 0:
            await best_effort(context.bot.send_chat_action(chat.id, ChatAction.TYPING), "sendChatAction")
        queued = conversation.queued_units
        # Encoding, FAISS and the database block: keep them off the event loop.
        work = asyncio.ensure_future(asyncio.to_thread(conversation.handle, incoming, update.update_id))
        if show_typing and typing_after > 0:
            await asyncio.wait({work}, timeout=typing_after)
            if not work.done():
                await best_effort(context.bot.send_chat_action(chat.id, ChatAction.TYPING), "sendChatAction")
        replies = await work
        if replies is None:
            log.info("update %s already handled; skipped", update.update_id)
            return
        if on_queued is not None and conversation.queued_units != queued:
            on_queued()  # the unit of work (or one beside it) queued messages for others
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
        await best_effort(context.bot.send_message(update.effective_chat.id, render(locale, "error")), "error reply")


def build_application(
    settings: Settings,
    conversation: Conversation,
    token: str,
    background: BackgroundDelivery | None = None,
    handled: HandledUpdates | None = None,
) -> Application:
    """The python-telegram-bot Application with every handler wired; `background` (the outbox
    worker and the scheduler) starts and stops with it; `handled` learns when each update is
    finished (for `serve_polling`)."""

    async def post_init(application: Application) -> None:
        if not settings.bot_username and application.bot.username:
            settings.telegram.bot_username = application.bot.username  # for t.me join links
        if background is not None:
            await background.start()
        # The menu in each language, from the routing table's commands marked for it.
        names = [route.names[0] for route in conversation.routes.commands if route.menu]
        for locale in LOCALES:
            commands = [BotCommand(name, label(locale, "menu_command", name)) for name in names]
            await best_effort(
                application.bot.set_my_commands(commands, language_code=None if locale == "id" else locale),
                "setMyCommands",
            )

    async def post_shutdown(application: Application) -> None:
        if background is not None:
            await background.stop()

    t = settings.telegram
    application = (
        ApplicationBuilder()
        .token(token)
        .base_url(settings.telegram_base_url)
        .base_file_url(settings.telegram_base_file_url)
        # A reply whose answer is slower than this is not resent (it may have arrived).
        .connect_timeout(t.connect_timeout)
        .read_timeout(t.read_timeout)
        .write_timeout(t.read_timeout)
        .connection_pool_size(t.connection_pool_size)
        # Waiting for a free connection is not a failure: with 64 updates at once, replies queue here.
        .pool_timeout(t.read_timeout)
        .media_write_timeout(max(t.read_timeout, 20.0))
        .defaults(Defaults(parse_mode=ParseMode.HTML))
        .rate_limiter(AIORateLimiter(max_retries=2))
        .concurrent_updates(
            PerUserUpdateProcessor(t.concurrent_updates, None if handled is None else handled.finished)
        )
        .post_init(post_init)
        .post_shutdown(post_shutdown)
        .build()
    )
    handler = make_handler(
        conversation, None if background is None else background.wake, typing_after=settings.telegram.typing_after
    )
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
