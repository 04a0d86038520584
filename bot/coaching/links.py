"""Deep links: codes for cohort joining (`k_…`) and one-time coach invites (`p_…`), t.me links
and QR codes for a printed poster."""

from __future__ import annotations

import hashlib
import io
import re
import secrets
import string
from dataclasses import dataclass
from typing import Literal

import segno

# Letters and digits only: a code starting with "-" would read as an option on a command line.
_ALPHABET = string.ascii_letters + string.digits

__all__ = [
    "COACH_INVITE",
    "COHORT_JOIN",
    "DeepLink",
    "hash_code",
    "new_cohort_code",
    "new_invite_code",
    "parse_payload",
    "qr_png",
    "start_link",
]

COHORT_JOIN = "k_"
COACH_INVITE = "p_"
# Telegram allows A-Z, a-z, 0-9, _ and - in a /start payload, 64 characters at most.
_CODE = re.compile(r"^[A-Za-z0-9_-]{6,60}$")


@dataclass(frozen=True)
class DeepLink:
    """A recognised /start payload."""

    kind: Literal["join", "invite"]
    code: str


def _random_code(length: int) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def new_cohort_code() -> str:
    """A join code: short enough for a poster, too many to guess (62^10, about 2^59)."""
    return _random_code(10)


def new_invite_code() -> str:
    """A coach invite code: 22 characters (about 131 random bits), shown once, stored hashed."""
    return _random_code(22)


def hash_code(code: str) -> str:
    """What the database keeps of an invite code."""
    return hashlib.sha256(code.encode()).hexdigest()


def parse_payload(payload: str) -> DeepLink | None:
    """`k_<code>` → join, `p_<code>` → invite; anything else (a campaign tag) → None."""
    payload = payload.strip()
    for prefix, kind in ((COHORT_JOIN, "join"), (COACH_INVITE, "invite")):
        if payload.startswith(prefix) and _CODE.match(payload[len(prefix) :]):
            return DeepLink(kind, payload[len(prefix) :])  # type: ignore[arg-type]
    return None


def start_link(bot_username: str, payload: str) -> str | None:
    """`https://t.me/<bot>?start=<payload>`, or None while the bot's username is unknown."""
    if not bot_username:
        return None
    return f"https://t.me/{bot_username}?start={payload}"


def qr_png(text: str) -> bytes:
    """A QR code of `text` as PNG, sized for printing on an A4 poster."""
    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="png", scale=10, border=4)
    return buffer.getvalue()
