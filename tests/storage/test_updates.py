"""Processed Telegram updates: a repeated update_id is handled once."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.storage import Database, UpdateLogRepository
from tests.storage.conftest import T0, CountRows, run_at_once

BIG_UPDATE_ID = 9_000_000_000  # beyond 32 bits: the column is a BIGINT


def test_claim_is_true_once_then_false(database: Database) -> None:
    with database.transaction() as session:
        updates = UpdateLogRepository(session)
        assert updates.claim(BIG_UPDATE_ID) is True
        assert updates.claim(BIG_UPDATE_ID) is False  # same transaction
    with database.transaction() as session:
        assert UpdateLogRepository(session).claim(BIG_UPDATE_ID) is False  # a later one
        assert UpdateLogRepository(session).claim(BIG_UPDATE_ID + 1) is True


def test_claim_rolled_back_with_a_failed_handler_can_be_claimed_again(
    database: Database,
) -> None:
    with pytest.raises(RuntimeError), database.transaction() as session:
        assert UpdateLogRepository(session).claim(7)
        raise RuntimeError("handler failed")
    with database.transaction() as session:
        assert UpdateLogRepository(session).claim(7) is True


def test_concurrent_claims_of_one_update_let_one_win(
    database: Database, count_rows: CountRows
) -> None:
    workers = 6
    results = run_at_once(database, workers, lambda session: UpdateLogRepository(session).claim(12345))
    assert sorted(results) == [False] * (workers - 1) + [True]
    assert count_rows("processed_updates") == 1


def test_purge_forgets_old_update_ids(database: Database, count_rows: CountRows) -> None:
    with database.transaction() as session:
        updates = UpdateLogRepository(session)
        updates.claim(1, at=T0 - timedelta(days=3))
        updates.claim(2, at=T0)
    with database.transaction() as session:
        assert UpdateLogRepository(session).purge(before=T0 - timedelta(days=1)) == 1
    assert count_rows("processed_updates") == 1
    with database.transaction() as session:
        assert UpdateLogRepository(session).claim(1) is True
