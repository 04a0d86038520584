"""Lexical retrieval: BM25 (bm25s) over normalised, stemmed Indonesian tokens."""

from __future__ import annotations

import math
from pathlib import Path

import bm25s
import numpy as np

BM25_FOLDER = "bm25"


class LexicalIndex:
    """BM25 over one token list per entry, plus idf for query-coverage scoring."""

    def __init__(self, model: bm25s.BM25, doc_tokens: list[frozenset[str]]) -> None:
        self._model = model
        self._vocab: dict[str, int] = model.vocab_dict
        self._doc_tokens = doc_tokens
        n_docs = len(doc_tokens)
        df: dict[str, int] = {}
        for tokens in doc_tokens:
            for token in tokens:
                df[token] = df.get(token, 0) + 1
        self._idf = {t: math.log(1 + (n_docs - d + 0.5) / (d + 0.5)) for t, d in df.items()}
        # A word no entry uses is as telling as the rarest word: it pulls coverage down.
        self._unknown_idf = math.log(1 + (n_docs + 0.5) / 0.5)

    @classmethod
    def build(cls, corpus_tokens: list[list[str]]) -> LexicalIndex:
        """Index one token list per entry."""
        model = bm25s.BM25()
        model.index(corpus_tokens, show_progress=False)
        return cls(model, [frozenset(tokens) for tokens in corpus_tokens])

    @property
    def n_entries(self) -> int:
        return len(self._doc_tokens)

    def scores(self, query_tokens: list[str]) -> np.ndarray:
        """BM25 score of every entry for the query tokens (zeros when none is known)."""
        known = [t for t in query_tokens if t in self._vocab]
        if not known:
            return np.zeros(self.n_entries, dtype=np.float32)
        return np.asarray(self._model.get_scores(known), dtype=np.float32)

    def coverage(self, query_tokens: list[str], entry: int) -> float:
        """Share of the query's idf mass that the entry contains (0..1)."""
        unique = set(query_tokens)
        if not unique:
            return 0.0
        total = sum(self._idf.get(t, self._unknown_idf) for t in unique)
        present = sum(self._idf[t] for t in unique if t in self._doc_tokens[entry])
        return present / total

    def save(self, folder: Path) -> None:
        """Write bm25s' plain files (JSON and .npy, no pickle)."""
        self._model.save(str(folder / BM25_FOLDER), show_progress=False)

    @classmethod
    def load(cls, folder: Path, corpus_tokens: list[list[str]]) -> LexicalIndex:
        """Read what `save` wrote; the token lists come from the index's entries file."""
        model = bm25s.BM25.load(str(folder / BM25_FOLDER), show_progress=False, verbosity=0)
        return cls(model, [frozenset(tokens) for tokens in corpus_tokens])
