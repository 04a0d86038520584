"""The dense index: exact below a size, approximate (inverted lists, 8-bit codes) above it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from index.dense import DenseIndex


def _clustered(n: int, dimension: int, seed: int) -> np.ndarray:
    # Sentence vectors cluster by subject; uniform random vectors would be an unrealistic worst case.
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(60, dimension))
    vectors = centres[rng.integers(0, 60, size=n)] + 0.35 * rng.normal(size=(n, dimension))
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


def test_approximate_index_recalls_the_exact_top_20(tmp_path: Path) -> None:
    vectors = _clustered(6000, 48, seed=1)
    owners = np.repeat(np.arange(1500), 4)  # four passages per entry
    exact = DenseIndex.build(vectors, owners, 1500)
    approximate = DenseIndex.build(vectors, owners, 1500, approximate_from=1000)
    assert exact.kind == "flat" and approximate.kind == "ivf-sq8"
    queries = _clustered(200, 48, seed=2)
    found = total = 0
    for query in queries:
        truth = {e for e, _ in exact.search(query, 20)}
        found += len(truth & {e for e, _ in approximate.search(query, 20)})
        total += len(truth)
    assert found / total >= 0.99
    approximate.save(tmp_path)
    loaded = DenseIndex.load(tmp_path, 1500)
    assert loaded.kind == "ivf-sq8"
    assert loaded.search(queries[0], 20) == approximate.search(queries[0], 20)
    # 8-bit codes in memory: about a quarter of the float32 size (the float16 copy stays on disk)
    assert (tmp_path / "dense.faiss").stat().st_size < vectors.nbytes / 2
    # re-scored finds carry the exact cosine
    top = approximate.search(queries[0], 5)
    exact_scores = dict(exact.search(queries[0], 50))
    assert [s for _, s in top] == [pytest.approx(exact_scores[e], abs=2e-3) for e, _ in top]
