"""/dasbor through the real Application and the fake Bot API: the reply's Mini App and URL
buttons, and setChatMenuButton for that chat."""

from __future__ import annotations

from bot.storage import Database, Repositories
from tests.e2e.conftest import polling_bot
from tests.e2e.fake_bot_api import FakeBotApi, FakeUser


async def test_dasbor_sets_the_menu_button_and_sends_the_links(settings, conversation, fake_api: FakeBotApi) -> None:  # type: ignore[no-untyped-def]
    settings.dashboard.enabled = True
    settings.dashboard.public_url = "https://bot.example.org"
    coach = FakeUser(id=5550001, first_name="Rina")
    database: Database = conversation.database
    with database.transaction() as session:
        repos = Repositories(session)
        user, _ = repos.users.get_or_create("telegram", str(coach.id), "id")
        repos.users.give_consent(user)
        institution = repos.coaches.add_institution("Dinas Koperasi Gresik")
        repos.coaches.add_coach(user.id, institution.id, "Rina")
    async with polling_bot(settings, conversation, fake_api):
        fake_api.queue_text(coach, "/dasbor")
        [menu] = await fake_api.wait_for("setChatMenuButton", timeout=30)
        [sent] = await fake_api.wait_for("sendMessage", timeout=30)
    assert int(menu.params["chat_id"]) == coach.id
    assert menu.params["menu_button"]["type"] == "web_app"
    assert menu.params["menu_button"]["web_app"]["url"] == "https://bot.example.org/dashboard/app"
    keyboard = sent.params["reply_markup"]["inline_keyboard"]
    assert keyboard[0][0]["web_app"]["url"] == "https://bot.example.org/dashboard/app"
    assert keyboard[1][0]["url"].startswith("https://bot.example.org/dashboard/login?code=")
    assert fake_api.server_errors == []
