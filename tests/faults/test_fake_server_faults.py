"""The fake Bot API's fault switches, driven by the real python-telegram-bot Bot: each answers
like Telegram does, per method and per chat, a number of times or for a while."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from telegram import Bot
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.request import HTTPXRequest

from tests.e2e.fake_bot_api import DEFAULT_TOKEN, FAULTS, FakeBotApi, FakeUser

A, B = 501, 502


@pytest.fixture
async def bot(fake_api: FakeBotApi) -> AsyncIterator[Bot]:
    request = HTTPXRequest(read_timeout=0.3, connect_timeout=1.0)
    async with Bot(DEFAULT_TOKEN, base_url=fake_api.base_url, request=request) as the_bot:
        yield the_bot


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ("blocked", Forbidden), ("deactivated", Forbidden), ("chat_not_found", BadRequest), ("too_long", BadRequest),
        ("bad_html", BadRequest), ("bad_gateway", NetworkError), ("unavailable", NetworkError), ("internal", NetworkError),
    ],
)  # fmt: skip
async def test_each_fault_answers_like_telegram_for_one_chat_only(bot: Bot, fake_api: FakeBotApi, fault: str, error: type) -> None:
    fake_api.fail_method("sendMessage", *FAULTS[fault], times=1, chat_id=A)
    await bot.send_message(B, "lain")  # another chat: untouched
    with pytest.raises(error) as raised:
        await bot.send_message(A, "halo")
    assert FAULTS[fault][1].split(": ", 1)[-1].lower() in str(raised.value).lower()  # PTB capitalises
    await bot.send_message(A, "lagi")  # times=1: over
    assert [(c.params["chat_id"], c.status) for c in fake_api.calls_to("sendMessage")] == [
        (B, 200), (A, FAULTS[fault][0]), (A, 200)
    ]  # fmt: skip
    assert fake_api.received_per_chat() == {A: 1, B: 1}


async def test_rate_limit_per_chat_carries_retry_after(bot: Bot, fake_api: FakeBotApi) -> None:
    fake_api.rate_limit("sendMessage", retry_after=7, times=2, chat_id=A)
    await bot.send_message(B, "lain")
    for _ in range(2):
        with pytest.raises(RetryAfter) as limited:
            await bot.send_message(A, "halo")
        assert limited.value.retry_after in (7, 7.0) or limited.value.retry_after.total_seconds() == 7
    await bot.send_message(A, "halo")


async def test_a_fault_for_a_while_ends_by_itself(bot: Bot, fake_api: FakeBotApi) -> None:
    fake_api.fail_method("getMe", 503, for_seconds=0.4)
    for _ in range(3):
        with pytest.raises(NetworkError):
            await bot.get_me()
    await asyncio.sleep(0.45)
    assert (await bot.get_me()).is_bot


async def test_after_lets_the_first_calls_through(bot: Bot, fake_api: FakeBotApi) -> None:
    fake_api.fail_method("sendMessage", 502, times=1, chat_id=A, after=2)
    await bot.send_message(A, "1")
    await bot.send_message(B, "lain")  # other chats do not count
    await bot.send_message(A, "2")
    with pytest.raises(NetworkError):
        await bot.send_message(A, "3")
    await bot.send_message(A, "4")


async def test_a_slow_answer_per_chat_times_out_but_takes_effect(bot: Bot, fake_api: FakeBotApi) -> None:
    fake_api.delay_method("sendMessage", 0.6, times=1, chat_id=A)
    await bot.send_message(B, "cepat")
    with pytest.raises(TimedOut):
        await bot.send_message(A, "lambat")
    await asyncio.sleep(0.5)
    assert fake_api.received_per_chat() == {A: 1, B: 1}  # it arrived all the same


@pytest.mark.parametrize("after_handling", [False, True])
async def test_a_dropped_connection_gives_no_answer(bot: Bot, fake_api: FakeBotApi, after_handling: bool) -> None:
    fake_api.drop_connection("sendMessage", chat_id=A, after_handling=after_handling)
    with pytest.raises(NetworkError) as dropped:
        await bot.send_message(A, "halo")
    assert isinstance(dropped.value.__cause__, httpx.RemoteProtocolError)
    assert fake_api.received_per_chat() == ({A: 1} if after_handling else {})
    [call] = fake_api.calls_to("sendMessage")
    assert call.status == (200 if after_handling else 0)
    await bot.send_message(A, "lagi")  # one time only


async def test_get_updates_can_hand_an_update_out_twice(bot: Bot, fake_api: FakeBotApi) -> None:
    user = FakeUser(A, "Sari")
    fake_api.duplicate_updates(1)
    first = fake_api.queue_text(user, "halo")
    second = fake_api.queue_text(user, "lagi")
    batch = await bot.get_updates(timeout=0)
    assert [u.update_id for u in batch] == [first, second]
    again = await bot.get_updates(offset=second + 1, timeout=0)  # both confirmed; the first comes back
    assert [u.update_id for u in again] == [first]
    assert await bot.get_updates(offset=second + 1, timeout=0) == ()
