"""Character n-gram retrieval: finds entries whose wording is close letter by letter.

Word matching (BM25) misses a typo or a Javanese suffix (koprasi for koperasi, syarate for
syarat, usahane for usaha); shared 3-5 letter pieces still match. Each title and question is
a passage and the best passage speaks for its entry, as in the dense index. TF-IDF with
sublinear term frequency, stored column-wise (n-gram -> passages) in plain numpy arrays, so a
query reads only the few columns its own n-grams name.
"""

from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path

import numpy as np

from index.hashing import char_ngrams, hashed_counts

MATRIX_FILE = "charngrams.npz"
N_FEATURES = 2**20


@lru_cache(maxsize=65536)  # a build indexes the same passages once per fold
def _pieces(text: str) -> tuple[np.ndarray, np.ndarray]:
    buckets, counts = hashed_counts(char_ngrams(text, 3, 5), N_FEATURES)
    buckets.flags.writeable = counts.flags.writeable = False  # cached: shared between callers
    return buckets, counts


class CharNgramIndex:
    """TF-IDF over character n-grams of passages, max-pooled per entry."""

    def __init__(
        self, buckets: np.ndarray, indptr: np.ndarray, rows: np.ndarray, values: np.ndarray,
        idf: np.ndarray, owners: np.ndarray, n_entries: int,
    ) -> None:
        self._buckets = buckets.astype(np.int64)  # sorted n-gram buckets present in some passage
        self._indptr = indptr.astype(np.int64)
        self._rows = rows.astype(np.int32)
        self._values = values.astype(np.float32)
        self._idf = idf.astype(np.float32)
        self._owners = owners.astype(np.int64)
        self.n_entries = n_entries
        self._unseen_idf = math.log(len(owners) + 1) + 1.0  # smoothed idf of df = 0
        # Passages are stored grouped by entry, so the best passage per entry is one reduceat.
        if len(owners) and not np.all(np.diff(self._owners) >= 0):
            raise ValueError("character n-gram passages must be grouped by entry")
        self._present, self._starts = np.unique(self._owners, return_index=True)

    @classmethod
    def build(cls, passages: list[str], owners: list[int], n_entries: int) -> CharNgramIndex:
        """Index passage texts; owners[i] is the entry of passage i (grouped by entry)."""
        order = np.argsort(np.asarray(owners, dtype=np.int64), kind="stable")
        per_passage = [_pieces(passages[i]) for i in order]
        n = len(per_passage)
        all_buckets = np.concatenate([b for b, _ in per_passage]) if n else np.zeros(0, np.int64)
        all_rows = np.concatenate([np.full(len(b), r, np.int32) for r, (b, _) in enumerate(per_passage)]) if n else (
            np.zeros(0, np.int32))
        all_tf = np.concatenate([1.0 + np.log(c) for _, c in per_passage]).astype(np.float32) if n else (
            np.zeros(0, np.float32))
        buckets, inverse, df = np.unique(all_buckets, return_inverse=True, return_counts=True)
        idf = (np.log((1 + n) / (1 + df)) + 1.0).astype(np.float32)
        values = all_tf * idf[inverse]
        norms = np.sqrt(np.bincount(all_rows, weights=values.astype(np.float64) ** 2, minlength=n))
        values = (values / norms[all_rows]).astype(np.float32)
        by_column = np.lexsort((all_rows, inverse))
        indptr = np.concatenate([[0], np.cumsum(np.bincount(inverse, minlength=len(buckets)))])
        return cls(buckets, indptr, all_rows[by_column], values[by_column], idf,
                   np.asarray(owners, dtype=np.int64)[order], n_entries)

    def search(self, text: str, depth: int) -> list[tuple[int, float]]:
        """The `depth` best entries by their best passage's cosine (entries scoring 0 left out)."""
        best = self.entry_scores(text)
        if best is None:
            return []
        depth = min(depth, len(best))
        top = np.argpartition(-best, depth - 1)[:depth] if depth < len(best) else np.arange(len(best))
        top = top[np.lexsort((top, -best[top]))]
        return [(int(i), float(best[i])) for i in top if best[i] > 0]

    def entry_scores(self, text: str) -> np.ndarray | None:
        """Every entry's best passage cosine with `text` (None when the text has no n-grams)."""
        query_buckets, counts = _pieces(text)
        if len(query_buckets) == 0:
            return None
        weights = 1.0 + np.log(counts)
        slots = np.searchsorted(self._buckets, query_buckets)
        slots = np.minimum(slots, len(self._buckets) - 1)
        known = self._buckets[slots] == query_buckets
        idf = np.where(known, self._idf[slots], self._unseen_idf)
        weights = weights * idf
        weights /= np.linalg.norm(weights)
        starts, ends = self._indptr[slots[known]], self._indptr[slots[known] + 1]
        column_weights = weights[known]
        n_passages = len(self._owners)
        if len(starts) == 0:
            return np.zeros(self.n_entries, dtype=np.float32)
        lengths = ends - starts
        # Positions of every stored value in the query's columns, without a Python loop.
        take = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(int(lengths.sum()))
        passage_scores = np.bincount(
            self._rows[take], weights=self._values[take] * np.repeat(column_weights, lengths), minlength=n_passages
        )
        best = np.zeros(self.n_entries, dtype=np.float32)
        best[self._present] = np.maximum.reduceat(passage_scores, self._starts)
        return best

    def save(self, folder: Path) -> None:
        """Plain arrays (no pickle)."""
        np.savez(folder / MATRIX_FILE, buckets=self._buckets, indptr=self._indptr, rows=self._rows,
                 values=self._values, idf=self._idf, owners=self._owners)

    @classmethod
    def load(cls, folder: Path, n_entries: int) -> CharNgramIndex:
        """Read what `save` wrote."""
        with np.load(folder / MATRIX_FILE, allow_pickle=False) as data:
            return cls(data["buckets"], data["indptr"], data["rows"], data["values"], data["idf"],
                       data["owners"], n_entries)
