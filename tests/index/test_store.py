"""Saving, loading and staleness of a built index."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from index import IndexUnavailable, build_index, index_status, load_index
from index.store import MANIFEST_FILE
from tests.fixture_knowledge import write_knowledge


def test_round_trip_gives_the_same_results(built_index, embedder, search_index) -> None:  # type: ignore[no-untyped-def]
    knowledge, folder = built_index
    reloaded = load_index(folder, embedder)
    for question in ("daftar nib", "minyak jelantah", "kemasan kopi"):
        a, b = search_index.search(question, k=5), reloaded.search(question, k=5)
        assert [(h.entry.id, round(h.score, 5)) for h in a.hits] == [(h.entry.id, round(h.score, 5)) for h in b.hits]
    assert [e.id for e in reloaded.entries] == [e.id for e in search_index.entries]


def test_build_is_reproducible(built_index, embedder, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    knowledge, folder = built_index
    again = build_index(knowledge, tmp_path / "again", embedder)
    for name in sorted(p.name for p in folder.iterdir() if p.is_file()):
        assert (again / name).read_bytes() == (folder / name).read_bytes(), name


def test_status_detects_missing_stale_and_model_change(built_index, embedder, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    knowledge, folder = built_index
    copy_knowledge = tmp_path / "knowledge"
    shutil.copytree(knowledge, copy_knowledge)
    copy_index = tmp_path / "index"
    shutil.copytree(folder, copy_index)
    assert index_status(copy_index, copy_knowledge, embedder.model_id).state == "ok"
    assert index_status(copy_index, copy_knowledge, "another-model").state == "stale"
    entry = next(copy_knowledge.glob("*/nib-lewat-oss.md"))
    entry.write_text(entry.read_text().replace("Daftar gratis", "Daftar tanpa biaya"))
    stale = index_status(copy_index, copy_knowledge, embedder.model_id)
    assert stale.state == "stale" and "knowledge base changed" in stale.reason
    assert index_status(tmp_path / "nothing", copy_knowledge, embedder.model_id).state == "missing"


def test_corrupt_index_names_the_fix(built_index, embedder, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _, folder = built_index
    copy_index = tmp_path / "index"
    shutil.copytree(folder, copy_index)
    (copy_index / "dense.faiss").write_bytes(b"not a faiss file")
    with pytest.raises(IndexUnavailable) as caught:
        load_index(copy_index, embedder)
    assert "corrupt" in caught.value.problem and caught.value.fix == "umkm-bot build-index"
    (copy_index / MANIFEST_FILE).write_text("{broken")
    with pytest.raises(IndexUnavailable, match="unreadable"):
        load_index(copy_index, embedder)
    with pytest.raises(IndexUnavailable, match="no search index"):
        load_index(tmp_path / "empty", embedder)


def test_changed_search_settings_or_eval_file_make_the_decision_stale(built_index, embedder, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from index import SearchSettings, Targets
    from index.store import training_fingerprint

    knowledge, folder = built_index
    same = training_fingerprint(SearchSettings(), None, Targets())
    assert index_status(folder, knowledge, embedder.model_id, same).state == "ok"
    other_fusion = training_fingerprint(SearchSettings(dense_weight=0.9), None, Targets())
    assert index_status(folder, knowledge, embedder.model_id, other_fusion).state == "stale"
    eval_file = tmp_path / "questions.yaml"
    eval_file.write_text("domain: []\noff_topic: []\n")
    with_eval = training_fingerprint(SearchSettings(), eval_file, Targets())
    assert index_status(folder, knowledge, embedder.model_id, with_eval).state == "stale"
    stricter = training_fingerprint(SearchSettings(), None, Targets(max_wrong_answer=0.01))
    assert index_status(folder, knowledge, embedder.model_id, stricter).state == "stale"


def test_a_rebuild_swaps_the_index_atomically_and_keeps_the_previous_version(tmp_path, embedder) -> None:  # type: ignore[no-untyped-def]
    from index.store import MANIFEST_FILE, publish

    knowledge = write_knowledge(tmp_path / "knowledge")
    out = tmp_path / "var" / "index"
    build_index(knowledge, out, embedder)
    first = out.resolve()
    assert out.is_symlink() and (first / MANIFEST_FILE).is_file()
    build_index(knowledge, out, embedder)
    second = out.resolve()
    assert second != first and first.is_dir()  # the previous version stays for late readers
    build_index(knowledge, out, embedder)
    assert not first.exists() and second.is_dir()  # older ones are removed
    # A half-built folder (a build killed midway) is never what `out` points at.
    half = tmp_path / "var" / ".index-build-killed"
    half.mkdir()
    assert out.resolve() != half and (out / MANIFEST_FILE).is_file()
    # An index folder from before versioned folders is moved aside and replaced by a link.
    legacy = tmp_path / "legacy" / "index"
    legacy.mkdir(parents=True)
    (legacy / MANIFEST_FILE).write_text("{}")
    built = tmp_path / "legacy" / ".index-build-x"
    built.mkdir()
    (built / MANIFEST_FILE).write_text('{"v": 2}')
    publish(built, legacy)
    assert legacy.is_symlink() and (legacy / MANIFEST_FILE).read_text() == '{"v": 2}'
