"""Dense retrieval: FAISS inner product over normalised passage vectors, max-pooled per entry.

Three kinds of index, chosen by the number of passage vectors:

- Below APPROXIMATE_FROM, an exact flat scan (the real knowledge base: ~3,800 passages).
- From APPROXIMATE_FROM to COMPACT_FROM, inverted lists holding the vectors in half precision
  ("ivf-fp16"). A question reads only FP16_PROBES of the lists, and the half-precision cosines
  it computes there are the exact index's to ~1e-3, so nothing needs re-scoring. At the ~19,000
  passages of 1,000 entries a flat scan took 1.4 ms, this 0.4 ms. The lists are trained on all
  the vectors (cheap at this size) and a question visits a fixed number of them: the
  near-identical passages of a growing knowledge base spread a question's top 20 entries over
  many lists, and visiting one list in 20 lost too much (recall@20 0.983 at 1,000 entries with
  64 of 548 lists; 0.996 with 128, 0.998 with 160; 0.999 with 128 of 884 lists at 2,600 entries).
- From COMPACT_FROM on, the half-precision codes would cost too much memory (2 bytes a dimension
  in RAM: 190 MB at 10,000 entries), so the lists hold 8-bit scalar-quantised codes ("ivf-sq8":
  a quarter of float32) and a question reads one list in 20. The 8-bit codes reorder near-ties,
  so the passages found are re-scored with half-precision copies of the vectors, memory-mapped
  from disk (only the few hundred rows a question touches are read): the cosines the answer
  decision sees are then the exact index's to ~1e-3, and so is the top-k (recall@20 0.996 at
  10,000 entries, 1.4 ms against 16 ms for the flat scan on a busy 2-core machine).

HNSW was measured too and dropped: on a knowledge base with many near-identical passages its
recall at k=20 stayed below 0.8. Recall against the exact scan is measured in
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
EXACT_FILE = "dense_vectors_f16.npy"
APPROXIMATE_FROM = 10_000
# Half-precision codes up to here (~2,600 entries of ~19 passages; at most 51 MB at 512 dimensions).
COMPACT_FROM = 50_000
# Inverted lists: about 4 * sqrt(n) of them. Half-precision lists: a question visits FP16_PROBES
# (40% of the 400 lists at 10,000 passages, 29% of the 548 at 1,000 entries, 18% of the 894 at
# the top of the tier; on the benchmark's copies recall rose with size at a fixed number of
# lists visited: 0.996 with 128 of 548, 0.999 with 128 of 884).
# 8-bit lists: this share of them, at least MIN_PROBES (recall 0.996 at k=20 on the benchmark's
# 10,000-entry copy).
FP16_PROBES = 160
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
            if _kind(index) == "ivf-fp16":
                ivf.nprobe = min(ivf.nlist, FP16_PROBES)
            else:
                ivf.nprobe = max(MIN_PROBES, math.ceil(ivf.nlist * PROBE_SHARE))

    @classmethod
    def build(cls, vectors: np.ndarray, owners: np.ndarray, n_entries: int, *,
              approximate_from: int = APPROXIMATE_FROM, compact_from: int = COMPACT_FROM) -> DenseIndex:
        """Index normalised `vectors`; `owners[i]` is the entry number of vector i. Exact below
        `approximate_from` vectors, inverted lists with half-precision codes from there on, with
        8-bit codes (and re-scoring) from `compact_from` on."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        dimension = vectors.shape[1]
        exact = None
        if len(vectors) < approximate_from:
            index: faiss.Index = faiss.IndexFlatIP(dimension)
        else:
            compact = len(vectors) >= compact_from
            nlist = max(16, int(4 * math.sqrt(len(vectors))))
            quantizer = faiss.IndexFlatIP(dimension)
            codes = faiss.ScalarQuantizer.QT_8bit if compact else faiss.ScalarQuantizer.QT_fp16
            index = faiss.IndexIVFScalarQuantizer(quantizer, dimension, nlist, codes, faiss.METRIC_INNER_PRODUCT)
            # A fixed sample and seed keep the build reproducible. Below compact_from every vector
            # trains the lists (at most ~50,000: a second or two); above, a sample of 64 a list.
            sample = vectors
            if compact:
                exact = vectors.astype(np.float16)
                rng = np.random.default_rng(0)
                sample = vectors[rng.choice(len(vectors), size=min(len(vectors), nlist * 64), replace=False)]
            index.cp.seed = 1234
            # FAISS warns below 39 training vectors a list; that advice is about sampling, and
            # here every vector the lists will hold trains them (about 34 a list at 1,000 entries).
            index.cp.min_points_per_centroid = 8
            index.train(sample)
        index.add(vectors)
        return cls(index, owners, n_entries, exact)

    @property
    def n_vectors(self) -> int:
        return int(self._index.ntotal)

    @property
    def kind(self) -> str:
        """"flat" (exact), "ivf-fp16" or "ivf-sq8" (approximate)."""
        return _kind(self._index)

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
        if _kind(index) == "ivf-sq8":
            exact = np.load(folder / EXACT_FILE, mmap_mode="r", allow_pickle=False)
            if len(exact) != index.ntotal:
                raise ValueError("dense index and its re-scoring vectors disagree in length")
        return cls(index, owners, n_entries, exact)


def _ivf(index: faiss.Index) -> faiss.IndexIVF | None:
    try:
        return faiss.extract_index_ivf(index)
    except RuntimeError:
        return None


def _kind(index: faiss.Index) -> str:
    ivf = _ivf(index)
    if ivf is None:
        return "flat"
    quantised = faiss.downcast_index(ivf)
    if isinstance(quantised, faiss.IndexIVFScalarQuantizer) and quantised.sq.qtype == faiss.ScalarQuantizer.QT_fp16:
        return "ivf-fp16"
    return "ivf-sq8"
