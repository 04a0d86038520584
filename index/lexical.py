"""Lexical retrieval: BM25 over normalised, stemmed Indonesian tokens.

The Lucene variant of BM25 (as bm25s computes it, which a test checks), precomputed per
(word, entry) and stored word by word in plain numpy arrays: a query adds up the few rows its
words name. Written out here because importing bm25s pulled in scipy, a quarter second of every
cold start, for what is a sum of a handful of array slices.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

BM25_FILE = "bm25.npz"
VOCAB_FILE = "bm25_vocab.json"
K1 = 1.5
B = 0.75


class LexicalIndex:
    """BM25 over one token list per entry, plus idf for query-coverage scoring."""

    def __init__(
        self, vocab: dict[str, int], indptr: np.ndarray, docs: np.ndarray, values: np.ndarray,
        doc_tokens: list[frozenset[str]],
    ) -> None:
        self._vocab = vocab
        self._indptr = indptr.astype(np.int64)
        self._docs = docs.astype(np.int32)
        self._values = values.astype(np.float32)
        self._doc_tokens = doc_tokens
        n_docs = len(doc_tokens)
        df = np.diff(self._indptr)
        # idf for coverage, per known word; a word no entry uses is as telling as the rarest word.
        self._idf = {t: math.log(1 + (n_docs - int(df[i]) + 0.5) / (int(df[i]) + 0.5)) for t, i in vocab.items()}
        self._unknown_idf = math.log(1 + (n_docs + 0.5) / 0.5)
        self._words: list[str] | None = None

    @classmethod
    def build(cls, corpus_tokens: list[list[str]]) -> LexicalIndex:
        """Index one token list per entry."""
        n_docs = len(corpus_tokens)
        vocab: dict[str, int] = {}
        for tokens in corpus_tokens:
            for token in tokens:
                vocab.setdefault(token, len(vocab))
        # Word ids in sorted order, so the saved files do not depend on entry order quirks.
        vocab = {t: i for i, t in enumerate(sorted(vocab))}
        lengths = np.array([len(t) for t in corpus_tokens], dtype=np.float64)
        avg = float(lengths.mean()) if n_docs and lengths.mean() > 0 else 1.0
        postings: list[list[tuple[int, float]]] = [[] for _ in vocab]
        for doc, tokens in enumerate(corpus_tokens):
            tf: dict[str, int] = {}
            for token in tokens:
                tf[token] = tf.get(token, 0) + 1
            norm = K1 * (1 - B + B * lengths[doc] / avg)
            for token, count in tf.items():
                postings[vocab[token]].append((doc, count / (count + norm)))
        indptr = np.zeros(len(vocab) + 1, dtype=np.int64)
        docs, values = [], []
        for word_id, rows in enumerate(postings):
            idf = math.log(1 + (n_docs - len(rows) + 0.5) / (len(rows) + 0.5))
            docs.extend(d for d, _ in rows)
            values.extend(idf * v for _, v in rows)
            indptr[word_id + 1] = indptr[word_id] + len(rows)
        return cls(vocab, indptr, np.asarray(docs, np.int32), np.asarray(values, np.float32),
                   [frozenset(t) for t in corpus_tokens])

    @property
    def n_entries(self) -> int:
        return len(self._doc_tokens)

    def scores(self, query_tokens: list[str]) -> np.ndarray:
        """BM25 score of every entry for the query tokens (zeros when none is known); a word
        repeated in the query counts each time, as in bm25s."""
        out = np.zeros(self.n_entries, dtype=np.float32)
        for token in query_tokens:
            word = self._vocab.get(token)
            if word is not None:
                start, end = self._indptr[word], self._indptr[word + 1]
                out[self._docs[start:end]] += self._values[start:end]
        return out

    def knows(self, token: str) -> bool:
        """Whether any entry uses this word."""
        return token in self._vocab

    def correct(self, query_tokens: list[str], max_edits: int) -> list[str]:
        """Replace each unknown word of 5+ letters by the closest known word within `max_edits`
        letter edits (koprasi -> koperasi); short words are left alone, too many lie one edit apart."""
        if max_edits <= 0:
            return query_tokens
        from rapidfuzz import distance, process  # only when typo correction is on

        if self._words is None:
            df = np.diff(self._indptr)
            # Most common first, so a misspelling equally close to two words becomes the common one.
            self._words = sorted(self._vocab, key=lambda t: (-int(df[self._vocab[t]]), t))
        corrected = []
        for token in query_tokens:
            if token not in self._vocab and len(token) >= 5 and not token.isdigit():
                allowed = 1 if len(token) < 8 else max_edits
                match = process.extractOne(
                    token, self._words, scorer=distance.Levenshtein.distance, score_cutoff=allowed
                )
                token = match[0] if match else token
            corrected.append(token)
        return corrected

    def idf_mass(self, query_tokens: list[str]) -> tuple[float, float]:
        """(total idf of the query's distinct words, the part carried by words no entry uses)."""
        unique = set(query_tokens)
        total = sum(self._idf.get(t, self._unknown_idf) for t in unique)
        unknown = sum(self._unknown_idf for t in unique if t not in self._idf)
        return total, unknown

    def coverage(self, query_tokens: list[str], entry: int) -> float:
        """Share of the query's idf mass that the entry contains (0..1)."""
        return self.coverages(query_tokens, [entry])[0]

    def coverages(self, query_tokens: list[str], entries: list[int]) -> list[float]:
        """`coverage` of each of `entries` (the query's idf mass added up once)."""
        unique = set(query_tokens)
        if not unique:
            return [0.0] * len(entries)
        total = sum(self._idf.get(t, self._unknown_idf) for t in unique)
        known = [(t, self._idf[t]) for t in unique if t in self._idf]
        return [sum(idf for t, idf in known if t in self._doc_tokens[entry]) / total for entry in entries]

    def save(self, folder: Path) -> None:
        """Plain arrays and JSON (no pickle)."""
        np.savez(folder / BM25_FILE, indptr=self._indptr, docs=self._docs, values=self._values)
        (folder / VOCAB_FILE).write_text(json.dumps(self._vocab, ensure_ascii=False, sort_keys=True), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path, corpus_tokens: list[list[str]]) -> LexicalIndex:
        """Read what `save` wrote; the token lists come from the index's entries file."""
        vocab = json.loads((folder / VOCAB_FILE).read_text(encoding="utf-8"))
        with np.load(folder / BM25_FILE, allow_pickle=False) as data:
            return cls(vocab, data["indptr"], data["docs"], data["values"], [frozenset(t) for t in corpus_tokens])
