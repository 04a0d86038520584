"""Mini App initData checked as Telegram documents it; vectors built here with the algorithm
written out step by step (not with the code under test)."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest

from bot.dashboard.initdata import InitDataError, check_init_data, sign_init_data

TOKEN = "123456789:AAHdashboardTestToken-abcdefghijklmno"
NOW = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)


def telegram_init_data(token: str, user_id: int, *, auth_date: int, first_name: str = "Rina") -> str:
    """initData as Telegram builds it: fields, data-check-string, HMAC with the derived key."""
    fields = {
        "query_id": "AAHdF6IQAAAAAN0XohDhrOrc",
        "user": json.dumps({"id": user_id, "first_name": first_name, "language_code": "id"}, separators=(",", ":")),
        "auth_date": str(auth_date),
        "signature": "c2lnbmF0dXJl",
    }
    check = "\n".join(f"{k}={fields[k]}" for k in sorted(fields))
    secret = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
    fields["hash"] = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    return urlencode(fields)


def test_a_correctly_signed_fresh_init_data_is_accepted() -> None:
    data = telegram_init_data(TOKEN, 5550001, auth_date=int(NOW.timestamp()) - 30)
    user = check_init_data(data, TOKEN, NOW, 3600)
    assert (user.telegram_id, user.first_name, user.language_code) == (5550001, "Rina", "id")


def test_sign_init_data_builds_what_telegram_builds() -> None:
    data = telegram_init_data(TOKEN, 7, auth_date=1700000000)
    from urllib.parse import parse_qsl

    assert sign_init_data(dict(parse_qsl(data)), TOKEN) == data


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda d: d.replace("Rina", "Budi"), "bad-signature"),  # a tampered field
        (lambda d: d.replace("auth_date=", "auth_date=1"), "bad-signature"),
        (lambda d: d.split("&hash=")[0], "bad-signature"),  # no hash
        (lambda d: d + "&hash=00", "malformed"),  # a repeated key
        (lambda d: "", "malformed"),
        (lambda d: "%%%&&&", "malformed"),
    ],
)
def test_a_tampered_init_data_is_refused(change, reason) -> None:  # type: ignore[no-untyped-def]
    data = telegram_init_data(TOKEN, 5550001, auth_date=int(NOW.timestamp()))
    with pytest.raises(InitDataError) as refused:
        check_init_data(change(data), TOKEN, NOW, 3600)
    assert refused.value.reason == reason
    assert TOKEN not in str(refused.value)


def test_init_data_signed_with_another_bot_token_is_refused() -> None:
    data = telegram_init_data("987654321:AAOtherBotToken", 5550001, auth_date=int(NOW.timestamp()))
    with pytest.raises(InitDataError, match="bad-signature"):
        check_init_data(data, TOKEN, NOW, 3600)


def test_init_data_older_than_the_limit_is_refused() -> None:
    fresh = telegram_init_data(TOKEN, 1, auth_date=int(NOW.timestamp()) - 3600)
    assert check_init_data(fresh, TOKEN, NOW, 3600).telegram_id == 1
    old = telegram_init_data(TOKEN, 1, auth_date=int(NOW.timestamp()) - 3601)
    with pytest.raises(InitDataError, match="too-old"):
        check_init_data(old, TOKEN, NOW, 3600)
    future = telegram_init_data(TOKEN, 1, auth_date=int(NOW.timestamp()) + 3600)
    with pytest.raises(InitDataError, match="from-the-future"):
        check_init_data(future, TOKEN, NOW, 3600)


def test_without_a_bot_token_nothing_is_accepted() -> None:
    data = telegram_init_data("", 1, auth_date=int(NOW.timestamp()))
    with pytest.raises(InitDataError, match="no-token"):
        check_init_data(data, "", NOW, 3600)
