"""BM25 in numpy equals the bm25s reference implementation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from index.lexical import LexicalIndex

CORPUS = [
    ["nib", "oss", "izin", "izin", "usaha"],
    ["hpp", "biaya", "biaya", "produk"],
    ["izin", "halal", "produk", "sertifikat", "halal", "gratis"],
    ["kopi"],
    ["kemasan", "kopi", "valve", "kemasan", "plastik", "kopi", "awet"],
]


@pytest.mark.parametrize("query", [["izin", "halal"], ["biaya", "produk", "produk"], ["kopi", "tidakada"], ["zzz"]])
def test_scores_equal_bm25s(query: list[str], tmp_path: Path) -> None:
    bm25s = pytest.importorskip("bm25s")
    reference = bm25s.BM25()
    reference.index(CORPUS, show_progress=False)
    known = [t for t in query if t in reference.vocab_dict]
    expected = np.asarray(reference.get_scores(known), dtype=np.float32) if known else np.zeros(len(CORPUS))
    index = LexicalIndex.build(CORPUS)
    assert index.scores(query) == pytest.approx(expected, abs=1e-5)
    index.save(tmp_path)
    assert LexicalIndex.load(tmp_path, CORPUS).scores(query) == pytest.approx(expected, abs=1e-5)
