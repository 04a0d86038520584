"""Character n-gram retrieval: finds entries whose wording is close letter by letter.

Word matching (BM25) misses a typo or a Javanese suffix (koprasi for koperasi, syarate for
syarat, usahane for usaha); shared 3-5 letter pieces still match. Each title and question is
a passage and the best passage speaks for its entry, as in the dense index.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer
from sklearn.preprocessing import normalize

MATRIX_FILE = "charngrams.npz"
IDF_FILE = "charngrams_idf.npy"
OWNERS_FILE = "charngrams_owners.npy"


def _vectorizer() -> HashingVectorizer:
    return HashingVectorizer(
        analyzer="char_wb", ngram_range=(3, 5), n_features=2**20, alternate_sign=False, norm=None
    )


class CharNgramIndex:
    """TF-IDF over character n-grams of passages, max-pooled per entry."""

    def __init__(self, matrix: sparse.csc_matrix, idf: np.ndarray, owners: np.ndarray, n_entries: int) -> None:
        self._matrix = matrix.tocsc()  # column access: a query touches few n-gram columns
        self._idf = idf.astype(np.float32)
        self._owners = owners.astype(np.int64)
        self.n_entries = n_entries
        self._vectorizer = _vectorizer()

    @classmethod
    def build(cls, passages: list[str], owners: list[int], n_entries: int) -> CharNgramIndex:
        """Index passage texts; owners[i] is the entry of passage i."""
        counts = _vectorizer().transform(passages)
        tfidf = TfidfTransformer(sublinear_tf=True).fit(counts)
        matrix = normalize(tfidf.transform(counts)).astype(np.float32)
        return cls(matrix, tfidf.idf_, np.asarray(owners), n_entries)

    def search(self, text: str, depth: int) -> list[tuple[int, float]]:
        """The `depth` best entries by their best passage's cosine (entries scoring 0 left out)."""
        query = self._vectorizer.transform([text])
        if query.nnz == 0:
            return []
        columns = query.indices
        weights = np.log(query.data).astype(np.float32) + 1.0  # sublinear tf, as in build
        weights *= self._idf[columns]
        weights /= np.linalg.norm(weights)
        passage_scores = self._matrix[:, columns] @ weights
        best = np.zeros(self.n_entries, dtype=np.float32)
        np.maximum.at(best, self._owners, passage_scores)
        top = np.argsort(-best, kind="stable")[:depth]
        return [(int(i), float(best[i])) for i in top if best[i] > 0]

    def save(self, folder: Path) -> None:
        """Plain arrays (no pickle)."""
        sparse.save_npz(folder / MATRIX_FILE, self._matrix.tocsr())
        np.save(folder / IDF_FILE, self._idf)
        np.save(folder / OWNERS_FILE, self._owners)

    @classmethod
    def load(cls, folder: Path, n_entries: int) -> CharNgramIndex:
        """Read what `save` wrote."""
        matrix = sparse.load_npz(folder / MATRIX_FILE)
        return cls(matrix, np.load(folder / IDF_FILE), np.load(folder / OWNERS_FILE), n_entries)
