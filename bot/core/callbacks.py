"""Button callback data: short, versioned, and within Telegram's 64-byte limit."""

from __future__ import annotations

from dataclasses import dataclass

VERSION = "v1"
MAX_BYTES = 64
SEPARATOR = "|"


@dataclass(frozen=True)
class Callback:
    """A decoded button press: an action and its arguments."""

    action: str
    args: tuple[str, ...] = ()


def encode(action: str, *args: object) -> str:
    """`v1|action|arg…`; raises ValueError beyond 64 bytes so a bug never reaches Telegram."""
    data = SEPARATOR.join([VERSION, action, *(str(a) for a in args)])
    if len(data.encode()) > MAX_BYTES:
        raise ValueError(f"callback data over {MAX_BYTES} bytes: {data!r}")
    return data


def decode(data: str) -> Callback | None:
    """The button press, or None for another version or garbage (an old button)."""
    parts = data.split(SEPARATOR)
    if len(parts) < 2 or parts[0] != VERSION or not parts[1]:
        return None
    return Callback(parts[1], tuple(parts[2:]))
