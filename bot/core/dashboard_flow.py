"""/dasbor: a coach's way into the dashboard — a Mini App button (phone) and a one-time login
link (desktop browser); the chat's menu button becomes the Mini App too."""

from __future__ import annotations

from bot.config import Settings
from bot.core.messages import Button, Reply
from bot.core.turn import Turn
from bot.dashboard.auth import create_login_link
from bot.dashboard.urls import app_url, is_https, login_url

__all__ = ["DashboardFlow"]


class DashboardFlow:
    """The dashboard's one chat command (coaches and admins; the routing table checks)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def command(self, turn: Turn, args: str) -> list[Reply]:
        config = self.settings.dashboard
        if not config.enabled or not config.public_url:
            return [turn.say("dashboard_off")]
        code = create_login_link(turn.repos, turn.user.id, turn.now, config.login_link_minutes)
        link = login_url(config.public_url, code)
        https = is_https(config.public_url)
        buttons: list[tuple[Button, ...]] = []
        menu = None
        if https:
            mini_app = Button(turn.label("dashboard_open"), web_app_url=app_url(config.public_url))
            buttons.append((mini_app,))
            buttons.append((Button(turn.label("dashboard_login_link"), url=link),))
            menu = Button(turn.label("dashboard_menu"), web_app_url=app_url(config.public_url))
        minutes = round(config.login_link_minutes)
        text = turn.say("dashboard_links", link=None if https else link, minutes=minutes).text
        return [Reply(text, tuple(buttons), menu_button=menu)]
