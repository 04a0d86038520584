"""Sending the core's replies to the person who wrote, one Bot API request at a time, so that a
fault part-way loses nothing and repeats nothing: what was sent stays sent, what Telegram could
not take now goes to the outbox (each piece under Telegram's limits), refused HTML goes once more
as plain text, and a person who blocked the bot is marked."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from functools import partial
from typing import Any

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    MenuButtonWebApp,
    Message,
    Update,
    WebAppInfo,
)
from telegram import User as TelegramUser
from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import ContextTypes

from bot.core import Conversation, Reply, UserRef
from bot.core.messages import Button, split_message
from bot.delivery.message import Status
from bot.delivery.plain import html_to_plain
from bot.delivery.telegram_sender import classify_error

__all__ = ["CHANNEL", "best_effort", "pieces", "send_replies", "user_ref"]

log = logging.getLogger(__name__)
CHANNEL = "telegram"
CAPTION_LIMIT = 1024


def user_ref(user: TelegramUser) -> UserRef:
    """The core's view of a Telegram user."""
    return UserRef(CHANNEL, str(user.id), user.first_name, user.language_code)


def pieces(replies: list[Reply], *, can_edit: bool) -> list[Reply]:
    """The replies as one Reply per Bot API request: a long text split under the limit (buttons on
    the last part, the menu button with the first), a file, or an edit of the pressed message."""
    out: list[Reply] = []
    for reply in replies:
        if reply.attachment is not None:
            out.append(reply)
            continue
        parts = split_message(reply.text)
        if reply.edit and can_edit and len(parts) == 1:
            out.append(replace(reply, text=parts[0]))
            continue
        for n, part in enumerate(parts):
            last = n == len(parts) - 1
            out.append(
                Reply(
                    part,
                    buttons=reply.buttons if last else (),
                    menu_button=reply.menu_button if n == 0 else None,
                )
            )
    return out


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


async def _send_piece(
    context: ContextTypes.DEFAULT_TYPE, chat_id: int, piece: Reply, pressed: Message | None, *, plain: bool
) -> None:
    """One request: an edit for paging, a file with its caption, or one text part."""
    markup = _markup(piece)
    text = html_to_plain(piece.text) if plain else piece.text
    mode = None if plain else ParseMode.HTML
    if piece.menu_button is not None and piece.menu_button.web_app_url:
        menu = MenuButtonWebApp(piece.menu_button.label, WebAppInfo(url=piece.menu_button.web_app_url))
        await best_effort(context.bot.set_chat_menu_button(chat_id, menu), "setChatMenuButton")
    if piece.attachment is not None:
        file = InputFile(piece.attachment.content, filename=piece.attachment.filename)
        send = context.bot.send_photo if piece.attachment.kind == "photo" else context.bot.send_document
        await send(chat_id, file, caption=text[:CAPTION_LIMIT], reply_markup=markup, parse_mode=mode)
        return
    if piece.edit and pressed is not None:
        await pressed.edit_text(text, reply_markup=markup, parse_mode=mode)
        return
    await context.bot.send_message(chat_id, text, reply_markup=markup, parse_mode=mode)


async def send_replies(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    replies: list[Reply],
    conversation: Conversation | None = None,
    on_queued: Callable[[], None] | None = None,
) -> None:
    """Send the core's replies to the person who wrote, piece by piece. HTML Telegram cannot
    parse goes once more as plain text; when Telegram is down or the connection breaks before the
    request left, the pieces not yet sent go to the outbox and arrive once the fault clears; a
    user who blocked the bot is marked. A piece that may have arrived (the answer was lost) or
    that Telegram refused for good is logged and never sent twice."""
    chat_id = update.effective_chat.id if update.effective_chat else None
    if chat_id is None:
        return
    pressed: Message | None = None
    if update.callback_query is not None and isinstance(update.callback_query.message, Message):
        pressed = update.callback_query.message
    todo = pieces(replies, can_edit=pressed is not None)
    for index, piece in enumerate(todo):
        try:
            try:
                await _send_piece(context, chat_id, piece, pressed, plain=False)
            except BadRequest as exc:
                if "can't parse entities" not in exc.message.lower():
                    raise
                log.warning("update %s: reply HTML refused, sent as plain text", update.update_id)
                await _send_piece(context, chat_id, piece, pressed, plain=True)
        except TelegramError as exc:
            outcome = classify_error(exc)
            user = update.effective_user
            later = outcome.status in (Status.RETRY, Status.RATE_LIMITED)
            if later and conversation is not None and user is not None:
                # An edit that could not be made arrives as a new message instead.
                rest = [replace(p, edit=False) for p in todo[index:]]
                queued = await asyncio.to_thread(
                    partial(conversation.queue_replies, wait_seconds=outcome.retry_after or 0),
                    user_ref(user),
                    rest,
                    f"reply:{update.update_id}:{index}",
                )
                log.warning(
                    "update %s: %d reply piece(s) left for the outbox (%s)", update.update_id, queued, outcome.error
                )
                if on_queued is not None:
                    on_queued()
                return
            if outcome.status is Status.BLOCKED and conversation is not None and user is not None:
                await asyncio.to_thread(conversation.mark_blocked, user_ref(user))
                log.warning("update %s: the chat is gone or blocked the bot (%s)", update.update_id, outcome.error)
                return
            # Uncertain (it may have arrived) or refused for good: never sent twice.
            log.warning("update %s: a reply piece was not confirmed (%s)", update.update_id, outcome.error)


async def best_effort(call: Awaitable[Any], what: str) -> None:
    """Non-essential Bot API calls (typing, answering a button) must not stop the answer."""
    try:
        await call
    except TelegramError as exc:
        log.warning("%s failed: %s", what, exc)
