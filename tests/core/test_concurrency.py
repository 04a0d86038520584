"""Two updates from one user handled at the same moment: one profile, no figure lost."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from bot.core import Conversation, Incoming
from bot.storage import Figure, User
from tests.core.conftest import Chat


def test_simultaneous_updates_of_one_user_keep_one_profile_and_both_figures(
    conversation: Conversation,
) -> None:
    chat = Chat(conversation, user_id="5555")
    chat.consent()
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def send(args: str) -> None:
        try:
            barrier.wait(timeout=10)
            conversation.handle(Incoming(chat.user, "command", command="catat", args=args))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=send, args=(a,)) for a in ("omzet 2jt bulan lalu", "omzet 3jt")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    with conversation.database.transaction() as session:
        assert session.scalar(select(func.count()).select_from(User)) == 1
        values = sorted(session.scalars(select(Figure.value).where(Figure.superseded_at.is_(None))))
    assert values == [2_000_000, 3_000_000]
