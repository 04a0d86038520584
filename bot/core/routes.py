"""THE table: every command, button and dialogue step, the flow that serves it, and who may use
it. Read this file to know what the bot does; add a feature by adding its rows here."""

from __future__ import annotations

from bot.coaching.access import Who
from bot.core.account_flow import ONBOARDING_STATE, PROFILE_EDIT_STATE, AccountFlow
from bot.core.advice_flow import AdviceFlow
from bot.core.coach_flow import NEW_COHORT_STATE, REPLY_STATE, CoachFlow
from bot.core.dashboard_flow import DashboardFlow
from bot.core.dispatch import ButtonRoute, CommandRoute, Routes, StateRoute
from bot.core.member_flow import ASK_STATE, FOLLOW_UP_STATE, MemberFlow
from bot.core.progress_flow import ProgressFlow

__all__ = ["build_routes"]

ANYONE, MEMBER, COACH, ADMIN = Who.ANYONE, Who.MEMBER, Who.COACH, Who.ADMIN
PROGRESS_STATES = "progress"  # progress.catat, progress.confirm


def build_routes(
    account: AccountFlow,
    advice: AdviceFlow,
    progress: ProgressFlow,
    member: MemberFlow,
    coach: CoachFlow,
    dashboard: DashboardFlow,
) -> Routes:
    """The routing table of the conversation."""
    return Routes(
        commands=(
            # everyone
            CommandRoute(("start",), account.start, ANYONE),
            CommandRoute(("bantuan", "help"), account.help, ANYONE, menu=True),
            CommandRoute(("topik", "topics"), advice.topics_command, ANYONE, menu=True),
            CommandRoute(("bahasa", "language"), account.language_command, ANYONE, menu=True),
            CommandRoute(("batal", "cancel"), account.cancel, ANYONE, menu=True),
            # after consent
            CommandRoute(("profil", "profile"), account.profile, MEMBER, menu=True),
            CommandRoute(("catat", "record"), progress.catat, MEMBER, menu=True),
            CommandRoute(("progres", "progress"), progress.progres, MEMBER, menu=True),
            CommandRoute(("laporan", "report"), progress.laporan, MEMBER, menu=True),
            CommandRoute(("tanya_pendamping", "ask_coach"), member.ask_command, MEMBER, menu=True),
            CommandRoute(("kelompok_saya", "my_groups"), member.my_cohorts, MEMBER, menu=True),
            CommandRoute(("ekspor", "export"), progress.ekspor, MEMBER, menu=True),
            CommandRoute(("hapus", "delete"), progress.hapus, MEMBER, menu=True),
            # coaches (and admins)
            CommandRoute(("kelompok", "groups"), coach.cohorts_command, COACH),
            CommandRoute(("kelompok_baru", "new_group"), coach.new_cohort_command, COACH),
            CommandRoute(("pertanyaan", "questions"), coach.inbox_command, COACH),
            CommandRoute(("dasbor", "dashboard"), dashboard.command, COACH),
            # admins
            CommandRoute(("undang_pendamping", "invite_coach"), coach.invite_command, ADMIN),
        ),
        buttons=(
            ButtonRoute("consent", account.consent, ANYONE),
            ButtonRoute("lang", account.language_button, ANYONE),
            ButtonRoute("topics", advice.topics_button, ANYONE),
            ButtonRoute("t", advice.topic_page, ANYONE),
            ButtonRoute("e", advice.entry_button, ANYONE),
            ButtonRoute("st", advice.steps_button, ANYONE),
            ButtonRoute("skip", account.skip, MEMBER),
            ButtonRoute("sector", account.sector_button, MEMBER),
            ButtonRoute("edit", account.edit_button, MEMBER),
            ButtonRoute("fb", advice.feedback, MEMBER),
            ButtonRoute("ck", progress.kind_button, MEMBER),
            ButtonRoute("ms", progress.milestone_button, MEMBER),
            ButtonRoute("hp", progress.delete_button, MEMBER),
            ButtonRoute("cc", progress.confirm_button, MEMBER),
            # member side of coaching
            ButtonRoute("coach", member.ask_button, MEMBER),
            ButtonRoute("ks", member.send, MEMBER),
            ButtonRoute("kx", member.cancel_ask, MEMBER),
            ButtonRoute("kj", member.join, MEMBER),
            ButtonRoute("kn", member.not_now, ANYONE),
            ButtonRoute("kl", member.leave, MEMBER),
            ButtonRoute("hf", member.follow_up_button, MEMBER),
            # becoming a coach
            ButtonRoute("pa", coach.invite_accept, MEMBER),
            ButtonRoute("pn", coach.invite_decline, ANYONE),
            # coaches
            ButtonRoute("kk", coach.cohorts_button, COACH),
            ButtonRoute("kv", coach.cohort_button, COACH),
            ButtonRoute("km", coach.member_button, COACH),
            ButtonRoute("ke", coach.export_button, COACH),
            ButtonRoute("kq", coach.join_link_button, COACH),
            ButtonRoute("kb", coach.new_cohort_button, COACH),
            ButtonRoute("nk", coach.new_cohort_kind, COACH),
            ButtonRoute("nd", coach.new_cohort_skip_district, COACH),
            ButtonRoute("nt", coach.new_cohort_timezone, COACH),
            ButtonRoute("hi", coach.inbox_button, COACH),
            ButtonRoute("hr", coach.reply_button, COACH),
            ButtonRoute("hd", coach.draft_button, COACH),
            ButtonRoute("cx", coach.cancel_button, COACH),
            # admins
            ButtonRoute("ai", coach.invite_button, ADMIN),
        ),
        states=(
            StateRoute(ONBOARDING_STATE, account.profile_text, MEMBER),
            StateRoute(PROFILE_EDIT_STATE, account.profile_text, MEMBER),
            StateRoute(PROGRESS_STATES, progress.text, MEMBER),
            StateRoute(ASK_STATE, member.ask_text, MEMBER),
            StateRoute(FOLLOW_UP_STATE, member.follow_up_text, MEMBER),
            StateRoute(NEW_COHORT_STATE, coach.new_cohort_text, COACH),
            StateRoute(REPLY_STATE, coach.reply_text, COACH),
        ),
    )
