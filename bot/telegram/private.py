"""Where the bot talks: only in a private chat with the person. Everything it says may carry
that person's data (a profile, figures, an export), so in a group, a supergroup or a channel it
stores nothing and answers only a command, with a short "talk to me privately"; every other
message there, and any button pressed there, gets silence."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import ContextTypes

from bot.rendering import render
from bot.telegram.replies import best_effort

__all__ = ["in_private_chat", "outside_private_chat"]

log = logging.getLogger(__name__)


def in_private_chat(update: Update) -> bool:
    """True for an update from a person in their private chat with the bot."""
    chat = update.effective_chat
    return chat is not None and chat.type == ChatType.PRIVATE and update.effective_user is not None


async def outside_private_chat(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A group, supergroup or channel update: nothing is read into the core or stored."""
    if update.callback_query is not None:
        # Not a message of ours (the bot never writes to groups): stop the spinner, say nothing.
        await best_effort(update.callback_query.answer(), "answerCallbackQuery")
        return
    message = update.message
    chat = update.effective_chat
    if message is None or chat is None or not (message.text or "").startswith("/"):
        return
    language = (update.effective_user.language_code if update.effective_user else None) or ""
    locale = "en" if language.startswith("en") else "id"
    log.info("update %s: a command in a %s chat, pointed to the private chat", update.update_id, chat.type)
    text = render(locale, "private_only", username=context.bot.username or "")
    await best_effort(context.bot.send_message(chat.id, text), "private-only reply")
