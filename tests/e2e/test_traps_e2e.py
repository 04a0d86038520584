"""Two conversation traps found when tried as a new user would, through the real Application and
the fake Bot API: a question at the name step, and a question after a number that could not be
read."""

from __future__ import annotations

from sqlalchemy import select

from bot.core import Conversation
from bot.storage import ConversationState, User
from tests.e2e.conftest import next_text
from tests.e2e.fake_bot_api import FakeBotApi, FakeUser


def _buttons(params: dict) -> dict[str, str]:  # type: ignore[type-arg]
    markup = params.get("reply_markup") or {}
    return {b["text"]: b["callback_data"] for row in markup.get("inline_keyboard", []) for b in row}


async def test_a_question_at_the_name_step_is_answered_not_saved(running_bot, fake_api: FakeBotApi, fake_user: FakeUser, conversation: Conversation) -> None:  # type: ignore[no-untyped-def]
    fake_api.queue_text(fake_user, "/start")
    notice = await next_text(fake_api, fake_user, "UU PDP")
    fake_api.queue_callback(fake_user, _buttons(notice)["✅ Setuju"])
    await next_text(fake_api, fake_user, "Siapa nama Anda")
    fake_api.queue_text(fake_user, "gmn cara daftar nib")
    await next_text(fake_api, fake_user, "Cara mengurus NIB")
    await next_text(fake_api, fake_user, "/profil")
    with conversation.database.transaction() as session:
        assert session.scalars(select(User)).one().name is None
        assert session.scalars(select(ConversationState)).all() == []


async def test_after_an_unreadable_number_a_question_is_answered(running_bot, fake_api: FakeBotApi, fake_user: FakeUser) -> None:  # type: ignore[no-untyped-def]
    fake_api.queue_text(fake_user, "/start")
    notice = await next_text(fake_api, fake_user, "UU PDP")
    fake_api.queue_callback(fake_user, _buttons(notice)["✅ Setuju"])
    await next_text(fake_api, fake_user, "Siapa nama Anda")
    fake_api.queue_text(fake_user, "/catat omzet 2jt500ribuan")
    await next_text(fake_api, fake_user, "tidak bisa membaca angkanya")
    fake_api.queue_text(fake_user, "gmn cara daftar nib")
    card = await next_text(fake_api, fake_user, "Cara mengurus NIB")
    assert "angkanya" not in card["text"]
