"""Telegram HTML to plain text, for the resend after Telegram refused the markup."""

from __future__ import annotations

import html
import re

__all__ = ["html_to_plain", "utf16_length"]

# Only things shaped like tags: "<b>", "</a>", '<a href="…">'. A bare "<" in text such as
# "untung <5%" is the usual cause of "can't parse entities" and must survive as text.
_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>")


def html_to_plain(text: str) -> str:
    """Tags dropped, entities (&lt; &amp; &#39; …) turned back into characters."""
    return html.unescape(_TAG.sub("", text))


def utf16_length(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2
