"""Hand-off: a member's question goes to their coach, the coach's reply comes back. Each change
and the message it causes are written in the caller's transaction (the outbox), so a rolled-back
change sends nothing. Used by the chat and by the dashboard alike."""

from __future__ import annotations

from datetime import datetime

from bot.coaching.outgoing import queue_message
from bot.core import callbacks
from bot.storage import Coach, Cohort, HandoffThread, Repositories, User

__all__ = ["MAX_TEXT", "ask_coach", "follow_up", "reply_to_member", "save_draft"]

# Long enough for a real question or answer, short enough for one Telegram message with context.
MAX_TEXT = 2500
SUBJECT = "handoff"


def member_label(member: User) -> str:
    """How a coach sees the member's name (a member who skipped it is shown by number)."""
    return member.name or f"#{member.id}"


def _to_coach(
    repos: Repositories,
    thread: HandoffThread,
    member: User,
    coach: Coach,
    text: str,
    message_id: int,
    *,
    entry_title: str | None,
    follow: bool,
) -> None:
    coach_user = repos.users.by_id(coach.user_id)
    if coach_user is None:
        return
    cohort = repos.cohorts.by_id(thread.cohort_id) if thread.cohort_id else None
    queue_message(
        repos,
        coach_user,
        "handoff_question",
        f"handoff:{thread.id}:{message_id}",
        "handoff_to_coach",
        {
            "member": member_label(member),
            "cohort": None if cohort is None else cohort.name,
            "text": text,
            "entry_title": entry_title,
            "had_answer": thread.entry_id is not None,
            "follow_up": follow,
            "thread_id": thread.id,
        },
        buttons=[[("reply", (), callbacks.encode("hr", thread.id))]],
        subject=(SUBJECT, thread.id),
        about_user_id=member.id,
        urgent=True,
    )


def ask_coach(
    repos: Repositories,
    member: User,
    coach: Coach,
    cohort: Cohort | None,
    text: str,
    *,
    question_log_id: int | None = None,
    entry_id: str | None = None,
    entry_title: str | None = None,
    at: datetime | None = None,
) -> HandoffThread:
    """Open a thread with the member's question and queue it for the coach, with the title of
    the entry the bot answered with (`entry_id`), or a note that it had no answer."""
    thread = repos.handoffs.open_thread(
        member.id,
        coach.id,
        None if cohort is None else cohort.id,
        text[:MAX_TEXT],
        question_log_id=question_log_id,
        entry_id=entry_id,
        at=at,
    )
    first = repos.handoffs.messages(thread.id)[0]
    _to_coach(repos, thread, member, coach, first.text, first.id, entry_title=entry_title, follow=False)
    return thread


def follow_up(repos: Repositories, thread: HandoffThread, member: User, text: str, at: datetime | None = None) -> None:
    """The member adds to their thread; the coach gets it with a reply button."""
    message = repos.handoffs.add_message(thread, "member", text[:MAX_TEXT], at=at)
    coach = repos.coaches.coach(thread.coach_id) if thread.coach_id else None
    if coach is not None:
        _to_coach(repos, thread, member, coach, message.text, message.id, entry_title=None, follow=True)


def reply_to_member(
    repos: Repositories, thread: HandoffThread, coach: Coach, text: str, at: datetime | None = None
) -> bool:
    """Store the coach's reply and queue it for the member, shown as coming from that coach;
    False when the member is gone (erased their data)."""
    member = repos.users.by_id(thread.user_id)
    if member is None:
        return False
    message = repos.handoffs.add_message(thread, "coach", text[:MAX_TEXT], at=at)
    institution = repos.coaches.institution(coach.institution_id)
    queue_message(
        repos,
        member,
        "handoff_reply",
        f"handoff:{thread.id}:{message.id}",
        "handoff_reply_to_member",
        {
            "coach": coach.name,
            "institution": None if institution is None else institution.name,
            "question": repos.handoffs.first_question(thread.id),
            "text": message.text,
        },
        buttons=[[("follow_up", (), callbacks.encode("hf", thread.id))]],
        subject=(SUBJECT, thread.id),
        urgent=True,
    )
    return True


def save_draft(repos: Repositories, thread: HandoffThread, at: datetime | None = None) -> bool:
    """Save the thread's question and the coach's latest reply as a knowledge draft (never
    indexed automatically); False when there is no reply yet."""
    answer = repos.handoffs.last_reply(thread.id)
    if answer is None:
        return False
    repos.handoffs.add_draft(thread, repos.handoffs.first_question(thread.id), answer, at=at)
    return True
