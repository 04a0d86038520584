"""The Telegram channel: python-telegram-bot's Bot, one outbox row at a time, every Bot API
answer mapped to an outcome the worker acts on (retry, wait, give up, or report as uncertain)."""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Sequence
from datetime import timedelta

import httpx
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.request import HTTPXRequest

from bot.config import Settings
from bot.delivery.message import OutgoingMessage, SendOutcome, Status
from bot.delivery.plain import html_to_plain, utf16_length

__all__ = ["TelegramSender", "classify_error", "telegram_sender"]

log = logging.getLogger(__name__)

CAPTION_LIMIT = 1024
# Errors raised before a byte of the request left: safe to send again.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.ProxyError)
# 400 answers that mean the chat is gone for good, like a 403.
_GONE = ("chat not found", "user not found", "peer_id_invalid", "bot was kicked", "chat_write_forbidden")


# Requests per connection pool. httpcore looks at every connection of its pool (a socket
# check each) whenever a request starts or ends, so one pool of 16 connections costs about
# twice the CPU per request of eight pools of two (measured on loopback: 1.9 ms vs 0.9 ms).
LANE_SIZE = 2


def telegram_sender(settings: Settings, token: str) -> TelegramSender:
    """A sender with its own Bots and connection pools: base URLs from [telegram], timeouts and
    paid broadcasts from [delivery]. Call `start()` before and `close()` after sending."""
    d = settings.delivery
    bots = []
    for _ in range(math.ceil(d.max_in_flight / LANE_SIZE)):
        request = HTTPXRequest(
            connection_pool_size=LANE_SIZE,
            connect_timeout=d.connect_timeout,
            read_timeout=d.read_timeout,
            write_timeout=d.read_timeout,
            media_write_timeout=max(d.read_timeout, 20.0),
            pool_timeout=d.connect_timeout,
        )
        bot = Bot(
            token,
            base_url=settings.telegram_base_url,
            base_file_url=settings.telegram_base_file_url,
            request=request,
        )
        bots.append((bot, request))
    return TelegramSender(bots, paid_broadcast=d.paid_broadcast, token=token)


class TelegramSender:
    """Sends outbox rows with `telegram.Bot` (HTML, inline buttons, documents). No retries of
    its own except the two the Bot API asks for: a migrated chat is followed once, and a text
    whose HTML Telegram cannot parse is sent once more as plain text.

    Holds one or more Bots ("lanes", each with a small connection pool; see LANE_SIZE) and
    sends each message through the least busy one."""

    channel = "telegram"

    def __init__(
        self,
        bots: Bot | Sequence[tuple[Bot, HTTPXRequest | None]],
        *,
        paid_broadcast: bool = False,
        token: str = "",
    ) -> None:
        lanes = [(bots, None)] if isinstance(bots, Bot) else list(bots)
        self._lanes = [_Lane(bot, request) for bot, request in lanes]
        self._paid = paid_broadcast
        self._token = token

    @property
    def bot(self) -> Bot:
        return self._lanes[0].bot

    async def start(self) -> None:
        # Only the HTTP clients: Bot.initialize() would call getMe, and its error names the token.
        for lane in self._lanes:
            if lane.request is not None:
                await lane.request.initialize()

    async def close(self) -> None:
        for lane in self._lanes:
            if lane.request is not None:
                await lane.request.shutdown()

    async def send(self, message: OutgoingMessage) -> SendOutcome:
        chat_id = message.chat_id
        migrated: str | None = None
        plain = False
        first = True
        while True:
            if not first:
                await message.pace()  # the extra request needs its own rate permit
            first = False
            lane = min(self._lanes, key=lambda candidate: candidate.busy)
            lane.busy += 1
            try:
                message_id = await self._deliver(lane.bot, message, chat_id, plain=plain)
            except ChatMigrated as exc:
                if migrated is not None:
                    return SendOutcome(Status.FAILED, error="chat migrated twice", chat_id=migrated)
                migrated = chat_id = str(exc.new_chat_id)
                continue
            except BadRequest as exc:
                if not plain and "can't parse entities" in exc.message.lower():
                    plain = True
                    continue
                outcome = classify_error(exc)
            except TelegramError as exc:
                outcome = classify_error(exc)
            else:
                return SendOutcome.sent(message_id, chat_id=migrated)
            finally:
                lane.busy -= 1
            return SendOutcome(
                outcome.status,
                error=self._redact(outcome.error),
                retry_after=outcome.retry_after,
                chat_id=migrated,
            )

    async def _deliver(self, bot: Bot, message: OutgoingMessage, chat_id: str, *, plain: bool) -> int:
        """One or two requests; the id of the message a reply would answer (the text)."""
        text = html_to_plain(message.text) if plain else message.text
        parse_mode = None if plain else ParseMode.HTML
        markup = _markup(message)
        target: int | str = int(chat_id) if chat_id.lstrip("-").isdigit() else chat_id
        extra = {"allow_paid_broadcast": True} if self._paid else {}
        document = message.document
        if document is None:
            sent = await bot.send_message(target, text, parse_mode=parse_mode, reply_markup=markup, **extra)
            return _id(sent)
        caption_length = utf16_length(text if plain else html_to_plain(text))
        if caption_length <= CAPTION_LIMIT:
            sent = await bot.send_document(
                target,
                document.content,
                filename=document.filename,
                caption=text or None,
                parse_mode=parse_mode if text else None,
                reply_markup=markup,
                **extra,
            )
            return _id(sent)
        # Too long for a caption: the text (with the buttons), then the file. A failure of the
        # file after the text arrived is reported, not retried (a retry would repeat the text).
        first = await bot.send_message(target, text, parse_mode=parse_mode, reply_markup=markup, **extra)
        await message.pace()
        try:
            await bot.send_document(target, document.content, filename=document.filename, **extra)
        except TelegramError as exc:
            raise _DocumentAfterText(classify_error(exc)) from exc
        return _id(first)

    def _redact(self, text: str) -> str:
        return text.replace(self._token, "<token>") if self._token else text


class _Lane:
    """One Bot with its own connection pool, and how many requests it has in flight."""

    def __init__(self, bot: Bot, request: HTTPXRequest | None) -> None:
        self.bot = bot
        self.request = request
        self.busy = 0


class _DocumentAfterText(TelegramError):
    """The text went out but its document did not; never retried as a whole."""

    def __init__(self, outcome: SendOutcome) -> None:
        super().__init__(f"text sent, document not: {outcome.error}")
        self.outcome = outcome


def _id(sent: Message) -> int:
    return sent.message_id


def _markup(message: OutgoingMessage) -> InlineKeyboardMarkup | None:
    if not message.buttons:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.label, callback_data=b.data) for b in row] for row in message.buttons]
    )


def _retry_after_seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB warns about int time periods on this property
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def classify_error(exc: TelegramError) -> SendOutcome:
    """Map one Bot API error (or a transport error PTB wrapped) to what the worker should do."""
    name = type(exc).__name__
    if isinstance(exc, _DocumentAfterText):
        status = Status.UNCERTAIN if exc.outcome.status is Status.UNCERTAIN else Status.FAILED
        return SendOutcome.of(status, exc.message)
    if isinstance(exc, RetryAfter):
        seconds = _retry_after_seconds(exc)
        return SendOutcome.rate_limited(seconds, f"429 retry after {seconds:g}s")
    if isinstance(exc, Forbidden):
        return SendOutcome.of(Status.BLOCKED, f"403 {exc.message}")
    if isinstance(exc, BadRequest):
        text = exc.message.lower()
        if any(marker in text for marker in _GONE):
            return SendOutcome.of(Status.BLOCKED, f"400 {exc.message}")
        if "can't parse entities" in text:  # the rest quotes a piece of the message
            return SendOutcome.of(Status.FAILED, "400 can't parse entities")
        return SendOutcome.of(Status.FAILED, f"400 {exc.message}")
    if isinstance(exc, InvalidToken):
        # Our configuration, not the message: keep it for a retry once the token is fixed.
        return SendOutcome.of(Status.RETRY, "the Bot API refused the token")
    if isinstance(exc, Conflict):
        return SendOutcome.of(Status.FAILED, f"409 {exc.message}")
    cause = exc.__cause__
    if isinstance(exc, TimedOut | NetworkError):
        if isinstance(cause, _NOT_SENT):
            return SendOutcome.of(Status.RETRY, f"{type(cause).__name__} (not sent)")
        if isinstance(cause, httpx.HTTPError) or isinstance(exc, TimedOut):
            # The request may have reached Telegram: a resend could make a second copy.
            what = type(cause).__name__ if cause is not None else name
            return SendOutcome.of(Status.UNCERTAIN, f"{what} after the request was sent")
        if cause is None:
            # The server answered with a 5xx: nothing was delivered.
            return SendOutcome.of(Status.RETRY, f"server error: {exc.message}")
        return SendOutcome.of(Status.UNCERTAIN, f"{name}: {type(cause).__name__}")
    return SendOutcome.of(Status.FAILED, f"{name}: {exc.message}")
