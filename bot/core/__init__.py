"""The conversation, free of Telegram: (user, text or button) in, replies out.

Both fronts, `bot.telegram` and the terminal chat `bot.chat`, call `Conversation.handle`.

`Conversation` is imported on first use (PEP 562), not when the package is: the coaching rules
import `bot.core.callbacks`, and the conversation imports the coaching rules, so an eager import
here made `import bot.delivery.service` (the first import of `umkm-bot worker`) fail with a
circular ImportError whenever nothing had imported the conversation before.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.core.messages import Attachment, Button, Incoming, Reply, UserRef

if TYPE_CHECKING:
    from bot.core.conversation import Conversation

__all__ = ["Attachment", "Button", "Conversation", "Incoming", "Reply", "UserRef"]


def __getattr__(name: str) -> Any:
    if name == "Conversation":
        from bot.core.conversation import Conversation

        return Conversation
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
