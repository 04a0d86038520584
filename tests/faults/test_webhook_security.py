"""The webhook: only Telegram's requests, carrying the secret, reach the bot. Any other request
gets 403 and is not processed (no claim, no reply, no row), through the real Application and
the real aiohttp app of bot.telegram.runner, served by aiohttp's test server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.storage import ProcessedUpdate
from bot.telegram.app import build_application
from bot.telegram.runner import SECRET_HEADER, webhook_app
from tests.e2e.fake_bot_api import FakeBotApi, FakeUser
from tests.faults.conftest import SQLITE_ONLY, count, row_counts, sent_to

SECRET = "webhook-secret-8c1f7e"
SARI = FakeUser(7001, "Sari")


@pytest.fixture
async def client(settings, conversation, fake_api: FakeBotApi) -> AsyncIterator[TestClient]:  # type: ignore[no-untyped-def]
    application = build_application(settings, conversation, fake_api.token)
    async with application:
        await application.start()
        async with TestClient(TestServer(webhook_app(application, "telegram", SECRET))) as http:
            yield http
        await application.stop()


@SQLITE_ONLY
@pytest.mark.parametrize(
    "headers",
    [{}, {SECRET_HEADER: ""}, {SECRET_HEADER: "wrong"}, {SECRET_HEADER: SECRET[:-1]}, {SECRET_HEADER: SECRET + "x"},
     {SECRET_HEADER.lower(): SECRET.upper()}, {"Authorization": f"Bearer {SECRET}"}],
    ids=["missing", "empty", "wrong", "prefix", "longer", "case", "elsewhere"],
)  # fmt: skip
async def test_a_request_without_the_right_secret_is_refused_and_not_processed(client: TestClient, conversation, fake_api: FakeBotApi, headers: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    before = row_counts(conversation.database)
    update = fake_api.make_update_json("text", SARI, text="/start")
    response = await client.post("/telegram", json=update, headers=headers)
    assert response.status == 403
    await asyncio.sleep(0.5)  # were it queued, the Application would have handled it by now
    assert fake_api.sent_messages() == []
    assert row_counts(conversation.database) == before
    # The same update with the secret is handled: the refusal was the secret's doing.
    accepted = await client.post("/telegram", json=update, headers={SECRET_HEADER: SECRET})
    assert accepted.status == 200
    await sent_to(fake_api, SARI.id, "UU PDP")
    assert count(conversation.database, ProcessedUpdate, ProcessedUpdate.update_id == update["update_id"]) == 1


@SQLITE_ONLY
async def test_garbage_with_the_secret_is_a_400_and_the_bot_runs_on(client: TestClient, conversation, fake_api: FakeBotApi) -> None:  # type: ignore[no-untyped-def]
    headers = {SECRET_HEADER: SECRET, "Content-Type": "application/json"}
    for body in (b"not json", b"[]", b"42", b'"update"', b'{"update_id": 5, "message": {"text": "no chat"}}'):
        response = await client.post("/telegram", data=body, headers=headers)
        assert response.status == 400, body
    # Shaped like an update but holding nothing the bot serves: taken, and ignored.
    assert (await client.post("/telegram", data=b'{"update_id": 6}', headers=headers)).status == 200
    health = await client.get("/healthz")
    assert health.status == 200 and (await health.json()) == {"ok": True}
    update = fake_api.make_update_json("text", SARI, text="/bantuan")
    assert (await client.post("/telegram", json=update, headers={SECRET_HEADER: SECRET})).status == 200
    await sent_to(fake_api, SARI.id, "Cara memakai")


def test_a_webhook_without_a_secret_cannot_be_built(settings, conversation, fake_api: FakeBotApi) -> None:  # type: ignore[no-untyped-def]
    application = build_application(settings, conversation, fake_api.token)
    with pytest.raises(ValueError, match="secret"):
        webhook_app(application, "telegram", "")
