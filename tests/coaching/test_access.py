"""Role and ownership, checked on the server for every coach command and button: refusals change
nothing and are logged with the user id and action only."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import func, select

from bot.coaching.access import Who
from bot.core import callbacks
from bot.storage import Base, HandoffThread, Repositories
from tests.coaching.conftest import consented, join, make_coach, make_cohort, outbox_rows, press_data

REFUSED = "bukan untuk akun Anda"
# Sample arguments for every coach/admin button; ids are filled per test.
ARGS = {
    "kk": ("1",), "kv": ("{cohort}", "active", "1"), "km": ("{cohort}", "{member}"), "ke": ("{cohort}", "xlsx"),
    "kq": ("{cohort}",), "kb": (), "nk": ("sentra",), "nd": (), "nt": ("0",), "hi": (), "hr": ("{thread}",),
    "hd": ("{thread}",), "cx": (), "ai": ("1",),
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
