"""`umkm-bot kb gaps`: unanswered, 👎-rated and handed-off questions grouped by meaning."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.cli import main
from bot.knowledge_gaps import collect_gaps, group_gaps
from bot.storage import Database, Repositories
from bot.storage.migrate import upgrade

NOW = datetime(2026, 11, 30, tzinfo=UTC)


def _fill(database: Database) -> None:
    with database.transaction() as session:
        repos = Repositories(session)
        user, _ = repos.users.get_or_create("telegram", "1")
        for text in (
            "cara ekspor keripik ke malaysia",
            "gmn ekspor kripik ke malaysia",
            "ekspor keripik ke luar negeri",
        ):
            repos.questions.add(user.id, text, text, [], [], False, at=NOW)
        rated = repos.questions.add(user.id, "harga kemasan standing pouch", "x", ["kemasan"], [0.9], True, at=NOW)
        repos.questions.set_feedback(rated.id, user.id, "down")
        repos.questions.add(user.id, "cara daftar nib", "x", ["nib"], [0.9], True, at=NOW)  # answered, fine
        repos.questions.add(user.id, "dulu banget", "x", [], [], False, at=NOW - timedelta(days=400))
        institution = repos.coaches.add_institution("Dinas")
        coach_user, _ = repos.users.get_or_create("telegram", "2")
        coach = repos.coaches.add_coach(coach_user.id, institution.id, "Rina")
        repos.handoffs.open_thread(user.id, coach.id, None, "ekspor keripik ke malaysia butuh izin apa", at=NOW)


def test_gaps_are_collected_and_grouped_by_meaning(database: Database, embedder) -> None:  # type: ignore[no-untyped-def]
    _fill(database)
    with database.transaction() as session:
        items = collect_gaps(Repositories(session), NOW - timedelta(days=90))
    assert sorted(i.kind for i in items) == ["handoff", "thumbs_down", "unanswered", "unanswered", "unanswered"]
    gaps = group_gaps(items, embedder)
    assert gaps[0].count == 4 and all("ekspor" in e for e in gaps[0].examples)  # export questions together
    assert gaps[0].kinds == {"unanswered": 3, "handoff": 1}
    assert [g.count for g in gaps] == sorted((g.count for g in gaps), reverse=True)


def test_kb_gaps_command_prints_and_writes_csv(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DATABASE_URL", database_url)
    upgrade(database_url)
    database = Database(database_url)
    try:
        _fill(database)
    finally:
        database.dispose()
    config = tmp_path / "config.toml"
    config.write_text('[data]\ndir = "var"\n')
    out = tmp_path / "gaps.csv"
    assert main(["--config", str(config), "kb", "gaps", "--since", "2026-01-01", "--csv", str(out), "--json"]) == 0
    groups = json.loads(capsys.readouterr().out)
    assert groups[0]["count"] == 4 and groups[0]["kinds"] == {"unanswered": 3, "handoff": 1}
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert len(rows) == 5 and {r["kind"] for r in rows} == {"unanswered", "thumbs_down", "handoff"}
