"""What goes into the conversation core and what comes out; no Telegram types."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any, Literal

TELEGRAM_TEXT_LIMIT = 4096


@dataclass(frozen=True)
class UserRef:
    """Who wrote: a channel ("telegram", "terminal") and that channel's id for the person."""

    channel: str
    external_id: str
    first_name: str | None = None
    language_code: str | None = None


@dataclass(frozen=True)
class Incoming:
    """One thing a user did: typed text, sent a command, pressed a button, or sent media."""

    user: UserRef
    kind: Literal["text", "command", "button", "media"]
    text: str = ""  # message text, or a media caption
    command: str = ""  # without the slash, lower-case
    args: str = ""  # text after the command (a /start deep-link payload)
    data: str = ""  # button callback data
    media: str = ""  # sticker, photo, voice, document, location, ...
    reply_to: int | None = None  # the channel's id of the message this one replies to


@dataclass(frozen=True)
class Button:
    """A button: the label shown and the callback data sent back when pressed; or, with `url`,
    a link the chat opens, or with `web_app_url`, a Telegram Mini App (HTTPS only)."""

    label: str
    data: str = ""
    url: str | None = None
    web_app_url: str | None = None

    def __post_init__(self) -> None:
        if sum(bool(v) for v in (self.data, self.url, self.web_app_url)) > 1:
            raise ValueError("a button has one of data, url, web_app_url")

    @property
    def kind(self) -> Literal["callback", "url", "web_app"]:
        if self.url:
            return "url"
        return "web_app" if self.web_app_url else "callback"


@dataclass(frozen=True)
class Attachment:
    """A file for the user (chart, export)."""

    filename: str
    content: bytes
    kind: Literal["photo", "document"] = "document"


@dataclass(frozen=True)
class Reply:
    """One message to the user: HTML text, rows of buttons, optional file."""

    text: str
    buttons: tuple[tuple[Button, ...], ...] = field(default_factory=tuple)
    attachment: Attachment | None = None
    edit: bool = False  # replace the message whose button was pressed (paging)
    # Telegram: set this chat's menu button to open a Mini App (a web_app Button), best effort.
    menu_button: Button | None = None


def _utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def clean_text(text: str) -> str:
    """Text as it may be stored and shown: NUL characters dropped (PostgreSQL refuses them in
    text) and unpaired surrogates (valid JSON, not valid Unicode) made U+FFFD."""
    if "\x00" in text:
        text = text.replace("\x00", "")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return text


def _fitting(text: str, limit: int) -> int:
    """The longest prefix of `text` (in characters) that is at most `limit` UTF-16 code units."""
    low, high = 0, min(len(text), limit)
    while low < high:  # binary search: a character outside the BMP counts twice
        middle = (low + high + 1) // 2
        if _utf16_length(text[:middle]) <= limit:
            low = middle
        else:
            high = middle - 1
    return low


def split_message(text: str, limit: int = TELEGRAM_TEXT_LIMIT) -> list[str]:
    """Split at paragraph, then line, then word boundaries so each part fits Telegram's limit,
    counted as Telegram counts (UTF-16 code units: an emoji is two)."""
    parts: list[str] = []
    rest = text.strip()
    while _utf16_length(rest) > limit:
        fits = _fitting(rest, limit)
        cut = -1
        for separator in ("\n\n", "\n", " "):
            cut = rest.rfind(separator, 0, fits)
            if cut > 0:
                break
        if cut <= 0:
            cut = max(fits, 1)
            if cut < len(rest) and "\udc00" <= rest[cut] <= "\udfff":  # never halve a surrogate pair
                cut -= 1
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        parts.append(rest)
    return [part for part in parts if part]


def reply_payload(reply: Reply) -> dict[str, Any]:
    """A reply as an outbox payload (see bot.storage.delivery_models), for sending later; a
    photo goes as a document, link buttons are dropped (the outbox carries callback buttons)."""
    payload: dict[str, Any] = {"text": reply.text}
    buttons = [[{"label": b.label, "data": b.data} for b in row if b.data] for row in reply.buttons]
    if any(buttons):
        payload["buttons"] = [row for row in buttons if row]
    if reply.attachment is not None:
        payload["document"] = {
            "filename": reply.attachment.filename,
            "base64": base64.b64encode(reply.attachment.content).decode("ascii"),
        }
    return payload
