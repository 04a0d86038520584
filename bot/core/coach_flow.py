"""The coach's side: cohorts at a glance, a cohort's members, one member, exports, join links,
replies to hand-off questions, knowledge drafts; and the admin's coach invites.

Every handler reaches data through `turn.access` (bot.coaching.access), which checks role and
ownership on each press; the dispatcher has already refused non-coaches.
"""

from __future__ import annotations

from math import ceil
from zoneinfo import ZoneInfo

from bot.coaching import handoff
from bot.coaching.cohort_export import cohort_table
from bot.coaching.cohort_view import SORT_KEYS, MemberRow, member_rows, sort_rows, summarize, this_month
from bot.coaching.cohorts import create_cohort
from bot.coaching.invites import check_invite, create_invite, redeem_invite
from bot.coaching.links import COACH_INVITE, COHORT_JOIN, hash_code, qr_png, start_link
from bot.config import Settings
from bot.core import callbacks
from bot.core.messages import Attachment, Button, Reply
from bot.core.turn import Turn
from bot.core.wizard import cancel_button, local, milestone_titles, paging
from bot.progress.chart import format_rupiah
from bot.progress.milestones import milestones_for_sector
from bot.progress.months import add_months
from bot.rendering import render
from bot.storage import COHORT_KINDS, TIMEZONES, Cohort, HandoffThread, OutboxMessage
from bot.tabular import csv_bytes, xlsx_bytes

__all__ = ["NEW_COHORT_STATE", "REPLY_STATE", "CoachFlow"]

NEW_COHORT_STATE = "coach.new_cohort"
REPLY_STATE = "coach.reply"
PAGE_SIZE = 8


class CoachFlow:
    """Coach and admin commands and buttons."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    # -- cohorts ------------------------------------------------------------------------------

    def cohorts_command(self, turn: Turn, args: str) -> list[Reply]:
        return [self._cohorts(turn, 1)]

    def cohorts_button(self, turn: Turn, args: tuple[str, ...]) -> list[Reply]:
        return [self._cohorts(turn, int(args[0]) if args else 1, edit=True)]

    def _cohorts(self, turn: Turn, page: int, *, edit: bool = False) -> Reply:
        cohorts = turn.access.cohorts()
        pages = max(1, ceil(len(cohorts) / PAGE_SIZE))
        page = min(max(page, 1), pages)
        shown = cohorts[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
        summaries = [summarize(turn.repos, c, turn.now, silent_days=self.settings.coaching.silent_days) for c in shown]
        rows: list[tuple[Button, ...]] = [
            (Button(turn.label("cohort", s.cohort.name, s.members), callbacks.encode("kv", s.cohort.id, "active", 1)),)
            for s in summaries
        ]
        rows += paging(turn, "kk", page, pages)
        open_count = len(turn.repos.handoffs.for_coach(turn.access.coach_scope))
        extra = [Button(turn.label("new_cohort"), callbacks.encode("kb"))]
        if open_count:
            extra.insert(0, Button(turn.label("inbox", open_count), callbacks.encode("hi")))
        rows.append(tuple(extra))
        text = render(turn.locale, "cohorts", summaries=summaries, page=page, pages=pages)
        return Reply(text, tuple(rows), edit=edit)

    def cohort_button(self, turn: Turn, args: tuple[str, ...]) -> list[Reply]:
        """`kv|cohort|sort|page`: the cohort's figures and a page of members."""
        cohort = turn.access.cohort(int(args[0]), "cohort-view")
        sort = args[1] if len(args) > 1 and args[1] in SORT_KEYS else "active"
        page = int(args[2]) if len(args) > 2 else 1
        summary = summarize(turn.repos, cohort, turn.now, silent_days=self.settings.coaching.silent_days)
        rows_sorted = sort_rows(
            member_rows(turn.repos, cohort, turn.now, silent_days=self.settings.coaching.silent_days), sort
        )
        pages = max(1, ceil(len(rows_sorted) / PAGE_SIZE))
        page = min(max(page, 1), pages)
        buttons: list[tuple[Button, ...]] = [
            (Button(_member_label(turn, r), callbacks.encode("km", cohort.id, r.user_id)),)
            for r in rows_sorted[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
        ]
        buttons += paging(turn, "kv", page, pages, cohort.id, sort)
        buttons.append(
            tuple(
                Button(turn.label("sort", key, key == sort), callbacks.encode("kv", cohort.id, key, 1))
                for key in SORT_KEYS
            )
        )
        buttons.append(
            (Button(turn.label("export", "xlsx"), callbacks.encode("ke", cohort.id, "xlsx")),
             Button(turn.label("export", "csv"), callbacks.encode("ke", cohort.id, "csv")),
             Button(turn.label("join_link"), callbacks.encode("kq", cohort.id)))
        )  # fmt: skip
        buttons.append((Button(turn.label("checkin_settings"), callbacks.encode("cw", cohort.id)),))
        buttons.append((Button(turn.label("back"), callbacks.encode("kk", 1)),))
        titles = milestone_titles(turn.locale)
        text = render(
            turn.locale,
            "cohort_view",
            summary=summary,
            lacking=[(titles.get(m, m), n) for m, n in summary.lacking[:3]],
            sort=sort,
            page=page,
            pages=pages,
        )
        return [Reply(text, tuple(buttons), edit=True)]

    def member_button(self, turn: Turn, args: tuple[str, ...]) -> list[Reply]:
        """`km|cohort|user`: one member's profile, checklist, figures, class history, questions."""
        cohort, membership, user = turn.access.member(int(args[0]), int(args[1]), "member-view")
        checklist = milestones_for_sector(user.sector)
        done = turn.repos.milestones.done_ids(user.id)
        month = this_month(cohort, turn.now)
        months = [add_months(month, -n) for n in range(5, -1, -1)]
        sales = turn.repos.figures.current(user.id, "omzet")
        threads = [t for t in turn.repos.handoffs.for_member(user.id, cohort.coach_id) if t.status == "open"]
        title = milestone_titles(turn.locale)
        text = render(
            turn.locale,
            "member_view",
            user=user,
            cohort=cohort.name,
            sector=turn.label("sector", user.sector) if user.sector else None,
            joined=local(membership.joined_at, cohort.timezone),
            last_active=local(user.last_active_at, cohort.timezone),
            checklist=[(title.get(m.id, m.id), m.id in done) for m in checklist],
            sales=[(m, format_rupiah(sales[m]) if m in sales else None) for m in months],
            classes=[(c.as_of, c.umkm_class) for c in turn.repos.classes.history(user.id)],
            class_at_join=membership.class_at_join,
            threads=[(t.id, turn.repos.handoffs.first_question(t.id)) for t in threads],
        )
        rows = [(Button(turn.label("reply_to", n + 1), callbacks.encode("hr", t.id)),) for n, t in enumerate(threads)]
        rows.append((Button(turn.label("personal_message"), callbacks.encode("sp", cohort.id, user.id)),))
        rows.append((Button(turn.label("back"), callbacks.encode("kv", cohort.id, "active", 1)),))
        return [Reply(text, tuple(rows))]

    def export_button(self, turn: Turn, args: tuple[str, ...]) -> list[Reply]:
        """`ke|cohort|csv|xlsx`: one row per member, for the monthly report."""
        cohort = turn.access.cohort(int(args[0]), "cohort-export")
        kind = args[1] if len(args) > 1 and args[1] in ("csv", "xlsx") else "xlsx"
        rows = member_rows(turn.repos, cohort, turn.now, silent_days=self.settings.coaching.silent_days)
        headers, table = cohort_table(cohort, rows, this_month(cohort, turn.now), turn.label, turn.locale)
        stamp = turn.now.astimezone(ZoneInfo(cohort.timezone)).strftime("%Y%m%d")
        name = f"kelompok-{cohort.id}-{stamp}.{kind}"
        content = csv_bytes(headers, table) if kind == "csv" else xlsx_bytes(headers, table, cohort.name)
        caption = turn.say("cohort_export", cohort=cohort.name, members=len(rows)).text
        return [Reply(caption, attachment=Attachment(name, content, "document"))]

    def join_link_button(self, turn: Turn, args: tuple[str, ...]) -> list[Reply]:
        cohort = turn.access.cohort(int(args[0]), "cohort-link")
        return [self._link_reply(turn, cohort)]

    def _link_reply(self, turn: Turn, cohort: Cohort, *, created: bool = False) -> Reply:
        payload = COHORT_JOIN + cohort.join_code
        link = start_link(self.settings.bot_username, payload)
        caption = turn.say("cohort_link", cohort=cohort.name, link=link, payload=payload, created=created).text
        if link is None:
            return Reply(caption)
        return Reply(caption, attachment=Attachment(f"qr-{cohort.join_code}.png", qr_png(link), "photo"))

    # -- a new cohort (guided) ----------------------------------------------------------------

    def new_cohort_command(self, turn: Turn, args: str) -> list[Reply]:
        return self._new_cohort_start(turn)

    def new_cohort_button(self, turn: Turn, args: tuple[str, ...]) -> list[Reply]:
        return self._new_cohort_start(turn)

    def _new_cohort_start(self, turn: Turn) -> list[Reply]:
        if not turn.actor.is_coach:  # an admin who does not coach: cohorts need a coach
            return [turn.say("new_cohort_needs_coach")]
        turn.repos.states.set(turn.user.id, NEW_COHORT_STATE, {"step": "name"}, at=turn.now)
        return [turn.say("new_cohort_name", buttons=((cancel_button(turn),),))]

    def new_cohort_text(self, turn: Turn, state: str, data: dict[str, object], text: str) -> list[Reply]:
        step = data.get("step")
        value = " ".join(text.split())[:128]
        if step == "name":
            if not value:
                return [turn.say("new_cohort_name", buttons=((cancel_button(turn),),))]
            turn.repos.states.set(turn.user.id, NEW_COHORT_STATE, {"step": "kind", "name": value}, at=turn.now)
            rows = tuple(
                (Button(turn.label("cohort_kind", a), callbacks.encode("nk", a)),
                 Button(turn.label("cohort_kind", b), callbacks.encode("nk", b)))
                for a, b in zip(COHORT_KINDS[::2], COHORT_KINDS[1::2], strict=True)
            )  # fmt: skip
            return [turn.say("new_cohort_kind", buttons=(*rows, (cancel_button(turn),)))]
        if step == "district":
            return self._new_cohort_district(turn, data, value or None)
        return [turn.say("new_cohort_use_buttons")]

    def new_cohort_kind(self, turn: Turn, args: tuple[str, ...]) -> list[Reply]:
        data = self._new_cohort_data(turn, "kind")
        if data is None or args[0] not in COHORT_KINDS:
            return [turn.say("expired_button")]
        turn.repos.states.set(
            turn.user.id, NEW_COHORT_STATE, {**data, "step": "district", "kind": args[0]}, at=turn.now
        )
        skip = Button(turn.label("skip"), callbacks.encode("nd"))
        return [turn.say("new_cohort_district", buttons=((skip, cancel_button(turn)),))]

    def new_cohort_skip_district(self, turn: Turn, args: tuple[str, ...]) -> list[Reply]:
        data = self._new_cohort_data(turn, "district")
        if data is None:
            return [turn.say("expired_button")]
        return self._new_cohort_district(turn, data, None)

    def _new_cohort_district(self, turn: Turn, data: dict[str, object], district: str | None) -> list[Reply]:
        turn.repos.states.set(
            turn.user.id, NEW_COHORT_STATE, {**data, "step": "timezone", "district": district}, at=turn.now
        )
        row = tuple(Button(turn.label("timezone", tz), callbacks.encode("nt", n)) for n, tz in enumerate(TIMEZONES))
        return [turn.say("new_cohort_timezone", buttons=(row, (cancel_button(turn),)))]

    def new_cohort_timezone(self, turn: Turn, args: tuple[str, ...]) -> list[Reply]:
        data = self._new_cohort_data(turn, "timezone")
        index = int(args[0])
        if data is None or not 0 <= index < len(TIMEZONES) or turn.actor.coach_id is None:
            return [turn.say("expired_button")]
        cohort = create_cohort(
            turn.repos,
            turn.actor.coach_id,
            str(data["name"]),
            str(data["kind"]),
            TIMEZONES[index],
            str(data["district"]) if data.get("district") else None,
        )
        turn.repos.states.clear(turn.user.id)
        return [self._link_reply(turn, cohort, created=True)]

    def _new_cohort_data(self, turn: Turn, step: str) -> dict[str, object] | None:
        state = turn.repos.states.get(turn.user.id)
        if state is None or state.state != NEW_COHORT_STATE or state.data.get("step") != step:
            return None
        return dict(state.data)

    # -- hand-off replies and drafts ----------------------------------------------------------

    def inbox_command(self, turn: Turn, args: str) -> list[Reply]:
        return [self._inbox(turn)]

    def inbox_button(self, turn: Turn, args: tuple[str, ...]) -> list[Reply]:
        return [self._inbox(turn)]

    def _inbox(self, turn: Turn) -> Reply:
        threads = turn.repos.handoffs.for_coach(turn.access.coach_scope, "open", limit=10)
        visible = [t for t in threads if self._visible(turn, t)]
        items = []
        for t in visible:
            member = turn.repos.users.by_id(t.user_id)
            items.append(
                {
                    "member": handoff.member_label(member) if member else "?",
                    "question": turn.repos.handoffs.first_question(t.id),
                    "asked": t.created_at,
                }
            )
        rows = tuple(
            (Button(turn.label("reply_to", n + 1), callbacks.encode("hr", t.id)),) for n, t in enumerate(visible)
        )
        return turn.say("inbox", items=items, buttons=rows)

    def _visible(self, turn: Turn, thread: HandoffThread) -> bool:
        if turn.actor.is_admin:
            return True
        return turn.repos.cohorts.coach_sees_member(turn.actor.coach_id or 0, thread.user_id)

    def reply_button(self, turn: Turn, args: tuple[str, ...]) -> list[Reply]:
        thread = turn.access.thread(int(args[0]), "handoff-reply")
        member = turn.repos.users.by_id(thread.user_id)
        turn.repos.states.set(turn.user.id, REPLY_STATE, {"thread_id": thread.id}, at=turn.now)
        return [
            turn.say(
                "coach_reply_prompt",
                member=handoff.member_label(member) if member else "?",
                question=turn.repos.handoffs.first_question(thread.id),
                buttons=((cancel_button(turn),),),
            )
        ]

    def reply_text(self, turn: Turn, state: str, data: dict[str, object], text: str) -> list[Reply]:
        thread = turn.access.thread(int(str(data.get("thread_id", 0))), "handoff-reply")
        turn.repos.states.clear(turn.user.id)
        return self._reply(turn, thread, text)

    def native_reply(self, turn: Turn, sent: OutboxMessage, text: str) -> list[Reply]:
        """A Telegram reply to a forwarded question: the coach's answer on that thread."""
        return self._reply(turn, turn.access.thread(int(sent.subject_id or 0), "handoff-reply"), text)

    def _reply(self, turn: Turn, thread: HandoffThread, text: str) -> list[Reply]:
        coach = turn.repos.coaches.coach(thread.coach_id) if thread.coach_id else None
        if coach is None or not text.strip():
            return [turn.say("expired_button")]
        if not handoff.reply_to_member(turn.repos, thread, coach, text.strip(), at=turn.now):
            return [turn.say("coach_reply_member_gone")]
        save = Button(turn.label("save_draft"), callbacks.encode("hd", thread.id))
        return [turn.say("coach_reply_sent", buttons=((save,),))]

    def draft_button(self, turn: Turn, args: tuple[str, ...]) -> list[Reply]:
        thread = turn.access.thread(int(args[0]), "handoff-draft")
        saved = handoff.save_draft(turn.repos, thread, at=turn.now)
        return [turn.say("draft_saved" if saved else "draft_nothing")]

    def cancel_button(self, turn: Turn, args: tuple[str, ...]) -> list[Reply]:
        turn.repos.states.clear(turn.user.id)
        return [turn.say("cancelled")]

    # -- admin: coach invites -----------------------------------------------------------------

    def invite_command(self, turn: Turn, args: str) -> list[Reply]:
        if args.strip().isascii() and args.strip().isdigit():
            return self._invite(turn, int(args.strip()))
        institutions = turn.repos.coaches.institutions()
        if not institutions:
            return [turn.say("invite_no_institution")]
        rows = tuple((Button(i.name, callbacks.encode("ai", i.id)),) for i in institutions[:20])
        return [turn.say("invite_choose_institution", buttons=rows)]

    def invite_button(self, turn: Turn, args: tuple[str, ...]) -> list[Reply]:
        return self._invite(turn, int(args[0]))

    def _invite(self, turn: Turn, institution_id: int) -> list[Reply]:
        institution = turn.repos.coaches.institution(institution_id)
        if institution is None:
            return [turn.say("invite_no_institution")]
        invite = create_invite(turn.repos, institution.id, turn.now, self.settings.coaching.invite_days)
        payload = COACH_INVITE + invite.code
        return [
            turn.say(
                "invite_created",
                institution=institution.name,
                link=start_link(self.settings.bot_username, payload),
                payload=payload,
                expires=local(invite.expires_at, "Asia/Jakarta"),
            )
        ]

    def invite_prompt(self, turn: Turn, code: str) -> list[Reply]:
        """Someone opened a coach invite link."""
        problem = check_invite(turn.repos, turn.user, code, turn.now)
        if problem is not None:
            return [turn.say("invite_problem", problem=problem)]
        invite_institution = turn.repos.coaches.invite(hash_code(code))
        institution = turn.repos.coaches.institution(invite_institution.institution_id) if invite_institution else None
        row = (
            Button(turn.label("accept"), callbacks.encode("pa", code)),
            Button(turn.label("decline"), callbacks.encode("pn")),
        )
        return [turn.say("invite_prompt", institution=institution.name if institution else "", buttons=(row,))]

    def invite_accept(self, turn: Turn, args: tuple[str, ...]) -> list[Reply]:
        name = turn.user.name or turn.first_name or turn.label("default_coach_name")
        result = redeem_invite(turn.repos, turn.user, args[0], name, turn.now)
        if isinstance(result, str):
            return [turn.say("invite_problem", problem=result)]
        institution = turn.repos.coaches.institution(result.institution_id)
        return [turn.say("invite_accepted", name=result.name, institution=institution.name if institution else "")]

    def invite_decline(self, turn: Turn, args: tuple[str, ...]) -> list[Reply]:
        return [turn.say("invite_declined")]


def _member_label(turn: Turn, row: MemberRow) -> str:
    return turn.label(
        "member_row", row.name or f"#{row.user_id}", row.class_now, row.milestones_done, row.silent, row.open_questions
    )
