"""Character n-gram retrieval: typos and Javanese suffixes still find their entry."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from index import SearchIndex
from index.charngrams import CharNgramIndex

PASSAGES = ["koperasi simpan pinjam", "daftar nib di oss", "kemasan kopi valve", "syarat pirt keripik"]


def test_typos_and_suffixes_match_letter_pieces() -> None:
    index = CharNgramIndex.build(PASSAGES, [0, 1, 2, 2], 3)
    assert index.search("koprasi", 3)[0][0] == 0
    assert index.search("kemasane kopiku", 3)[0][0] == 2
    # entry 2 owns two passages; its score is its best passage's, not their sum
    best = index.search("syarate pirt", 3)
    assert best[0][0] == 2 and 0 < best[0][1] <= 1.0
    assert index.search("zzzz", 3) == []
    assert index.search("", 3) == []


def test_saved_index_answers_the_same(tmp_path: Path) -> None:
    index = CharNgramIndex.build(PASSAGES, [0, 1, 2, 2], 3)
    index.save(tmp_path)
    loaded = CharNgramIndex.load(tmp_path, 3)
    before, after = index.search("koprasi simpen pinjem", 3), loaded.search("koprasi simpen pinjem", 3)
    assert [i for i, _ in after] == [i for i, _ in before]
    assert [s for _, s in after] == pytest.approx([s for _, s in before])


def test_built_index_uses_character_ngrams_in_hybrid_fusion(search_index: SearchIndex) -> None:
    assert search_index.charngrams is not None
    ranked = search_index.charngrams.search(search_index.normalizer.content_text("kemasane kopi"), 3)
    assert search_index.entries[ranked[0][0]].id == "kemasan-kopi-valve"
    only_charngrams = SearchIndex(
        search_index.entries, search_index.dense, search_index.lexical, search_index.embedder,
        search_index.normalizer,
        dataclasses.replace(search_index.settings, dense_weight=0.0, lexical_weight=0.0, charngram_weight=1.0,
                            cache_size=0),
        search_index.scope, search_index.charngrams,
    )
    question = "koprasi gmn gabungnya"
    normalizer = search_index.normalizer
    pool = only_charngrams.candidates(question, normalizer.normalized(question), normalizer.tokens(question),
                                      search_index.encode_query(question), "hybrid")
    assert search_index.entries[pool.entries[0]].id == "koperasi-manfaat"  # fused order = n-gram order here


def test_ngram_index_equals_brute_force_tfidf() -> None:
    passages = [*PASSAGES, "koperasi wanita tani", "kopi bubuk kemasan"]
    owners = [0, 1, 2, 2, 0, 2]
    index = CharNgramIndex.build(passages, owners, 3)
    from index.charngrams import _pieces

    n = len(passages)
    df: dict[int, int] = {}
    for text in passages:
        for bucket in _pieces(text)[0]:
            df[int(bucket)] = df.get(int(bucket), 0) + 1

    def vector(text: str) -> dict[int, float]:
        buckets, counts = _pieces(text)
        v = {int(b): (1 + np.log(c)) * (np.log((1 + n) / (1 + df.get(int(b), 0))) + 1) for b, c in zip(buckets, counts, strict=True)}
        norm = np.sqrt(sum(x * x for x in v.values()))
        return {b: x / norm for b, x in v.items()}

    query = vector("koprasi kopi kemasan")
    expected = [max(sum(query.get(b, 0.0) * x for b, x in vector(p).items())
                    for p, o in zip(passages, owners, strict=True) if o == e) for e in range(3)]
    assert index.entry_scores("koprasi kopi kemasan") == pytest.approx(expected, abs=1e-5)
    # scoring only a few candidate entries gives the same numbers, in the order asked
    assert index.pool_scores("koprasi kopi kemasan", [2, 0]) == pytest.approx([expected[2], expected[0]], abs=1e-5)
    assert not index.pool_scores("zzzz", [0, 1, 2]).any()
