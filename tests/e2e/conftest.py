"""Fixtures for end-to-end tests against the fake Telegram Bot API (see fake_bot_api.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.e2e.fake_bot_api import DEFAULT_TOKEN, FakeBotApi, FakeUser


@pytest.fixture
def bot_token() -> str:
    return DEFAULT_TOKEN


@pytest.fixture
async def fake_api(bot_token: str) -> AsyncIterator[FakeBotApi]:
    """A started fake Bot API server; stopped after the test."""
    async with FakeBotApi(token=bot_token) as api:
        yield api


@pytest.fixture
def fake_user() -> FakeUser:
    return FakeUser(id=424242, first_name="Siti", last_name="Aminah", username="siti_warung")
