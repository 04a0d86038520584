"""Dense, BM25 and hybrid search on a small real index (real model, real FAISS)."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from index import SearchIndex, SearchSettings
from index.dense import DenseIndex
from index.lexical import LexicalIndex
from index.normalize import MAX_QUERY_CHARS
from index.store import dense_passages


def test_dense_index_equals_brute_force_on_random_vectors() -> None:
    rng = np.random.default_rng(7)
    vectors = rng.normal(size=(300, 32)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    owners = rng.integers(0, 40, size=300)
    owners[:40] = np.arange(40)  # every entry owns at least one vector
    dense = DenseIndex.build(vectors, owners, 40)
    query = vectors[5] + 0.1 * rng.normal(size=32).astype(np.float32)
    query /= np.linalg.norm(query)
    brute = {e: float(np.max(vectors[owners == e] @ query)) for e in range(40)}
    expected = sorted(brute.items(), key=lambda item: (-item[1], item[0]))[:10]
    got = dense.search(query, 10)
    assert [e for e, _ in got] == [e for e, _ in expected]
    assert np.allclose([s for _, s in got], [s for _, s in expected], atol=1e-5)


def test_dense_mode_equals_brute_force_cosine_with_real_model(search_index: SearchIndex) -> None:
    query = "bagaimana cara daftar izin usaha"
    q = search_index.encode_query(query)
    brute = {}
    for entry in search_index.entries:
        passages = [search_index.normalizer.dense_text(t) for t in dense_passages(entry)]
        brute[entry.id] = float(np.max(search_index.embedder.encode(passages) @ q))
    expected = sorted(brute, key=lambda i: -brute[i])
    normalizer = search_index.normalizer
    pool = search_index.candidates(query, normalizer.normalized(query), normalizer.tokens(query), q, "dense")
    assert [search_index.entries[i].id for i in pool.entries] == expected  # the candidates, in cosine order
    result = search_index.search(query, k=6, mode="dense")
    for hit in result.hits:
        assert hit.dense == pytest.approx(brute[hit.entry.id], abs=1e-4)


def test_bm25_ranks_the_entry_with_the_rare_word_first() -> None:
    lexical = LexicalIndex.build([["nib", "oss", "izin"], ["hpp", "biaya"], ["izin", "halal"]])
    scores = lexical.scores(["halal", "izin"])
    assert int(np.argmax(scores)) == 2
    assert scores[1] == 0
    assert lexical.coverage(["halal", "izin"], 2) == pytest.approx(1.0)
    assert 0 < lexical.coverage(["halal", "izin"], 0) < 0.5
    assert lexical.coverage(["sepakbola"], 0) == 0.0
    assert not lexical.scores(["sepakbola"]).any()


def test_fusion_prefers_entries_both_methods_agree_on(search_index: SearchIndex) -> None:
    equal = SearchIndex(
        search_index.entries, search_index.dense, search_index.lexical, search_index.embedder,
        search_index.normalizer, SearchSettings(rrf_k=60, dense_weight=1.0, lexical_weight=1.0, charngram_weight=0.0),
    )
    fused = equal._fuse([(1, 0.9), (2, 0.8), (3, 0.7)], [(3, 9.0), (1, 5.0), (4, 1.0)])
    # 1 is ranked 1st and 2nd, 3 is 3rd and 1st: 1 wins narrowly; 2 and 4 appear in one list only.
    assert fused == [1, 3, 2, 4]
    # a third (character n-gram) ranking adds its votes with its own weight
    assert equal._fuse([(1, 0.9)], [(2, 3.0)], [(2, 0.5)]) == [1, 2]
    with_charngrams = SearchIndex(
        search_index.entries, search_index.dense, search_index.lexical, search_index.embedder,
        search_index.normalizer, SearchSettings(rrf_k=60, dense_weight=1.0, lexical_weight=1.0, charngram_weight=1.0),
    )
    assert with_charngrams._fuse([(1, 0.9)], [(2, 3.0)], [(2, 0.5)]) == [2, 1]
    weighted = SearchIndex(
        search_index.entries, search_index.dense, search_index.lexical, search_index.embedder,
        search_index.normalizer, SearchSettings(dense_weight=0.0),
    )
    assert weighted._fuse([(1, 0.9), (2, 0.8)], [(2, 3.0), (1, 1.0)]) == [2, 1]


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("gmn cara bikin nib di oss", "nib-lewat-oss"),
        ("minyak goreng bekas dipake berapa kali", "minyak-goreng-bekas-pakai-ulang"),
        ("potongan qris brp persen", "qris-daftar-dan-biaya"),
        ("ngitung hpp keripik piye", "menghitung-hpp"),
        ("kantong kopi pake katup", "kemasan-kopi-valve"),
    ],
)
@pytest.mark.parametrize("mode", ["hybrid", "bm25", "dense"])
def test_domain_questions_find_their_entry(search_index: SearchIndex, question: str, expected: str, mode) -> None:  # type: ignore[no-untyped-def]
    result = search_index.search(question, k=3, mode=mode)
    ids = [h.entry.id for h in result.hits]
    assert ids[0] == expected
    assert result.answered and result.decision == "answer" and result.probability == result.hits[0].score


@pytest.mark.parametrize(
    "question",
    ["siapa juara liga inggris musim ini", "besok hujan gak ya", "asdfghjkl qwerty", "halo selamat pagi"],
)
def test_off_topic_questions_are_not_answered(search_index: SearchIndex, question: str) -> None:
    result = search_index.search(question)
    assert not result.answered and result.decision == "none" and result.options == ()
    assert result.reason in ("low_confidence", "out_of_scope", "small_talk", "empty")


@pytest.mark.parametrize(
    "question",
    ["", "   ", "😀😀😀", "\x00\x01\x02", "x" * 10_000, "nib " * 3000, "Harga кофе コーヒー?", "<b>nib</b> & oss"],
)
def test_bad_input_never_raises(search_index: SearchIndex, question: str) -> None:
    result = search_index.search(question)
    assert len(result.query) <= MAX_QUERY_CHARS
    if not search_index.normalizer.tokens(question[:MAX_QUERY_CHARS]):
        assert result.reason == "empty" and not result.answered and not result.hits


def test_repeated_question_is_served_from_cache(search_index: SearchIndex) -> None:
    first = search_index.search("Gimana cara daftar QRIS?")
    second = search_index.search("gimana  cara daftar qris")
    assert second.hits is first.hits  # same normalised form: the cached hits, not a new search
    assert second.query == "gimana  cara daftar qris"


async def test_async_search_runs_in_a_worker_thread(search_index: SearchIndex) -> None:
    results = await asyncio.gather(*(search_index.asearch(q) for q in ("nib oss", "hpp", "qris")))
    assert [r.hits[0].entry.id for r in results] == ["nib-lewat-oss", "menghitung-hpp", "qris-daftar-dan-biaya"]


def test_typo_correction_maps_unknown_words_to_the_closest_known_one(search_index: SearchIndex) -> None:
    lexical = LexicalIndex.build([["koperasi", "anggota"], ["kemasan", "kopi"], ["persen", "qris"]])
    assert lexical.correct(["koprasi", "anggot", "kopi"], 1) == ["koperasi", "anggota", "kopi"]
    assert lexical.correct(["koprasi"], 0) == ["koprasi"]  # off
    assert lexical.correct(["kopu", "12345", "sepakbola"], 2) == ["kopu", "12345", "sepakbola"]  # short, digits, far
    corrected = SearchIndex(
        search_index.entries, search_index.dense, search_index.lexical, search_index.embedder,
        search_index.normalizer, SearchSettings(typo_max_edits=1, cache_size=0),
        search_index.scope, search_index.charngrams, search_index.decisions,
    )
    plain = corrected.search("koprasi untungnya apa", mode="bm25")
    assert plain.hits and plain.hits[0].entry.id == "koperasi-manfaat"
    assert search_index.search("koprasi untungnya apa", mode="bm25").hits[0].coverage < plain.hits[0].coverage
