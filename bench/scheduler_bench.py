"""How long the scheduler takes to find and queue what fell due among 100,000 stored reminders,
with the (status, next_at) index and, in the same run, without it (the scan it avoids).

Run: .venv/bin/python bench/scheduler_bench.py [--reminders 100000] [--due 100] [--postgres URL]

Each run builds a fresh database: one cohort of 20 members, `--reminders` reminders spread over
the next year of which `--due` fall due now, then times one scheduler pass over the reminders
(`run_due_reminders`: find the due ones, queue one outbox row per member, advance next_at) and
the bare "find the due ones" query, and prints the query plan.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, select, text  # noqa: E402

from bench.pg_schema import create_schema, drop_schema  # noqa: E402
from bot.coaching.quiet_hours import QuietHours  # noqa: E402
from bot.coaching.reminders import run_due_reminders  # noqa: E402
from bot.storage import Database, Reminder, Repositories  # noqa: E402
from bot.storage.migrate import upgrade  # noqa: E402

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
INDEX = "ix_reminders_status_next_at"


def _fill(database: Database, reminders: int, due: int) -> None:
    with database.transaction() as session:
        repos = Repositories(session)
        institution = repos.coaches.add_institution("Dinas")
        coach_user, _ = repos.users.get_or_create("telegram", "1")
        repos.users.give_consent(coach_user, NOW)
        coach = repos.coaches.add_coach(coach_user.id, institution.id, "Rina")
        cohort = repos.cohorts.create(coach.id, "Sentra", "sentra", "Asia/Jakarta", "benchcode")
        for n in range(20):
            user, _ = repos.users.get_or_create("telegram", str(100 + n))
            repos.users.give_consent(user, NOW)
            repos.cohorts.join(cohort.id, user.id, None, at=NOW - timedelta(days=1))
        rows = []
        for n in range(reminders):
            # The first `due` are due a minute ago; the rest spread over the next year.
            when = NOW - timedelta(minutes=1) if n < due else NOW + timedelta(minutes=1 + n * 525_600 // reminders)
            local = when.astimezone(UTC) + timedelta(hours=7)
            rows.append(
                {"cohort_id": cohort.id, "coach_id": coach.id, "audience": "cohort", "text": f"Pengingat {n}",
                 "start_local": local.strftime("%Y-%m-%dT%H:%M"), "timezone": "Asia/Jakarta", "rrule": None,
                 "status": "active", "next_at": when, "created_at": NOW, "updated_at": NOW}
            )  # fmt: skip
        for start in range(0, len(rows), 10_000):
            session.execute(insert(Reminder), rows[start : start + 10_000])
    if database.dialect == "postgresql":
        with database.engine.begin() as connection:
            connection.execute(text("ANALYZE reminders"))


def _plan(database: Database) -> str:
    query = "SELECT id FROM reminders WHERE status = 'active' AND next_at <= :now ORDER BY next_at, id LIMIT 100"
    prefix = "EXPLAIN QUERY PLAN " if database.dialect == "sqlite" else "EXPLAIN "
    now = NOW.replace(tzinfo=None) if database.dialect == "sqlite" else NOW
    with database.engine.connect() as connection:
        rows = connection.execute(text(prefix + query), {"now": now}).all()
    return " | ".join(str(row[-1]) for row in rows)


def _time_query(database: Database, repeats: int = 30) -> float:
    times = []
    for _ in range(repeats):
        with database.transaction() as session:
            started = time.perf_counter()
            list(session.scalars(select(Reminder.id).where(Reminder.status == "active", Reminder.next_at <= NOW)
                                 .order_by(Reminder.next_at, Reminder.id).limit(100)))  # fmt: skip
            times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def _time_pass(database: Database) -> tuple[float, int]:
    with database.transaction() as session:
        started = time.perf_counter()
        run = run_due_reminders(
            Repositories(session), NOW, grace=timedelta(hours=1), quiet=QuietHours("21:00", "06:00")
        )
        elapsed = time.perf_counter() - started
    return elapsed * 1000, run.messages


def measure(url: str, reminders: int, due: int) -> list[tuple[str, str]]:
    upgrade(url)
    database = Database(url)
    try:
        started = time.perf_counter()
        _fill(database, reminders, due)
        fill_s = time.perf_counter() - started
        plan = _plan(database)
        with_index = _time_query(database)
        pass_ms, messages = _time_pass(database)
        with database.engine.begin() as connection:
            connection.execute(text(f"DROP INDEX {INDEX}"))
            if database.dialect == "postgresql":
                connection.execute(text("ANALYZE reminders"))
        database.engine.dispose()  # no connection keeps the old schema's prepared statements
        plan_without = _plan(database)
        without_index = _time_query(database)
    finally:
        database.dispose()
    return [
        ("reminders stored / due", f"{reminders:,} / {due}"),
        ("filling took", f"{fill_s:.1f} s"),
        ("query plan (index)", plan),
        ("find due, p50 (index)", f"{with_index:.2f} ms"),
        ("one scheduler pass (find + queue + advance)", f"{pass_ms:.1f} ms for {messages:,} outbox rows"),
        ("query plan (index dropped)", plan_without),
        ("find due, p50 (scan, no index)", f"{without_index:.2f} ms"),
        ("scan / index", f"{without_index / with_index:.1f} x"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reminders", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=100)
    parser.add_argument("--postgres", help="also measure on this PostgreSQL URL (a throw-away schema is used)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        results = {"SQLite": measure(f"sqlite:///{folder}/bench.db", args.reminders, args.due)}
    if args.postgres:
        scoped, schema = create_schema(args.postgres)
        try:
            results["PostgreSQL"] = measure(scoped.render_as_string(hide_password=False), args.reminders, args.due)
        finally:
            drop_schema(args.postgres, schema)
    for name, rows in results.items():
        print(f"\n## {name}")
        for key, value in rows:
            print(f"{key:<45} {value}")


if __name__ == "__main__":
    main()
