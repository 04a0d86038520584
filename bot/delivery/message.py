"""What a sender gets (one outbox row, decoded) and what it answers."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Protocol

__all__ = [
    "Button",
    "ChannelSender",
    "Document",
    "OutgoingMessage",
    "PayloadError",
    "SendOutcome",
    "Status",
]


class PayloadError(ValueError):
    """An outbox payload that cannot be sent as it is (no text, bad buttons or document)."""


async def _no_pacing() -> None:
    return None


@dataclass(frozen=True)
class Button:
    """An inline button: what it says and the callback data it sends back."""

    label: str
    data: str


@dataclass(frozen=True)
class Document:
    """A file to send with the message."""

    filename: str
    content: bytes


@dataclass(frozen=True)
class OutgoingMessage:
    """One outbox row as a sender sees it (decoded in the database thread).

    `pace` is the worker's rate permit for one more request: a sender that needs a second
    request for the same row (a resend as plain text, to a migrated chat, or a document after
    a long text) awaits it first, so that every request counts against the global rate.
    """

    row_id: int
    channel: str
    chat_id: str
    text: str
    kind: str = ""
    buttons: tuple[tuple[Button, ...], ...] = ()
    document: Document | None = None
    attempts: int = 0  # attempts made before this one
    pace: Callable[[], Awaitable[None]] = field(default=_no_pacing, repr=False, compare=False)

    @classmethod
    def from_payload(
        cls, row_id: int, channel: str, chat_id: str, kind: str, payload: Mapping[str, Any], attempts: int = 0
    ) -> OutgoingMessage:
        """Decode `{"text", "buttons"?, "document"?}`; raises PayloadError when it is malformed."""
        text = payload.get("text", "")
        if not isinstance(text, str):
            raise PayloadError("text is not a string")
        buttons = _buttons(payload.get("buttons") or [])
        document = _document(payload.get("document"))
        if not text.strip() and document is None:
            raise PayloadError("no text and no document")
        return cls(row_id, channel, chat_id, text, kind, buttons, document, attempts)

    def with_pacing(self, pace: Callable[[], Awaitable[None]]) -> OutgoingMessage:
        return replace(self, pace=pace)


def _buttons(rows: Any) -> tuple[tuple[Button, ...], ...]:
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise PayloadError("buttons must be a list of rows")
    out = []
    for row in rows:
        built = []
        for button in row:
            if not (isinstance(button, dict) and isinstance(button.get("label"), str)):
                raise PayloadError("a button needs a label")
            if not isinstance(button.get("data"), str) or not button["data"]:
                raise PayloadError("a button needs callback data")
            built.append(Button(button["label"], button["data"]))
        if built:
            out.append(tuple(built))
    return tuple(out)


def _document(raw: Any) -> Document | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or not isinstance(raw.get("filename"), str) or not raw["filename"]:
        raise PayloadError("a document needs a filename")
    try:
        content = base64.b64decode(str(raw.get("base64", "")), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise PayloadError("document content is not base64") from exc
    if not content:
        raise PayloadError("document is empty")
    return Document(raw["filename"], content)


class Status(StrEnum):
    """What became of one send. The first four are final (the row's state); RETRY is retried
    with backoff; RATE_LIMITED waits `retry_after` without counting an attempt."""

    SENT = "sent"
    BLOCKED = "blocked"
    FAILED = "failed"
    UNCERTAIN = "uncertain"
    RETRY = "retry"
    RATE_LIMITED = "rate_limited"


@dataclass(frozen=True)
class SendOutcome:
    """A sender's answer for one row. `chat_id` is set when the chat migrated and the message
    went (or should go) to the new id; `error` never holds message text or tokens."""

    status: Status
    message_id: int | None = None
    error: str = ""
    retry_after: float = 0.0
    chat_id: str | None = None

    @classmethod
    def sent(cls, message_id: int | None = None, *, chat_id: str | None = None) -> SendOutcome:
        return cls(Status.SENT, message_id=message_id, chat_id=chat_id)

    @classmethod
    def rate_limited(cls, seconds: float, error: str) -> SendOutcome:
        return cls(Status.RATE_LIMITED, error=error, retry_after=seconds)

    @classmethod
    def of(cls, status: Status, error: str) -> SendOutcome:
        return cls(status, error=error)


class ChannelSender(Protocol):
    """Carries messages over one channel (Telegram, the terminal chat)."""

    channel: str

    async def start(self) -> None:
        """Open connections (called once before the first send)."""

    async def close(self) -> None:
        """Release connections."""

    async def send(self, message: OutgoingMessage) -> SendOutcome:
        """Deliver one message; never raises for a delivery problem, answers an outcome."""
        ...
