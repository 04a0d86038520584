"""Hypothesis strategies for hostile Telegram updates, as raw Bot API JSON: texts full of control
characters, invisible and right-to-left marks, markup and SQL; 4,096+ characters; unknown and
mistyped commands with junk arguments; forged and truncated button data carrying other people's
ids; edited messages, group and channel posts, and updates without their optional fields."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from tests.e2e.fake_bot_api import FakeUser
from tests.faults.harness import LAST_BOT_MESSAGE

FRAGMENTS = (
    "\x00", "\x01", "\x07", "\x08", "\x1b[31m", "\x7f", "\u0085", "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff",
    "\u202e", "\u202d", "\u200f", "\u061c", "\u2028", "\ufffd", "\U0010ffff", "😀", "👩‍👩‍👧‍👦", "🇮🇩", "e\u0301",
    "<b>", "</b>", "<i>miring", "<script>alert(1)</script>", '<a href="javascript:alert(1)">klik</a>',
    "<img src=x onerror=alert(1)>", "<tg-spoiler>", "&amp;", "&lt;", "&#0;", "&#x110000;", "&bogus;", "<", ">", "&",
    "*tebal*", "_miring_", "`kode`", "```\nblok\n```", "[tautan](http://evil.example)", "||rahasia||", "~coret~",
    "'; DROP TABLE users; --", '" OR 1=1 --', "1; DELETE FROM figures", "%s%s%n", "%(name)s", "{0}", "{{ nama }}",
    "{{ 7*7 }}", "{% for x in range(99999999) %}", "${jndi:ldap://x}", "../../etc/passwd", "\\", "\n", "\r\n", "\t",
    " ", "/", "|", "v1|", "@pendamping_umkm_test_bot", "omzet 2,5jt", "cara daftar nib", "qris", "12345678901234567890",
    "-1", "0", "NaN", "1e309",
)  # fmt: skip

COMMANDS = (
    "start", "bantuan", "help", "topik", "bahasa", "batal", "profil", "catat", "progres", "laporan",
    "tanya_pendamping", "kelompok_saya", "ekspor", "hapus", "pengingat_saya", "kelompok", "kelompok_baru",
    "pertanyaan", "dasbor", "pengingat", "undangan", "siaran", "undang_pendamping", "admin", "sql", "START",
    "Ekspor", "x" * 40, "ekspor_", "_", "delete", "export", "record", "progress",
)  # fmt: skip

hostile_text = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=12)), max_size=10).map("".join)
long_text = st.builds(
    lambda unit, n: (unit * (n // len(unit) + 1))[:n],
    st.sampled_from(["a", "😀", "<b>x</b> ", "kata ", "\u200b", "&amp;"]),
    st.integers(4090, 4400),
)
any_text = st.one_of(hostile_text, hostile_text, hostile_text, long_text)


def command_text(ids: list[str]) -> st.SearchStrategy[str]:
    """`/command[@bot] [args]`, the arguments junk, long, or someone else's ids."""
    args = st.one_of(st.just(""), hostile_text, st.sampled_from(ids), st.lists(st.sampled_from(ids), max_size=3).map(" ".join), long_text)
    mention = st.sampled_from(["", "", "@pendamping_umkm_test_bot", "@other_bot"])
    return st.builds(lambda c, m, a: f"/{c}{m}{' ' + a if a else ''}", st.sampled_from(COMMANDS), mention, args)


def callback_data(actions: list[str], ids: list[str]) -> st.SearchStrategy[str]:
    """Forged (a real action, junk or others' ids as arguments), truncated, or plain junk."""
    arg = st.one_of(st.sampled_from(ids), st.integers(-3, 10**12).map(str), hostile_text.map(lambda t: t[:20]))
    forged = st.builds(lambda a, args: "|".join(["v1", a, *args]), st.sampled_from(actions), st.lists(arg, max_size=4))
    truncated = st.builds(lambda data, n: data[:n], forged, st.integers(0, 70))
    return st.one_of(forged, forged, truncated, st.text(max_size=80), st.sampled_from(["", "v1", "v1|", "v2|consent|y"]))


# What the bot must do with each kind of update (see bot/telegram/private.py).
REPLY, SILENCE, PRIVATE_ONLY = "reply", "silence", "private_only"


@dataclass(frozen=True)
class Hostile:
    """One generated update, who sends it, and what the bot must answer."""

    kind: str
    sender: FakeUser
    update: dict[str, Any]
    expect: str
    chat_id: int | None  # where an answer would go

    @property
    def forged_button(self) -> bool:
        return "callback_query" in self.update


def _message(sender: FakeUser, chat: dict[str, Any], **fields: Any) -> dict[str, Any]:
    message: dict[str, Any] = {"message_id": 10_000 + sender.id % 997, "chat": chat, "date": int(time.time())}
    if fields.pop("with_from", True):
        message["from"] = sender.to_dict()
    message.update(fields)
    return message


def _entities(text: str) -> list[dict[str, Any]]:
    if not text.startswith("/"):
        return []
    length = len(text.split(" ", 1)[0].encode("utf-16-le")) // 2
    return [{"offset": 0, "length": length, "type": "bot_command"}]


def hostile_updates(senders: list[FakeUser], actions: list[str], ids: list[str]) -> st.SearchStrategy[Hostile]:
    """Every kind of hostile update from one of `senders`."""
    group = {"id": -100777, "type": "group", "title": "Grup UMKM"}
    supergroup = {"id": -1001234567, "type": "supergroup", "title": "Paguyuban"}
    channel = {"id": -1009876543, "type": "channel", "title": "Kanal"}
    commands = command_text(ids)
    buttons = callback_data(actions, ids)

    @st.composite
    def build(draw: st.DrawFn) -> Hostile:
        sender = draw(st.sampled_from(senders))
        private = sender.private_chat()
        kind = draw(st.sampled_from([
            "text", "text", "command", "command", "button", "button", "button", "photo", "sticker", "service",
            "reply_to_unknown", "edited", "group_text", "group_command", "supergroup_command", "anonymous_admin",
            "channel_post", "group_button", "inline_button", "game_button",
        ]))  # fmt: skip
        if kind in ("text", "command", "reply_to_unknown"):
            text = draw(commands if kind == "command" else any_text)
            fields: dict[str, Any] = {"text": text}
            if _entities(text):
                fields["entities"] = _entities(text)
            if kind == "reply_to_unknown":
                fields["reply_to_message"] = _message(sender, private, message_id=draw(st.integers(1, 10**6)), text="?")
            return Hostile(kind, sender, {"message": _message(sender, private, **fields)}, REPLY, sender.id)
        if kind == "button":
            query = {"id": str(draw(st.integers(1, 10**9))), "from": sender.to_dict(), "chat_instance": "1",
                     "message": LAST_BOT_MESSAGE, "data": draw(buttons)}  # fmt: skip
            return Hostile(kind, sender, {"callback_query": query}, REPLY, sender.id)
        if kind == "photo":
            photo = [{"file_id": "AgAD", "file_unique_id": "u1", "width": 2, "height": 2}]
            message = _message(sender, private, photo=photo, caption=draw(any_text)[:1024])
            return Hostile(kind, sender, {"message": message}, REPLY, sender.id)
        if kind == "sticker":
            sticker = {"file_id": "CAAD", "file_unique_id": "s1", "type": "regular", "width": 512, "height": 512,
                       "is_animated": False, "is_video": False}  # fmt: skip
            return Hostile(kind, sender, {"message": _message(sender, private, sticker=sticker)}, REPLY, sender.id)
        if kind == "service":  # a message with neither text nor media (e.g. a pinned-message notice)
            return Hostile(kind, sender, {"message": _message(sender, private)}, REPLY, sender.id)
        if kind == "edited":
            message = _message(sender, private, text=draw(any_text), edit_date=int(time.time()))
            return Hostile(kind, sender, {"edited_message": message}, SILENCE, sender.id)
        if kind in ("group_text", "group_command", "supergroup_command", "anonymous_admin"):
            chat = supergroup if kind == "supergroup_command" else group
            text = draw(any_text if kind == "group_text" else commands)
            fields = {"text": text, "with_from": kind != "anonymous_admin"}
            if kind == "anonymous_admin":
                fields["sender_chat"] = chat
            if _entities(text):
                fields["entities"] = _entities(text)
            expect = PRIVATE_ONLY if text.startswith("/") else SILENCE
            return Hostile(kind, sender, {"message": _message(sender, chat, **fields)}, expect, chat["id"])
        if kind == "channel_post":
            post = _message(sender, channel, text=draw(any_text), with_from=False, sender_chat=channel)
            return Hostile(kind, sender, {"channel_post": post}, SILENCE, channel["id"])
        query = {"id": str(draw(st.integers(1, 10**9))), "from": sender.to_dict(), "chat_instance": "2"}
        if kind == "group_button":
            query["message"] = _message(sender, group, text="?")
            query["data"] = draw(buttons)
            return Hostile(kind, sender, {"callback_query": query}, SILENCE, group["id"])
        if kind == "inline_button":  # pressed on an inline-mode message: no message, no chat
            query["inline_message_id"] = "AAAA"
            query["data"] = draw(buttons)
            return Hostile(kind, sender, {"callback_query": query}, SILENCE, None)
        # a game button: a message but no data
        query["message"] = LAST_BOT_MESSAGE
        query["game_short_name"] = "tebak"
        return Hostile(kind, sender, {"callback_query": query}, REPLY, sender.id)

    return build()
