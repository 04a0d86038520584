"""One-off messages from a coach to an audience of a cohort (or from an admin to everyone in an
institution's cohorts), with a delivery report from the outbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.coaching.audience import Audience, Selection, select
from bot.coaching.outgoing import message_row
from bot.coaching.personalize import TemplateProblem, check_text, render_for
from bot.coaching.quiet_hours import QuietHours
from bot.storage import Broadcast, Cohort, Repositories, User

__all__ = ["SUBJECT", "broadcast_report", "preview_audience", "send_broadcast"]

SUBJECT = "broadcast"


def preview_audience(
    repos: Repositories, cohorts: list[Cohort], audience: Audience, now: datetime
) -> list[tuple[User, Cohort]]:
    """Recipients (each once, with the cohort they are reached through), blocked left out."""
    seen: set[int] = set()
    found = []
    for cohort in cohorts:
        for user in select(repos, cohort, audience, now).users:
            if user.id not in seen:
                seen.add(user.id)
                found.append((user, cohort))
    return found


def _blocked(repos: Repositories, cohorts: list[Cohort], audience: Audience, now: datetime) -> int:
    selections: list[Selection] = [select(repos, c, audience, now) for c in cohorts]
    return sum(s.skipped_blocked for s in selections)


def send_broadcast(
    repos: Repositories,
    cohorts: list[Cohort],
    text: str,
    audience: Audience,
    now: datetime,
    quiet: QuietHours,
    *,
    coach_id: int | None,
    sender: str | None,
    institution_id: int | None = None,
) -> Broadcast:
    """Store the broadcast and queue one personalised message per recipient (TemplateProblem
    for a bad text, before anything is stored)."""
    check_text(text)
    recipients = preview_audience(repos, cohorts, audience, now)
    broadcast = repos.broadcasts.add(
        cohort_id=cohorts[0].id if len(cohorts) == 1 else None,
        institution_id=institution_id,
        coach_id=coach_id,
        text=text,
        audience=audience.kind,
        audience_milestone=audience.milestone,
        audience_user_id=audience.user_id,
        skipped_blocked=_blocked(repos, cohorts, audience, now),
        created_at=now,
    )
    done = repos.milestones.done_for_users([user.id for user, _ in recipients])
    rows = []
    for user, cohort in recipients:
        try:
            body = render_for(repos, text, user, cohort, done=done[user.id]).html
        except TemplateProblem:
            continue
        rows.append(
            message_row(
                user,
                "broadcast",
                f"broadcast:{broadcast.id}:{user.id}",
                "broadcast_message",
                {"body": body, "sender": sender, "cohort": cohort.name},
                subject=(SUBJECT, broadcast.id),
                not_before=quiet.release(now, cohort.timezone),
            )
        )
    queued = repos.outbox.enqueue_many(rows)
    broadcast.recipients = queued
    return broadcast


def broadcast_report(repos: Repositories, broadcast: Broadcast) -> dict[str, Any]:
    """sent, blocked, failed, uncertain, pending (sending counts as pending) and the totals."""
    counts = repos.outbox.counts(subject_type=SUBJECT, subject_id=broadcast.id)
    return {
        "id": broadcast.id,
        "recipients": broadcast.recipients,
        "skipped_blocked": broadcast.skipped_blocked,
        "sent": counts["sent"],
        "blocked": counts["blocked"],
        "failed": counts["failed"],
        "uncertain": counts["uncertain"],
        "pending": counts["pending"] + counts["sending"],
        "created_at": broadcast.created_at.isoformat(),
    }
