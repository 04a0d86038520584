"""Role and ownership, checked on the server for every coach command and button: refusals change
nothing and are logged with the user id and action only."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.coaching.access import Who
from bot.coaching.audience import Audience
from bot.coaching.broadcasts import send_broadcast
from bot.coaching.events import create_event
from bot.coaching.quiet_hours import QuietHours
from bot.coaching.recurrence import Schedule
from bot.coaching.reminders import create_reminder
from bot.core import callbacks
from bot.storage import Base, HandoffThread, Repositories
from tests.coaching.conftest import consented, join, make_coach, make_cohort, outbox_rows, press_data

REFUSED = "bukan untuk akun Anda"
# Sample arguments for every coach/admin button; ids are filled per test.
ARGS = {
    "kk": ("1",), "kv": ("{cohort}", "active", "1"), "km": ("{cohort}", "{member}"), "ke": ("{cohort}", "xlsx"),
    "kq": ("{cohort}",), "kb": (), "nk": ("sentra",), "nd": (), "nt": ("0",), "hi": (), "hr": ("{thread}",),
    "hd": ("{thread}",), "cx": (), "ai": ("1",),
    # engagement: the guided dialogues' shared steps, reminders, invitations, broadcasts, check-ins
    "wc": ("{cohort}",), "wa": ("c",), "wm": ("nib",), "wp": ("{member}",), "rl": ("1",), "rs": ("1", "p", "1"),
    "rn": (), "rw": ("save",), "el": ("1",), "en": (), "ew": ("send",), "ev": ("1",), "et": ("1", "{member}", "1"),
    "ey": ("1", "1"), "ex": ("1", "y"), "bw": ("send",), "br": ("1",), "bi": ("1",), "cw": ("{cohort}", "0", "0900"),
    "sp": ("{cohort}", "{member}"),
}  # fmt: skip


def _row_counts(database) -> dict[str, int]:  # type: ignore[no-untyped-def]
    with database.transaction() as session:
        return {
            name: session.scalar(select(func.count()).select_from(table)) for name, table in Base.metadata.tables.items()
        }


@pytest.fixture
def world(talk):  # type: ignore[no-untyped-def]
    """Coach Rina with a cohort, a member Siti with an open question, and coach Budi of another
    institution; ids of Rina's objects to forge buttons with."""
    rina = make_coach(talk, "rina")
    siti = join(talk, "siti", make_cohort(rina))
    siti.say("/tanya_pendamping harga jual batik tulis berapa")
    siti.press("Kirim ke Rina")
    budi = make_coach(talk, "budi", institution="Koperasi Maju")
    database = rina.conversation.database
    with database.transaction() as session:
        thread = session.scalars(select(HandoffThread)).one()
        ids = {"cohort": thread.cohort_id, "member": thread.user_id, "thread": thread.id}
    return {"rina": rina, "siti": siti, "budi": budi, "ids": ids, "database": database}


def _coach_routes(conversation, who: Who):  # type: ignore[no-untyped-def]
    return [r for r in conversation.routes.buttons if r.who is who], [
        r for r in conversation.routes.commands if r.who is who
    ]


def test_every_coach_and_admin_route_refuses_a_plain_member(world, caplog) -> None:  # type: ignore[no-untyped-def]
    siti, database, ids = world["siti"], world["database"], world["ids"]
    conversation = siti.conversation
    before = _row_counts(database)
    caplog.set_level(logging.WARNING, logger="bot.coaching.access")
    for who in (Who.COACH, Who.ADMIN):
        buttons, commands = _coach_routes(conversation, who)
        assert buttons and commands
        for route in commands:
            assert REFUSED in siti.say(f"/{route.names[0]}")[0].text, route.names
        for route in buttons:
            data = callbacks.encode(route.action, *(a.format(**ids) for a in ARGS[route.action]))
            replies = press_data(siti, data)
            assert REFUSED in replies[0].text and replies[0].attachment is None, route.action
    # The only changes: last-activity stamps. No state, no rows, no messages.
    after = _row_counts(database)
    assert after == before
    refusals = [r.getMessage() for r in caplog.records if "access refused" in r.getMessage()]
    assert len(refusals) >= len(ARGS)
    assert all("Siti" not in line and "batik" not in line for line in refusals)


def test_a_coach_of_another_institution_cannot_touch_rinas_cohort(world) -> None:  # type: ignore[no-untyped-def]
    budi, database, ids = world["budi"], world["database"], world["ids"]
    before = _row_counts(database)
    for action in ("kv", "km", "ke", "kq", "hr", "hd"):
        data = callbacks.encode(action, *(a.format(**ids) for a in ARGS[action]))
        reply = press_data(budi, data)[0]
        assert REFUSED in reply.text and reply.attachment is None, action
        assert "Siti" not in reply.text
    assert "Siti" not in budi.say("/pertanyaan")[0].text  # Rina's inbox is not Budi's
    assert "Sentra Batik" not in budi.say("/kelompok")[0].text
    budi.say("Ini balasan palsu")  # no reply state was set: this is just a question to the bot
    after = _row_counts(database)
    assert after.pop("question_log") == before.pop("question_log") + 1
    assert after == before
    assert REFUSED in budi.say("/undang_pendamping")[0].text


def test_forged_engagement_buttons_from_another_coach_change_nothing(world, talk) -> None:  # type: ignore[no-untyped-def]
    """Budi (another institution) replays Rina's reminder, event, broadcast, check-in and personal
    message buttons, and feeds her cohort and member into his own guided dialogues."""
    budi, database, ids = world["budi"], world["database"], world["ids"]
    join(talk, "eko", make_cohort(budi, "KUB Budi"))
    now = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)
    quiet = QuietHours("21:00", "06:00")
    with database.transaction() as session:
        repos = Repositories(session)
        cohort = repos.cohorts.by_id(ids["cohort"])
        reminder = create_reminder(
            repos, cohort, cohort.coach_id, "Halo {{ nama }}", Schedule(datetime(2026, 12, 1, 8, 0), cohort.timezone),
            Audience(), now,
        )  # fmt: skip
        event, _ = create_event(
            repos, cohort, cohort.coach_id, title="Kelas HPP", starts_at=now + timedelta(hours=1),
            ends_at=now + timedelta(hours=3), rsvp_closes_at=now + timedelta(minutes=30), audience=Audience(), now=now,
            quiet=quiet,
        )  # fmt: skip
        broadcast = send_broadcast(repos, [cohort], "Halo", Audience(), now, quiet, coach_id=None, sender=None)
        numbers = {"reminder": reminder.id, "event": event.id, "broadcast": broadcast.id, **ids}
    budi.say("/pengingat")
    before = _row_counts(database)
    forged = [
        ("rs", "{reminder}", "p", "1"), ("rs", "{reminder}", "X", "1"), ("ev", "{event}"), ("ey", "{event}", "1"),
        ("et", "{event}", "{member}", "1"), ("ex", "{event}", "y"), ("br", "{broadcast}"), ("cw", "{cohort}"),
        ("cw", "{cohort}", "0", "0900"), ("cw", "{cohort}", "off"), ("sp", "{cohort}", "{member}"),
        ("kv", "{cohort}", "active", "1"),
    ]  # fmt: skip
    for action, *args in forged:
        reply = press_data(budi, callbacks.encode(action, *(a.format(**numbers) for a in args)))[0]
        assert REFUSED in reply.text and reply.attachment is None, action
        assert "Siti" not in reply.text and "Kelas HPP" not in reply.text
    assert "Kelas HPP" not in budi.say("/undangan")[0].text and "Halo" not in budi.say("/pengingat")[0].text
    # In his own dialogue (two cohorts of his: he chooses one), Rina's cohort and member are refused.
    make_cohort(budi, "KUB Budi 2")
    budi.say("/siaran")
    assert REFUSED in press_data(budi, callbacks.encode("wc", ids["cohort"]))[0].text
    budi.say("/siaran")
    budi.press("KUB Budi 2")
    budi.press("Satu orang")
    assert REFUSED in press_data(budi, callbacks.encode("wp", ids["member"]))[0].text
    budi.say("/batal")
    after = _row_counts(database)
    after["cohorts"] -= 1  # KUB Budi 2
    assert after == before
    with database.transaction() as session:
        repos = Repositories(session)
        assert repos.reminders.by_id(reminder.id).status == "active"
        assert repos.events.by_id(event.id).status == "open"
        assert repos.cohorts.by_id(ids["cohort"]).checkin_weekday is None


def test_a_replayed_reply_button_after_the_member_left_is_refused(world) -> None:  # type: ignore[no-untyped-def]
    rina, siti, ids = world["rina"], world["siti"], world["ids"]
    siti.say("/kelompok_saya")
    siti.press("Keluar")
    reply = press_data(rina, callbacks.encode("hr", ids["thread"]))[0]
    assert REFUSED in reply.text


def test_members_cannot_use_each_others_threads_or_questions(world, talk) -> None:  # type: ignore[no-untyped-def]
    ids, database = world["ids"], world["database"]
    other = consented(talk("eko"))
    assert REFUSED in press_data(other, callbacks.encode("hf", ids["thread"]))[0].text
    # Another member's question id under "ask my coach" is treated as no question at all.
    with database.transaction() as session:
        question_id = Repositories(session).questions.add(ids["member"], "rahasia", "rahasia", [], [], False).id
    reply = press_data(other, callbacks.encode("coach", question_id))[0]
    assert "rahasia" not in reply.text
    # A forged join button with a made-up code joins nothing.
    assert "tidak dikenal" in press_data(other, callbacks.encode("kj", "zzzzzzzzzz"))[0].text
    assert len(outbox_rows(database)) == 1


def test_every_coach_and_admin_route_refuses_a_stranger_and_stores_nothing_about_them(world, talk) -> None:  # type: ignore[no-untyped-def]
    """Someone who never agreed to the privacy notice: asked for consent, and not even a user
    row is written (nothing about a person is stored before consent)."""
    database, ids = world["database"], world["ids"]
    stranger = talk("stranger")
    conversation = stranger.conversation
    before = _row_counts(database)
    for who in (Who.COACH, Who.ADMIN):
        buttons, commands = _coach_routes(conversation, who)
        for route in commands:
            reply = stranger.say(f"/{route.names[0]}")[0]
            assert "persetujuan" in reply.text and reply.attachment is None, route.names
        for route in buttons:
            data = callbacks.encode(route.action, *(a.format(**ids) for a in ARGS[route.action]))
            reply = press_data(stranger, data)[0]
            assert "persetujuan" in reply.text and reply.attachment is None, route.action
    assert _row_counts(database) == before
