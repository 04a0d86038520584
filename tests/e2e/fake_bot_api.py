"""A fake Telegram Bot API server for end-to-end tests.

The real ``python-telegram-bot`` ``Application`` talks HTTP to this server instead of
api.telegram.org::

    async with FakeBotApi(token=TOKEN) as api:
        app = (
            ApplicationBuilder()
            .token(TOKEN)
            .base_url(api.base_url)
            .base_file_url(api.base_file_url)
            .build()
        )
        ...
        api.queue_text(FakeUser(42, "Siti"), "/start")
        [call] = await api.wait_for("sendMessage")

The server runs in the test's own event loop on 127.0.0.1 with a random free port. It answers
like the real Bot API does: ``{"ok": true, "result": ...}`` with real ``Message`` objects, and
errors as ``{"ok": false, "error_code": ..., "description": ...}`` with the same HTTP status.
Besides the shape of the answers, it reproduces the Bot API checks that most often bite a bot in
production: HTML / MarkdownV2 / Markdown parse errors ("can't parse entities"), texts over 4096
characters, captions over 1024, callback_data over 64 bytes, "message is not modified" on a no-op
edit, unknown chat actions, invalid command names, non-image bytes sent as a photo, a user who
blocked the bot, and ``getUpdates`` while a webhook is set.

For delivery tests it can also answer slower than the client waits (``delay_method``), say
"chat not found" (``forget_chat``), report a group that became a supergroup (``migrate_chat``),
and tell when each request arrived (``arrival_times``) and how many messages each chat got
(``received_per_chat``).

For fault tests it misbehaves on command, per method and, where the request names a chat, per
chat (``chat_id=``), a number of times or for a while (``times=``, ``for_seconds=``): any error
answer (``fail_method``; the usual ones are in ``FAULTS``: 429 with ``retry_after``, 403
blocked, 400 chat not found / message too long / can't parse entities, 502, 503), an answer
slower than the client waits (``delay_method``), a connection closed without an answer, before
or after the request took effect (``drop_connection``), and updates handed out twice by
getUpdates (``duplicate_updates``, ``queue_duplicate``).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import json
import mimetypes
import re
import socket
import struct
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

__all__ = [
    "DEFAULT_TOKEN",
    "FAULTS",
    "BotApiError",
    "Call",
    "FakeBotApi",
    "FakeChat",
    "FakeUser",
    "MarkupError",
    "UploadedFile",
    "make_png",
    "make_update_json",
    "parse_markup",
]


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


DEFAULT_TOKEN = "123456789:AAHfakeTokenForEndToEndTests-abcdefghijk"

# The Bot API's answers for the faults a bot meets most (error_code, description), as Telegram
# words them; pass them to FakeBotApi.fail_method(method, *FAULTS[name]).
FAULTS: dict[str, tuple[int, str]] = {
    "blocked": (403, "Forbidden: bot was blocked by the user"),
    "deactivated": (403, "Forbidden: user is deactivated"),
    "chat_not_found": (400, "Bad Request: chat not found"),
    "too_long": (400, "Bad Request: message is too long"),
    "bad_html": (400, "Bad Request: can't parse entities: Unsupported start tag \"x\" at byte offset 0"),
    "bad_gateway": (502, "Bad Gateway"),
    "unavailable": (503, "Service Unavailable"),
    "internal": (500, "Internal Server Error"),
}

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64

CHAT_ACTIONS = _words(
    "typing upload_photo record_video upload_video record_voice upload_voice upload_document "
    "choose_sticker find_location record_video_note upload_video_note"
)

# Methods whose successful payloads are "what the user sees"; see FakeBotApi.sent_messages.
MESSAGE_METHODS = (
    "sendMessage",
    "editMessageText",
    "editMessageCaption",
    "sendPhoto",
    "sendDocument",
)

# Parameters that are strings in the Bot API; never JSON-decode their form values ("123" stays
# "123", "true" stays "true").
_STRING_PARAMS = _words(
    "text caption parse_mode callback_query_id action url secret_token ip_address "
    "language_code inline_message_id business_connection_id message_effect_id file_id photo "
    "document audio video voice animation sticker video_note thumbnail title description "
    "short_description name emoji address performer phone_number first_name last_name vcard "
    "question explanation custom_title query data certificate filename payload currency "
    "start_parameter"
)
# Parameters that are objects/arrays; if a JSON body carries them as a string, decode it.
_JSON_PARAMS = _words(
    "reply_markup entities caption_entities link_preview_options reply_parameters commands "
    "scope allowed_updates media menu_button results options"
)


# --------------------------------------------------------------------------------------------
# Public data classes
# --------------------------------------------------------------------------------------------


@dataclass
class FakeUser:
    """A Telegram user talking to the bot. In a private chat the chat id is the user id."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = "id"

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name is not None:
            data["last_name"] = self.last_name
        if self.username is not None:
            data["username"] = self.username
        if self.language_code is not None:
            data["language_code"] = self.language_code
        return data

    def private_chat(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "first_name": self.first_name}
        if self.last_name is not None:
            data["last_name"] = self.last_name
        if self.username is not None:
            data["username"] = self.username
        data["type"] = "private"
        return data


@dataclass
class FakeChat:
    """A non-private chat (group, supergroup, channel) for the rarer group tests."""

    id: int
    type: str = "group"
    title: str = "Grup UMKM"

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "type": self.type}


@dataclass
class UploadedFile:
    """A file the bot uploaded in a multipart request."""

    field: str
    filename: str | None
    content_type: str | None
    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def is_png(self) -> bool:
        return self.data.startswith(b"\x89PNG\r\n\x1a\n")

    @property
    def is_jpeg(self) -> bool:
        return self.data.startswith(b"\xff\xd8\xff")

    def text(self, encoding: str = "utf-8-sig") -> str:
        """The content decoded as text (for CSV / TXT documents); strips a UTF-8 BOM."""
        return self.data.decode(encoding)

    def __repr__(self) -> str:
        return (
            f"UploadedFile(field={self.field!r}, filename={self.filename!r}, "
            f"content_type={self.content_type!r}, size={self.size})"
        )


@dataclass
class Call:
    """One request the bot made. ``params`` are decoded (ints, bools, dicts for reply_markup);
    ``files`` holds multipart uploads by form-field name (and by the parameter that referenced
    them through ``attach://``)."""

    method: str
    params: dict[str, Any]
    files: dict[str, UploadedFile] = field(default_factory=dict)
    status: int = 200
    response: dict[str, Any] | None = None
    at: float = field(default_factory=time.monotonic)
    # time.monotonic() when the request arrived (``at`` is when it was answered).
    arrived_at: float | None = None

    @property
    def ok(self) -> bool:
        return self.status == 200

    @property
    def result(self) -> Any:
        return (self.response or {}).get("result")

    @property
    def description(self) -> str | None:
        return (self.response or {}).get("description")

    def summary(self, width: int = 100) -> str:
        shown = {k: v for k, v in self.params.items() if k not in ("reply_markup",)}
        if "reply_markup" in self.params:
            shown["reply_markup"] = _markup_summary(self.params["reply_markup"])
        for name, upload in self.files.items():
            shown[name] = f"<{upload.filename or 'file'} {upload.size}B>"
        text = ", ".join(f"{k}={_short(v, width)}" for k, v in shown.items())
        status = "ok" if self.ok else f"{self.status} {self.description}"
        return f"{self.method}({text}) -> {status}"


class BotApiError(Exception):
    """Raised inside a method handler to answer with a Bot API error."""

    def __init__(self, error_code: int, description: str, parameters: dict[str, Any] | None = None):
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.parameters = parameters

    def body(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "ok": False,
            "error_code": self.error_code,
            "description": self.description,
        }
        if self.parameters:
            data["parameters"] = self.parameters
        return data


def _bad_request(message: str) -> BotApiError:
    return BotApiError(400, f"Bad Request: {message}")


def _short(value: Any, width: int) -> str:
    text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."


def _markup_summary(markup: Any) -> str:
    if isinstance(markup, dict) and "inline_keyboard" in markup:
        buttons = [
            b.get("text") for row in markup["inline_keyboard"] for b in row if isinstance(b, dict)
        ]
        return f"<inline {buttons}>"
    if isinstance(markup, dict) and "keyboard" in markup:
        return "<reply keyboard>"
    return repr(markup)


# --------------------------------------------------------------------------------------------
# Markup parsing (a port of the checks TDLib runs for parse_mode)
# --------------------------------------------------------------------------------------------


class MarkupError(ValueError):
    """The text is not valid for its parse_mode; ``str(exc)`` is TDLib's message."""


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


_HTML_TAGS = _words(
    "a b strong i em s strike del u ins tg-spoiler tg-emoji tg-time span pre code blockquote"
)
_HTML_SPACES = " \t\r\n\v"
_HTML_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


def _decode_html_entity(text: str, pos: int) -> tuple[str | None, int]:
    n = len(text)
    end = pos + 1
    numeric = end < n and text[end] == "#"
    if numeric:
        end += 1
        if end < n and text[end] == "x":
            end += 1
            start = end
            while end < n and text[end] in "0123456789abcdefABCDEF":
                end += 1
            code = int(text[start:end], 16) if end > start else 0
        else:
            start = end
            while end < n and text[end] in "0123456789":
                end += 1
            code = int(text[start:end]) if end > start else 0
        if code == 0 or code >= 0x10FFFF or end - pos >= 10:
            return None, pos
        if 0xD800 <= code <= 0xDFFF:
            raise MarkupError(
                "Text contains invalid Unicode characters after decoding HTML entities, "
                "check for unmatched surrogate code units"
            )
        char = chr(code)
    else:
        start = end
        while end < n and text[end].isascii() and text[end].isalpha():
            end += 1
        named = _HTML_NAMED.get(text[start:end])
        if named is None:
            return None, pos
        char = named
    if end < n and text[end] == ";":
        end += 1
    return char, end


def parse_html(text: str) -> str:
    """Validate Telegram HTML like TDLib does and return the plain text."""
    out: list[str] = []
    stack: list[str] = []
    n = len(text)
    i = 0
    while i < n:
        c = text[i]
        if c == "&":
            char, nxt = _decode_html_entity(text, i)
            if char is not None:
                out.append(char)
                i = nxt
                continue
            out.append(c)
            i += 1
            continue
        if c != "<":
            out.append(c)
            i += 1
            continue

        begin = i
        offset = _byte_offset(text, begin)
        i += 1
        if i < n and text[i] == "/":  # end tag
            if not stack:
                raise MarkupError(f"Unexpected end tag at byte offset {offset}")
            i += 1
            while i < n and text[i] not in _HTML_SPACES and text[i] != ">":
                i += 1
            end_name = text[begin + 2 : i].lower()
            while i < n and text[i] in _HTML_SPACES:
                i += 1
            if i >= n or text[i] != ">":
                raise MarkupError(f"Unclosed end tag at byte offset {offset}")
            open_name = stack[-1]
            if end_name and end_name != open_name:
                raise MarkupError(
                    f"Unmatched end tag at byte offset {offset}, "
                    f'expected "</{open_name}>", found "</{end_name}>"'
                )
            stack.pop()
            i += 1
            continue

        while i < n and text[i] not in _HTML_SPACES and text[i] != ">":
            i += 1
        if i >= n:
            raise MarkupError(f"Unclosed start tag at byte offset {offset}")
        tag = text[begin + 1 : i].lower()
        if tag not in _HTML_TAGS:
            raise MarkupError(f'Unsupported start tag "{tag}" at byte offset {offset}')
        attributes: dict[str, str] = {}
        while True:
            while i < n and text[i] in _HTML_SPACES:
                i += 1
            if i >= n:
                raise MarkupError(f'Unclosed start tag "{tag}" at byte offset {offset}')
            if text[i] == ">":
                break
            name_begin = i
            while i < n and text[i] not in _HTML_SPACES and text[i] not in "=>":
                i += 1
            attr_name = text[name_begin:i].lower()
            if not attr_name:
                raise MarkupError(
                    f'Empty attribute name in the tag "{tag}" at byte offset {offset}'
                )
            while i < n and text[i] in _HTML_SPACES:
                i += 1
            if i >= n:
                raise MarkupError(f'Unclosed start tag "{tag}" at byte offset {offset}')
            if text[i] != "=":
                attributes[attr_name] = ""
                continue
            i += 1
            while i < n and text[i] in _HTML_SPACES:
                i += 1
            if i >= n:
                raise MarkupError(f'Unclosed start tag "{tag}" at byte offset {offset}')
            if text[i] not in "'\"":
                token_begin = i
                while i < n and (text[i].isascii() and (text[i].isalnum() or text[i] in ".-")):
                    i += 1
                value = text[token_begin:i].lower()
                if i >= n or (text[i] not in _HTML_SPACES and text[i] != ">"):
                    raise MarkupError(
                        "Unexpected end of name token at byte offset "
                        f"{_byte_offset(text, token_begin)}"
                    )
            else:
                quote = text[i]
                i += 1
                chars: list[str] = []
                while i < n and text[i] != quote:
                    if text[i] == "&":
                        char, nxt = _decode_html_entity(text, i)
                        if char is not None:
                            chars.append(char)
                            i = nxt
                            continue
                    chars.append(text[i])
                    i += 1
                if i >= n:
                    raise MarkupError(f"Unclosed start tag at byte offset {offset}")
                i += 1
                value = "".join(chars)
            attributes[attr_name] = value
        i += 1  # skip '>'
        if tag == "span" and attributes.get("class") != "tg-spoiler":
            raise MarkupError(f'Tag "span" must have class "tg-spoiler" at byte offset {offset}')
        stack.append(tag)
    if stack:
        raise MarkupError(f'Can\'t find end tag corresponding to start tag "{stack[-1]}"')
    return "".join(out)


_MDV2_RESERVED = "_*[]()~`>#+-=|{}.!"
_MDV2_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "code": "Code",
    "pre": "Pre",
    "pre_code": "PreCode",
    "text_url": "TextUrl",
    "custom_emoji": "CustomEmoji",
}


def parse_markdown_v2(text: str) -> str:
    """Validate MarkdownV2 like TDLib does and return the plain text.

    Blockquotes are accepted at the start of a line (``>``, ``**>``, a trailing ``||``), but the
    rule that other entities must end inside the quote is not enforced.
    """
    out: list[str] = []
    stack: list[tuple[str, int]] = []  # (type, index of the opening marker)
    n = len(text)
    i = 0
    quote_line = False
    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n and 0 < ord(text[i + 1]) <= 126:
            out.append(text[i + 1])
            i += 2
            continue
        top = stack[-1][0] if stack else None
        in_code = top in ("code", "pre", "pre_code")
        reserved = "`" if in_code else _MDV2_RESERVED
        if c not in reserved:
            if c in "\r\n":
                quote_line = False
            out.append(c)
            i += 1
            continue
        if not in_code and (i == 0 or text[i - 1] in "\r\n"):
            if c == ">":
                quote_line = True
                i += 1
                continue
            if text.startswith("**>", i):
                quote_line = True
                i += 3
                continue
        if (
            quote_line
            and top != "spoiler"
            and text.startswith("||", i)
            and (i + 2 == n or text[i + 2] in "\r\n")
        ):
            i += 2  # expandable blockquote marker
            continue

        is_end = False
        if top == "bold":
            is_end = c == "*"
        elif top == "italic":
            is_end = c == "_" and not text.startswith("__", i)
        elif top == "code":
            is_end = c == "`"
        elif top in ("pre", "pre_code"):
            is_end = text.startswith("```", i)
        elif top in ("text_url", "custom_emoji"):
            is_end = c == "]"
        elif top == "underline":
            is_end = text.startswith("__", i)
        elif top == "strikethrough":
            is_end = c == "~"
        elif top == "spoiler":
            is_end = text.startswith("||", i)

        if not is_end:
            begin = i
            if c == "_":
                kind = "underline" if text.startswith("__", i) else "italic"
                i += 2 if kind == "underline" else 1
            elif c == "*":
                kind = "bold"
                i += 1
            elif c == "~":
                kind = "strikethrough"
                i += 1
            elif c == "|" and text.startswith("||", i):
                kind = "spoiler"
                i += 2
            elif c == "[":
                kind = "text_url"
                i += 1
            elif c == "!" and text.startswith("![", i):
                kind = "custom_emoji"
                i += 2
            elif c == "`":
                if text.startswith("```", i):
                    i += 3
                    kind = "pre"
                    language_end = i
                    while (
                        language_end < n
                        and text[language_end] not in _HTML_SPACES
                        and text[language_end] != "`"
                    ):
                        language_end += 1
                    if i != language_end and language_end < n and text[language_end] != "`":
                        kind = "pre_code"
                        i = language_end
                    if i < n and text[i] in "\r\n":
                        if i + 1 < n and text[i + 1] in "\r\n" and text[i] != text[i + 1]:
                            i += 2
                        else:
                            i += 1
                else:
                    kind = "code"
                    i += 1
            else:
                raise MarkupError(
                    f"Character '{c}' is reserved and must be escaped with the preceding '\\'"
                )
            stack.append((kind, begin))
            continue

        kind, _ = stack.pop()
        if kind in ("underline", "spoiler"):
            i += 2
        elif kind in ("pre", "pre_code"):
            i += 3
        elif kind in ("text_url", "custom_emoji"):
            i += 1  # past ']'
            if i < n and text[i] == "(":
                i += 1
                url_begin = i
                while i < n and text[i] != ")":
                    if text[i] == "\\" and i + 1 < n and 0 < ord(text[i + 1]) <= 126:
                        i += 2
                        continue
                    i += 1
                if i >= n:
                    raise MarkupError(
                        f"Can't find end of a URL at byte offset {_byte_offset(text, url_begin)}"
                    )
                i += 1
            elif kind == "custom_emoji":
                raise MarkupError("The entity must contain a tg://emoji or tg://time URL")
        else:
            i += 1
    if stack:
        kind, begin = stack[-1]
        raise MarkupError(
            f"Can't find end of {_MDV2_NAMES[kind]} entity at byte offset "
            f"{_byte_offset(text, begin)}"
        )
    return "".join(out)


def parse_markdown_legacy(text: str) -> str:
    """Validate legacy ``Markdown`` like TDLib does and return the plain text."""
    out: list[str] = []
    n = len(text)
    i = 0
    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n and text[i + 1] in "_*`[":
            out.append(text[i + 1])
            i += 2
            continue
        if c not in "_*`[":
            out.append(c)
            i += 1
            continue
        begin = i
        end_char = "]" if c == "[" else c
        is_pre = False
        i += 1
        if c == "`" and text.startswith("``", i):
            i += 2
            is_pre = True
            language_end = i
            while language_end < n and text[language_end] not in _HTML_SPACES + "`":
                language_end += 1
            if i != language_end and language_end < n and text[language_end] != "`":
                i = language_end
            if i < n and text[i] in "\r\n":
                i += 2 if i + 1 < n and text[i + 1] in "\r\n" and text[i] != text[i + 1] else 1
        while i < n and (text[i] != end_char or (is_pre and not text.startswith("```", i))):
            out.append(text[i])
            i += 1
        if i >= n:
            raise MarkupError(
                f"Can't find end of the entity starting at byte offset {_byte_offset(text, begin)}"
            )
        i += 3 if is_pre else 1
        if c == "[" and i < n and text[i] == "(":
            close = text.find(")", i)
            i = n if close < 0 else close + 1
    return "".join(out)


def parse_markup(text: str, parse_mode: str | None) -> str:
    """Return the plain text Telegram would show, or raise MarkupError like TDLib."""
    mode = (parse_mode or "").lower()
    if not mode:
        return text
    if mode == "html":
        return parse_html(text)
    if mode == "markdownv2":
        return parse_markdown_v2(text)
    if mode == "markdown":
        return parse_markdown_legacy(text)
    raise BotApiError(400, f"Bad Request: unsupported parse_mode {parse_mode}")


# --------------------------------------------------------------------------------------------
# Images
# --------------------------------------------------------------------------------------------


def make_png(width: int = 2, height: int = 2, rgb: tuple[int, int, int] = (255, 0, 0)) -> bytes:
    """A valid, tiny PNG (for queue_photo and for tests that need image bytes)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\x00" + bytes(rgb) * width
    raw = row * height
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def _image_kind(data: bytes) -> str | None:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[:2] == b"BM":
        return "bmp"
    return None


def _image_size(data: bytes) -> tuple[int, int]:
    kind = _image_kind(data)
    if kind == "png" and len(data) >= 24 and data[12:16] == b"IHDR":
        return struct.unpack(">II", data[16:24])
    if kind == "gif" and len(data) >= 10:
        return struct.unpack("<HH", data[6:10])
    if kind == "jpeg":
        i = 2
        while i + 9 < len(data):
            if data[i] != 0xFF:
                i += 1
                continue
            marker = data[i + 1]
            if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
                i += 2
                continue
            length = struct.unpack(">H", data[i + 2 : i + 4])[0]
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                height, width = struct.unpack(">HH", data[i + 5 : i + 9])
                return width, height
            i += 2 + length
    return 800, 600


# --------------------------------------------------------------------------------------------
# Update builders
# --------------------------------------------------------------------------------------------

_COMMAND_RE = re.compile(r"/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,64})?")
_file_counter = itertools.count(1)


def _new_file_ids(kind: str) -> tuple[str, str]:
    n = next(_file_counter)
    return f"FAKE-{kind}-{n:06d}", f"FU{kind[:3].upper()}{n:06d}"


def _text_entities(text: str) -> list[dict[str, Any]]:
    """Telegram marks a leading /command with a bot_command entity."""
    match = _COMMAND_RE.match(text)
    if not match:
        return []
    end = match.end()
    if end < len(text) and text[end] == "/":  # a path such as /home/user is not a command
        return []
    return [{"offset": 0, "length": _utf16_len(match.group(0)), "type": "bot_command"}]


def make_update_json(
    kind: str,
    user: FakeUser,
    *,
    update_id: int,
    message_id: int = 1,
    chat: FakeChat | None = None,
    date: int | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """Build a Bot API ``Update`` dict as Telegram sends it (for getUpdates or a webhook POST).

    kinds and their fields:
      "text"      text (required), reply_to_message (dict)
      "callback"  data (required), message (dict, required: a message the bot sent),
                  callback_query_id
      "sticker"   emoji="👍", file_id, file_unique_id
      "photo"     caption, width=2, height=2, file_size, file_id, file_unique_id
      "voice"     duration=3, mime_type="audio/ogg", file_size, file_id, file_unique_id
      "document"  file_name="laporan.csv", mime_type, file_size=0, caption, file_id,
                  file_unique_id
      "location"  latitude=-6.2088, longitude=106.8456
      "contact"   phone_number="+6281234567890"
    """
    date = int(time.time()) if date is None else date
    chat_dict = chat.to_dict() if chat is not None else user.private_chat()
    if kind == "callback":
        message = fields.get("message")
        if message is None:
            raise ValueError("a callback update needs message= (a message the bot sent)")
        return {
            "update_id": update_id,
            "callback_query": {
                "id": str(fields.get("callback_query_id") or f"{user.id}{update_id:08d}"),
                "from": user.to_dict(),
                "message": message,
                "chat_instance": str(abs(int(chat_dict["id"])) * 7919 + 4242424242424242),
                "data": fields["data"],
            },
        }

    message: dict[str, Any] = {
        "message_id": message_id,
        "from": user.to_dict(),
        "chat": chat_dict,
        "date": date,
    }
    if kind == "text":
        text = fields["text"]
        message["text"] = text
        entities = _text_entities(text)
        if entities:
            message["entities"] = entities
        if fields.get("reply_to_message") is not None:
            message["reply_to_message"] = fields["reply_to_message"]
    elif kind == "sticker":
        file_id, unique = _ids_from(fields, "sticker")
        message["sticker"] = {
            "file_id": file_id,
            "file_unique_id": unique,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": fields.get("emoji", "👍"),
            "set_name": "FakeStickers",
            "file_size": 12345,
        }
    elif kind == "photo":
        width, height = fields.get("width", 2), fields.get("height", 2)
        file_id, unique = _ids_from(fields, "photo")
        message["photo"] = [
            {
                "file_id": file_id,
                "file_unique_id": unique,
                "width": width,
                "height": height,
                "file_size": fields.get("file_size", 100),
            }
        ]
        if fields.get("caption") is not None:
            message["caption"] = fields["caption"]
    elif kind == "voice":
        file_id, unique = _ids_from(fields, "voice")
        message["voice"] = {
            "file_id": file_id,
            "file_unique_id": unique,
            "duration": fields.get("duration", 3),
            "mime_type": fields.get("mime_type", "audio/ogg"),
            "file_size": fields.get("file_size", 4096),
        }
    elif kind == "document":
        file_id, unique = _ids_from(fields, "document")
        file_name = fields.get("file_name", "laporan.csv")
        mime_type = fields.get("mime_type") or (
            mimetypes.guess_type(file_name)[0] or "application/octet-stream"
        )
        message["document"] = {
            "file_id": file_id,
            "file_unique_id": unique,
            "file_name": file_name,
            "mime_type": mime_type,
            "file_size": fields.get("file_size", 0),
        }
        if fields.get("caption") is not None:
            message["caption"] = fields["caption"]
    elif kind == "location":
        message["location"] = {
            "latitude": fields.get("latitude", -6.2088),
            "longitude": fields.get("longitude", 106.8456),
        }
    elif kind == "contact":
        message["contact"] = {
            "phone_number": fields.get("phone_number", "+6281234567890"),
            "first_name": user.first_name,
            "user_id": user.id,
        }
    else:
        raise ValueError(f"unknown update kind {kind!r}")
    return {"update_id": update_id, "message": message}


def _ids_from(fields: dict[str, Any], kind: str) -> tuple[str, str]:
    if fields.get("file_id"):
        return fields["file_id"], fields.get("file_unique_id") or f"U{fields['file_id']}"
    return _new_file_ids(kind)


def _update_type(update: dict[str, Any]) -> str:
    for key in update:
        if key != "update_id":
            return key
    return "unknown"


# --------------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------------


@dataclass
class _Failure:
    error_code: int
    description: str
    parameters: dict[str, Any] | None
    remaining: int | None  # None = forever (or until `until`)
    chat_id: int | None = None  # only requests to this chat
    until: float | None = None  # time.monotonic() after which it is over
    drop: str | None = None  # "before" / "after" handling: close the connection, no answer
    skip: int = 0  # matching calls let through before it starts

    def applies(self, params: dict[str, Any], now: float) -> bool:
        if self.until is not None and now >= self.until:
            return False
        return self.chat_id is None or _same_chat(params.get("chat_id"), self.chat_id)

    def expired(self, now: float) -> bool:
        return (self.remaining is not None and self.remaining <= 0) or (
            self.until is not None and now >= self.until
        )


@dataclass
class _Delay:
    seconds: float
    remaining: float  # inf = every call
    chat_id: int | None = None


def _same_chat(value: Any, chat_id: int) -> bool:
    try:
        return int(value) == chat_id
    except (TypeError, ValueError):
        return False


@dataclass
class _Queued:
    update: dict[str, Any]
    forced: bool = False  # a duplicate: delivered even below the confirmed offset
    delivered: bool = False

    @property
    def update_id(self) -> int:
        return int(self.update["update_id"])


@dataclass
class _StoredFile:
    data: bytes
    file_path: str
    file_unique_id: str


class FakeBotApi:
    """Fake Telegram Bot API server; see the module docstring."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        bot_username: str = "pendamping_umkm_test_bot",
        bot_first_name: str = "Pendamping UMKM",
        max_long_poll: float = 1.0,
        check_markup: bool = True,
        deliver_webhooks: bool = True,
        webhook_retry_delay: float = 0.2,
    ) -> None:
        self.token = token
        prefix = token.split(":", 1)[0]
        self.bot_id = int(prefix) if prefix.isdigit() else 7000000001
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        self.max_long_poll = max_long_poll
        self.check_markup = check_markup
        self.deliver_webhooks = deliver_webhooks
        self.webhook_retry_delay = webhook_retry_delay

        self.calls: list[Call] = []
        self.server_errors: list[str] = []
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.webhook: dict[str, Any] | None = None
        self.webhook_errors: list[str] = []
        self.blocked_users: set[int] = set()
        self.missing_chats: set[int] = set()
        self.migrated_chats: dict[int, int] = {}

        self._delays: dict[str, list[_Delay]] = {}
        # Requests held back by delay_method, as they arrived (they are in `calls` once answered).
        self.delayed: list[Call] = []
        self._duplicates_left = 0  # updates getUpdates hands out twice (duplicate_updates)

        self._failures: dict[str, list[_Failure]] = {}
        self._queue: list[_Queued] = []
        self._seen_updates: dict[int, dict[str, Any]] = {}
        self._next_update_id = 100001
        self._allowed_updates: list[str] | None = None
        self._messages: dict[tuple[int, int], dict[str, Any]] = {}
        self._message_source: dict[tuple[int, int], tuple[str, str | None]] = {}
        self._deleted: set[tuple[int, int]] = set()
        self._next_message_id: dict[int, int] = {}
        self._last_bot_message: dict[int, int] = {}
        self._chats: dict[int, dict[str, Any]] = {}
        self._files: dict[str, _StoredFile] = {}
        self._callback_ids = itertools.count(1)

        self._updates_changed = asyncio.Event()
        self._calls_changed = asyncio.Event()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._webhook_task: asyncio.Task[None] | None = None
        self.port: int | None = None

        self._handlers: dict[str, Callable[[dict[str, Any], dict[str, UploadedFile]], Any]] = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "editMessageCaption": self._edit_message_caption,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback_query,
            "sendChatAction": self._send_chat_action,
            "sendPhoto": self._send_photo,
            "sendDocument": self._send_document,
            "getFile": self._get_file,
            "setMyCommands": self._set_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteWebhook": self._delete_webhook,
            "setWebhook": self._set_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "setMyDescription": self._return_true,
            "setMyShortDescription": self._return_true,
            "setMyName": self._return_true,
            "setChatMenuButton": self._return_true,
            "close": self._return_true,
            "logOut": self._return_true,
        }
        self._canonical = {name.lower(): name for name in self._handlers}

    # ---------------------------------------------------------------- lifecycle

    @property
    def url(self) -> str:
        if self.port is None:
            raise RuntimeError("FakeBotApi is not started")
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """For ``ApplicationBuilder().base_url(...)``; PTB appends ``<token>/<method>``."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        """For ``ApplicationBuilder().base_file_url(...)``."""
        return f"{self.url}/file/bot"

    async def start(self) -> FakeBotApi:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_method)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()
        self._closing = False
        self._webhook_task = asyncio.create_task(self._webhook_loop())
        return self

    async def stop(self) -> None:
        self._closing = True
        self._signal_updates()
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._webhook_task
            self._webhook_task = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeBotApi:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # ---------------------------------------------------------------- configuration

    def fail_method(
        self,
        method: str,
        error_code: int = 400,
        description: str | None = None,
        *,
        times: int | None = None,
        parameters: dict[str, Any] | None = None,
        chat_id: int | None = None,
        for_seconds: float | None = None,
        after: int = 0,
    ) -> None:
        """Answer ``method`` with an error; ``times=None`` keeps failing until clear_failures (or
        for ``for_seconds``); ``chat_id`` limits it to requests to that chat; ``after`` lets that
        many matching calls through first (the second part of a long answer). Failures queue up:
        the first that applies answers, so ``fail_method(m, 502, times=2)`` then
        ``rate_limit(m)`` gives 502, 502, 429."""
        name = self._canonical_name(method)
        if description is None:
            description = {
                400: "Bad Request: fake failure",
                403: "Forbidden: bot was blocked by the user",
                429: "Too Many Requests: retry after 1",
                500: "Internal Server Error",
                502: "Bad Gateway",
                503: "Service Unavailable",
            }.get(error_code, "Fake failure")
        until = None if for_seconds is None else time.monotonic() + for_seconds
        self._failures.setdefault(name, []).append(
            _Failure(error_code, description, parameters, times, chat_id, until, skip=after)
        )

    def rate_limit(
        self, method: str, retry_after: int = 1, *, times: int = 1, chat_id: int | None = None
    ) -> None:
        """Answer ``method`` with 429 Too Many Requests + ``parameters.retry_after``."""
        self.fail_method(
            method,
            429,
            f"Too Many Requests: retry after {retry_after}",
            times=times,
            parameters={"retry_after": retry_after},
            chat_id=chat_id,
        )

    def drop_connection(
        self,
        method: str,
        *,
        times: int | None = 1,
        chat_id: int | None = None,
        for_seconds: float | None = None,
        after_handling: bool = False,
    ) -> None:
        """Close the connection without an answer. Before handling (default) the request had no
        effect; with ``after_handling`` it took effect (a message was sent) and only the answer
        is lost, which a client cannot tell apart. The call is recorded with status 0 (before)
        or with its real status (after: it counts as received)."""
        name = self._canonical_name(method)
        until = None if for_seconds is None else time.monotonic() + for_seconds
        remaining = None if times is None else times
        self._failures.setdefault(name, []).append(
            _Failure(0, "connection dropped", None, remaining, chat_id, until,
                     drop="after" if after_handling else "before")
        )

    def duplicate_updates(self, times: int = 1) -> None:
        """The next ``times`` updates getUpdates hands out come again in its next answer, with the
        same update_id, even though the bot confirmed them (Telegram after a lost confirm)."""
        self._duplicates_left += times

    def clear_failures(self, method: str | None = None) -> None:
        if method is None:
            self._failures.clear()
        else:
            self._failures.pop(self._canonical_name(method), None)

    def block_user(self, user_id: int, blocked: bool = True) -> None:
        """The user blocked the bot: sends to them answer 403 like Telegram."""
        if blocked:
            self.blocked_users.add(user_id)
        else:
            self.blocked_users.discard(user_id)

    def forget_chat(self, chat_id: int, missing: bool = True) -> None:
        """Sends to ``chat_id`` answer 400 "chat not found" (a deleted account, a wrong id)."""
        if missing:
            self.missing_chats.add(chat_id)
        else:
            self.missing_chats.discard(chat_id)

    def migrate_chat(self, chat_id: int, new_chat_id: int) -> None:
        """The group became a supergroup: sends to ``chat_id`` answer 400 with
        ``parameters.migrate_to_chat_id`` like Telegram; the new id works."""
        self.migrated_chats[chat_id] = new_chat_id

    def delay_method(
        self, method: str, seconds: float, *, times: int | None = 1, chat_id: int | None = None
    ) -> None:
        """Answer the next ``times`` calls of ``method`` (``None``: all; with ``chat_id``: only
        those to that chat) only after ``seconds``; the call still takes effect (a client that
        timed out meanwhile does not know whether it did). Each is listed in ``delayed`` as soon
        as it arrives."""
        remaining = float("inf") if times is None else float(times)
        self._delays.setdefault(self._canonical_name(method), []).append(
            _Delay(seconds, remaining, chat_id)
        )

    # ---------------------------------------------------------------- queueing updates

    def make_update_json(
        self, kind: str, user: FakeUser, *, chat: FakeChat | None = None, **fields: Any
    ) -> dict[str, Any]:
        """Build an update with fresh ids and remember its message (so replies, edits and
        callbacks referring to it work) without queueing it; POST it to a webhook yourself."""
        chat_id = chat.id if chat is not None else user.id
        self._chats[chat_id] = chat.to_dict() if chat is not None else user.private_chat()
        update_id = self._allocate_update_id()
        if kind == "callback":
            message = fields.get("message")
            if message is None:
                message = self.last_bot_message(chat_id)
                if message is None:
                    raise AssertionError(
                        f"queue_callback: the bot has not sent anything to chat {chat_id} yet; "
                        "pass message= explicitly"
                    )
                fields["message"] = message
            else:
                self._remember_message(message)
            fields.setdefault("callback_query_id", f"{next(self._callback_ids)}{user.id}")
            return make_update_json(kind, user, update_id=update_id, chat=chat, **fields)

        if kind in ("photo", "voice", "document", "sticker"):
            content = fields.pop("content", None)
            if kind == "photo":
                content = make_png() if content is None else content
                width, height = _image_size(content)
                fields.setdefault("width", width)
                fields.setdefault("height", height)
            elif kind == "voice":
                content = b"OggS\x00fake-voice" if content is None else content
            elif kind == "document":
                content = b"tanggal,omzet\n2024-01-01,150000\n" if content is None else content
            elif content is None:
                content = b"RIFF\x00\x00\x00\x00WEBPfake"
            file_id, unique = _new_file_ids(kind)
            fields.setdefault("file_size", len(content))
            fields["file_id"], fields["file_unique_id"] = file_id, unique
            if kind == "document":
                path = f"documents/{file_id[-6:]}_{fields.get('file_name') or 'document'}"
            else:
                ext = {"photo": ".jpg", "voice": ".oga", "sticker": ".webp"}[kind]
                path = f"{kind}s/file_{file_id[-6:]}{ext}"
            self._store_file(file_id, unique, content, path)
        if kind == "text":
            reply_to = fields.pop("reply_to", None)
            if reply_to is not None:
                fields["reply_to_message"] = reply_to
        message_id = self._allocate_message_id(chat_id)
        update = make_update_json(
            kind, user, update_id=update_id, message_id=message_id, chat=chat, **fields
        )
        self._remember_message(update["message"], source=(update["message"].get("text"), None))
        return update

    def queue_raw(self, update: dict[str, Any]) -> int:
        """Queue an update dict as is; an ``update_id`` is assigned when it has none."""
        update = copy.deepcopy(update)
        if "update_id" not in update:
            update["update_id"] = self._allocate_update_id()
        else:
            self._next_update_id = max(self._next_update_id, int(update["update_id"]) + 1)
        for key in ("message", "edited_message"):
            if isinstance(update.get(key), dict):
                self._remember_message(update[key])
        self._seen_updates[int(update["update_id"])] = copy.deepcopy(update)
        self._queue.append(_Queued(update))
        self._signal_updates()
        return int(update["update_id"])

    def queue_text(
        self,
        user: FakeUser,
        text: str,
        *,
        chat: FakeChat | None = None,
        reply_to: dict[str, Any] | None = None,
    ) -> int:
        """A text message from ``user`` (a leading /command gets its bot_command entity)."""
        return self.queue_raw(
            self.make_update_json("text", user, chat=chat, text=text, reply_to=reply_to)
        )

    def queue_callback(
        self,
        user: FakeUser,
        data: str,
        message: dict[str, Any] | None = None,
        *,
        chat: FakeChat | None = None,
    ) -> int:
        """The user pressed an inline button; ``message`` defaults to the last message the bot
        sent to that chat (as it is now, after edits)."""
        return self.queue_raw(
            self.make_update_json("callback", user, chat=chat, data=data, message=message)
        )

    def queue_sticker(self, user: FakeUser, *, chat: FakeChat | None = None) -> int:
        return self.queue_raw(self.make_update_json("sticker", user, chat=chat))

    def queue_photo(
        self,
        user: FakeUser,
        caption: str | None = None,
        *,
        content: bytes | None = None,
        chat: FakeChat | None = None,
    ) -> int:
        """A photo (a tiny PNG unless ``content``); the bot can getFile + download it."""
        return self.queue_raw(
            self.make_update_json("photo", user, chat=chat, caption=caption, content=content)
        )

    def queue_voice(
        self, user: FakeUser, *, duration: int = 3, chat: FakeChat | None = None
    ) -> int:
        return self.queue_raw(self.make_update_json("voice", user, chat=chat, duration=duration))

    def queue_document(
        self,
        user: FakeUser,
        *,
        content: bytes | None = None,
        file_name: str = "laporan.csv",
        mime_type: str | None = None,
        caption: str | None = None,
        chat: FakeChat | None = None,
    ) -> int:
        """A document (a small CSV unless ``content``); the bot can getFile + download it."""
        return self.queue_raw(
            self.make_update_json(
                "document",
                user,
                chat=chat,
                content=content,
                file_name=file_name,
                mime_type=mime_type,
                caption=caption,
            )
        )

    def queue_location(
        self,
        user: FakeUser,
        latitude: float = -6.2088,
        longitude: float = 106.8456,
        *,
        chat: FakeChat | None = None,
    ) -> int:
        return self.queue_raw(
            self.make_update_json(
                "location", user, chat=chat, latitude=latitude, longitude=longitude
            )
        )

    def queue_duplicate(self, update_id: int) -> int:
        """Deliver an earlier update again with the same update_id (even if already confirmed),
        as Telegram does after a crash before the offset was confirmed."""
        if update_id not in self._seen_updates:
            raise KeyError(f"update {update_id} was never queued")
        self._queue.append(_Queued(copy.deepcopy(self._seen_updates[update_id]), forced=True))
        self._signal_updates()
        return update_id

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        """Queued updates not yet confirmed (delivered or not)."""
        return [copy.deepcopy(q.update) for q in self._queue]

    async def wait_delivered(self, timeout: float = 10.0) -> None:
        """Wait until every queued update has been handed to the bot at least once."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while any(not q.delivered for q in self._queue):
            event = self._updates_changed
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(
                    f"updates not delivered after {timeout}s: "
                    f"{[q.update_id for q in self._queue if not q.delivered]}"
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), min(remaining, 0.05))

    # ---------------------------------------------------------------- inspection

    def calls_to(self, method: str) -> list[Call]:
        name = self._canonical_name(method)
        return [c for c in self.calls if c.method == name]

    def sent_messages(self, chat_id: int | None = None) -> list[dict[str, Any]]:
        """Payloads of successful sendMessage / editMessageText / editMessageCaption / sendPhoto
        / sendDocument calls, in order. Each is the call's params plus its uploaded files
        (``payload["photo"]`` is an UploadedFile) plus ``"method"``."""
        result = []
        for c in self.calls:
            if c.method not in MESSAGE_METHODS or not c.ok:
                continue
            if chat_id is not None and c.params.get("chat_id") != chat_id:
                continue
            result.append({**c.params, **c.files, "method": c.method})
        return result

    def received_per_chat(self) -> dict[int, int]:
        """How many messages each chat received (successful calls of the message methods,
        edits excluded)."""
        counts: dict[int, int] = {}
        for c in self.calls:
            if c.ok and c.method in ("sendMessage", "sendPhoto", "sendDocument"):
                chat_id = c.params.get("chat_id")
                counts[chat_id] = counts.get(chat_id, 0) + 1
        return counts

    def arrival_times(self, chat_id: int | None = None, *, methods: tuple[str, ...] = MESSAGE_METHODS) -> list[float]:
        """time.monotonic() at which each request of ``methods`` arrived (failed ones too: the
        Bot API counts requests), in order; only those to ``chat_id`` when given."""
        return [
            c.arrived_at if c.arrived_at is not None else c.at
            for c in self.calls
            if c.method in methods and (chat_id is None or c.params.get("chat_id") == chat_id)
        ]

    def sent_texts(self, chat_id: int | None = None) -> list[str]:
        """Texts / captions of sent_messages (raw, markup included)."""
        return [m.get("text") or m.get("caption") or "" for m in self.sent_messages(chat_id)]

    def last_bot_message(self, chat_id: int) -> dict[str, Any] | None:
        """The last message the bot sent to ``chat_id`` as Telegram now holds it."""
        message_id = self._last_bot_message.get(chat_id)
        if message_id is None or (chat_id, message_id) in self._deleted:
            return None
        return copy.deepcopy(self._messages[(chat_id, message_id)])

    def message(self, chat_id: int, message_id: int) -> dict[str, Any] | None:
        stored = self._messages.get((chat_id, message_id))
        return copy.deepcopy(stored) if stored is not None else None

    def my_commands(
        self, scope: dict[str, Any] | None = None, language_code: str = ""
    ) -> list[dict[str, Any]]:
        return copy.deepcopy(self.commands.get(self._commands_key(scope, language_code), []))

    async def wait_for(
        self,
        method: str,
        predicate: Callable[[Call], bool] | None = None,
        timeout: float = 10.0,
        count: int = 1,
        *,
        since: int = 0,
    ) -> list[Call]:
        """Wait until ``count`` calls of ``method`` (failed ones too; check ``Call.ok``) that
        satisfy ``predicate`` exist among ``calls[since:]``; return all matching calls.
        Raises AssertionError listing the calls that were made."""
        name = self._canonical_name(method)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            matches = [
                c
                for c in self.calls[since:]
                if c.method == name and (predicate is None or predicate(c))
            ]
            if len(matches) >= count:
                return matches
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(
                    f"timed out after {timeout}s waiting for {count} {name} call(s)"
                    f"{' matching the predicate' if predicate else ''}; "
                    f"{len(matches)} matched.\n{self.describe_calls(since)}"
                )
            event = self._calls_changed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)

    def describe_calls(self, since: int = 0, limit: int = 60) -> str:
        """A readable list of the calls made (getUpdates polls are only counted)."""
        shown = [
            (i, c) for i, c in enumerate(self.calls) if i >= since and c.method != "getUpdates"
        ]
        polls = sum(1 for c in self.calls[since:] if c.method == "getUpdates")
        lines = [f"calls made ({len(shown)} besides {polls} getUpdates):"]
        if len(shown) > limit:
            lines.append(f"  ... {len(shown) - limit} earlier calls omitted")
            shown = shown[-limit:]
        lines += [f"  #{i} {c.summary()}" for i, c in shown]
        if not shown:
            lines.append("  (none)")
        if self.server_errors:
            lines.append(f"fake server errors: {self.server_errors}")
        return "\n".join(lines)

    # ---------------------------------------------------------------- HTTP plumbing

    def _canonical_name(self, method: str) -> str:
        return self._canonical.get(method.lower(), method)

    def _signal_updates(self) -> None:
        event, self._updates_changed = self._updates_changed, asyncio.Event()
        event.set()

    def _record(self, call: Call) -> None:
        self.calls.append(call)
        event, self._calls_changed = self._calls_changed, asyncio.Event()
        event.set()

    async def _handle_method(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        arrived_at = time.monotonic()
        raw_method = request.match_info["method"]
        try:
            params, files = await self._read_params(request)
        except BotApiError as exc:
            return web.json_response(exc.body(), status=exc.error_code)
        name = self._canonical.get(raw_method.lower())
        if name is None:
            error = BotApiError(404, "Not Found: method not found")
            self._record(Call(raw_method, params, files, 404, error.body(), arrived_at=arrived_at))
            return web.json_response(error.body(), status=404)

        delay = self._take_delay(name, params)
        if delay:
            self.delayed.append(Call(name, params, files, 0, None, arrived_at=arrived_at))
            await asyncio.sleep(delay)
        failure = self._take_failure(name, params)
        if failure is not None and failure.drop == "before":
            self._record(
                Call(name, params, files, 0, {"ok": False, "description": "connection dropped"},
                     arrived_at=arrived_at)
            )
            _drop(request)
        try:
            if failure is not None and failure.drop is None:
                raise BotApiError(failure.error_code, failure.description, failure.parameters)
            result = await self._handlers[name](params, files)
        except BotApiError as exc:
            body, status = exc.body(), exc.error_code
        except Exception as exc:  # a bug in the fake: report it loudly, answer 500
            self.server_errors.append(f"{name}: {exc!r}")
            body = {"ok": False, "error_code": 500, "description": f"Fake server error: {exc!r}"}
            status = 500
        else:
            body, status = {"ok": True, "result": result}, 200
        self._record(Call(name, params, files, status, body, arrived_at=arrived_at))
        if failure is not None and failure.drop == "after":
            _drop(request)
        return web.json_response(body, status=status)

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        path = request.match_info["path"]
        for stored in self._files.values():
            if stored.file_path == path:
                return web.Response(body=stored.data, content_type="application/octet-stream")
        return web.json_response(
            {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
        )

    async def _read_params(
        self, request: web.Request
    ) -> tuple[dict[str, Any], dict[str, UploadedFile]]:
        params: dict[str, Any] = {k: _decode_form_value(k, v) for k, v in request.query.items()}
        files: dict[str, UploadedFile] = {}
        if request.can_read_body:
            if request.content_type == "application/json":
                try:
                    body = await request.json()
                except ValueError as exc:
                    raise _bad_request("can't parse JSON object") from exc
                if not isinstance(body, dict):
                    raise _bad_request("JSON object expected")
                for key, value in body.items():
                    if key in _JSON_PARAMS and isinstance(value, str):
                        with contextlib.suppress(ValueError):
                            value = json.loads(value)
                    params[key] = value
            else:
                form = await request.post()
                for key, value in form.items():
                    if isinstance(value, web.FileField):
                        files[key] = UploadedFile(
                            key, value.filename, value.content_type, value.file.read()
                        )
                    else:
                        params[key] = _decode_form_value(key, value)
        for key, value in list(params.items()):
            if isinstance(value, str) and value.startswith("attach://"):
                attached = files.get(value[len("attach://") :])
                if attached is not None:
                    files[key] = attached
        return params, files

    def _take_delay(self, name: str, params: dict[str, Any]) -> float:
        delays = self._delays.get(name)
        if not delays:
            return 0.0
        delays[:] = [d for d in delays if d.remaining > 0]
        for delay in delays:
            if delay.chat_id is None or _same_chat(params.get("chat_id"), delay.chat_id):
                delay.remaining -= 1
                return delay.seconds
        return 0.0

    def _take_failure(self, name: str, params: dict[str, Any]) -> _Failure | None:
        failures = self._failures.get(name)
        if not failures:
            return None
        now = time.monotonic()
        failures[:] = [f for f in failures if not f.expired(now)]
        for failure in failures:
            if failure.applies(params, now):
                if failure.skip > 0:
                    failure.skip -= 1
                    return None
                if failure.remaining is not None:
                    failure.remaining -= 1
                    if failure.remaining <= 0:
                        failures.remove(failure)
                return failure
        return None

    # ---------------------------------------------------------------- state helpers

    def _allocate_update_id(self) -> int:
        update_id = self._next_update_id
        self._next_update_id += 1
        return update_id

    def _allocate_message_id(self, chat_id: int) -> int:
        message_id = self._next_message_id.get(chat_id, 1)
        self._next_message_id[chat_id] = message_id + 1
        return message_id

    def _remember_message(
        self, message: dict[str, Any], source: tuple[str | None, str | None] | None = None
    ) -> None:
        chat = message.get("chat") or {}
        if "id" not in chat or "message_id" not in message:
            return
        key = (int(chat["id"]), int(message["message_id"]))
        self._chats.setdefault(key[0], copy.deepcopy(chat))
        self._messages[key] = copy.deepcopy(message)
        self._message_source[key] = source or (message.get("text"), None)
        self._next_message_id[key[0]] = max(self._next_message_id.get(key[0], 1), key[1] + 1)
        if (message.get("from") or {}).get("id") == self.bot_id:
            self._last_bot_message[key[0]] = max(self._last_bot_message.get(key[0], 0), key[1])

    def _store_file(self, file_id: str, unique: str, data: bytes, file_path: str) -> None:
        self._files[file_id] = _StoredFile(data, file_path, unique)

    def _bot_user(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    def _chat_id(self, params: dict[str, Any]) -> int:
        if "chat_id" not in params or params["chat_id"] in ("", None):
            raise _bad_request("chat_id is empty")
        chat_id = params["chat_id"]
        if isinstance(chat_id, bool) or not isinstance(chat_id, int):
            raise _bad_request("chat not found")
        return chat_id

    def _chat_dict(self, chat_id: int) -> dict[str, Any]:
        known = self._chats.get(chat_id)
        if known is not None:
            return copy.deepcopy(known)
        if chat_id > 0:
            return {"id": chat_id, "first_name": f"User {chat_id}", "type": "private"}
        chat_type = "supergroup" if str(chat_id).startswith("-100") else "group"
        return {"id": chat_id, "title": f"Chat {chat_id}", "type": chat_type}

    def _check_not_blocked(self, chat_id: int) -> None:
        if chat_id in self.blocked_users:
            raise BotApiError(403, "Forbidden: bot was blocked by the user")
        if chat_id in self.missing_chats:
            raise _bad_request("chat not found")
        if chat_id in self.migrated_chats:
            raise BotApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": self.migrated_chats[chat_id]},
            )

    def _checked_text(self, text: Any, parse_mode: Any, *, caption: bool = False) -> str:
        if text is None:
            text = ""
        if not isinstance(text, str):
            text = str(text)
        if self.check_markup:
            try:
                plain = parse_markup(text, parse_mode)
            except MarkupError as exc:
                raise _bad_request(f"can't parse entities: {exc}") from exc
        else:
            plain = text
        if caption:
            if _utf16_len(plain) > MAX_CAPTION_LENGTH:
                raise _bad_request("message caption is too long")
        else:
            if not plain.strip():
                raise _bad_request("message text is empty")
            if _utf16_len(plain) > MAX_TEXT_LENGTH:
                raise _bad_request("message is too long")
        return plain

    def _checked_markup(self, markup: Any) -> dict[str, Any] | None:
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise _bad_request("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            rows = markup["inline_keyboard"]
            if not isinstance(rows, list):
                raise _bad_request(
                    'field "inline_keyboard" of the InlineKeyboardMarkup '
                    "should be an Array of Arrays"
                )
            for row in rows:
                if not isinstance(row, list):
                    raise _bad_request(
                        'field "inline_keyboard" of the InlineKeyboardMarkup '
                        "should be an Array of Arrays"
                    )
                for button in row:
                    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                        raise _bad_request(
                            "can't parse inline keyboard button: Text buttons "
                            "are unallowed in the inline keyboard"
                        )
                    data = button.get("callback_data")
                    if data is not None and not (
                        isinstance(data, str)
                        and 1 <= len(data.encode("utf-8")) <= MAX_CALLBACK_DATA_BYTES
                    ):
                        raise _bad_request("BUTTON_DATA_INVALID")
            return markup
        if not any(k in markup for k in ("keyboard", "remove_keyboard", "force_reply")):
            raise _bad_request("can't parse reply keyboard markup JSON object")
        return None  # reply keyboards are not echoed in the Message

    def _reply_to(self, params: dict[str, Any], chat_id: int) -> dict[str, Any] | None:
        reply = params.get("reply_parameters")
        message_id = None
        allow_without = bool(params.get("allow_sending_without_reply"))
        if isinstance(reply, dict):
            message_id = reply.get("message_id")
            allow_without = allow_without or bool(reply.get("allow_sending_without_reply"))
        elif params.get("reply_to_message_id") is not None:
            message_id = params["reply_to_message_id"]
        if message_id is None:
            return None
        key = (chat_id, int(message_id))
        if key not in self._messages or key in self._deleted:
            if allow_without:
                return None
            raise _bad_request("message to be replied not found")
        original = copy.deepcopy(self._messages[key])
        original.pop("reply_to_message", None)
        return original

    def _new_bot_message(
        self,
        chat_id: int,
        params: dict[str, Any],
        content: dict[str, Any],
        source: tuple[str | None, str | None],
    ) -> dict[str, Any]:
        self._check_not_blocked(chat_id)
        markup = self._checked_markup(params.get("reply_markup"))
        reply_to = self._reply_to(params, chat_id)
        message: dict[str, Any] = {
            "message_id": self._allocate_message_id(chat_id),
            "from": self._bot_user(),
            "chat": self._chat_dict(chat_id),
            "date": int(time.time()),
        }
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        message.update(content)
        if params.get("protect_content"):
            message["has_protected_content"] = True
        if markup is not None:
            message["reply_markup"] = markup
        self._remember_message(message, source)
        return copy.deepcopy(message)

    def _editable(self, params: dict[str, Any]) -> tuple[tuple[int, int], dict[str, Any]]:
        chat_id = self._chat_id(params)
        if params.get("message_id") in (None, ""):
            raise _bad_request("message identifier is not specified")
        key = (chat_id, int(params["message_id"]))
        self._check_not_blocked(chat_id)
        message = self._messages.get(key)
        if message is None or key in self._deleted:
            raise _bad_request("message to edit not found")
        if (message.get("from") or {}).get("id") != self.bot_id:
            raise _bad_request("message can't be edited")
        return key, message

    # ---------------------------------------------------------------- Bot API methods

    async def _return_true(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> bool:
        return True

    async def _get_me(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        return {
            **self._bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _get_updates(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        if self.webhook is not None:
            raise BotApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = int(params.get("offset") or 0)
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        timeout = min(max(float(params.get("timeout") or 0), 0.0), self.max_long_poll)
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = allowed or None
        self._confirm(offset)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            event = self._updates_changed
            pending = self._deliverable()
            remaining = deadline - loop.time()
            if pending or self._closing or remaining <= 0:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)
        batch = pending[:limit]
        for queued in batch:
            queued.delivered = True
            if self._duplicates_left > 0 and not queued.forced:
                self._duplicates_left -= 1
                self._queue.append(_Queued(copy.deepcopy(queued.update), forced=True))
        if batch:
            self._signal_updates()
        return [copy.deepcopy(q.update) for q in batch]

    def _confirm(self, offset: int) -> None:
        if offset < 0:
            self._queue = self._queue[offset:]
        elif offset > 0:
            self._queue = [
                q for q in self._queue if q.update_id >= offset or (q.forced and not q.delivered)
            ]
        self._signal_updates()

    def _deliverable(self) -> list[_Queued]:
        allowed = self._allowed_updates
        if self.webhook is not None and self.webhook.get("allowed_updates"):
            allowed = self.webhook["allowed_updates"]
        if allowed:
            self._queue = [q for q in self._queue if _update_type(q.update) in allowed]
        return sorted(self._queue, key=lambda q: q.update_id)

    async def _send_message(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        chat_id = self._chat_id(params)
        plain = self._checked_text(params.get("text"), params.get("parse_mode"))
        return self._new_bot_message(
            chat_id, params, {"text": plain}, (params.get("text"), params.get("parse_mode"))
        )

    async def _edit_message_text(
        self, params: dict[str, Any], files: dict[str, UploadedFile]
    ) -> Any:
        plain = self._checked_text(params.get("text"), params.get("parse_mode"))
        markup = self._checked_markup(params.get("reply_markup"))
        if params.get("inline_message_id"):
            return True
        key, message = self._editable(params)
        if "text" not in message:
            raise _bad_request("there is no text in the message to edit")
        source = (params.get("text"), params.get("parse_mode"))
        if source == self._message_source.get(key) and markup == message.get("reply_markup"):
            raise _bad_request(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        message["text"] = plain
        self._message_source[key] = source
        return self._apply_edit(message, markup)

    async def _edit_message_caption(
        self, params: dict[str, Any], files: dict[str, UploadedFile]
    ) -> Any:
        plain = self._checked_text(params.get("caption"), params.get("parse_mode"), caption=True)
        markup = self._checked_markup(params.get("reply_markup"))
        if params.get("inline_message_id"):
            return True
        key, message = self._editable(params)
        if "text" in message:
            raise _bad_request("there is no caption in the message to edit")
        source = (params.get("caption"), params.get("parse_mode"))
        if source == self._message_source.get(key) and markup == message.get("reply_markup"):
            raise _bad_request(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        if plain:
            message["caption"] = plain
        else:
            message.pop("caption", None)
        self._message_source[key] = source
        return self._apply_edit(message, markup)

    async def _edit_message_reply_markup(
        self, params: dict[str, Any], files: dict[str, UploadedFile]
    ) -> Any:
        markup = self._checked_markup(params.get("reply_markup"))
        if params.get("inline_message_id"):
            return True
        _, message = self._editable(params)
        if markup == message.get("reply_markup"):
            raise _bad_request(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        return self._apply_edit(message, markup)

    def _apply_edit(self, message: dict[str, Any], markup: dict[str, Any] | None) -> Any:
        if markup is None:
            message.pop("reply_markup", None)
        else:
            message["reply_markup"] = markup
        message["edit_date"] = int(time.time())
        return copy.deepcopy(message)

    async def _delete_message(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        chat_id = self._chat_id(params)
        key = (chat_id, int(params.get("message_id") or 0))
        if key not in self._messages or key in self._deleted:
            raise _bad_request("message to delete not found")
        self._deleted.add(key)
        return True

    async def _answer_callback_query(
        self, params: dict[str, Any], files: dict[str, UploadedFile]
    ) -> Any:
        if not params.get("callback_query_id"):
            raise _bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        if len(str(params.get("text") or "")) > 200:
            raise _bad_request("MESSAGE_TOO_LONG")
        return True

    async def _send_chat_action(
        self, params: dict[str, Any], files: dict[str, UploadedFile]
    ) -> Any:
        chat_id = self._chat_id(params)
        if params.get("action") not in CHAT_ACTIONS:
            raise _bad_request("wrong parameter action in request")
        self._check_not_blocked(chat_id)
        return True

    def _input_file(
        self, params: dict[str, Any], files: dict[str, UploadedFile], name: str
    ) -> tuple[bytes | None, UploadedFile | None, _StoredFile | None]:
        upload = files.get(name)
        if upload is not None:
            if not upload.data:
                raise _bad_request("file must be non-empty")
            return upload.data, upload, None
        ref = params.get(name)
        if not ref:
            raise _bad_request(f"there is no {name} in the request")
        if not isinstance(ref, str):
            raise _bad_request(f"wrong type of the {name} parameter")
        stored = self._files.get(ref)
        if stored is not None:
            return stored.data, None, stored
        if ref.startswith(("http://", "https://")):
            return None, None, None
        raise _bad_request("wrong file identifier/HTTP URL specified")

    async def _send_photo(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        chat_id = self._chat_id(params)
        data, _, _ = self._input_file(params, files, "photo")
        if data is not None and self.check_markup and _image_kind(data) is None:
            raise _bad_request("IMAGE_PROCESS_FAILED")
        width, height = _image_size(data) if data is not None else (800, 600)
        caption = self._checked_text(params.get("caption"), params.get("parse_mode"), caption=True)
        sizes = []
        if max(width, height) > 90:
            scale = 90 / max(width, height)
            small_id, small_unique = _new_file_ids("photo")
            thumb = (max(1, round(width * scale)), max(1, round(height * scale)))
            sizes.append((small_id, small_unique, *thumb, max(1, len(data or b"") // 10)))
        full_id, full_unique = _new_file_ids("photo")
        sizes.append((full_id, full_unique, width, height, len(data or b"") or 50_000))
        photo = []
        for file_id, unique, w, h, size in sizes:
            if data is not None:
                self._store_file(file_id, unique, data, f"photos/file_{file_id[-6:]}.jpg")
            photo.append(
                {
                    "file_id": file_id,
                    "file_unique_id": unique,
                    "width": w,
                    "height": h,
                    "file_size": size,
                }
            )
        content: dict[str, Any] = {"photo": photo}
        if caption:
            content["caption"] = caption
        return self._new_bot_message(
            chat_id, params, content, (params.get("caption"), params.get("parse_mode"))
        )

    async def _send_document(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        chat_id = self._chat_id(params)
        data, upload, stored = self._input_file(params, files, "document")
        caption = self._checked_text(params.get("caption"), params.get("parse_mode"), caption=True)
        if stored is not None:
            file_name = stored.file_path.rsplit("/", 1)[-1]
        elif upload is not None:
            file_name = upload.filename or "document"
        else:
            file_name = str(params["document"]).rsplit("/", 1)[-1] or "document"
        mime_type = (
            mimetypes.guess_type(file_name)[0]
            or (upload.content_type if upload is not None and upload.content_type else None)
            or "application/octet-stream"
        )
        file_id, unique = _new_file_ids("document")
        if data is not None:
            self._store_file(file_id, unique, data, f"documents/{file_id[-6:]}_{file_name}")
        document = {
            "file_name": file_name,
            "mime_type": mime_type,
            "file_id": file_id,
            "file_unique_id": unique,
            "file_size": len(data or b""),
        }
        content: dict[str, Any] = {"document": document}
        if caption:
            content["caption"] = caption
        return self._new_bot_message(
            chat_id, params, content, (params.get("caption"), params.get("parse_mode"))
        )

    async def _get_file(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        file_id = params.get("file_id")
        stored = self._files.get(str(file_id)) if file_id else None
        if stored is None:
            raise _bad_request("invalid file_id")
        return {
            "file_id": file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
            "file_path": stored.file_path,
        }

    @staticmethod
    def _commands_key(scope: Any, language_code: Any) -> tuple[str, str]:
        if not isinstance(scope, dict) or not scope:
            scope = {"type": "default"}
        return json.dumps(scope, sort_keys=True), str(language_code or "")

    async def _set_my_commands(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise _bad_request("can't parse commands JSON object")
        if len(commands) > 100:
            raise _bad_request("too many commands specified")
        for command in commands:
            if not isinstance(command, dict):
                raise _bad_request("can't parse BotCommand JSON object")
            name = command.get("command")
            if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9_]{1,32}", name):
                raise _bad_request("BOT_COMMAND_INVALID")
            description = command.get("description")
            if not isinstance(description, str) or not 1 <= len(description.strip()) <= 256:
                raise _bad_request("command description must be non-empty")
        key = self._commands_key(params.get("scope"), params.get("language_code"))
        self.commands[key] = copy.deepcopy(commands)
        return True

    async def _delete_my_commands(
        self, params: dict[str, Any], files: dict[str, UploadedFile]
    ) -> Any:
        self.commands.pop(
            self._commands_key(params.get("scope"), params.get("language_code")), None
        )
        return True

    async def _get_my_commands(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        return self.my_commands(params.get("scope"), params.get("language_code") or "")

    async def _delete_webhook(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        self.webhook = None
        if params.get("drop_pending_updates"):
            self._queue.clear()
        self._signal_updates()
        return True

    async def _set_webhook(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        url = params.get("url") or ""
        if params.get("drop_pending_updates"):
            self._queue.clear()
        if not url:
            self.webhook = None
        else:
            if not str(url).startswith(("http://", "https://")):
                raise _bad_request(
                    "bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443"
                )
            allowed = params.get("allowed_updates")
            self.webhook = {
                "url": url,
                "secret_token": params.get("secret_token"),
                "max_connections": params.get("max_connections") or 40,
                "allowed_updates": allowed if isinstance(allowed, list) else None,
                "has_custom_certificate": "certificate" in files,
            }
        self._signal_updates()
        return True

    async def _get_webhook_info(
        self, params: dict[str, Any], files: dict[str, UploadedFile]
    ) -> Any:
        info: dict[str, Any] = {
            "url": "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._queue),
        }
        if self.webhook is not None:
            info["url"] = self.webhook["url"]
            info["has_custom_certificate"] = self.webhook["has_custom_certificate"]
            info["max_connections"] = self.webhook["max_connections"]
            info["ip_address"] = "127.0.0.1"
            if self.webhook["allowed_updates"]:
                info["allowed_updates"] = self.webhook["allowed_updates"]
            if self.webhook_errors:
                info["last_error_date"] = int(time.time())
                info["last_error_message"] = self.webhook_errors[-1]
        return info

    # ---------------------------------------------------------------- webhook delivery

    async def _webhook_loop(self) -> None:
        """Push queued updates to the webhook URL, one at a time, retrying until a 2xx."""
        session: aiohttp.ClientSession | None = None
        try:
            while not self._closing:
                event = self._updates_changed
                pending = self._deliverable() if self.webhook is not None else []
                if not (self.deliver_webhooks and self.webhook is not None and pending):
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(event.wait(), 1.0)
                    continue
                if session is None:
                    session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
                queued = pending[0]
                headers = {}
                if self.webhook.get("secret_token"):
                    headers["X-Telegram-Bot-Api-Secret-Token"] = self.webhook["secret_token"]
                try:
                    async with session.post(
                        self.webhook["url"], json=queued.update, headers=headers
                    ) as response:
                        ok = 200 <= response.status < 300
                        error = f"Wrong response from the webhook: {response.status}"
                except (aiohttp.ClientError, TimeoutError) as exc:
                    ok, error = False, f"Connection error: {exc!r}"
                if ok:
                    queued.delivered = True
                    with contextlib.suppress(ValueError):
                        self._queue.remove(queued)
                    self._signal_updates()
                else:
                    self.webhook_errors.append(error)
                    await asyncio.sleep(self.webhook_retry_delay)
        finally:
            if session is not None:
                await session.close()


def _drop(request: web.Request) -> None:
    """Close the client's connection without a byte of answer (the client sees "server
    disconnected"); aiohttp stops handling the request."""
    if request.transport is not None:
        request.transport.close()
    raise asyncio.CancelledError


def _decode_form_value(key: str, value: str) -> Any:
    if key in _STRING_PARAMS:
        return value
    stripped = value.strip()
    if not stripped:
        return value
    if stripped[0] in '{["-0123456789' or stripped in ("true", "false", "null"):
        try:
            return json.loads(stripped)
        except ValueError:
            return value
    return value
