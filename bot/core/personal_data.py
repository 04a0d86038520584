"""The user's own data: export as CSV and JSON (/ekspor), and erasure (/hapus).

Read through the repositories only; both exports contain everything stored about the
user so they can check it (UU PDP 27/2022, right of access).
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from bot.storage import Figure, Repositories, User
from bot.tabular import Cell, csv_bytes

__all__ = ["CSV_COLUMNS", "delete_everything", "export_csv", "export_json"]

CSV_COLUMNS = ("record", "kind", "month", "value", "recorded_at", "superseded_at", "text")
FIGURE_KINDS = ("omzet", "modal", "workers", "units")


def _iso(value: date | datetime | None) -> str:
    return "" if value is None else value.isoformat()


def _figures(repos: Repositories, user_id: int) -> list[Figure]:
    """Every figure row, corrections included, by kind then month then entry order."""
    rows: list[Figure] = []
    for kind in FIGURE_KINDS:
        for month in repos.figures.current(user_id, kind):
            rows.extend(repos.figures.history(user_id, kind, month))
    return rows


def export_csv(repos: Repositories, user: User) -> tuple[bytes, dict[str, int]]:
    """CSV of figures, milestone toggles, class changes and questions; and counts per record."""
    rows: list[tuple[Cell, ...]] = []
    counts = {"figure": 0, "milestone": 0, "class": 0, "question": 0}
    for figure in _figures(repos, user.id):
        rows.append(
            ("figure", figure.kind, _iso(figure.month), figure.value,
             _iso(figure.created_at), _iso(figure.superseded_at), "")
        )  # fmt: skip
        counts["figure"] += 1
    for event in repos.milestones.events(user.id):
        rows.append(
            ("milestone", event.milestone_id, "", "done" if event.done else "not_done",
             _iso(event.at), "", "")
        )  # fmt: skip
        counts["milestone"] += 1
    for change in repos.classes.history(user.id):
        rows.append(("class", change.umkm_class, _iso(change.as_of), "", _iso(change.recorded_at), "", ""))
        counts["class"] += 1
    for question in reversed(repos.questions.for_user(user.id)):
        rows.append(
            ("question", "", "", question.feedback or "", _iso(question.created_at), "", question.text)
        )  # fmt: skip
        counts["question"] += 1
    return csv_bytes(CSV_COLUMNS, rows), counts


def export_json(repos: Repositories, user: User, now: datetime) -> bytes:
    """Everything about the user as one JSON document."""
    document: dict[str, Any] = {
        "exported_at": _iso(now),
        "profile": {
            "channel": user.channel,
            "external_id": user.external_id,
            "locale": user.locale,
            "consent_at": _iso(user.consent_at),
            "name": user.name,
            "sector": user.sector,
            "district": user.district,
            "products": user.products,
            "start_payload": user.start_payload,
            "created_at": _iso(user.created_at),
        },
        "figures": [
            {
                "kind": f.kind,
                "month": _iso(f.month),
                "value": f.value,
                "recorded_at": _iso(f.created_at),
                "superseded_at": _iso(f.superseded_at) or None,
            }
            for f in _figures(repos, user.id)
        ],
        "milestones": {
            "done": sorted(repos.milestones.done_ids(user.id)),
            "events": [
                {"milestone_id": e.milestone_id, "done": e.done, "at": _iso(e.at)}
                for e in repos.milestones.events(user.id)
            ],
        },
        "class_history": [
            {"class": c.umkm_class, "as_of": _iso(c.as_of), "recorded_at": _iso(c.recorded_at)}
            for c in repos.classes.history(user.id)
        ],
        "questions": [
            {
                "text": q.text,
                "answered": q.answered,
                "top_ids": list(q.top_ids),
                "feedback": q.feedback,
                "asked_at": _iso(q.created_at),
            }
            for q in reversed(repos.questions.for_user(user.id))
        ],
        "profile_flags": {
            "last_active_at": _iso(user.last_active_at),
            "checkins_off": user.checkins_off,
            "blocked_at": _iso(user.blocked_at),
        },
        "groups": [
            {
                "group": cohort.name,
                "coach": coach.name,
                "joined_at": _iso(m.joined_at),
                "class_at_join": m.class_at_join,
            }
            for m, cohort, coach in repos.cohorts.of_member(user.id)
        ],
        "questions_to_coaches": [
            {
                "status": thread.status,
                "asked_at": _iso(thread.created_at),
                "messages": [
                    {"from": m.author, "text": m.text, "at": _iso(m.created_at)}
                    for m in repos.handoffs.messages(thread.id)
                ],
            }
            for thread in reversed(repos.handoffs.for_member(user.id))
        ],
        "invitations": [
            {
                "event": event.title,
                "starts_at": _iso(event.starts_at),
                "answer": rsvp.answer,
                "waiting_list": rsvp.waitlisted_at is not None,
                "attended": rsvp.attended,
                "rating": rsvp.rating,
                "comment": rsvp.comment,
            }
            for rsvp, event in repos.events.for_user(user.id)
        ],
    }
    return json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")


def delete_everything(repos: Repositories, user: User) -> dict[str, int]:
    """Erase the user in this transaction; rows deleted per table.

    Pending changes are flushed first and every loaded object is then detached, so
    nothing later in the transaction (the commit's flush included) writes to the rows
    just deleted.
    """
    session = repos.session
    session.flush()
    counts = repos.users.delete_user_data(user)
    session.expunge_all()
    return counts
