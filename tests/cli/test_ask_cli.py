"""The `umkm-bot` command-line contract: ask (text, JSON, stdin), build-index, errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from tests.fixture_knowledge import write_knowledge


@pytest.fixture
def config(tmp_path: Path) -> Path:
    write_knowledge(tmp_path / "knowledge")
    path = tmp_path / "config.toml"
    path.write_text('[data]\ndir = "var"\n[knowledge]\ndir = "knowledge"\n', encoding="utf-8")
    return path


def test_ask_json_contract_and_automatic_build(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config", str(config), "ask", "--json", "--k", "2", "gmn cara daftar nib di oss"]) == 0
    captured = capsys.readouterr()
    assert "rebuilding the search index" in captured.err  # no index yet: built on first use
    data = json.loads(captured.out)
    assert set(data) == {"query", "answered", "decision", "options", "results"}
    assert data["query"] == "gmn cara daftar nib di oss"
    assert data["answered"] is True and data["decision"] == "answer" and data["options"] == []
    assert len(data["results"]) == 2
    first = data["results"][0]
    assert set(first) == {"id", "title", "topic", "score", "text"}
    assert first["id"] == "nib-lewat-oss" and first["topic"] == "legal"
    assert first["text"].startswith("NIB adalah") and "1. Siapkan KTP" in first["text"]
    assert data["results"][0]["score"] >= data["results"][1]["score"]
    assert (config.parent / "var" / "index" / "manifest.json").is_file()


def test_ask_text_prints_the_answer_card(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config", str(config), "ask", "minyak goreng bekas boleh dipake brp kali"]) == 0
    out = capsys.readouterr().out
    assert "Minyak goreng bekas" in out and "langkah-langkah" in out and "Sumber:" in out
    assert "<b>" not in out  # the terminal gets plain text


def test_ask_off_topic_and_empty_get_honest_replies(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config", str(config), "ask", "siapa juara piala dunia"]) == 0
    assert "belum punya jawaban" in capsys.readouterr().out
    assert main(["--config", str(config), "ask", "--json", "🙏🙏"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data == {"query": "🙏🙏", "answered": False, "decision": "none", "options": [], "results": []}


def test_stale_index_without_auto_rebuild_names_the_command(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config.write_text(config.read_text() + "[search]\nauto_rebuild = false\n")
    assert main(["--config", str(config), "ask", "nib"]) == 2
    err = capsys.readouterr().err
    assert "no search index" in err and "umkm-bot build-index" in err
    assert main(["--config", str(config), "build-index", "--quiet"]) == 0
    assert "Indexed 6 entries" in capsys.readouterr().out
    assert main(["--config", str(config), "ask", "nib"]) == 0


def test_unknown_model_is_a_clear_error(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config.write_text(config.read_text() + '[search]\nmodel = "/no/such/model"\n')
    assert main(["--config", str(config), "ask", "nib"]) == 2
    err = capsys.readouterr().err
    assert "/no/such/model" in err and "config.toml" in err


def test_bad_config_value_names_the_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[search]\nk = 0\n")
    assert main(["--config", str(path), "ask", "nib"]) == 2
    assert "[search.k]" in capsys.readouterr().err


def test_stdin_mode_answers_one_json_line_per_question(config: Path) -> None:
    env = dict(os.environ, UMKM_DATA_DIR=str(config.parent / "data-from-env"))
    questions = "daftar qris gratis?\n\nkemasan kopi yg awet\nsepak bola\n"
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "--config", str(config), "ask", "--json"],
        input=questions, capture_output=True, text=True, env=env, timeout=300, check=True,
    )
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [line["query"] for line in lines] == ["daftar qris gratis?", "", "kemasan kopi yg awet", "sepak bola"]
    assert [line["answered"] for line in lines] == [True, False, True, False]
    assert [line["decision"] for line in lines] == ["answer", "none", "answer", "none"]
    assert lines[0]["results"][0]["id"] == "qris-daftar-dan-biaya"
    assert (config.parent / "data-from-env" / "index" / "manifest.json").is_file()


def test_config_works_after_the_subcommand_too(config: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no ./config.toml here: without --config the defaults would apply
    assert main(["ask", "--config", str(config), "--json", "gmn cara daftar nib di oss"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["results"][0]["id"] == "nib-lewat-oss"
    assert (config.parent / "var" / "index" / "manifest.json").is_file()  # the config's data folder
    assert main(["kb", "lint", "--config", str(config), "--no-embeddings"]) == 0
    assert "6 entries checked" in capsys.readouterr().out


@pytest.mark.parametrize("k", ["0", "-3", "x"])
def test_k_below_one_is_a_usage_error(config: Path, capsys: pytest.CaptureFixture[str], k: str) -> None:
    assert main(["--config", str(config), "ask", "--k", k, "nib"]) == 2
    err = capsys.readouterr().err
    assert "--k" in err and "Traceback" not in err


def test_ask_text_shows_each_decision_as_a_user_sees_it(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    question = "daftar nib qris hpp gmn caranya"  # three subjects at once
    assert main(["--config", str(config), "ask", "--json", question]) == 0
    data = json.loads(capsys.readouterr().out)
    assert main(["--config", str(config), "ask", question]) == 0
    out = capsys.readouterr().out
    titles = {r["id"]: r["title"] for r in data["results"]}
    if data["decision"] == "clarify":
        assert 2 <= len(data["options"]) <= 3 and data["options"] == [r["id"] for r in data["results"]][: len(data["options"])]
        assert "Maksud Anda yang mana" in out
        for n, entry_id in enumerate(data["options"], start=1):
            assert f"[{n}] {titles[entry_id]}" in out
    elif data["decision"] == "answer":
        assert data["options"] == [] and out.startswith(titles[data["results"][0]["id"]])
    else:
        assert data["options"] == [] and "belum punya jawaban" in out


def test_result_text_renders_answer_clarify_and_none(search_index) -> None:  # type: ignore[no-untyped-def]
    from bot.cli import result_text
    from index import SearchResult

    hits = tuple(search_index.search("nib oss", k=3).hits)
    answer = SearchResult("q", "q", "hybrid", True, "ok", hits, 1.0, "answer", (), hits[0].score)
    assert result_text(answer, "id").startswith(hits[0].entry.title)
    clarify = SearchResult("q", "q", "hybrid", False, "ambiguous", hits, 1.0, "clarify", hits[:2], hits[0].score)
    text = result_text(clarify, "id")
    assert "Maksud Anda yang mana" in text
    assert f"[1] {hits[0].entry.title}" in text and f"[2] {hits[1].entry.title}" in text
    assert f"[3] {hits[2].entry.title}" not in text
    none = SearchResult("q", "q", "hybrid", False, "low_confidence", hits, 1.0, "none", (), hits[0].score)
    assert "belum punya jawaban" in result_text(none, "id")
    assert "Which one did you mean" in result_text(clarify, "en")


def test_eval_reports_what_a_person_sees_per_mode(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    eval_file = config.parent / "questions.yaml"
    eval_file.write_text(
        "domain:\n"
        "  - {q: 'gmn cara bikin nib di oss', ids: [nib-lewat-oss], split: dev}\n"
        "  - {q: 'potongan qris brp persen', ids: [qris-daftar-dan-biaya], split: test}\n"
        "off_topic:\n"
        "  - {q: 'jadwal kereta ke jogja besok', split: test}\n",
        encoding="utf-8",
    )
    assert main(["--config", str(config), "eval", str(eval_file), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["split"], r["mode"]) for r in rows] == [
        (split, mode) for split in ("dev", "test", "all") for mode in ("hybrid", "dense", "bm25")]
    # A fresh held-out part of the test half gets rows of its own.
    eval_file.write_text(
        eval_file.read_text(encoding="utf-8").replace(
            "ids: [qris-daftar-dan-biaya], split: test}", "ids: [qris-daftar-dan-biaya], split: test, part: fresh}"),
        encoding="utf-8",
    )
    assert main(["--config", str(config), "eval", str(eval_file), "--json"]) == 0
    fresh_rows = [r for r in json.loads(capsys.readouterr().out) if r["split"] == "fresh"]
    assert [(r["mode"], r["n_domain"], r["n_off_topic"]) for r in fresh_rows] == [
        ("hybrid", 1, 0), ("dense", 1, 0), ("bm25", 1, 0)]
    for row in rows:
        assert {"hit1", "direct_correct", "clarify_rate", "clarify_right", "wrong_answer", "wrong_refusal",
                "rejection_rate"} <= set(row)
        assert row["direct_correct"] + row["wrong_answer"] + row["clarify_rate"] + row["wrong_refusal"] == pytest.approx(1.0)
    test_hybrid = rows[3]
    assert (test_hybrid["n_domain"], test_hybrid["n_off_topic"]) == (1, 1)
    assert test_hybrid["direct_correct"] == 1.0 and test_hybrid["rejection_rate"] == 1.0
    assert main(["--config", str(config), "eval", str(eval_file), "--split", "test"]) == 0
    out = capsys.readouterr().out
    assert "direct" in out and "off-rej" in out and out.count("\ntest ") == 3
