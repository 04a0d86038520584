"""/dasbor in the chat and on Telegram: a Mini App button and a one-time login link for coaches,
the chat's menu button set to the Mini App, URL buttons printed in the terminal."""

from __future__ import annotations

import io

from bot.chat import show
from bot.core.messages import Button, Reply
from bot.storage import Repositories, WebLogin
from bot.telegram.replies import _markup
from tests.dashboard.conftest import count


def test_over_https_dasbor_offers_the_mini_app_and_a_login_link(world, dashboard_settings) -> None:  # type: ignore[no-untyped-def]
    dashboard_settings.dashboard.public_url = "https://bot.example.org"
    [reply] = world.rina.say("/dasbor")
    buttons = [b for row in reply.buttons for b in row]
    assert [b.kind for b in buttons] == ["web_app", "url"]
    assert buttons[0].web_app_url == "https://bot.example.org/dashboard/app"
    assert buttons[1].url.startswith("https://bot.example.org/dashboard/login?code=")
    assert reply.menu_button is not None and reply.menu_button.web_app_url == "https://bot.example.org/dashboard/app"
    assert "/dashboard/login" not in reply.text  # the link is in the button only
    code = buttons[1].url.split("code=")[1]
    with world.database.transaction() as session:
        [login] = session.query(WebLogin).all()
        assert login.code_hash != code and len(login.code_hash) == 64  # only the hash is stored
        assert login.user_id == Repositories(session).users.get("terminal", "rina").id


def test_over_plain_http_only_the_link_is_offered(world) -> None:  # type: ignore[no-untyped-def]
    [reply] = world.rina.say("/dasbor")
    assert not reply.buttons and reply.menu_button is None
    assert "/dashboard/login?code=" in reply.text and "10 menit" in reply.text


def test_dasbor_when_the_dashboard_is_off(world, dashboard_settings) -> None:  # type: ignore[no-untyped-def]
    dashboard_settings.dashboard.enabled = False
    [reply] = world.rina.say("/dasbor")
    assert "belum diaktifkan" in reply.text
    assert count(world.database, WebLogin) == 0


def test_link_buttons_map_to_telegram_and_print_in_the_terminal() -> None:
    reply = Reply(
        "x",
        ((Button("📊 Buka dasbor", web_app_url="https://b.example/dashboard/app"),),
         (Button("💻 Tautan", url="https://b.example/dashboard/login?code=abc"), Button("OK", "ok|1"))),
    )  # fmt: skip
    markup = _markup(reply).to_dict()["inline_keyboard"]
    assert markup[0][0]["web_app"] == {"url": "https://b.example/dashboard/app"}
    assert markup[1][0]["url"] == "https://b.example/dashboard/login?code=abc"
    assert markup[1][1]["callback_data"] == "ok|1"
    out = io.StringIO()
    numbered = show(reply, out)
    assert [b.data for b in numbered] == ["ok|1"]  # only callback buttons get numbers
    assert "💻 Tautan: https://b.example/dashboard/login?code=abc" in out.getvalue()
    assert "📊 Buka dasbor: https://b.example/dashboard/app" in out.getvalue()
