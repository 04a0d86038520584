"""Loading and validating knowledge entries."""

from __future__ import annotations

from pathlib import Path

import pytest

from index import KnowledgeError, load_knowledge
from index.lint import lint_knowledge
from tests.fixture_knowledge import FIXTURE_ENTRIES, entry_markdown, write_knowledge


def _write(folder: Path, entry_id: str, text: str, topic: str = "legal") -> Path:
    path = folder / topic / f"{entry_id}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_valid_entries_load_with_sections(knowledge_dir: Path) -> None:
    entries = {e.id: e for e in load_knowledge(knowledge_dir)}
    assert set(entries) == set(FIXTURE_ENTRIES)
    nib = entries["nib-lewat-oss"]
    assert nib.topic == "legal"
    assert nib.summary.startswith("NIB adalah")
    assert nib.steps[0] == "Siapkan KTP dan email."
    assert "Dinas Koperasi" in nib.help
    assert "1. Siapkan KTP" in nib.plain_text()


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"title_en": None}, "title_en"),
        ({"questions": ["satu", "dua"]}, "questions"),
        ({"questions_en": ["only one"]}, "questions_en"),
        ({"sources": [{"name": "Tanpa alamat", "url": "not a url"}]}, "sources.0.url"),
        ({"sources": []}, "sources"),
        ({"topic": "cooking"}, "topic"),
        ({"updated": "kemarin"}, "updated"),
        ({"id": "Bad Id"}, "id"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_malformed_front_matter_names_file_and_field(tmp_path: Path, override, field) -> None:  # type: ignore[no-untyped-def]
    data = FIXTURE_ENTRIES["nib-lewat-oss"]
    path = _write(tmp_path, "nib-lewat-oss", entry_markdown("nib-lewat-oss", data, **override))
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge(tmp_path)
    assert caught.value.path == str(path)
    assert caught.value.field == field
    assert str(path) in str(caught.value)


def test_id_must_match_file_name(tmp_path: Path) -> None:
    data = FIXTURE_ENTRIES["nib-lewat-oss"]
    _write(tmp_path, "nama-lain", entry_markdown("nib-lewat-oss", data))
    with pytest.raises(KnowledgeError, match="differs from the file name"):
        load_knowledge(tmp_path)


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("Ringkas.\n\n## Bantuan\n- Dinas\n", "missing the '## Langkah'"),
        ("Ringkas.\n\n## Langkah\n1. Satu\n", "missing the '## Bantuan'"),
        ("Ringkas.\n\n## Langkah\nTanpa nomor\n\n## Bantuan\n- Dinas\n", "no numbered steps"),
        ("x" * 301 + "\n\n## Langkah\n1. Satu\n\n## Bantuan\n- Dinas\n", "short answer has 301"),
        ("Ringkas.\n\n## Langkah\n" + "1. langkah panjang\n" * 100 + "\n## Bantuan\n- Dinas\n", "split it"),
    ],
)
def test_malformed_body_is_rejected(tmp_path: Path, body: str, problem: str) -> None:
    head = entry_markdown("nib-lewat-oss", FIXTURE_ENTRIES["nib-lewat-oss"]).split("---\n", 2)[1]
    _write(tmp_path, "nib-lewat-oss", f"---\n{head}---\n{body}")
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge(tmp_path)
    assert caught.value.field == "body"
    assert problem in caught.value.problem


def test_invalid_yaml_is_reported(tmp_path: Path) -> None:
    _write(tmp_path, "rusak", "---\ntitle: [tidak ditutup\n---\nIsi\n")
    with pytest.raises(KnowledgeError, match="invalid YAML"):
        load_knowledge(tmp_path)


def test_unknown_related_id_is_rejected(tmp_path: Path) -> None:
    data = FIXTURE_ENTRIES["nib-lewat-oss"]
    _write(tmp_path, "nib-lewat-oss", entry_markdown("nib-lewat-oss", data, related=["tidak-ada"]))
    with pytest.raises(KnowledgeError, match="unknown entry id 'tidak-ada'"):
        load_knowledge(tmp_path)


def test_duplicate_id_across_topics_is_rejected(tmp_path: Path) -> None:
    write_knowledge(tmp_path)
    data = dict(FIXTURE_ENTRIES["nib-lewat-oss"], topic="finance")
    _write(tmp_path, "nib-lewat-oss", entry_markdown("nib-lewat-oss", data), topic="finance")
    with pytest.raises(KnowledgeError, match="also used by"):
        load_knowledge(tmp_path)


def test_missing_folder_is_reported(tmp_path: Path) -> None:
    with pytest.raises(KnowledgeError, match="not found"):
        load_knowledge(tmp_path / "nowhere")


def test_lint_flags_an_out_of_scope_example_that_is_an_entry_question(tmp_path: Path) -> None:
    write_knowledge(tmp_path, out_of_scope=["skor bola semalam", "Cara daftar QRIS"])
    _, problems = lint_knowledge(tmp_path)
    assert [p.path for p in problems] == [str(tmp_path / "out_of_scope.txt")]
    assert "'Cara daftar QRIS' is also a question of" in problems[0].message
    assert problems[0].message.endswith("qris-daftar-dan-biaya.md")
