"""Telegram misbehaves on the way in: getUpdates fails for a while or hands an update out twice,
and an update's handling fails. Through the real Application (polling) and worker: polling
recovers by itself, nothing is handled twice, and a failed update is logged with its id (and no
personal data), answered with an apology, not marked handled, and the Application runs on."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest
from sqlalchemy import text

from bot.storage import Database, Figure, ProcessedUpdate, QuestionLog
from tests.e2e.conftest import polling_bot, still_polling
from tests.e2e.fake_bot_api import FAULTS, FakeBotApi, FakeUser
from tests.faults.conftest import SQLITE_ONLY, consent, count, eventually, sent_to, texts_to

SARI = FakeUser(7001, "Sari")
QUESTION, ANSWER = "qris bayar gak", "Daftar QRIS"


def _handed_out(api: FakeBotApi, update_id: int) -> int:
    """How many times getUpdates answered with this update."""
    return sum(u["update_id"] == update_id for c in api.calls_to("getUpdates") if c.ok for u in c.result)


@SQLITE_ONLY
@pytest.mark.parametrize("fault", ["bad_gateway", "unavailable", "dropped", "rate_limited"])
async def test_polling_recovers_by_itself_after_get_updates_failed_for_a_while(settings, conversation, fake_api: FakeBotApi, logbook, fault: str) -> None:  # type: ignore[no-untyped-def]
    outage = 3.0  # the loop waits 1 s after a first failure, then 2 s: two refused polls at least
    async with polling_bot(settings, conversation, fake_api) as application:
        if fault == "dropped":
            fake_api.drop_connection("getUpdates", times=None, for_seconds=outage)
        elif fault == "rate_limited":
            fake_api.fail_method("getUpdates", 429, "Too Many Requests: retry after 1", parameters={"retry_after": 1}, for_seconds=outage)
        else:
            fake_api.fail_method("getUpdates", *FAULTS[fault], for_seconds=outage)
        started = time.monotonic()
        # The poll under way when the outage began may still answer; wait for a refused one.
        await fake_api.wait_for("getUpdates", lambda c: not c.ok, timeout=5)
        update_id = fake_api.queue_text(SARI, "/bantuan")
        [answer] = await sent_to(fake_api, SARI.id, "Cara memakai", timeout=30)
        await asyncio.sleep(0.3)
        assert still_polling(application)
    refused = [c for c in fake_api.calls_to("getUpdates") if not c.ok]
    assert len(refused) >= 2  # it kept asking through the outage, with pauses in between
    assert answer.arrived_at >= started + outage - 0.1  # answered only once Telegram was back
    # Handed out again while it was being handled (not yet confirmed), yet answered once.
    assert _handed_out(fake_api, update_id) >= 1 and texts_to(fake_api, SARI.id).count(answer.params["text"]) == 1
    assert count(conversation.database, ProcessedUpdate, ProcessedUpdate.update_id == update_id) == 1
    if fault != "rate_limited":  # a 429 is waited out quietly
        assert logbook.matching("getUpdates failed", logging.WARNING)


@SQLITE_ONLY
async def test_updates_taken_by_a_poll_whose_answer_was_lost_come_again_and_are_handled_once(settings, conversation, fake_api: FakeBotApi) -> None:  # type: ignore[no-untyped-def]
    async with polling_bot(settings, conversation, fake_api) as application:
        await fake_api.wait_for("getUpdates")
        fake_api.drop_connection("getUpdates", times=1, after_handling=True)
        update_id = fake_api.queue_text(SARI, "/bantuan")
        await sent_to(fake_api, SARI.id, "Cara memakai")
        await asyncio.sleep(0.3)
        assert still_polling(application)
    assert _handed_out(fake_api, update_id) >= 2  # the server handed it out again ...
    assert sum("Cara memakai" in t for t in texts_to(fake_api, SARI.id)) == 1  # ... the bot answered once


@pytest.mark.parametrize("how", ["same_batch", "later_batch", "lost_confirm"])
@pytest.mark.parametrize("what", ["question", "figure"])
async def test_a_duplicated_update_id_is_handled_once(settings, conversation, fake_api: FakeBotApi, logbook, how: str, what: str) -> None:  # type: ignore[no-untyped-def]
    message, reply = (QUESTION, ANSWER) if what == "question" else ("/catat omzet 2,5jt", "Rp2.500.000")
    database: Database = conversation.database
    async with polling_bot(settings, conversation, fake_api, delivery=True) as application:
        await consent(fake_api, SARI)
        if how == "lost_confirm":
            # Once the consent updates are confirmed (else a refetch of one still being handled
            # would take the copy), the next update handed out comes again after its confirm.
            await eventually(lambda: not fake_api.pending_updates, what="the earlier updates confirmed")
            fake_api.duplicate_updates(1)
        update_id = fake_api.queue_text(SARI, message)
        if how == "same_batch":
            fake_api.queue_duplicate(update_id)  # queued together: one getUpdates answer holds both
        await sent_to(fake_api, SARI.id, reply)
        if how == "later_batch":
            fake_api.queue_duplicate(update_id)
        fake_api.queue_text(SARI, "/bantuan")  # the same user's next update: handled after the copy
        await sent_to(fake_api, SARI.id, "Cara memakai")
        assert still_polling(application)
    assert _handed_out(fake_api, update_id) >= 2
    assert sum(reply in t for t in texts_to(fake_api, SARI.id)) == 1
    assert count(database, ProcessedUpdate, ProcessedUpdate.update_id == update_id) == 1
    if what == "question":
        assert count(database, QuestionLog) == 1
    else:
        assert count(database, Figure) == 1
    # The copy is recognised by its id before it is queued (polling); a copy that reaches the
    # core anyway (another process, after a restart) is skipped there: tests/faults/test_crash_restart.py.


def _rename(database: Database, old: str, new: str) -> None:
    with database.engine.begin() as connection:
        connection.execute(text(f"ALTER TABLE {old} RENAME TO {new}"))


async def test_a_failing_update_is_logged_with_its_id_answered_and_not_marked_handled(settings, conversation, fake_api: FakeBotApi, logbook) -> None:  # type: ignore[no-untyped-def]
    """The database loses a table while a question is handled: the error handler logs the update
    id (and neither the question nor the user's name, though the failing INSERT carried them),
    apologises, and the next message is answered once the table is back."""
    secret_question = "qris bayar gak Zebrafinch7731"
    database: Database = conversation.database
    async with polling_bot(settings, conversation, fake_api, delivery=True) as application:
        await consent(fake_api, SARI)
        _rename(database, "question_log", "question_log_away")
        try:
            update_id = fake_api.queue_text(SARI, secret_question)
            await sent_to(fake_api, SARI.id, "ada gangguan di sistem kami")
        finally:
            _rename(database, "question_log_away", "question_log")
        fake_api.queue_text(SARI, QUESTION)
        await sent_to(fake_api, SARI.id, ANSWER)
        assert still_polling(application)
    [failure] = logbook.matching(f"update {update_id} failed:", logging.ERROR)
    assert "Error" in failure  # the exception's type, with its traceback
    errors = logbook.text(logging.WARNING)
    assert "Zebrafinch7731" not in errors and "Sari" not in errors and fake_api.token not in errors
    assert count(database, ProcessedUpdate, ProcessedUpdate.update_id == update_id) == 0  # not half-done
    assert count(database, QuestionLog) == 1  # the failed one left nothing
