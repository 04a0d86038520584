"""A real broadcast (bot.coaching.broadcasts) to 300 members delivered by the real worker against
a fake Bot API that answers some chats with 429, 403 and 502: every recipient ends sent, blocked or
failed after retries, none twice; and a worker killed in the middle of a broadcast, then a new one:
none lost, none twice. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from bot.coaching.audience import Audience
from bot.coaching.broadcasts import broadcast_report, send_broadcast
from bot.coaching.quiet_hours import QuietHours
from bot.storage import Database, Repositories, User
from tests.delivery.conftest import states
from tests.e2e.fake_bot_api import FAULTS, FakeBotApi
from tests.seed import seed_cohort

NOON = datetime.now(UTC).replace(hour=5, minute=0, second=0, microsecond=0)  # 12:00 WIB: not quiet hours
FIRST_CHAT = 700_000


def _cohort_of(database: Database, size: int) -> int:
    """A coach and a WIB cohort of `size` consented members with Telegram chats 700000…"""
    return seed_cohort(database, size, first_chat=FIRST_CHAT, code="bcastcode", at=NOON)


def _broadcast(database: Database, cohort_id: int, text: str) -> int:
    with database.transaction() as session:
        repos = Repositories(session)
        cohort = repos.cohorts.by_id(cohort_id)
        quiet = QuietHours("21:00", "06:00")
        return send_broadcast(repos, [cohort], text, Audience(), NOON, quiet, coach_id=None, sender="Rina").id


@pytest.mark.slow
async def test_a_300_recipient_broadcast_through_429_403_and_502(database: Database, fake_api: FakeBotApi, sender, make_worker) -> None:  # type: ignore[no-untyped-def]
    cohort_id = _cohort_of(database, 300)
    broadcast_id = _broadcast(database, cohort_id, "Halo {{ nama }}, pameran UMKM hari Sabtu.")
    blocked = [FIRST_CHAT + n for n in range(0, 300, 30)]  # 10 chats blocked the bot
    broken = [FIRST_CHAT + n for n in range(7, 300, 60)]  # 5 chats that always answer 502
    flaky = [FIRST_CHAT + n for n in range(11, 300, 30)]  # 10 chats that answer 502 once
    for chat in blocked:
        fake_api.fail_method("sendMessage", *FAULTS["blocked"], chat_id=chat)
    for chat in broken:
        fake_api.fail_method("sendMessage", *FAULTS["bad_gateway"], chat_id=chat)
    for chat in flaky:
        fake_api.fail_method("sendMessage", *FAULTS["bad_gateway"], chat_id=chat, times=1)
    fake_api.rate_limit("sendMessage", retry_after=1, times=1)  # Telegram asks us to slow down once

    stats = await make_worker(sender).drain(60)

    received = fake_api.received_per_chat()
    assert max(received.values()) == 1  # nobody got it twice
    assert set(received) == {FIRST_CHAT + n for n in range(300)} - set(blocked) - set(broken)
    assert states(database) == {"sent": 285, "blocked": 10, "failed": 5}
    assert stats.sent == 285
    with database.transaction() as session:
        repos = Repositories(session)
        report = broadcast_report(repos, repos.broadcasts.by_id(broadcast_id))
        marked = {int(u.external_id) for u in session.query(User).filter(User.blocked_at.is_not(None))}
    assert (report["sent"], report["blocked"], report["failed"], report["pending"]) == (285, 10, 5, 0)
    assert marked == set(blocked)  # skipped by the next broadcast, and the coach sees how many
    next_id = _broadcast(database, cohort_id, "Pengingat kedua")
    with database.transaction() as session:
        repos = Repositories(session)
        assert repos.broadcasts.by_id(next_id).skipped_blocked == 10


@pytest.mark.slow
async def test_a_worker_killed_mid_broadcast_then_a_new_one_loses_none_and_doubles_none(database: Database, fake_api: FakeBotApi, settings, sender, make_worker) -> None:  # type: ignore[no-untyped-def]
    cohort_id = _cohort_of(database, 300)
    _broadcast(database, cohort_id, "Halo {{ nama }}")
    settings.delivery.claim_seconds = 1.0  # the dead worker's claims lapse quickly
    fake_api.delay_method("sendMessage", 0.05, times=100)  # slow enough that the kill lands midway
    first = make_worker(sender)
    running = asyncio.create_task(first.run(asyncio.Event()))
    await fake_api.wait_for("sendMessage", count=60, timeout=30)
    running.cancel()  # killed: no clean stop, rows it had in flight are left as they were
    with pytest.raises(asyncio.CancelledError):
        await running
    await asyncio.sleep(settings.delivery.claim_seconds + 0.2)

    await make_worker(sender).drain(60)

    received = fake_api.received_per_chat()
    assert max(received.values()) == 1  # none twice
    final = states(database)
    assert set(final) <= {"sent", "uncertain"} and final["sent"] + final.get("uncertain", 0) == 300  # none lost
    uncertain = final.get("uncertain", 0)
    assert uncertain <= settings.delivery.max_in_flight  # only what was in flight at the kill
    # Every "sent" is at the server; an uncertain one may or may not have arrived.
    assert final["sent"] <= len(received) <= final["sent"] + uncertain
