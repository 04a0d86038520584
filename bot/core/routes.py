"""THE table: every command, button and dialogue step, the flow that serves it, and who may use
it. Read this file to know what the bot does; add a feature by adding its rows here."""

from __future__ import annotations

from bot.coaching.access import Who
from bot.core.account_flow import ONBOARDING_STATE, PROFILE_EDIT_STATE, AccountFlow
from bot.core.advice_flow import AdviceFlow
from bot.core.broadcast_flow import BROADCAST_STATE
from bot.core.checkin_flow import CHECKIN_STATE, PERSONAL_STATE
from bot.core.coach_flow import NEW_COHORT_STATE, REPLY_STATE, CoachFlow
from bot.core.dashboard_flow import DashboardFlow
from bot.core.dispatch import ButtonRoute, CommandRoute, Routes, StateRoute
from bot.core.engagement import EngagementFlows
from bot.core.event_flow import EVENT_STATE, RATING_STATE
from bot.core.member_flow import ASK_STATE, FOLLOW_UP_STATE, MemberFlow
from bot.core.progress_flow import ProgressFlow
from bot.core.reminder_flow import REMINDER_STATE

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
    engagement: EngagementFlows,
) -> Routes:
    """The routing table of the conversation."""
    reminders, events, replies = engagement.reminders, engagement.events, engagement.replies
    broadcasts, checkins, wizard = engagement.broadcasts, engagement.checkins, engagement.wizard
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
            CommandRoute(("pengingat_saya", "checkins"), checkins.my_reminders_command, MEMBER, menu=True),
            # coaches (and admins)
            CommandRoute(("kelompok", "groups"), coach.cohorts_command, COACH),
            CommandRoute(("kelompok_baru", "new_group"), coach.new_cohort_command, COACH),
            CommandRoute(("pertanyaan", "questions"), coach.inbox_command, COACH),
            CommandRoute(("dasbor", "dashboard"), dashboard.command, COACH),
            CommandRoute(("pengingat", "reminders"), reminders.list_command, COACH),
            CommandRoute(("undangan", "invitations"), events.list_command, COACH),
            CommandRoute(("siaran", "broadcast"), broadcasts.command, COACH),
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
            # members: invitations, ratings, weekly check-ins
            ButtonRoute("rv", replies.rsvp_button, MEMBER),  # rv|event|yes|no|maybe
            ButtonRoute("rr", replies.rate_button, MEMBER),  # rr|event|1-5
            ButtonRoute("rc", replies.skip_comment, MEMBER),  # no comment after the rating
            ButtonRoute("ci", checkins.checkin_button, MEMBER),  # ci|c (record), ci|m|milestone, ci|off
            ButtonRoute("co", checkins.switch_button, MEMBER),  # co|on|off (/pengingat_saya)
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
            # coaches: the guided dialogues' shared steps (cohort, audience, milestone, member)
            ButtonRoute("wc", wizard.cohort, COACH),
            ButtonRoute("wa", wizard.audience, COACH),
            ButtonRoute("wm", wizard.milestone, COACH),
            ButtonRoute("wp", wizard.person, COACH),
            # coaches: reminders
            ButtonRoute("rl", reminders.list_button, COACH),  # rl|page
            ButtonRoute("rs", reminders.status_button, COACH),  # rs|reminder|p|r|x|X|page
            ButtonRoute("rn", reminders.new_button, COACH),
            ButtonRoute("rw", reminders.button, COACH),  # the new reminder's own steps
            # coaches: invitations
            ButtonRoute("el", events.list_button, COACH),  # el|page
            ButtonRoute("en", events.new_button, COACH),
            ButtonRoute("ew", events.button, COACH),  # the new invitation's own steps
            ButtonRoute("ev", events.view_button, COACH),  # ev|event|page
            ButtonRoute("et", events.attendance_button, COACH),  # et|event|user|page
            ButtonRoute("ey", events.all_attended_button, COACH),  # ey|event|page
            ButtonRoute("ex", events.cancel_event_button, COACH),  # ex|event[|y]
            # coaches: broadcasts, check-in settings, personal messages
            ButtonRoute("bw", broadcasts.button, COACH),
            ButtonRoute("br", broadcasts.report_button, COACH),  # br|broadcast
            ButtonRoute("cw", checkins.settings_button, COACH),  # cw|cohort[|off|weekday[|HHMM]]
            ButtonRoute("sp", checkins.personal_button, COACH),  # sp|cohort|user
            # admins
            ButtonRoute("ai", coach.invite_button, ADMIN),
            ButtonRoute("bi", broadcasts.institution_button, ADMIN),  # bi|institution
        ),
        states=(
            StateRoute(ONBOARDING_STATE, account.profile_text, MEMBER),
            StateRoute(PROFILE_EDIT_STATE, account.profile_text, MEMBER),
            StateRoute(PROGRESS_STATES, progress.text, MEMBER),
            StateRoute(ASK_STATE, member.ask_text, MEMBER),
            StateRoute(FOLLOW_UP_STATE, member.follow_up_text, MEMBER),
            StateRoute(NEW_COHORT_STATE, coach.new_cohort_text, COACH),
            StateRoute(REPLY_STATE, coach.reply_text, COACH),
            StateRoute(REMINDER_STATE, reminders.text, COACH),
            StateRoute(EVENT_STATE, events.text, COACH),
            StateRoute(BROADCAST_STATE, broadcasts.text, COACH),
            StateRoute(CHECKIN_STATE, checkins.time_text, COACH),
            StateRoute(PERSONAL_STATE, checkins.personal_text, COACH),
            StateRoute(RATING_STATE, replies.comment_text, MEMBER),
        ),
    )
