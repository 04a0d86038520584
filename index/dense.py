"""Dense retrieval: FAISS inner product over normalised passage vectors, max-pooled per entry.

Small indexes are searched exactly (a flat scan). From APPROXIMATE_FROM vectors on, the scan
would dominate a warm answer (a 1,000-entry knowledge base has ~21,000 passages), so the vectors
go into an inverted-file index with 8-bit scalar quantisation: a quarter of the memory, and a
question reads only the nearest few lists. Its recall against the exact scan is measured in
bench/search_bench.py and tests/index/test_dense.py.
"""

from __future__ import annotations

import math
from pathlib import Path

import faiss
import numpy as np

# One query at a time: FAISS's OpenMP threads only contend with the encoder's on a small machine
# (measured: a 14,000-vector search took longer on 2 threads than on 1).
faiss.omp_set_num_threads(1)

VECTORS_FILE = "dense.faiss"
OWNERS_FILE = "dense_owners.npy"
APPROXIMATE_FROM = 10_000
# Inverted lists: about 4 * sqrt(n); a question visits this share of them (recall >= 0.99 at k=20
# on the benchmark's 10,000-entry copy).
PROBE_SHARE = 1 / 10
MIN_PROBES = 16


class DenseIndex:
    """Passage vectors (title, each question, summary) whose best match speaks for the entry."""

    def __init__(self, index: faiss.Index, owners: np.ndarray, n_entries: int) -> None:
        self._index = index
        self._owners = owners.astype(np.int64)
        self.n_entries = n_entries
        ivf = _ivf(index)
        if ivf is not None:
            ivf.nprobe = max(MIN_PROBES, math.ceil(ivf.nlist * PROBE_SHARE))

    @classmethod
    def build(cls, vectors: np.ndarray, owners: np.ndarray, n_entries: int, *,
              approximate_from: int = APPROXIMATE_FROM) -> DenseIndex:
        """Index normalised `vectors`; `owners[i]` is the entry number of vector i. Exact below
        `approximate_from` vectors, inverted lists with 8-bit codes from there on."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        dimension = vectors.shape[1]
        if len(vectors) < approximate_from:
            index: faiss.Index = faiss.IndexFlatIP(dimension)
        else:
            nlist = max(16, int(4 * math.sqrt(len(vectors))))
            quantizer = faiss.IndexFlatIP(dimension)
            index = faiss.IndexIVFScalarQuantizer(
                quantizer, dimension, nlist, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT
            )
            # A fixed sample and seed keep the build reproducible.
            rng = np.random.default_rng(0)
            sample = vectors[rng.choice(len(vectors), size=min(len(vectors), nlist * 64), replace=False)]
            index.cp.seed = 1234
            index.train(sample)
        index.add(vectors)
        return cls(index, owners, n_entries)

    @property
    def n_vectors(self) -> int:
        return int(self._index.ntotal)

    @property
    def kind(self) -> str:
        """"flat" (exact) or "ivf-sq8" (approximate)."""
        return "flat" if _ivf(self._index) is None else "ivf-sq8"

    def search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        """Best `k` entries for one normalised query vector as (entry number, cosine), best first."""
        # Enough passages that k distinct entries almost surely appear; exact when it covers all.
        depth = min(self.n_vectors, max(64, k * 16))
        if depth == 0:
            return []
        scores, rows = self._index.search(query.reshape(1, -1).astype(np.float32), depth)
        best: dict[int, float] = {}
        for row, score in zip(rows[0].tolist(), scores[0].tolist(), strict=True):
            if row < 0:
                continue
            owner = int(self._owners[row])
            if owner not in best:
                best[owner] = score
        return sorted(best.items(), key=lambda item: (-item[1], item[0]))[:k]

    def save(self, folder: Path) -> None:
        """Write the FAISS index and the owner table as plain files."""
        faiss.write_index(self._index, str(folder / VECTORS_FILE))
        np.save(folder / OWNERS_FILE, self._owners, allow_pickle=False)

    @classmethod
    def load(cls, folder: Path, n_entries: int) -> DenseIndex:
        """Read what `save` wrote."""
        index = faiss.read_index(str(folder / VECTORS_FILE))
        owners = np.load(folder / OWNERS_FILE, allow_pickle=False)
        if len(owners) != index.ntotal:
            raise ValueError("dense index and owner table disagree in length")
        return cls(index, owners, n_entries)


def _ivf(index: faiss.Index) -> faiss.IndexIVF | None:
    try:
        return faiss.extract_index_ivf(index)
    except RuntimeError:
        return None
