"""Train the answer decision at build time on questions the index has not seen.

Three sources of questions, each searched so that it is new to what answers it:
- the entries' own questions (`questions`, `questions_en`), cross-fitted: the questions are dealt
  into FOLDS folds; each fold is searched against an index rebuilt without that fold's questions
  (its passage vectors, character n-gram passages, BM25 words and scope-check examples removed);
- the out-of-scope examples (knowledge/out_of_scope.txt), dealt into the same folds, each fold
  scored by a scope check trained without it;
- the dev half of the evaluation set, when there is one, searched against the full index (it is
  never part of the dense, BM25 or n-gram index). Its questions do teach the scope check (domain
  questions as in scope, off-topic ones as out of scope: they are written like users' messages,
  unlike the entries' own questions), so they are dealt into DEV_FOLDS folds too, each fold scored
  by a scope check trained without it. The test half is never read here.
Then one decision model per search mode is fitted, and its thresholds chosen on out-of-fold
predictions for the dev questions (index/decision.py).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from index.charngrams import CharNgramIndex
from index.decision import (
    DecisionModel,
    Example,
    Prediction,
    Targets,
    Thresholds,
    choose_thresholds,
    fit,
    fit_gate,
)
from index.dense import DenseIndex
from index.embedder import Embedder
from index.entries import Entry
from index.lexical import LexicalIndex
from index.normalize import Normalizer
from index.scope import ScopeModel
from index.search import CANDIDATE_FEATURES, MODES, QUESTION_FEATURES, Mode, SearchIndex, SearchSettings

FOLDS = 10
DEV_FOLDS = 5
# Dev questions are written apart from the entries, like real users' questions: they count more
# than an entry's own (held-out) question. 10 (not 2) since the dev half grew to ~830 questions:
# chosen on out-of-fold dev predictions (2: direct 0.815, 8: 0.829, 12: 0.835, 20: 0.835, 40: 0.827).
DEV_WEIGHT = 10.0
SCOPE_TAGS = True
# The dev questions teach the scope check (cross-fitted in training, all of them in the built index).
SCOPE_DEV = True


@dataclass(frozen=True)
class TrainingQuestion:
    """A question to learn from: the entries that answer it (none: out of scope), where it
    comes from, and the fold it is held out in (-1: searched against the full index)."""

    text: str
    answers: tuple[str, ...]
    source: str  # "entry", "out_of_scope", "dev"
    fold: int
    passage: int = -1  # the question's own passage number in the full index (entry questions)


@dataclass(frozen=True)
class Parts:
    """What the full index is made of, so that a fold's index can be rebuilt without some of it."""

    entries: list[Entry]
    passage_texts: list[str]  # dense texts, in passage order
    passage_owners: np.ndarray
    passage_vectors: np.ndarray
    charngram_texts: list[str]
    charngram_owners: list[int]
    lexical_tokens: Callable[[set[int]], list[list[str]]]  # held-out passage numbers -> tokens per entry
    in_scope: list[tuple[int, str]]  # (passage number or -1, normalised text)
    out_of_scope: list[tuple[int, str]]  # (fold, normalised text)
    dev_scope: list[tuple[int, str, bool]] = field(default_factory=list)  # (fold, normalised text, in scope)


def entry_fold(entry: Entry, position: int) -> int:
    """The fold an entry's question is held out in: its questions spread over every fold."""
    return (zlib.crc32(entry.id.encode()) + position) % FOLDS


def out_of_scope_fold(position: int) -> int:
    """The fold an out-of-scope example is held out in."""
    return position % FOLDS


def dev_fold(position: int) -> int:
    """The fold a dev question is held out in (of the scope check and of the decision's
    threshold tuning): FOLDS .. FOLDS + DEV_FOLDS - 1, searched against the full index."""
    return FOLDS + position % DEV_FOLDS


def dev_scope_examples(eval_file: Path | None, entries: list[Entry]) -> tuple[list[str], list[str]]:
    """The dev half's domain questions (that some entry answers) and off-topic messages, raw."""
    from index.evaluate import load_eval_set

    if not SCOPE_DEV or eval_file is None or not eval_file.is_file():
        return [], []
    dev = load_eval_set(eval_file).only("dev")
    known = {e.id for e in entries}
    return [q.q for q in dev.domain if any(i in known for i in q.ids)], [q.q for q in dev.off_topic]


def collect(
    parts: Parts,
    questions: list[TrainingQuestion],
    embedder: Embedder,
    normalizer: Normalizer,
    settings: SearchSettings,
    held_out: Callable[[int], set[int]],
    modes: tuple[Mode, ...] = MODES,
    fold_indexes: dict[int, SearchIndex] | None = None,
) -> dict[Mode, list[tuple[TrainingQuestion, Example, tuple[str, ...]]]]:
    """Search every question in each mode with the index it is held out of; returns, per mode,
    the question, its training example and the candidates' entry ids in the mode's order.
    `fold_indexes`, when given, keeps the fold indexes for the next call (they do not depend on
    the settings, which are set on them for each call)."""
    vectors = embedder.encode_queries([normalizer.dense_text(q.text) for q in questions]) if questions else None
    # The written off-topic messages the index keeps as vectors (store.off_topic_texts): each fold's
    # index leaves out those of its own fold.
    off_topic = [n for n, q in enumerate(questions) if is_off_topic_example(q)]
    off_topic_folds = np.array([questions[n].fold for n in off_topic], dtype=np.int64)
    out: dict[Mode, list[tuple[TrainingQuestion, Example, tuple[str, ...]]]] = {m: [] for m in modes}
    for fold in sorted({q.fold for q in questions}):
        cache = fold_indexes if fold_indexes is not None else {}
        if fold not in cache:
            assert vectors is not None
            off_topic_vectors = vectors[[n for n, f in zip(off_topic, off_topic_folds, strict=True) if f != fold]]
            cache[fold] = _fold_index(parts, held_out(fold) if fold >= 0 else set(), fold, embedder, normalizer,
                                      settings, off_topic_vectors)
        index = cache[fold]
        index.settings = settings
        for number, question in enumerate(questions):
            if question.fold != fold:
                continue
            tokens = normalizer.tokens(question.text)
            if not tokens or normalizer.is_small_talk(question.text):
                continue  # never searched, so nothing to decide
            normalized = normalizer.normalized(question.text)
            assert vectors is not None
            for mode in modes:
                candidates = index.candidates(question.text, normalized, tokens, vectors[number], mode)
                ids = tuple(parts.entries[i].id for i in candidates.entries)
                positives = tuple(p for p, entry_id in enumerate(ids) if entry_id in question.answers)
                weight = DEV_WEIGHT if question.source == "dev" else 1.0
                out[mode].append((question, Example(candidates.features, candidates.question, positives, weight), ids))
    return out


def is_off_topic_example(question: TrainingQuestion) -> bool:
    """An off-topic message whose vector the index keeps (the same ones store.off_topic_texts lists)."""
    return not question.answers and (question.source == "out_of_scope" or (question.source == "dev" and SCOPE_DEV))


def _fold_index(
    parts: Parts, held: set[int], fold: int, embedder: Embedder, normalizer: Normalizer, settings: SearchSettings,
    off_topic: np.ndarray | None = None,
) -> SearchIndex:
    keep = np.array([p not in held for p in range(len(parts.passage_texts))], dtype=bool)
    dense = DenseIndex.build(parts.passage_vectors[keep], parts.passage_owners[keep], len(parts.entries))
    char_keep = [i for i in range(len(parts.charngram_texts)) if i not in held]
    charngrams = CharNgramIndex.build(
        [parts.charngram_texts[i] for i in char_keep], [parts.charngram_owners[i] for i in char_keep],
        len(parts.entries),
    )
    lexical = LexicalIndex.build(parts.lexical_tokens(held))
    scope = None
    if parts.out_of_scope:
        scope = ScopeModel.train(
            [t for p, t in parts.in_scope if p not in held] + [t for f, t, inside in parts.dev_scope
                                                               if inside and f != fold],
            [t for f, t in parts.out_of_scope if f != fold] + [t for f, t, inside in parts.dev_scope
                                                               if not inside and f != fold],
        )
    return SearchIndex(parts.entries, dense, lexical, embedder, normalizer, settings, scope, charngrams,
                       off_topic=off_topic)


def train(
    collected: dict[Mode, list[tuple[TrainingQuestion, Example, tuple[str, ...]]]], targets: Targets
) -> dict[str, DecisionModel]:
    """One decision model per mode, with thresholds chosen on out-of-fold dev predictions (or,
    without dev questions, on out-of-fold predictions for everything)."""
    models: dict[str, DecisionModel] = {}
    for mode, rows in collected.items():
        features, question_features = CANDIDATE_FEATURES[mode], QUESTION_FEATURES[mode]
        model = fit_two_stage(rows, features, question_features)
        models[mode] = model.with_thresholds(
            choose_thresholds(out_of_fold(rows, features, question_features), targets) if rows else Thresholds()
        )
    return models


def fit_two_stage(
    rows: list[tuple[TrainingQuestion, Example, tuple[str, ...]]],
    features: tuple[str, ...],
    question_features: tuple[str, ...],
) -> DecisionModel:
    """The candidate model on the domain questions, then the scope gate on all of them."""
    domain = [bool(q.answers) for q, _, _ in rows]
    examples = [e for _, e, _ in rows]
    model = fit([e for e, inside in zip(examples, domain, strict=True) if inside] or examples, features,
                question_features)
    return fit_gate(model, examples, domain)


def out_of_fold(
    rows: list[tuple[TrainingQuestion, Example, tuple[str, ...]]],
    features: tuple[str, ...],
    question_features: tuple[str, ...],
    folds: int = DEV_FOLDS,
) -> list[Prediction]:
    """Predictions for the tuning questions (dev, else all) from models that did not train on them."""
    tuning = [n for n, (q, _, _) in enumerate(rows) if q.source == "dev"] or list(range(len(rows)))
    predictions: list[Prediction] = []
    for fold in range(folds):
        # Dev questions keep the fold their scope feature was cross-fitted in.
        held = {n for position, n in enumerate(tuning)
                if (rows[n][0].fold - FOLDS if rows[n][0].fold >= FOLDS else position) % folds == fold}
        model = fit_two_stage([row for n, row in enumerate(rows) if n not in held], features, question_features)
        for n in sorted(held):
            predictions.append(predict(model, rows[n][0], rows[n][1]))
    return predictions


def predict(model: DecisionModel, question: TrainingQuestion, example: Example) -> Prediction:
    """The model's probabilities for one example, best first, with which of them are right."""
    probabilities, _ = model.probabilities(example.candidates, example.question)
    order = np.argsort(-probabilities, kind="stable")
    return Prediction(
        tuple(float(probabilities[i]) for i in order),
        tuple(int(i) in example.positives for i in order),
        bool(question.answers),
        model.gate(example.candidates, example.question, probabilities),
    )


def train_decisions(
    entries: list[Entry],
    vectors: np.ndarray,
    owners: np.ndarray,
    out_of_scope: list[str],
    embedder: Embedder,
    normalizer: Normalizer,
    settings: SearchSettings,
    eval_file: Path | None,
    targets: Targets,
) -> dict[str, DecisionModel]:
    """Collect held-out training questions for the knowledge base and fit the decision models."""
    parts, questions = training_set(entries, vectors, owners, out_of_scope, normalizer, eval_file)
    held = held_out_passages(questions)
    collected = collect(parts, questions, embedder, normalizer, settings, lambda fold: held.get(fold, set()))
    return train(collected, targets)


def training_set(
    entries: list[Entry],
    vectors: np.ndarray,
    owners: np.ndarray,
    out_of_scope: list[str],
    normalizer: Normalizer,
    eval_file: Path | None,
) -> tuple[Parts, list[TrainingQuestion]]:
    """The index's parts and every training question with its fold."""
    from index.evaluate import load_eval_set
    from index.store import dense_passages, lexical_text, question_positions

    passage_texts: list[str] = []
    charngram_texts: list[str] = []
    in_scope: list[tuple[int, str]] = []
    questions: list[TrainingQuestion] = []
    starts: list[int] = []
    # A question asked word for word by several entries is answered by each of them.
    askers: dict[str, set[str]] = {}
    for entry in entries:
        for position in question_positions(entry):
            askers.setdefault(normalizer.normalized(dense_passages(entry)[position]), set()).add(entry.id)
    for entry in entries:
        start = len(passage_texts)
        starts.append(start)
        texts = dense_passages(entry)
        asked = question_positions(entry)
        for position, text in enumerate(texts):
            passage_texts.append(normalizer.dense_text(text))
            charngram_texts.append(normalizer.content_text(text))
            if position < asked.stop:  # titles and questions teach the scope check
                in_scope.append((start + position, normalizer.normalized(text)))
        if SCOPE_TAGS:
            in_scope.extend((-1, normalizer.normalized(tag)) for tag in entry.tags)
        for n, position in enumerate(asked):
            answers = tuple(sorted(askers[normalizer.normalized(texts[position])]))
            fold = entry_fold(entry, n)
            questions.append(TrainingQuestion(texts[position], answers, "entry", fold, start + position))
    for n, text in enumerate(out_of_scope):
        questions.append(TrainingQuestion(text, (), "out_of_scope", out_of_scope_fold(n)))
    dev_scope: list[tuple[int, str, bool]] = []
    if eval_file is not None and eval_file.is_file():
        dev = load_eval_set(eval_file).only("dev")
        known = {e.id for e in entries}
        dev_items = [(item.q, tuple(i for i in item.ids if i in known)) for item in dev.domain]
        dev_items = [(q, answers) for q, answers in dev_items if answers]
        dev_items += [(item.q, ()) for item in dev.off_topic]
        for position, (text, answers) in enumerate(dev_items):
            fold = dev_fold(position)
            questions.append(TrainingQuestion(text, answers, "dev", fold))
            if SCOPE_DEV:
                dev_scope.append((fold, normalizer.normalized(text), bool(answers)))

    ends = [*starts[1:], len(passage_texts)]

    def lexical_tokens(held: set[int]) -> list[list[str]]:
        return [
            normalizer.tokens(lexical_text(e, frozenset(p - start for p in held if start <= p < end)))
            for e, start, end in zip(entries, starts, ends, strict=True)
        ]

    parts = Parts(
        entries=entries,
        passage_texts=passage_texts,
        passage_owners=owners,
        passage_vectors=vectors,
        charngram_texts=charngram_texts,
        charngram_owners=[int(o) for o in owners],
        lexical_tokens=lexical_tokens,
        in_scope=in_scope,
        out_of_scope=[(out_of_scope_fold(n), normalizer.normalized(t)) for n, t in enumerate(out_of_scope)],
        dev_scope=dev_scope,
    )
    return parts, questions


def held_out_passages(questions: list[TrainingQuestion]) -> dict[int, set[int]]:
    """Per fold, the passage numbers of the entry questions held out in it."""
    held: dict[int, set[int]] = {}
    for q in questions:
        if q.passage >= 0:
            held.setdefault(q.fold, set()).add(q.passage)
    return held


def prepared_training(
    embedder: Embedder, normalizer: Normalizer, knowledge_dir: Path, eval_file: Path | None
) -> tuple[list[Entry], Parts, list[TrainingQuestion], dict[int, set[int]]]:
    """What the tuning scripts search, as build-index prepares it: the entries, the index's
    parts, every training question with its fold, and the passages each fold holds out."""
    from index.entries import load_knowledge
    from index.scope import read_out_of_scope
    from index.store import dense_passages

    entries = load_knowledge(knowledge_dir)
    texts = [normalizer.dense_text(p) for e in entries for p in dense_passages(e)]
    owners = np.asarray([n for n, e in enumerate(entries) for _ in dense_passages(e)], dtype=np.int64)
    vectors = embedder.encode(texts)
    parts, questions = training_set(entries, vectors, owners, read_out_of_scope(knowledge_dir), normalizer, eval_file)
    return entries, parts, questions, held_out_passages(questions)
