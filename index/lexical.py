"""Lexical retrieval: BM25 (bm25s) over normalised, stemmed Indonesian tokens."""

from __future__ import annotations

import math
from pathlib import Path

import bm25s
import numpy as np
from rapidfuzz import distance, process

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
        # Most common first, so a misspelling equally close to two words becomes the common one.
        self._words = sorted(df, key=lambda t: (-df[t], t))
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

    def correct(self, query_tokens: list[str], max_edits: int) -> list[str]:
        """Replace each unknown word of 5+ letters by the closest known word within `max_edits`
        letter edits (koprasi -> koperasi); short words are left alone, too many lie one edit apart."""
        if max_edits <= 0:
            return query_tokens
        corrected = []
        for token in query_tokens:
            if token not in self._idf and len(token) >= 5 and not token.isdigit():
                allowed = 1 if len(token) < 8 else max_edits
                match = process.extractOne(
                    token, self._words, scorer=distance.Levenshtein.distance, score_cutoff=allowed
                )
                token = match[0] if match else token
            corrected.append(token)
        return corrected

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
