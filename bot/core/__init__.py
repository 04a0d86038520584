"""The conversation, free of Telegram: (user, text or button) in, replies out.

Both fronts, `bot.telegram` and the terminal chat `bot.chat`, call `Conversation.handle`.
"""

from bot.core.conversation import Conversation
from bot.core.messages import Attachment, Button, Incoming, Reply, UserRef

__all__ = ["Attachment", "Button", "Conversation", "Incoming", "Reply", "UserRef"]
