"""The real knowledge base and eval set: lint clean, coverage floors, held-out questions."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from bot.cli import main
from bot.progress.milestones import load_milestones
from index.evaluate import load_eval_set
from index.lint import lint_knowledge
from index.scope import read_out_of_scope

ROOT = Path(__file__).resolve().parents[1]
KNOWLEDGE = ROOT / "knowledge"
TOPIC_FLOORS = {"production": 20, "finance": 25, "packaging": 18, "market": 25, "legal": 15, "organization": 15}


@pytest.fixture(scope="module")
def linted(embedder):  # type: ignore[no-untyped-def]  # noqa: F811
    return lint_knowledge(KNOWLEDGE, embedder)


def test_knowledge_base_lints_clean(linted) -> None:  # type: ignore[no-untyped-def]
    entries, problems = linted
    assert [str(p) for p in problems] == []
    assert len(entries) >= 120


def test_topic_floors_and_entry_shape(linted) -> None:  # type: ignore[no-untyped-def]
    entries, _ = linted
    counts = Counter(e.topic for e in entries)
    for topic, floor in TOPIC_FLOORS.items():
        assert counts[topic] >= floor, topic
    for entry in entries:
        assert len(entry.questions) >= 6 and len(entry.questions_en) >= 2, entry.path
        assert entry.related, f"{entry.path}: no related entries"


def test_eval_set_is_held_out_and_covers_every_entry(linted) -> None:  # type: ignore[no-untyped-def]
    entries, _ = linted
    eval_set = load_eval_set(KNOWLEDGE / "eval" / "questions.yaml")
    assert len(eval_set.domain) >= 250 and len(eval_set.off_topic) >= 40
    ids = {e.id for e in entries}
    asked = {q.strip().lower() for e in entries for q in (*e.questions, *e.questions_en)}
    for question in eval_set.domain:
        assert set(question.ids) <= ids, question.q
        assert question.q.strip().lower() not in asked, f"copied from an entry: {question.q}"
    for split in ("dev", "test"):
        covered = {i for q in eval_set.only(split).domain for i in q.ids}
        assert covered == ids, f"{split} misses {sorted(ids - covered)[:5]}"
    trained = {q.strip().lower() for q in read_out_of_scope(KNOWLEDGE)}
    assert len(trained) >= 300, "the out-of-scope check needs varied examples"
    for question in eval_set.off_topic:
        assert question.q.strip().lower() not in trained, f"off-topic eval message used for training: {question.q}"


def test_every_milestone_links_to_an_existing_entry(linted) -> None:  # type: ignore[no-untyped-def]
    ids = {e.id for e in linted[0]}
    for milestone in load_milestones():
        assert milestone.knowledge_ids <= ids, milestone.id


def test_kb_lint_command_names_the_bad_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "knowledge" / "finance" / "rusak.md"
    bad.parent.mkdir(parents=True)
    bad.write_text("---\nid: rusak\ntitle: x\n---\nisi\n")
    config = tmp_path / "config.toml"
    config.write_text('[knowledge]\ndir = "knowledge"\n')
    assert main(["--config", str(config), "kb", "lint", "--no-embeddings"]) == 1
    out = capsys.readouterr().out
    assert str(bad) in out and "1 problem" in out
