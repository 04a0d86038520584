"""Monthly figures: corrections supersede and keep history; one current row per month."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from bot.storage import Database, Figure, FigureRepository, run_with_retry
from tests.storage.conftest import T0, CountRows, MakeUser

OCT = date(2026, 10, 1)
NOV = date(2026, 11, 1)


def test_first_record_replaces_nothing(database: Database, make_user: MakeUser) -> None:
    user_id = make_user()
    with database.transaction() as session:
        figure, replaced = FigureRepository(session).record(user_id, "omzet", OCT, 4_000_000, T0)
        assert replaced is None
        assert figure.id is not None
        assert figure.superseded_at is None


def test_correction_supersedes_and_keeps_history(database: Database, make_user: MakeUser) -> None:
    user_id = make_user()
    later = T0 + timedelta(hours=2)
    with database.transaction() as session:
        figures = FigureRepository(session)
        first, _ = figures.record(user_id, "omzet", OCT, 4_000_000, T0)
        figures.record(user_id, "omzet", NOV, 4_500_000, T0)
    with database.transaction() as session:
        new, replaced = FigureRepository(session).record(user_id, "omzet", OCT, 4_200_000, later)
        assert replaced is not None
        assert replaced.id == first.id
        assert replaced.superseded_at == later
        assert new.value == 4_200_000

    with database.transaction() as session:
        figures = FigureRepository(session)
        assert figures.current(user_id, "omzet") == {OCT: 4_200_000, NOV: 4_500_000}
        history = figures.history(user_id, "omzet", OCT)
        assert [f.value for f in history] == [4_000_000, 4_200_000]
        assert [f.superseded_at for f in history] == [later, None]
        assert figures.current(user_id, "modal") == {}


def test_recording_the_current_value_again_changes_nothing(
    database: Database, make_user: MakeUser, count_rows: CountRows
) -> None:
    user_id = make_user()
    with database.transaction() as session:
        first, _ = FigureRepository(session).record(user_id, "workers", OCT, 3)
    with database.transaction() as session:
        same, replaced = FigureRepository(session).record(user_id, "workers", OCT, 3)
    assert (same.id, replaced) == (first.id, None)
    assert count_rows("figures") == 1


def test_partial_unique_index_rejects_two_current_rows(
    database: Database, make_user: MakeUser, count_rows: CountRows
) -> None:
    user_id = make_user()

    def row(value: int, superseded: bool) -> Figure:
        return Figure(
            user_id=user_id,
            kind="omzet",
            month=OCT,
            value=value,
            created_at=T0,
            superseded_at=T0 if superseded else None,
        )

    # Any number of superseded rows next to one current row is fine ...
    with database.transaction() as session:
        session.add_all([row(1, True), row(2, True), row(3, False)])
    # ... but a second current row is not.
    with pytest.raises(IntegrityError), database.transaction() as session:
        session.add(row(4, False))
    assert count_rows("figures") == 3
    # Other months, kinds and users are independent.
    with database.transaction() as session:
        session.add(Figure(user_id=user_id, kind="modal", month=OCT, value=5, created_at=T0))
        session.add(Figure(user_id=user_id, kind="omzet", month=NOV, value=5, created_at=T0))


def test_invalid_figures_are_refused(database: Database, make_user: MakeUser) -> None:
    user_id = make_user()
    with database.transaction() as session:
        figures = FigureRepository(session)
        with pytest.raises(ValueError, match="first day"):
            figures.record(user_id, "omzet", date(2026, 10, 15), 1)
        with pytest.raises(ValueError, match="kind"):
            figures.record(user_id, "profit", OCT, 1)
        with pytest.raises(ValueError, match="non-negative"):
            figures.record(user_id, "omzet", OCT, -1)
    # The database checks too, for writers that bypass the repository.
    with pytest.raises(IntegrityError), database.transaction() as session:
        session.add(Figure(user_id=user_id, kind="omzet", month=OCT, value=-1, created_at=T0))


def test_concurrent_corrections_keep_one_current_row(
    database: Database, make_user: MakeUser, count_rows: CountRows
) -> None:
    """Two corrections at once: the loser retries and supersedes the winner's row."""
    user_id = make_user()
    with database.transaction() as session:
        FigureRepository(session).record(user_id, "omzet", OCT, 1_000)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def correct(value: int) -> None:
        def unit_of_work() -> None:
            with database.transaction() as session:
                FigureRepository(session).record(user_id, "omzet", OCT, value)

        try:
            barrier.wait(timeout=10)
            run_with_retry(unit_of_work, attempts=5)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=correct, args=(v,)) for v in (2_000, 3_000)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    with database.transaction() as session:
        figures = FigureRepository(session)
        history = figures.history(user_id, "omzet", OCT)
        current = figures.current(user_id, "omzet")
    assert len(history) == 3
    assert [f.superseded_at is None for f in history].count(True) == 1
    assert current[OCT] in (2_000, 3_000)
    assert count_rows("figures", user_id=user_id) == 3
