"""The one step between "the outbox row is written" and "the member's Telegram shows it".

WIRE AT MERGE: the delivery worker (`bot.delivery`) is another engineer's package and is not on
the dashboard branch. `deliver_outbox` is where the browser test hands the pending rows to that
worker, pointed at the fake Bot API. Until it is wired it delivers nothing and returns False, and
the test checks the outbox row (recipient, channel, chat id, text) instead of the chat. It must
not imitate the worker's logic.
"""

from __future__ import annotations

from bot.config import Settings
from bot.storage import Database

__all__ = ["deliver_outbox"]


def deliver_outbox(settings: Settings, database: Database, bot_api_base_url: str, bot_token: str) -> bool:
    """Run the real delivery worker once over every due outbox row, sending through the Bot API
    at `bot_api_base_url` (e.g. FakeBotApi.base_url); True when it ran. Not wired yet: False."""
    return False
