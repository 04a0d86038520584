"""Hybrid search over a built index: dense, BM25 and character n-grams fused, with an answered/not-answered
decision from match confidence, the question's language and an out-of-scope check."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from cachetools import LRUCache

from index.charngrams import CharNgramIndex
from index.dense import DenseIndex
from index.embedder import Embedder
from index.entries import Entry
from index.language import english_share
from index.language import warm_up as warm_up_language
from index.lexical import LexicalIndex
from index.normalize import MAX_QUERY_CHARS, Normalizer
from index.scope import ScopeModel

Mode = Literal["hybrid", "dense", "bm25"]
MODES: tuple[Mode, ...] = ("hybrid", "dense", "bm25")
# Only labels why a question went unanswered (out of scope vs weak match); never decides it.
OUT_OF_SCOPE_BELOW = 0.5


@dataclass(frozen=True)
class SearchSettings:
    """Tunable knobs; `bot` fills them from config.toml, tests and benchmarks set them directly.
    The defaults are the values bench/tune_search.py chose on the dev half of knowledge/eval."""

    rrf_k: int = 5
    dense_weight: float = 0.5
    lexical_weight: float = 1.0
    # Character n-grams (typos, Javanese suffixes) as a third ranking in hybrid fusion; 0 = off.
    charngram_weight: float = 0.35
    candidates: int = 20
    # Misspelt words (not in the index) become the closest indexed word within this many edits; 0 = off
    # (off by default: on this knowledge base it did not help beyond noise and cost rejection).
    typo_max_edits: int = 0
    # confidence = share * cosine + (1 - share) * lexical coverage, where share moves from
    # confidence_dense_share (Indonesian question) to confidence_dense_share_english (English one):
    # the encoder is an English model, so its cosine means more for English questions.
    confidence_dense_share: float = 0.2
    confidence_dense_share_english: float = 0.7
    threshold_hybrid: float = 0.225
    threshold_dense: float = 0.4
    threshold_bm25: float = 0.225
    cache_size: int = 2048

    def threshold(self, mode: Mode) -> float:
        return {"hybrid": self.threshold_hybrid, "dense": self.threshold_dense}.get(
            mode, self.threshold_bm25
        )

    def answers(self, confidence: float, scope: float, mode: Mode) -> bool:
        """Whether a hit is good enough to answer with: how well it matches, times how likely
        the message is a business question at all, reaches the mode's threshold."""
        return confidence * scope >= self.threshold(mode)


@dataclass(frozen=True)
class Hit:
    """One ranked entry with the signals that placed it."""

    entry: Entry
    score: float  # confidence in 0..1 that this entry answers the question
    dense: float  # best cosine between the question and the entry's passages
    coverage: float  # share of the question's (idf-weighted) words found in the entry


@dataclass(frozen=True)
class SearchResult:
    """The ranked hits and whether the best one is good enough to answer with."""

    query: str
    normalized: str
    mode: Mode
    answered: bool
    reason: Literal["ok", "empty", "small_talk", "out_of_scope", "low_confidence"]
    hits: tuple[Hit, ...] = field(default_factory=tuple)
    scope: float = 1.0  # probability that the message is a business question at all


class SearchIndex:
    """A loaded index: entries, dense and lexical parts, the embedder and a query cache."""

    def __init__(
        self,
        entries: list[Entry],
        dense: DenseIndex,
        lexical: LexicalIndex,
        embedder: Embedder,
        normalizer: Normalizer,
        settings: SearchSettings | None = None,
        scope: ScopeModel | None = None,
        charngrams: CharNgramIndex | None = None,
    ) -> None:
        self.entries = entries
        self.by_id = {e.id: e for e in entries}
        self.dense = dense
        self.lexical = lexical
        self.embedder = embedder
        self.normalizer = normalizer
        self.scope = scope
        self.charngrams = charngrams
        self.settings = settings or SearchSettings()
        self._cache: LRUCache[tuple[str, int, str], SearchResult] = LRUCache(
            maxsize=max(1, self.settings.cache_size)
        )
        self._lock = threading.Lock()
        if self.settings.confidence_dense_share_english != self.settings.confidence_dense_share:
            warm_up_language()

    def search(self, query: str, k: int = 3, mode: Mode = "hybrid") -> SearchResult:
        """Rank entries for `query`; `answered` says whether the best hit is trustworthy."""
        query = query[:MAX_QUERY_CHARS]
        normalized = self.normalizer.normalized(query)
        key = (normalized, k, mode)
        if self.settings.cache_size > 0:
            with self._lock:
                cached = self._cache.get(key)
            if cached is not None:
                return SearchResult(query, *_tail(cached))
        result = self._search_uncached(query, normalized, k, mode)
        if self.settings.cache_size > 0:
            with self._lock:
                self._cache[key] = result
        return result

    async def asearch(self, query: str, k: int = 3, mode: Mode = "hybrid") -> SearchResult:
        """`search` in a worker thread: encoding and FAISS block, the event loop must not."""
        return await asyncio.to_thread(self.search, query, k, mode)

    def encode_query(self, query: str) -> np.ndarray:
        """The query vector (exposed for benchmarks that time the encoder alone)."""
        return self.embedder.encode([self.normalizer.dense_text(query)])[0]

    def _search_uncached(self, query: str, normalized: str, k: int, mode: Mode) -> SearchResult:
        if self.normalizer.is_small_talk(query):
            return SearchResult(query, normalized, mode, False, "small_talk")
        tokens = self.normalizer.tokens(query)
        if not tokens:
            return SearchResult(query, normalized, mode, False, "empty")
        tokens = self.lexical.correct(tokens, self.settings.typo_max_edits)
        n = len(self.entries)
        depth = min(n, max(self.settings.candidates, k))
        dense_ranked: list[tuple[int, float]] = []
        query_vector = None
        if mode != "bm25":
            query_vector = self.encode_query(query)
            dense_ranked = self.dense.search(query_vector, depth)
        bm25_ranked: list[tuple[int, float]] = []
        if mode != "dense":
            scores = self.lexical.scores(tokens)
            top = np.argsort(-scores, kind="stable")[:depth]
            bm25_ranked = [(int(i), float(scores[i])) for i in top if scores[i] > 0]

        if mode == "dense":
            order = [i for i, _ in dense_ranked]
        elif mode == "bm25":
            order = [i for i, _ in bm25_ranked]
        else:
            fuzzy_ranked: list[tuple[int, float]] = []
            if self.charngrams is not None and self.settings.charngram_weight > 0:
                fuzzy_ranked = self.charngrams.search(self.normalizer.content_text(query), depth)
            order = self._fuse(dense_ranked, bm25_ranked, fuzzy_ranked)
        dense_scores = dict(dense_ranked)
        share = self._dense_share(query) if mode == "hybrid" else 0.0
        hits = []
        for i in order[:k]:
            cosine = dense_scores.get(i, 0.0)
            if i not in dense_scores and query_vector is not None:
                cosine = self.dense.entry_score(query_vector, i)
            coverage = self.lexical.coverage(tokens, i)
            hits.append(Hit(self.entries[i], self._confidence(mode, cosine, coverage, share), cosine, coverage))
        scope = self.scope.probability(normalized) if self.scope is not None else 1.0
        answered = bool(hits) and self.settings.answers(hits[0].score, scope, mode)
        reason = "ok" if answered else "out_of_scope" if scope < OUT_OF_SCOPE_BELOW else "low_confidence"
        return SearchResult(query, normalized, mode, answered, reason, tuple(hits), scope)

    def _fuse(
        self,
        dense: list[tuple[int, float]],
        bm25: list[tuple[int, float]],
        fuzzy: list[tuple[int, float]] | None = None,
    ) -> list[int]:
        s = self.settings
        fused: dict[int, float] = {}
        for weight, ranked in ((s.dense_weight, dense), (s.lexical_weight, bm25), (s.charngram_weight, fuzzy or [])):
            for rank, (i, _) in enumerate(ranked, start=1):
                fused[i] = fused.get(i, 0.0) + weight / (s.rrf_k + rank)
        return sorted(fused, key=lambda i: (-fused[i], i))

    def _dense_share(self, query: str) -> float:
        s = self.settings
        if s.confidence_dense_share_english == s.confidence_dense_share:
            return s.confidence_dense_share
        english = english_share(query)
        return s.confidence_dense_share + english * (s.confidence_dense_share_english - s.confidence_dense_share)

    @staticmethod
    def _confidence(mode: Mode, cosine: float, coverage: float, share: float) -> float:
        if mode == "dense":
            return max(0.0, cosine)
        if mode == "bm25":
            return coverage
        return share * max(0.0, cosine) + (1 - share) * coverage


def _tail(result: SearchResult) -> tuple[str, Mode, bool, str, tuple[Hit, ...], float]:
    return (result.normalized, result.mode, result.answered, result.reason, result.hits, result.scope)
