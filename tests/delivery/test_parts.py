"""The small parts on their own: payload decoding, plain text, backoff, and how each Bot API or
transport error maps to an outcome (real python-telegram-bot and httpx exception objects)."""

from __future__ import annotations

import base64
import random

import httpx
import pytest
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)

from bot.delivery import Button, OutgoingMessage, PayloadError, Status
from bot.delivery.backoff import backoff_delay
from bot.delivery.plain import html_to_plain, utf16_length
from bot.delivery.telegram_sender import classify_error


def _wrapped(outer: Exception, cause: Exception) -> Exception:
    """What PTB raises: its own error with the httpx error as __cause__."""
    outer.__cause__ = cause
    return outer


def test_a_payload_decodes_text_buttons_and_document() -> None:
    payload = {
        "text": "<b>Halo</b>",
        "buttons": [[{"label": "Ya", "data": "y"}, {"label": "Tidak", "data": "n"}], []],
        "document": {"filename": "a.csv", "base64": base64.b64encode(b"x,y\n").decode()},
    }
    message = OutgoingMessage.from_payload(7, "telegram", "42", "reply", payload, attempts=2)
    assert message.buttons == ((Button("Ya", "y"), Button("Tidak", "n")),)
    assert message.document is not None and message.document.content == b"x,y\n"
    assert message.attempts == 2 and message.text == "<b>Halo</b>"


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"text": "  "},
        {"text": 5},
        {"text": "x", "buttons": "nope"},
        {"text": "x", "buttons": [[{"label": "no data"}]]},
        {"text": "x", "document": {"filename": "a.csv", "base64": "***"}},
        {"text": "x", "document": {"base64": "eA=="}},
    ],
)
def test_a_malformed_payload_is_refused(payload: dict) -> None:
    with pytest.raises(PayloadError):
        OutgoingMessage.from_payload(1, "telegram", "42", "k", payload)


def test_plain_text_drops_tags_keeps_what_only_looks_like_one() -> None:
    assert html_to_plain('<b>Untung</b> <5% &amp; <a href="https://x.id">tautan</a> &lt;3') == "Untung <5% & tautan <3"
    assert html_to_plain("a <br/> b") == "a  b"
    assert utf16_length("🙂a") == 3


def test_backoff_grows_with_jitter_and_stops_at_the_cap() -> None:
    rand = random.Random(1)
    for attempt in range(1, 12):
        full = min(600.0, 2.0 * 2 ** (attempt - 1))
        delay = backoff_delay(attempt, 2.0, 600.0, rand)
        assert full / 2 <= delay <= full
    assert backoff_delay(20, 2.0, 600.0, rand) <= 600.0


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (RetryAfter(3), Status.RATE_LIMITED),
        (Forbidden("Forbidden: bot was blocked by the user"), Status.BLOCKED),
        (Forbidden("Forbidden: user is deactivated"), Status.BLOCKED),
        (BadRequest("Chat not found"), Status.BLOCKED),
        (BadRequest("Message is too long"), Status.FAILED),
        (Conflict("Conflict"), Status.FAILED),
        (InvalidToken("Unauthorized"), Status.RETRY),
        (NetworkError("Bad Gateway"), Status.RETRY),  # a 5xx answer: nothing was delivered
        (_wrapped(NetworkError("httpx.ConnectError: refused"), httpx.ConnectError("refused")), Status.RETRY),
        (_wrapped(TimedOut("Pool timeout"), httpx.PoolTimeout("pool")), Status.RETRY),
        (_wrapped(TimedOut(), httpx.ConnectTimeout("connect")), Status.RETRY),
        (_wrapped(TimedOut(), httpx.ReadTimeout("read")), Status.UNCERTAIN),
        (_wrapped(TimedOut(), httpx.WriteTimeout("write")), Status.UNCERTAIN),
        (_wrapped(NetworkError("httpx.RemoteProtocolError"), httpx.RemoteProtocolError("gone")), Status.UNCERTAIN),
        (_wrapped(NetworkError("httpx.ReadError"), httpx.ReadError("reset")), Status.UNCERTAIN),
        (TimedOut(), Status.UNCERTAIN),  # no cause to tell: assume it may have arrived
    ],
)
def test_each_error_maps_to_what_the_worker_should_do(error: Exception, status: Status) -> None:
    outcome = classify_error(error)  # type: ignore[arg-type]
    assert outcome.status is status
    if status is Status.RATE_LIMITED:
        assert outcome.retry_after == 3


def test_a_migration_is_not_classified_but_followed() -> None:
    # The sender follows ChatMigrated itself; classify_error never sees it in practice.
    assert classify_error(ChatMigrated(-100123)).status is Status.FAILED
