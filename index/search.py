"""Hybrid search over a built index, and one decision per question: answer, clarify or none.

Retrieval: dense (FAISS), BM25 and character n-grams, fused by weighted reciprocal rank into a
short candidate list. Decision: a model learned at build time (index/decision.py) turns every
candidate's signals and the question's own (out-of-scope probability, language, unknown words)
into probabilities; the hits are ordered by them, and the same probabilities decide.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from importlib import resources
from typing import Literal

import numpy as np
from cachetools import LRUCache

from index.charngrams import CharNgramIndex
from index.decision import Decision, DecisionModel, decide
from index.dense import DenseIndex
from index.embedder import Embedder
from index.entries import Entry
from index.lexical import LexicalIndex
from index.normalize import MAX_QUERY_CHARS, Normalizer, clean_text
from index.scope import ScopeModel
from index.settings import TUNED, Mode, SearchSettings  # noqa: F401 - re-exported

MODES: tuple[Mode, ...] = ("hybrid", "dense", "bm25")
# Only labels why a question went unanswered (out of scope vs weak match); never decides it.
OUT_OF_SCOPE_BELOW = 0.5
# Candidates the decision weighs: the top of the fused (or single-method) ranking.
POOL = 10

CANDIDATE_FEATURES: dict[Mode, tuple[str, ...]] = {
    "hybrid": (
        "fused_rrank", "fused_share", "cosine", "cosine_gap", "dense_rrank", "bm25_share", "bm25_rrank",
        "coverage", "coverage_gap", "charngram", "charngram_gap", "charngram_rrank",
    ),
    "dense": ("rank_rrank", "cosine", "cosine_gap", "cosine_vs_top"),
    "bm25": ("rank_rrank", "bm25_share", "bm25_log", "coverage", "coverage_gap"),
}
QUESTION_FEATURES: dict[Mode, tuple[str, ...]] = {
    "hybrid": ("scope_logit", "english", "log_words", "unknown_share", "top_cosine", "off_topic_cosine"),
    "dense": ("scope_logit", "english", "log_words", "top_cosine", "off_topic_cosine"),
    "bm25": ("scope_logit", "english", "log_words", "unknown_share"),
}


def _english_words() -> frozenset[str]:
    text = (resources.files("index") / "data" / "english_words.txt").read_text(encoding="utf-8")
    return frozenset(w.strip() for w in text.splitlines() if w.strip() and not w.startswith("#"))


ENGLISH_WORDS = _english_words()


def english_share(text: str) -> float:
    """Share of the message's words that are common English words (0..1)."""
    words = clean_text(text).split()
    return sum(w in ENGLISH_WORDS for w in words) / len(words) if words else 0.0


@dataclass(frozen=True)
class Hit:
    """One ranked entry with the signals that placed it."""

    entry: Entry
    score: float  # estimated probability (0..1) that this entry answers the question
    dense: float  # best cosine between the question and the entry's passages (0 in bm25 mode)
    coverage: float  # share of the question's (idf-weighted) words found in the entry


@dataclass(frozen=True)
class SearchResult:
    """The hits, best first by the decision's own probabilities, and the decision itself."""

    query: str
    normalized: str
    mode: Mode
    answered: bool  # exactly when decision == "answer"; then hits[0] is the answer
    reason: Literal["ok", "empty", "small_talk", "out_of_scope", "low_confidence", "ambiguous"]
    hits: tuple[Hit, ...] = field(default_factory=tuple)
    scope: float = 1.0  # probability that the message is a business question at all
    decision: Decision = "none"
    options: tuple[Hit, ...] = field(default_factory=tuple)  # clarify: 2-3 entries, best first
    probability: float = 0.0  # estimated probability that hits[0] answers the question


@dataclass(frozen=True)
class Candidates:
    """What retrieval found for one question, before the decision: entry numbers in the mode's
    ranking order, their feature rows, the question's features, and per-entry cosine/coverage."""

    entries: list[int]
    features: np.ndarray
    question: np.ndarray
    cosine: list[float]
    coverage: list[float]
    scope: float


class SearchIndex:
    """A loaded index: entries, dense and lexical parts, the embedder, the decision models and a
    query cache."""

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
        decisions: dict[str, DecisionModel] | None = None,
        off_topic: np.ndarray | None = None,
    ) -> None:
        self.entries = entries
        self.by_id = {e.id: e for e in entries}
        self.dense = dense
        self.lexical = lexical
        self.embedder = embedder
        self.normalizer = normalizer
        self.scope = scope
        self.charngrams = charngrams
        self.decisions = decisions or {}
        # Vectors of written off-topic messages (knowledge/out_of_scope.txt and the dev half's):
        # how close a question comes to one of them is a signal for the scope gate.
        self.off_topic = off_topic if off_topic is not None and len(off_topic) else None
        self.settings = settings or SearchSettings()
        self._cache: LRUCache[tuple[str, int, str], SearchResult] = LRUCache(
            maxsize=max(1, self.settings.cache_size)
        )
        self._lock = threading.Lock()

    def search(self, query: str, k: int = 3, mode: Mode = "hybrid") -> SearchResult:
        """Rank entries for `query` and decide: answer with hits[0], offer options, or none."""
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
        import asyncio  # here: a command-line answer never needs the event loop (~20 ms of import)

        return await asyncio.to_thread(self.search, query, k, mode)

    def encode_query(self, query: str) -> np.ndarray:
        """The query vector (exposed for benchmarks that time the encoder alone)."""
        return self.embedder.encode_queries([self.normalizer.dense_text(query)])[0]

    def _search_uncached(self, query: str, normalized: str, k: int, mode: Mode) -> SearchResult:
        if self.normalizer.is_small_talk(query):
            return SearchResult(query, normalized, mode, False, "small_talk")
        tokens = self.normalizer.tokens(query)
        if not tokens:
            return SearchResult(query, normalized, mode, False, "empty")
        vector = self.encode_query(query) if mode != "bm25" else None
        candidates = self.candidates(query, normalized, tokens, vector, mode)
        return self.decide(query, normalized, mode, candidates, k)

    def decide(self, query: str, normalized: str, mode: Mode, candidates: Candidates, k: int) -> SearchResult:
        """Order the candidates by the mode's decision model and decide."""
        model = self.decisions.get(mode)
        if model is None:
            raise RuntimeError(f"this index has no decision model for mode {mode}; rebuild it")
        probabilities, _ = model.probabilities(candidates.features, candidates.question)
        gate = model.gate(candidates.features, candidates.question, probabilities)
        order = sorted(range(len(candidates.entries)), key=lambda i: (-probabilities[i], i))
        ranked = [
            Hit(self.entries[candidates.entries[i]], float(probabilities[i]), candidates.cosine[i],
                candidates.coverage[i])
            for i in order
        ]
        decision, n_options = decide([h.score for h in ranked], model.thresholds, gate)
        options = tuple(ranked[:n_options]) if decision == "clarify" else ()
        top = ranked[0].score if ranked else 0.0
        if decision == "answer":
            reason = "ok"
        elif decision == "clarify":
            reason = "ambiguous"
        else:
            outside = gate < model.thresholds.scope or candidates.scope < OUT_OF_SCOPE_BELOW
            reason = "out_of_scope" if outside else "low_confidence"
        return SearchResult(
            query, normalized, mode, decision == "answer", reason, tuple(ranked[:k]), candidates.scope,  # type: ignore[arg-type]
            decision, options, top,
        )

    def candidates(
        self, query: str, normalized: str, tokens: list[str], vector: np.ndarray | None, mode: Mode
    ) -> Candidates:
        """Retrieve the candidate pool for one question and compute every signal the decision uses."""
        s = self.settings
        tokens = self.lexical.correct(tokens, s.typo_max_edits)
        n = len(self.entries)
        depth = min(n, max(s.candidates, POOL))
        dense_ranked: list[tuple[int, float]] = []
        if mode != "bm25" and vector is not None:
            dense_ranked = self.dense.search(vector, depth)
        bm25_scores = None
        bm25_ranked: list[tuple[int, float]] = []
        if mode != "dense":
            bm25_scores = self.lexical.scores(tokens)
            bm25_ranked = _top(bm25_scores, depth)
        charngram_scores = None
        charngram_ranked: list[tuple[int, float]] = []
        # A full n-gram ranking only when fusion uses it; the decision reads the pool's scores.
        if mode == "hybrid" and self.charngrams is not None and s.charngram_weight > 0:
            charngram_scores = self.charngrams.entry_scores(self.normalizer.content_text(query))
            if charngram_scores is not None:
                charngram_ranked = _top(charngram_scores, depth)

        fused: dict[int, float] = {}
        if mode == "hybrid":
            fused = self._fuse_scores(dense_ranked, bm25_ranked, charngram_ranked)
            order = sorted(fused, key=lambda i: (-fused[i], i))
        else:
            order = [i for i, _ in (dense_ranked if mode == "dense" else bm25_ranked)]
        pool = order[:POOL]

        dense_of = dict(dense_ranked)
        dense_rank = {i: r for r, (i, _) in enumerate(dense_ranked, start=1)}
        # An entry outside the dense list scores at most the list's last cosine: use that bound
        # rather than re-scoring it (exact and approximate indexes then give the same feature).
        floor = dense_ranked[-1][1] if dense_ranked else 0.0
        cosine = [dense_of.get(i, floor) for i in pool]
        coverage = self.lexical.coverages(tokens, pool)
        scope_logit = self.scope.logit(normalized) if self.scope is not None else 0.0
        scope = _sigmoid(scope_logit) if self.scope is not None else 1.0
        english = english_share(query)
        log_words = math.log1p(len(tokens))
        top_cosine = dense_ranked[0][1] if dense_ranked else 0.0
        off_topic_cosine = self.off_topic_cosine(vector)

        rows: list[list[float]] = []
        if mode == "hybrid":
            bm25_rank = {i: r for r, (i, _) in enumerate(bm25_ranked, start=1)}
            bm25_top = bm25_ranked[0][1] if bm25_ranked else 0.0
            max_fused = s.dense_weight + s.lexical_weight + s.charngram_weight
            max_fused = max_fused / (s.rrf_k + 1) or 1.0
            if charngram_scores is not None:
                chars = [float(charngram_scores[i]) for i in pool]
            elif self.charngrams is not None:
                chars = self.charngrams.pool_scores(self.normalizer.content_text(query), pool).tolist()
            else:
                chars = [0.0] * len(pool)
            # Rank among the candidates (the same whether or not a full n-gram ranking was made).
            by_chars = sorted(range(len(pool)), key=lambda j: (-chars[j], j))
            char_rank = {pool[j]: r for r, j in enumerate(by_chars, start=1) if chars[j] > 0}
            assert bm25_scores is not None
            for position, i in enumerate(pool):
                rows.append([
                    1.0 / (position + 1),
                    fused[i] / max_fused,
                    cosine[position],
                    cosine[position] - _best_other(cosine, position),
                    1.0 / dense_rank[i] if i in dense_rank else 0.0,
                    float(bm25_scores[i]) / bm25_top if bm25_top > 0 else 0.0,
                    1.0 / bm25_rank[i] if i in bm25_rank else 0.0,
                    coverage[position],
                    coverage[position] - _best_other(coverage, position),
                    chars[position],
                    chars[position] - _best_other(chars, position),
                    1.0 / char_rank[i] if i in char_rank else 0.0,
                ])
            unknown = self._unknown_share(tokens)
            question = [scope_logit, english, log_words, unknown, top_cosine, off_topic_cosine]
        elif mode == "dense":
            for position, _ in enumerate(pool):
                rows.append([
                    1.0 / (position + 1), cosine[position], cosine[position] - _best_other(cosine, position),
                    cosine[position] - top_cosine,
                ])
            question = [scope_logit, english, log_words, top_cosine, off_topic_cosine]
        else:
            assert bm25_scores is not None
            bm25_top = bm25_ranked[0][1] if bm25_ranked else 0.0
            for position, i in enumerate(pool):
                rows.append([
                    1.0 / (position + 1),
                    float(bm25_scores[i]) / bm25_top if bm25_top > 0 else 0.0,
                    math.log1p(float(bm25_scores[i])),
                    coverage[position],
                    coverage[position] - _best_other(coverage, position),
                ])
            question = [scope_logit, english, log_words, self._unknown_share(tokens)]
        if mode == "bm25":
            cosine = [0.0] * len(pool)
        features = np.asarray(rows, dtype=np.float64).reshape(len(pool), len(CANDIDATE_FEATURES[mode]))
        return Candidates(pool, features, np.asarray(question, dtype=np.float64), cosine, coverage, scope)

    def off_topic_cosine(self, vector: np.ndarray | None) -> float:
        """The highest cosine between the question and a written off-topic message (0 without any)."""
        if self.off_topic is None or vector is None:
            return 0.0
        return float((self.off_topic @ vector).max())

    def _unknown_share(self, tokens: list[str]) -> float:
        total, unknown = self.lexical.idf_mass(tokens)
        return unknown / total if total else 0.0

    def _fuse_scores(
        self,
        dense: list[tuple[int, float]],
        bm25: list[tuple[int, float]],
        fuzzy: list[tuple[int, float]] | None = None,
    ) -> dict[int, float]:
        s = self.settings
        fused: dict[int, float] = {}
        for weight, ranked in ((s.dense_weight, dense), (s.lexical_weight, bm25), (s.charngram_weight, fuzzy or [])):
            if weight <= 0:
                continue  # a switched-off ranking adds no candidates either
            for rank, (i, _) in enumerate(ranked, start=1):
                fused[i] = fused.get(i, 0.0) + weight / (s.rrf_k + rank)
        return fused

    def _fuse(
        self,
        dense: list[tuple[int, float]],
        bm25: list[tuple[int, float]],
        fuzzy: list[tuple[int, float]] | None = None,
    ) -> list[int]:
        """Entry numbers in weighted reciprocal-rank-fusion order."""
        fused = self._fuse_scores(dense, bm25, fuzzy)
        return sorted(fused, key=lambda i: (-fused[i], i))


def _top(scores: np.ndarray, depth: int) -> list[tuple[int, float]]:
    """The `depth` best positive scores as (index, score), best first, ties by index."""
    if depth <= 0 or len(scores) == 0:
        return []
    top = np.argpartition(-scores, depth - 1)[:depth] if depth < len(scores) else np.arange(len(scores))
    top = top[np.lexsort((top, -scores[top]))]
    return [(int(i), float(scores[i])) for i in top if scores[i] > 0]


def _best_other(values: list[float], position: int) -> float:
    """The largest value except the one at `position` (0 when there is no other)."""
    if len(values) < 2:
        return 0.0
    top = max(range(len(values)), key=values.__getitem__)
    if position != top:
        return values[top]
    return max(v for j, v in enumerate(values) if j != top)


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))


def _tail(result: SearchResult) -> tuple[object, ...]:
    return (result.normalized, result.mode, result.answered, result.reason, result.hits, result.scope,
            result.decision, result.options, result.probability)
