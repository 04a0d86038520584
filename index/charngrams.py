"""Character n-gram retrieval: finds entries whose wording is close letter by letter.

Word matching (BM25) misses a typo or a Javanese suffix (koprasi for koperasi, syarate for
syarat, usahane for usaha); shared 3-5 letter pieces still match. Each title and question is
a passage and the best passage speaks for its entry, as in the dense index. TF-IDF with
sublinear term frequency, stored passage by passage in plain numpy arrays.

Two ways to score: `pool_scores` reads only the passages of a few candidate entries (what the
answer decision needs: constant time whatever the size of the knowledge base), and
`entry_scores`/`search` rank every entry (what fusion needs when the n-gram ranking has a
weight); the latter builds a column-wise copy (n-gram -> passages) on first use, because common
n-grams touch most passages: at 10,000 entries a full ranking cost 8 ms, the pool 0.1 ms.
"""

from __future__ import annotations

import math
import threading
from functools import lru_cache
from pathlib import Path

import numpy as np

from index.hashing import char_ngrams, hashed_counts

MATRIX_FILE = "charngrams.npz"
N_FEATURES = 2**20


@lru_cache(maxsize=65536)  # a build indexes the same passages once per fold
def _pieces(text: str) -> tuple[np.ndarray, np.ndarray]:
    buckets, counts = hashed_counts(char_ngrams(text, 3, 5), N_FEATURES)
    buckets = buckets.astype(np.int32)
    buckets.flags.writeable = counts.flags.writeable = False  # cached: shared between callers
    return buckets, counts


class CharNgramIndex:
    """TF-IDF over character n-grams of passages, max-pooled per entry."""

    def __init__(
        self, buckets: np.ndarray, idf: np.ndarray, row_ptr: np.ndarray, row_buckets: np.ndarray,
        row_values: np.ndarray, owners: np.ndarray, n_entries: int,
    ) -> None:
        # int32 throughout (buckets < 2**20): numpy's searchsorted takes a slow path on mixed types.
        self._buckets = buckets.astype(np.int32)  # sorted n-gram buckets present in some passage
        self._idf = idf.astype(np.float32)
        self._row_ptr = row_ptr.astype(np.int64)  # passage p's n-grams: row_ptr[p] .. row_ptr[p+1]
        # Each stored n-gram as its position in `_buckets` (its column) rather than its bucket: a
        # question's weights then fit a table of a few tens of thousands of floats that stays in
        # the CPU cache, not one of 2**20 (the files keep buckets; this is worked out on load).
        position = np.zeros(N_FEATURES, dtype=np.int32)
        position[self._buckets] = np.arange(len(self._buckets), dtype=np.int32)
        self._row_columns = position[row_buckets]
        self._row_values = row_values.astype(np.float32)
        self._owners = owners.astype(np.int64)
        self.n_entries = n_entries
        self._unseen_idf = math.log(len(owners) + 1) + 1.0  # smoothed idf of df = 0
        # Passages are stored grouped by entry, so an entry's passages are one contiguous range.
        if len(owners) and not np.all(np.diff(self._owners) >= 0):
            raise ValueError("character n-gram passages must be grouped by entry")
        self._present, self._starts = np.unique(self._owners, return_index=True)
        self._entry_start = np.searchsorted(self._owners, np.arange(n_entries + 1))
        self._columns: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self._scratch = threading.local()

    @classmethod
    def build(cls, passages: list[str], owners: list[int], n_entries: int) -> CharNgramIndex:
        """Index passage texts; owners[i] is the entry of passage i."""
        order = np.argsort(np.asarray(owners, dtype=np.int64), kind="stable")
        per_passage = [_pieces(passages[i]) for i in order]
        n = len(per_passage)
        lengths = np.array([len(b) for b, _ in per_passage], dtype=np.int64)
        row_ptr = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        row_buckets = np.concatenate([b for b, _ in per_passage]) if n else np.zeros(0, np.int64)
        tf = np.concatenate([1.0 + np.log(c) for _, c in per_passage]).astype(np.float32) if n else (
            np.zeros(0, np.float32))
        rows = np.repeat(np.arange(n), lengths)
        buckets, inverse, df = np.unique(row_buckets, return_inverse=True, return_counts=True)
        idf = (np.log((1 + n) / (1 + df)) + 1.0).astype(np.float32)
        values = tf * idf[inverse]
        norms = np.sqrt(np.bincount(rows, weights=values.astype(np.float64) ** 2, minlength=n))
        values = (values / norms[rows]).astype(np.float32)
        return cls(buckets, idf, row_ptr, row_buckets, values, np.asarray(owners, dtype=np.int64)[order], n_entries)

    def _query(self, text: str) -> tuple[np.ndarray, np.ndarray] | None:
        """The columns (positions in `_buckets`, ascending) of the query's known n-grams and their
        weights, normalised over all its n-grams."""
        query_buckets, counts = _pieces(text)
        if len(query_buckets) == 0:
            return None
        weights = 1.0 + np.log(counts)
        if len(self._buckets) == 0:
            return np.zeros(0, np.int32), np.zeros(0, np.float32)
        slots = np.minimum(np.searchsorted(self._buckets, query_buckets), len(self._buckets) - 1)
        known = self._buckets[slots] == query_buckets
        weights = weights * np.where(known, self._idf[slots], self._unseen_idf)
        weights /= np.linalg.norm(weights)  # unknown n-grams count here: they lower every cosine
        return slots[known], weights[known].astype(np.float32)

    def pool_scores(self, text: str, entries: list[int]) -> np.ndarray:
        """The best passage cosine with `text` of each of `entries` (zeros when nothing matches)."""
        out = np.zeros(len(entries), dtype=np.float32)
        query = self._query(text)
        if query is None or not entries or len(query[0]) == 0:
            return out
        query_columns, query_weights = query
        chosen = np.asarray(entries)
        starts, ends = self._entry_start[chosen], self._entry_start[chosen + 1]
        # An entry's passages are contiguous, and so are their n-grams: one slice per entry.
        spans = [(a, b) for a, b in zip(self._row_ptr[starts].tolist(), self._row_ptr[ends].tolist(), strict=True)
                 if b > a]
        if not spans:
            return out
        columns = np.concatenate([self._row_columns[a:b] for a, b in spans])
        # The query's weights spread over a table indexed by column: one gather instead of a
        # binary search per stored n-gram (measured 10x faster); one table per thread.
        table = getattr(self._scratch, "table", None)
        if table is None:
            table = self._scratch.table = np.zeros(len(self._buckets), dtype=np.float32)
        table[query_columns] = query_weights
        try:
            matched = table[columns]
        finally:
            table[query_columns] = 0.0
        # Most stored n-grams are not the question's: only the matches add to a cosine (adding
        # the others' exact zeros changed no sum), so only they are multiplied and summed.
        hits = np.flatnonzero(matched != 0)  # on booleans: four times faster than on floats
        values = np.concatenate([self._row_values[a:b] for a, b in spans])
        contributions = matched[hits] * values[hits]
        passages = np.concatenate([np.arange(s, e) for s, e in zip(starts.tolist(), ends.tolist(), strict=True)])
        passage_ends = np.cumsum(self._row_ptr[passages + 1] - self._row_ptr[passages])
        row_of = np.searchsorted(passage_ends, hits, side="right")
        passage_scores = np.bincount(row_of, weights=contributions, minlength=len(passages))
        per_entry = ends - starts
        has = per_entry > 0
        offsets = np.concatenate([[0], np.cumsum(per_entry)[:-1]])
        out[has] = np.maximum.reduceat(passage_scores, offsets[has])
        return out

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
        query = self._query(text)
        if query is None:
            return None
        best = np.zeros(self.n_entries, dtype=np.float32)
        slots, weights = query
        if len(slots) == 0:
            return best
        indptr, rows, values = self._column_form()
        starts, ends = indptr[slots], indptr[slots + 1]
        lengths = ends - starts
        # Positions of every stored value in the query's columns, without a Python loop.
        take = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(int(lengths.sum()))
        passage_scores = np.bincount(
            rows[take], weights=values[take] * np.repeat(weights, lengths), minlength=len(self._owners)
        )
        best[self._present] = np.maximum.reduceat(passage_scores, self._starts)
        return best

    def _column_form(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if self._columns is None:
            n = len(self._row_ptr) - 1
            rows = np.repeat(np.arange(n, dtype=np.int32), np.diff(self._row_ptr))
            column = self._row_columns
            order = np.lexsort((rows, column))
            indptr = np.concatenate([[0], np.cumsum(np.bincount(column, minlength=len(self._buckets)))])
            self._columns = (indptr.astype(np.int64), rows[order], self._row_values[order])
        return self._columns

    def save(self, folder: Path) -> None:
        """Plain arrays (no pickle)."""
        np.savez(folder / MATRIX_FILE, buckets=self._buckets, idf=self._idf, row_ptr=self._row_ptr,
                 row_buckets=self._buckets[self._row_columns], row_values=self._row_values, owners=self._owners)

    @classmethod
    def load(cls, folder: Path, n_entries: int) -> CharNgramIndex:
        """Read what `save` wrote."""
        with np.load(folder / MATRIX_FILE, allow_pickle=False) as data:
            return cls(data["buckets"], data["idf"], data["row_ptr"], data["row_buckets"], data["row_values"],
                       data["owners"], n_entries)
