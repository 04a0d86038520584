"""The hand-off inbox: open questions oldest first, answered from the page through the same
`reply_to_member` as a chat reply (the outbox carries it), and answers saved as drafts."""

from __future__ import annotations

from bot.coaching import handoff
from bot.dashboard.common import thread_visible
from bot.dashboard.urls import PREFIX
from bot.dashboard.viewer import Page, Redirect, Viewer
from bot.storage import HandoffThread

__all__ = ["inbox_page", "reply", "save_draft"]

RECENT_ANSWERED = 10


def _item(viewer: Viewer, thread: HandoffThread) -> dict[str, object]:
    repos = viewer.repos
    member = repos.users.by_id(thread.user_id)
    cohort = repos.cohorts.by_id(thread.cohort_id) if thread.cohort_id else None
    return {
        "thread": thread,
        "member": handoff.member_label(member) if member else "?",
        "member_id": thread.user_id,
        "cohort": cohort,
        "messages": repos.handoffs.messages(thread.id),
    }


def inbox_page(viewer: Viewer, notice: str = "", thread_id: int | None = None) -> Page:
    scope = viewer.access.coach_scope
    open_threads = [t for t in viewer.repos.handoffs.for_coach(scope, "open") if thread_visible(viewer, t)]
    answered = [t for t in viewer.repos.handoffs.for_coach(scope, "answered") if thread_visible(viewer, t)]
    return Page(
        "inbox",
        {
            "open": [_item(viewer, t) for t in open_threads],
            "answered": [_item(viewer, t) for t in reversed(answered[-RECENT_ANSWERED:])],
            "notice": notice,
            "notice_thread": thread_id,
            "max_text": handoff.MAX_TEXT,
        },
    )


def reply(viewer: Viewer, thread_id: int, text: str) -> Redirect:
    """Answer a member: stored and queued for them in this request's transaction."""
    thread = viewer.access.thread(thread_id, "handoff-reply")
    coach = viewer.repos.coaches.coach(thread.coach_id) if thread.coach_id else None
    text = text.strip()
    if not text:
        return Redirect(f"{PREFIX}/inbox?notice=empty#t{thread.id}")
    if coach is None:
        return Redirect(f"{PREFIX}/inbox?notice=no-coach")
    if not handoff.reply_to_member(viewer.repos, thread, coach, text, at=viewer.now):
        return Redirect(f"{PREFIX}/inbox?notice=member-gone")
    return Redirect(f"{PREFIX}/inbox?notice=sent&thread={thread.id}#t{thread.id}")


def save_draft(viewer: Viewer, thread_id: int) -> Redirect:
    thread = viewer.access.thread(thread_id, "handoff-draft")
    saved = handoff.save_draft(viewer.repos, thread, at=viewer.now)
    return Redirect(f"{PREFIX}/inbox?notice={'draft' if saved else 'no-draft'}&thread={thread.id}#t{thread.id}")
