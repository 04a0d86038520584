"""Dense retrieval: FAISS inner product over normalised passage vectors, max-pooled per entry."""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np

# One query at a time: FAISS's OpenMP threads only contend with PyTorch's on a small machine
# (measured: a 14,000-vector search took longer on 2 threads than on 1).
faiss.omp_set_num_threads(1)

VECTORS_FILE = "dense.faiss"
OWNERS_FILE = "dense_owners.npy"


class DenseIndex:
    """Passage vectors (title, each question, summary) whose best match speaks for the entry."""

    def __init__(self, index: faiss.Index, owners: np.ndarray, n_entries: int) -> None:
        self._index = index
        self._owners = owners.astype(np.int64)
        self.n_entries = n_entries
        # Rows grouped by owner, so one entry's passages can be scored without a full search.
        self._rows_by_owner = np.argsort(self._owners, kind="stable")
        self._owner_starts = np.searchsorted(self._owners[self._rows_by_owner], np.arange(n_entries + 1))

    @classmethod
    def build(cls, vectors: np.ndarray, owners: np.ndarray, n_entries: int) -> DenseIndex:
        """Index normalised `vectors`; `owners[i]` is the entry number of vector i."""
        index = faiss.IndexFlatIP(vectors.shape[1])
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
        return cls(index, owners, n_entries)

    @property
    def n_vectors(self) -> int:
        return int(self._index.ntotal)

    def search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        """Best `k` entries for one normalised query vector as (entry number, cosine), best first."""
        # Enough passages that k distinct entries almost surely appear; exact when it covers all.
        depth = min(self.n_vectors, max(64, k * 16))
        scores, rows = self._index.search(query.reshape(1, -1).astype(np.float32), depth)
        best: dict[int, float] = {}
        for row, score in zip(rows[0], scores[0], strict=True):
            if row < 0:
                continue
            owner = int(self._owners[row])
            if owner not in best:
                best[owner] = float(score)
        return sorted(best.items(), key=lambda item: (-item[1], item[0]))[:k]

    def entry_score(self, query: np.ndarray, entry: int) -> float:
        """Best cosine between the query and one entry's passages."""
        rows = self._rows_by_owner[self._owner_starts[entry] : self._owner_starts[entry + 1]]
        vectors = np.vstack([self._index.reconstruct(int(r)) for r in rows])
        return float(np.max(vectors @ query))

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
