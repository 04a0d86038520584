"""Messages for someone other than the sender, queued in the outbox in the caller's transaction.

Rendered now, in the recipient's language, so the worker only has to deliver them.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.rendering import label, render
from bot.storage import OutboxRepository, Repositories, User

__all__ = ["ButtonSpec", "message_row", "queue_message"]

# (label macro name, label args, callback data)
ButtonSpec = tuple[str, tuple[Any, ...], str]


def _payload(
    recipient: User,
    template: str,
    context: dict[str, Any],
    buttons: Sequence[Sequence[ButtonSpec]],
    document: tuple[str, bytes] | None,
) -> dict[str, Any]:
    locale = recipient.locale
    payload: dict[str, Any] = {"text": render(locale, template, **context)}
    if buttons:
        payload["buttons"] = [
            [{"label": label(locale, name, *args), "data": data} for name, args, data in row] for row in buttons
        ]
    if document is not None:
        filename, content = document
        payload["document"] = {"filename": filename, "base64": base64.b64encode(content).decode("ascii")}
    return payload


def message_row(
    recipient: User,
    kind: str,
    dedupe_key: str,
    template: str,
    context: dict[str, Any],
    *,
    buttons: Sequence[Sequence[ButtonSpec]] = (),
    document: tuple[str, bytes] | None = None,
    subject: tuple[str, int] | None = None,
    about_user_id: int | None = None,
    urgent: bool = False,
    not_before: datetime | None = None,
) -> dict[str, Any]:
    """`template` rendered for `recipient` as one outbox row (for `repos.outbox.enqueue_many`
    when a message goes to many people)."""
    return OutboxRepository.row(
        recipient,
        kind,
        _payload(recipient, template, context, buttons, document),
        dedupe_key,
        subject_type=None if subject is None else subject[0],
        subject_id=None if subject is None else subject[1],
        about_user_id=about_user_id,
        urgent=urgent,
        not_before=not_before,
    )


def queue_message(repos: Repositories, recipient: User, *args: Any, **options: Any) -> int | None:
    """Render a message for `recipient` and queue it (arguments as for `message_row`); the outbox
    row id, or None when this dedupe key was queued before."""
    return repos.outbox.insert(message_row(recipient, *args, **options))
