"""Dense retrieval: FAISS inner product over normalised passage vectors, max-pooled per entry.

Small indexes are searched exactly (a flat scan: 0.75 ms for the ~20,000 passages of 1,000
entries at 512 dimensions). From APPROXIMATE_FROM vectors on, the scan would dominate a warm
answer (4.2 ms for the ~200,000 passages of 10,000 entries), so the vectors go into an
inverted-file index with 8-bit scalar quantisation: a quarter of the memory, and a question reads
only the nearest lists (1.6 ms there). The 8-bit codes reorder near-ties, so the passages found
are re-scored with half-precision copies of the vectors, memory-mapped from disk (only the few
hundred rows a question touches are read): the cosines the answer decision sees are then the
exact index's to ~1e-3, and so is the top-k. HNSW was measured too and dropped: on a knowledge
base with many near-identical passages its recall at k=20 stayed below 0.8. Recall against the
exact scan is measured in bench/search_bench.py and tests/index/test_dense.py.
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
EXACT_FILE = "dense_vectors_f16.npy"
APPROXIMATE_FROM = 10_000
# Inverted lists: about 4 * sqrt(n); a question visits this share of them, at least MIN_PROBES
# (recall 1.000 at k=20 on the benchmark's 10,000-entry copy).
PROBE_SHARE = 1 / 20
MIN_PROBES = 64


class DenseIndex:
    """Passage vectors (title, each question, summary) whose best match speaks for the entry."""

    def __init__(
        self, index: faiss.Index, owners: np.ndarray, n_entries: int, exact: np.ndarray | None = None
    ) -> None:
        self._index = index
        self._owners = owners.astype(np.int64)
        self.n_entries = n_entries
        self._exact = exact  # float16 rows for re-scoring an approximate index's finds
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
        exact = None
        if len(vectors) < approximate_from:
            index: faiss.Index = faiss.IndexFlatIP(dimension)
        else:
            exact = vectors.astype(np.float16)
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
        return cls(index, owners, n_entries, exact)

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
        found, cosines = rows[0], scores[0]
        if self._exact is not None:
            found = found[found >= 0]
            cosines = self._exact[found].astype(np.float32) @ query.astype(np.float32)
            order = np.argsort(-cosines, kind="stable")
            found, cosines = found[order], cosines[order]
        keep = found >= 0
        found, cosines = found[keep], cosines[keep]
        # Rows come best first: an entry's first row is its best passage.
        owners, first = np.unique(self._owners[found], return_index=True)
        best = cosines[first]
        order = np.lexsort((owners, -best))[:k]
        return [(int(o), float(s)) for o, s in zip(owners[order].tolist(), best[order].tolist(), strict=True)]

    def save(self, folder: Path) -> None:
        """Write the FAISS index and the owner table as plain files."""
        faiss.write_index(self._index, str(folder / VECTORS_FILE))
        np.save(folder / OWNERS_FILE, self._owners, allow_pickle=False)
        if self._exact is not None:
            np.save(folder / EXACT_FILE, self._exact, allow_pickle=False)

    @classmethod
    def load(cls, folder: Path, n_entries: int) -> DenseIndex:
        """Read what `save` wrote."""
        index = faiss.read_index(str(folder / VECTORS_FILE))
        owners = np.load(folder / OWNERS_FILE, allow_pickle=False)
        if len(owners) != index.ntotal:
            raise ValueError("dense index and owner table disagree in length")
        exact = None
        if _ivf(index) is not None:
            exact = np.load(folder / EXACT_FILE, mmap_mode="r", allow_pickle=False)
            if len(exact) != index.ntotal:
                raise ValueError("dense index and its re-scoring vectors disagree in length")
        return cls(index, owners, n_entries, exact)


def _ivf(index: faiss.Index) -> faiss.IndexIVF | None:
    try:
        return faiss.extract_index_ivf(index)
    except RuntimeError:
        return None
