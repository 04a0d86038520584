"""Reminders, events, broadcasts, check-ins and the scheduler on SQLite and PostgreSQL: audiences,
previews, exactly-once occurrences, missed occurrences, RSVP quota and waiting list, .ics files,
attendance, quiet hours, a crashed or doubled scheduler."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import func, select

from bot.coaching import events as event_rules
from bot.coaching.audience import Audience
from bot.coaching.audience import select as select_audience
from bot.coaching.broadcasts import broadcast_report, send_broadcast
from bot.coaching.checkins import set_checkin
from bot.coaching.cohort_view import member_rows
from bot.coaching.personalize import TemplateProblem, check_text, render_for
from bot.coaching.quiet_hours import QuietHours
from bot.coaching.recurrence import Schedule, daily
from bot.coaching.reminders import cancel, create_reminder, delivery_figures, pause, resume
from bot.coaching.schedule import run_pass
from bot.config import Settings
from bot.storage import Database, OutboxMessage, ReminderOccurrence, Repositories

T0 = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)  # 08:00 WIB
QUIET = QuietHours("21:00", "06:00")


@pytest.fixture
def cohort(database: Database) -> dict:  # type: ignore[type-arg]
    """A coach, a WIB cohort and five consented members (Ani has NIB; Budi logged figures)."""
    with database.transaction() as session:
        repos = Repositories(session)
        institution = repos.coaches.add_institution("Dinas Koperasi Gresik")
        coach_user, _ = repos.users.get_or_create("telegram", "9000")
        repos.users.give_consent(coach_user, T0)
        coach = repos.coaches.add_coach(coach_user.id, institution.id, "Rina")
        cohort = repos.cohorts.create(coach.id, "Sentra Batik", "sentra", "Asia/Jakarta", "codeA")
        ids = {}
        for n, name in enumerate(("Ani", "Budi", "Citra", "Dewi", "Eko")):
            user, _ = repos.users.get_or_create("telegram", str(9001 + n))
            repos.users.give_consent(user, T0)
            repos.users.update_profile(user, name=name, sector="food", products=f"keripik {name.lower()}")
            repos.cohorts.join(cohort.id, user.id, None, at=T0 - timedelta(days=60))
            ids[name] = user.id
        repos.milestones.set_done(ids["Ani"], "nib", True, at=T0)
        repos.figures.record(ids["Budi"], "omzet", T0.date().replace(day=1), 3_000_000, at=T0)
        return {"cohort_id": cohort.id, "coach_id": coach.id, "ids": ids}


def _rows(database: Database, **where: object) -> list[OutboxMessage]:
    with database.transaction() as session:
        stmt = select(OutboxMessage).order_by(OutboxMessage.id)
        for key, value in where.items():
            stmt = stmt.where(getattr(OutboxMessage, key) == value)
        return list(session.scalars(stmt))


def _pass(database: Database, settings: Settings, now: datetime):  # type: ignore[no-untyped-def]
    """A scheduler pass without the silent-member flags (their own test covers them)."""
    return run_pass(database, settings, now, silent_flags=False)


def _settings() -> Settings:
    settings = Settings()
    settings.engagement.grace_minutes = 60
    return settings


def test_audiences_and_blocked_members(database: Database, cohort) -> None:  # type: ignore[no-untyped-def]
    ids = cohort["ids"]
    with database.transaction() as session:
        repos = Repositories(session)
        target = repos.cohorts.by_id(cohort["cohort_id"])
        repos.users.by_id(ids["Eko"]).blocked_at = T0

        def names(audience: Audience) -> list[str]:
            return [u.name for u in select_audience(repos, target, audience, T0).users]

        assert names(Audience()) == ["Ani", "Budi", "Citra", "Dewi"]
        assert select_audience(repos, target, Audience(), T0).skipped_blocked == 1
        assert names(Audience("missing_milestone", milestone="nib")) == ["Budi", "Citra", "Dewi"]
        assert names(Audience("no_figures")) == ["Ani", "Citra", "Dewi"]
        assert names(Audience("person", user_id=ids["Citra"])) == ["Citra"]


def test_personal_texts_render_per_member_escape_html_and_fail_at_preview(database: Database, cohort) -> None:  # type: ignore[no-untyped-def]
    with database.transaction() as session:
        repos = Repositories(session)
        target = repos.cohorts.by_id(cohort["cohort_id"])
        ani = repos.users.by_id(cohort["ids"]["Ani"])
        text = "Halo {{ nama }} <b>({{ usaha }})</b>, langkah berikut: {{ langkah_berikutnya }} — {{ kelompok }}"
        check_text(text)
        html = str(render_for(repos, text, ani, target).html)
        assert "Halo Ani &lt;b&gt;(keripik ani)&lt;/b&gt;" in html and "Sentra Batik" in html
        assert "Uang usaha dipisah" in html  # Ani has her NIB: the next step is the one after
    for bad in ("Halo {{ nma }}", "Halo {{ nama ", "{{ ''.__class__.__mro__ }}", "", "x" * 3000):
        with pytest.raises(TemplateProblem):
            check_text(bad)


def test_a_reminder_occurrence_is_queued_once_per_recipient(database: Database, cohort) -> None:  # type: ignore[no-untyped-def]
    settings = _settings()
    with database.transaction() as session:
        repos = Repositories(session)
        target = repos.cohorts.by_id(cohort["cohort_id"])
        reminder = create_reminder(
            repos, target, cohort["coach_id"], "Jangan lupa catat omzet, {{ nama }}!",
            Schedule(datetime(2026, 12, 1, 9, 0), "Asia/Jakarta", daily()), Audience("no_figures"), T0,
        )  # fmt: skip
        reminder_id = reminder.id
    assert _pass(database, settings, T0).messages == 0  # not due yet (09:00 WIB = 02:00 UTC)
    due = T0 + timedelta(hours=1)
    first = _pass(database, settings, due)
    assert first.reminder_occurrences == 1 and first.messages == 4  # Budi logged figures already
    assert _pass(database, settings, due).messages == 0  # a second pass queues nothing again
    rows = _rows(database, kind="reminder")
    assert len(rows) == 4 and "Jangan lupa catat omzet, Ani!" in rows[0].payload["text"]
    with database.transaction() as session:
        repos = Repositories(session)
        reminder = repos.reminders.by_id(reminder_id)
        assert reminder.next_at == due + timedelta(days=1)
        assert delivery_figures(repos, reminder)["pending"] == 4
        pause(repos, reminder)
    assert _pass(database, settings, due + timedelta(days=1)).messages == 0
    with database.transaction() as session:
        repos = Repositories(session)
        reminder = repos.reminders.by_id(reminder_id)
        resume(repos, reminder, due + timedelta(days=1, minutes=5))
        assert reminder.next_at == due + timedelta(days=2)  # paused days are skipped, not missed
        cancel(repos, reminder)
        assert reminder.status == "cancelled" and reminder.next_at is None


def test_after_a_restart_late_occurrences_are_sent_within_grace_and_missed_beyond(database: Database, cohort) -> None:  # type: ignore[no-untyped-def]
    settings = _settings()
    with database.transaction() as session:
        repos = Repositories(session)
        target = repos.cohorts.by_id(cohort["cohort_id"])
        create_reminder(
            repos, target, cohort["coach_id"], "Pengingat harian", Schedule(datetime(2026, 12, 1, 9, 0), "Asia/Jakarta", daily()),
            Audience("person", user_id=cohort["ids"]["Ani"]), T0,
        )  # fmt: skip
    # The bot was down from before the first occurrence until 30 minutes after the third.
    back = datetime(2026, 12, 3, 2, 30, tzinfo=UTC)
    result = _pass(database, settings, back)
    assert (result.missed, result.reminder_occurrences, result.messages) == (2, 1, 1)
    with database.transaction() as session:
        states = [o.state for o in session.scalars(select(ReminderOccurrence).order_by(ReminderOccurrence.occurs_at))]
    assert states == ["missed", "missed", "queued"]


def test_quiet_hours_hold_a_night_broadcast_until_morning(database: Database, cohort) -> None:  # type: ignore[no-untyped-def]
    night = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)  # 22:00 WIB
    with database.transaction() as session:
        repos = Repositories(session)
        target = repos.cohorts.by_id(cohort["cohort_id"])
        broadcast = send_broadcast(
            repos, [target], "Besok pameran!", Audience(), night, QUIET, coach_id=cohort["coach_id"], sender="Rina"
        )
        assert broadcast.recipients == 5
        report = broadcast_report(repos, broadcast)
        assert (report["pending"], report["sent"], report["skipped_blocked"]) == (5, 0, 0)
    assert {r.next_attempt_at for r in _rows(database, kind="broadcast")} == {datetime(2026, 12, 1, 23, 0, tzinfo=UTC)}
    with database.transaction() as session:
        claimed = Repositories(session).outbox.claim("w", 10, now=night + timedelta(hours=1))
        assert claimed == []  # still night in Gresik


def test_rsvp_quota_waiting_list_promotion_and_ics(database: Database, cohort) -> None:  # type: ignore[no-untyped-def]
    ids = cohort["ids"]
    with database.transaction() as session:
        repos = Repositories(session)
        target = repos.cohorts.by_id(cohort["cohort_id"])
        event, invited = event_rules.create_event(
            repos, target, cohort["coach_id"], title="Pelatihan foto produk", starts_at=T0 + timedelta(days=7),
            ends_at=T0 + timedelta(days=7, hours=3), rsvp_closes_at=T0 + timedelta(days=6), audience=Audience(),
            now=T0, quiet=QUIET, place="Balai Desa", quota=2,
        )  # fmt: skip
        event_id = event.id
        assert invited == 5
    assert len(_rows(database, kind="event_invitation")) == 5

    def answer(name: str, value: str, at: datetime = T0) -> event_rules.RsvpResult:
        with database.transaction() as session:
            repos = Repositories(session)
            return event_rules.answer_rsvp(repos, event_id, repos.users.by_id(ids[name]), value, at)

    assert answer("Ani", "yes").outcome == "placed"
    assert answer("Budi", "yes").outcome == "placed"
    assert answer("Citra", "yes").outcome == "waitlisted"
    assert answer("Dewi", "yes").outcome == "waitlisted"
    assert answer("Ani", "yes").outcome == "unchanged"
    result = answer("Ani", "no")
    assert result.outcome == "answered" and result.promoted is not None and result.promoted.name == "Citra"
    [promoted] = _rows(database, kind="event_promoted")
    assert promoted.chat_id == "9003" and promoted.payload["document"]["filename"].endswith(".ics")
    with database.transaction() as session:
        repos = Repositories(session)
        view = event_rules.event_view(repos, repos.events.by_id(event_id))
        assert [n for _, n in view.coming] == ["Budi", "Citra"] and [n for _, n in view.waiting] == ["Dewi"]
        assert view.counts == {"yes": 2, "waiting": 1, "no": 1, "maybe": 0, "none": 1, "attended": 0}
        ics = Calendar.from_ical(event_rules.ics_file(repos.events.by_id(event_id)))
    [vevent] = ics.walk("VEVENT")
    assert str(vevent["summary"]) == "Pelatihan foto produk"
    assert vevent.decoded("dtstart") == T0 + timedelta(days=7)
    assert str(vevent["dtstart"].params["TZID"]) == "Asia/Jakarta" and ics.walk("VTIMEZONE")
    assert answer("Eko", "yes", T0 + timedelta(days=6, minutes=1)).outcome == "closed"


def test_notices_attendance_and_ratings(database: Database, cohort) -> None:  # type: ignore[no-untyped-def]
    ids = cohort["ids"]
    settings = _settings()
    start = T0 + timedelta(days=3)
    with database.transaction() as session:
        repos = Repositories(session)
        target = repos.cohorts.by_id(cohort["cohort_id"])
        event, _ = event_rules.create_event(
            repos, target, cohort["coach_id"], title="Kelas HPP", starts_at=start, ends_at=start + timedelta(hours=2),
            rsvp_closes_at=start - timedelta(hours=3), audience=Audience(), now=T0, quiet=QUIET,
        )  # fmt: skip
        event_id = event.id
        for name, value in (("Ani", "yes"), ("Budi", "yes"), ("Citra", "maybe")):
            event_rules.answer_rsvp(repos, event_id, repos.users.by_id(ids[name]), value, T0)
    _pass(database, settings, start - timedelta(hours=24))
    _pass(database, settings, start - timedelta(hours=2))
    reminders = _rows(database, kind="event_reminder")
    assert sorted(r.chat_id for r in reminders) == ["9001", "9001", "9002", "9002"]  # only those coming
    with database.transaction() as session:
        repos = Repositories(session)
        event = repos.events.by_id(event_id)
        assert event_rules.mark_all_yes_attended(repos, event, start) == 2
        event_rules.mark_attendance(repos, event, ids["Budi"], False, start)
    morning = datetime(2026, 12, 5, 1, 0, tzinfo=UTC)  # 08:00 WIB the day after
    _pass(database, settings, morning)
    [rating] = _rows(database, kind="event_rating")
    assert rating.chat_id == "9001" and len(rating.payload["buttons"][0]) == 5
    with database.transaction() as session:
        repos = Repositories(session)
        assert event_rules.rate(repos, event_id, ids["Ani"], 5, morning)
        assert not event_rules.rate(repos, event_id, ids["Budi"], 4, morning)  # did not attend
        rows = member_rows(repos, repos.cohorts.by_id(cohort["cohort_id"]), morning)
        assert {r.name: r.events_attended for r in rows}["Ani"] == 1


def test_weekly_checkins_respect_opt_out_and_nudge_once(database: Database, cohort) -> None:  # type: ignore[no-untyped-def]
    settings = _settings()
    with database.transaction() as session:
        repos = Repositories(session)
        set_checkin(repos.cohorts.by_id(cohort["cohort_id"]), 0, "09:00", T0)  # Mondays 09:00 WIB
        repos.users.by_id(cohort["ids"]["Dewi"]).checkins_off = True
        due = repos.cohorts.by_id(cohort["cohort_id"]).next_checkin_at
    assert due == datetime(2026, 12, 7, 2, 0, tzinfo=UTC)
    _pass(database, settings, due)
    _pass(database, settings, due + timedelta(minutes=1))
    checkins = _rows(database, kind="checkin")
    assert sorted(r.chat_id for r in checkins) == ["9001", "9002", "9003", "9005"]
    # Members joined 60 days ago and their next milestone never moved: one nudge each, ever.
    assert len(_rows(database, kind="nudge")) == 3  # Ani ticked NIB today, so her next step is new
    _pass(database, settings, due + timedelta(days=7))
    assert len(_rows(database, kind="nudge")) == 3 and len(_rows(database, kind="checkin")) == 8


def test_silent_members_are_flagged_to_their_coach_once(database: Database, cohort) -> None:  # type: ignore[no-untyped-def]
    settings = _settings()
    with database.transaction() as session:
        repos = Repositories(session)
        for name in ("Ani", "Budi", "Citra", "Dewi"):
            repos.users.by_id(cohort["ids"][name]).last_active_at = T0
    run_pass(database, settings, T0)
    run_pass(database, settings, T0 + timedelta(hours=1))
    [flag] = _rows(database, kind="silent_member")
    assert flag.chat_id == "9000" and "Eko" in flag.payload["text"]


def test_a_crashed_pass_leaves_nothing_and_the_rerun_queues_each_once(database: Database, cohort, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    settings = _settings()
    with database.transaction() as session:
        repos = Repositories(session)
        create_reminder(
            repos, repos.cohorts.by_id(cohort["cohort_id"]), cohort["coach_id"], "Halo {{ nama }}",
            Schedule(datetime(2026, 12, 1, 9, 0), "Asia/Jakarta", None), Audience(), T0,
        )  # fmt: skip
    from bot.coaching import reminders as reminder_rules

    real = reminder_rules.message_row
    calls = {"n": 0}

    def dying(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("killed mid-run")
        return real(*args, **kwargs)

    monkeypatch.setattr(reminder_rules, "message_row", dying)
    due = T0 + timedelta(hours=1)
    assert _pass(database, settings, due).failed_parts == ["reminders"]
    assert _rows(database, kind="reminder") == []  # the part rolled back as a whole
    monkeypatch.setattr(reminder_rules, "message_row", real)
    assert _pass(database, settings, due).messages == 5
    assert _pass(database, settings, due).messages == 0
    assert len(_rows(database, kind="reminder")) == 5


def test_two_schedulers_at_once_queue_each_occurrence_once(database: Database, cohort) -> None:  # type: ignore[no-untyped-def]
    settings = _settings()
    with database.transaction() as session:
        repos = Repositories(session)
        target = repos.cohorts.by_id(cohort["cohort_id"])
        for n in range(20):
            create_reminder(
                repos, target, cohort["coach_id"], f"Pengingat {n}",
                Schedule(datetime(2026, 12, 1, 9, 0), "Asia/Jakarta", None), Audience(), T0,
            )  # fmt: skip
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def scheduler() -> None:
        try:
            barrier.wait(timeout=10)
            _pass(database, settings, T0 + timedelta(hours=1))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=scheduler) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    rows = _rows(database, kind="reminder")
    assert len(rows) == 20 * 5 and len({r.dedupe_key for r in rows}) == 100
    with database.transaction() as session:
        assert session.scalar(select(func.count()).select_from(ReminderOccurrence)) == 20


def test_the_weekly_digest_tells_each_coach_what_needs_them_once(database: Database, cohort) -> None:  # type: ignore[no-untyped-def]
    settings = _settings()
    monday = datetime(2026, 12, 7, 0, 30, tzinfo=UTC)  # 07:30 WIB, just after the digest time
    ids = cohort["ids"]
    with database.transaction() as session:
        repos = Repositories(session)
        coach = repos.coaches.coach(cohort["coach_id"])
        target = repos.cohorts.by_id(cohort["cohort_id"])
        ani = repos.users.by_id(ids["Ani"])
        repos.handoffs.open_thread(ani.id, coach.id, target.id, "Bagaimana izin PIRT sambal?", at=monday)
        repos.questions.add(ids["Budi"], "cara ekspor ke jepang", "x", [], [], False, at=monday - timedelta(days=1))
        repos.classes.add(ids["Citra"], "small", monday.date(), at=monday - timedelta(days=1))
        for name in ("Ani", "Budi", "Citra", "Dewi"):
            repos.users.by_id(ids[name]).last_active_at = monday
    assert _pass(database, settings, monday).messages >= 1
    _pass(database, settings, monday + timedelta(minutes=5))
    [digest] = _rows(database, kind="digest")
    text = digest.payload["text"]
    assert digest.chat_id == "9000" and "Ringkasan mingguan untuk Rina" in text
    assert "Ani: Bagaimana izin PIRT sambal?" in text and "cara ekspor ke jepang" in text
    assert "Budi:" not in text.split("tanpa nama")[1]  # unanswered questions are shown without names
    assert "Eko" in text  # silent 30+ days


def test_no_digest_when_nothing_needs_the_coach(database: Database, cohort) -> None:  # type: ignore[no-untyped-def]
    monday = datetime(2026, 12, 7, 0, 30, tzinfo=UTC)
    with database.transaction() as session:
        for user_id in cohort["ids"].values():
            Repositories(session).users.by_id(user_id).last_active_at = monday
    _pass(database, _settings(), monday)
    assert _rows(database, kind="digest") == []


def test_the_due_reminder_query_can_use_its_index(database: Database) -> None:
    """The scheduler's query is served by ix_reminders_status_next_at, not a scan (the timing at
    100,000 reminders is in bench/scheduler_bench.py)."""
    from sqlalchemy import text

    query = "SELECT id FROM reminders WHERE status = 'active' AND next_at <= :now ORDER BY next_at, id LIMIT 100"
    with database.engine.connect() as connection:
        if database.dialect == "sqlite":
            plan = connection.execute(text("EXPLAIN QUERY PLAN " + query), {"now": "2026-12-01 00:00:00"}).all()
        else:  # an empty table is scanned anyway: ask whether the index can serve the query at all
            connection.execute(text("SET enable_seqscan = off"))
            plan = connection.execute(text("EXPLAIN " + query), {"now": T0}).all()
    assert "ix_reminders_status_next_at" in " ".join(str(row[-1]) for row in plan)
