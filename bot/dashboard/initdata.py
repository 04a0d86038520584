"""Telegram Mini App `initData`: checked exactly as Telegram documents it, before anyone is trusted.

    secret_key       = HMAC-SHA256(key="WebAppData", msg=bot_token)
    data_check_string = "\\n".join(f"{key}={value}" for every field except hash, sorted by key)
    hash             = hex(HMAC-SHA256(key=secret_key, msg=data_check_string))

The hash is compared in constant time, then `auth_date` must be recent enough. Reasons for a
refusal are short words (logged with no personal data); the token is never part of one.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qsl, urlencode

__all__ = ["InitDataError", "WebAppUser", "check_init_data", "sign_init_data"]

# A little slack for clocks: an auth_date this far in the future still passes.
CLOCK_SKEW_SECONDS = 60


class InitDataError(ValueError):
    """initData is malformed, forged, or too old; `reason` says which (no personal data)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class WebAppUser:
    """The Telegram user a valid initData speaks for."""

    telegram_id: int
    first_name: str | None
    language_code: str | None
    auth_date: int


def _secret_key(bot_token: str) -> bytes:
    return hmac.new(b"WebAppData", bot_token.encode("utf-8"), hashlib.sha256).digest()


def _data_check_string(fields: dict[str, str]) -> str:
    return "\n".join(f"{key}={fields[key]}" for key in sorted(fields) if key != "hash")


def sign_init_data(fields: dict[str, str], bot_token: str) -> str:
    """initData as Telegram would build it for `fields` (used by tests and local tools)."""
    unsigned = {k: v for k, v in fields.items() if k != "hash"}
    digest = hmac.new(_secret_key(bot_token), _data_check_string(unsigned).encode("utf-8"), hashlib.sha256)
    return urlencode({**unsigned, "hash": digest.hexdigest()})


def _parse(init_data: str) -> dict[str, str]:
    if not init_data or len(init_data) > 8192:
        raise InitDataError("malformed")
    try:
        pairs = parse_qsl(init_data, keep_blank_values=True, strict_parsing=True)
    except ValueError as exc:
        raise InitDataError("malformed") from exc
    fields = dict(pairs)
    if len(fields) != len(pairs):  # a repeated key: which one was signed?
        raise InitDataError("malformed")
    return fields


def check_init_data(init_data: str, bot_token: str, now: datetime, max_age_seconds: int) -> WebAppUser:
    """The user of a correctly signed, fresh initData; raises InitDataError otherwise."""
    if not bot_token:
        raise InitDataError("no-token")
    fields = _parse(init_data)
    received = fields.get("hash", "")
    expected = hmac.new(
        _secret_key(bot_token), _data_check_string(fields).encode("utf-8"), hashlib.sha256
    ).hexdigest()
    if not hmac.compare_digest(received.encode("ascii", "replace"), expected.encode("ascii")):
        raise InitDataError("bad-signature")
    try:
        auth_date = int(fields["auth_date"])
    except (KeyError, ValueError) as exc:
        raise InitDataError("no-auth-date") from exc
    age = now.timestamp() - auth_date
    if age > max_age_seconds:
        raise InitDataError("too-old")
    if age < -CLOCK_SKEW_SECONDS:
        raise InitDataError("from-the-future")
    try:
        user = json.loads(fields["user"])
        telegram_id = int(user["id"])
    except (KeyError, ValueError, TypeError) as exc:
        raise InitDataError("no-user") from exc
    return WebAppUser(telegram_id, user.get("first_name"), user.get("language_code"), auth_date)
