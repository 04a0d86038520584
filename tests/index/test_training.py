"""Training questions are held out honestly: nothing a question is scored against contains it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import yaml

from index import load_knowledge
from index.normalize import Normalizer
from index.scope import read_out_of_scope
from index.search import SearchSettings
from index.store import dense_passages
from index.training import DEV_FOLDS, FOLDS, _fold_index, held_out_passages, training_set
from tests.fixture_knowledge import FIXTURE_ENTRIES, write_knowledge


def _parts(tmp_path: Path, embedder, eval_file: Path | None = None):  # type: ignore[no-untyped-def]
    knowledge = write_knowledge(tmp_path / "knowledge")
    entries = load_knowledge(knowledge)
    normalizer = Normalizer.default()
    texts = [normalizer.dense_text(p) for e in entries for p in dense_passages(e)]
    owners = np.asarray([n for n, e in enumerate(entries) for _ in dense_passages(e)])
    parts, questions = training_set(entries, embedder.encode(texts), owners, read_out_of_scope(knowledge),
                                    normalizer, eval_file)
    return entries, parts, questions, normalizer


def test_every_entry_question_is_held_out_exactly_once(tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    entries, parts, questions, _ = _parts(tmp_path, embedder)
    asked = [q for q in questions if q.source == "entry"]
    assert len(asked) == sum(len(e.questions) + len(e.questions_en) for e in entries)
    held = held_out_passages(questions)
    passages = [p for fold in held.values() for p in fold]
    assert len(passages) == len(set(passages)) == len(asked)
    assert {q.fold for q in asked} <= set(range(FOLDS))
    # a question asked word for word by every fixture entry ("How do I do this?") is answered by all
    shared = next(q for q in asked if q.text == "How do I do this?")
    assert set(shared.answers) == {e.id for e in entries}
    out = [q for q in questions if q.source == "out_of_scope"]
    assert len(out) == len(read_out_of_scope(tmp_path / "knowledge")) and all(q.answers == () for q in out)


def test_a_fold_index_lacks_its_held_out_questions(tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    entries, parts, questions, normalizer = _parts(tmp_path, embedder)
    held = held_out_passages(questions)
    fold = max(held, key=lambda f: len(held[f]))
    index = _fold_index(parts, held[fold], fold, embedder, normalizer, SearchSettings())
    assert index.dense.n_vectors == len(parts.passage_texts) - len(held[fold])
    full = _fold_index(parts, set(), -1, embedder, normalizer, SearchSettings())
    assert index.scope is not None and full.scope is not None
    fold_scope, full_scope = [], []
    for q in (q for q in questions if q.fold == fold and q.source == "entry" and len(q.answers) == 1):
        vector = embedder.encode_queries([normalizer.dense_text(q.text)])[0]
        own = entries.index(next(e for e in entries if e.id == q.answers[0]))
        fold_cosine = dict(index.dense.search(vector, len(entries))).get(own, 0.0)
        full_cosine = dict(full.dense.search(vector, len(entries)))[own]
        assert full_cosine > 0.999 > fold_cosine  # the full index holds the very text, the fold does not
        tokens = normalizer.tokens(q.text)
        assert index.lexical.coverage(tokens, own) <= full.lexical.coverage(tokens, own)
        fold_scope.append(index.scope.probability(normalizer.normalized(q.text)))
        full_scope.append(full.scope.probability(normalizer.normalized(q.text)))
    # the fold's scope check never saw these questions: it is less sure of them than the full one
    assert fold_scope and np.mean(fold_scope) < np.mean(full_scope)


def test_only_the_dev_half_of_the_eval_file_is_read(tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    eval_file = tmp_path / "questions.yaml"
    eval_file.write_text(yaml.safe_dump({
        "domain": [
            {"q": "bikin nib gratis ga", "ids": ["nib-lewat-oss"], "split": "dev"},
            {"q": "rahasia test kopi", "ids": ["kemasan-kopi-valve"], "split": "test"},
        ],
        "off_topic": [{"q": "skor bola tadi", "split": "dev"}, {"q": "rahasia test cuaca", "split": "test"}],
    }), encoding="utf-8")
    _, _, questions, _ = _parts(tmp_path, embedder, eval_file)
    dev = [q for q in questions if q.source == "dev"]
    assert [(q.text, q.answers) for q in dev] == [("bikin nib gratis ga", ("nib-lewat-oss",)), ("skor bola tadi", ())]
    assert not any("rahasia" in q.text for q in questions)
    assert len(FIXTURE_ENTRIES) == 6


def test_dev_questions_teach_the_scope_check_cross_fitted(tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    eval_file = tmp_path / "questions.yaml"
    eval_file.write_text(yaml.safe_dump({
        "domain": [{"q": f"zorblat nib nomor {n}", "ids": ["nib-lewat-oss"], "split": "dev"} for n in range(5)]
        + [{"q": "rahasia test kopi", "ids": ["kemasan-kopi-valve"], "split": "test"}],
        "off_topic": [{"q": f"quuxling skor bola {n}", "split": "dev"} for n in range(5)],
    }), encoding="utf-8")
    entries, parts, questions, normalizer = _parts(tmp_path, embedder, eval_file)
    dev = [q for q in questions if q.source == "dev"]
    assert {q.fold for q in dev} == set(range(FOLDS, FOLDS + DEV_FOLDS))  # dealt into their own folds
    assert len(parts.dev_scope) == 10 and not any("rahasia" in t for _, t, _ in parts.dev_scope)
    first = dev[0]
    own = _fold_index(parts, set(), first.fold, embedder, normalizer, SearchSettings())
    other = _fold_index(parts, set(), (first.fold - FOLDS + 1) % DEV_FOLDS + FOLDS, embedder, normalizer,
                        SearchSettings())
    assert own.scope is not None and other.scope is not None
    text = normalizer.normalized(first.text)
    # the fold that holds the question out has not learned it; another fold has
    assert own.scope.probability(text) < other.scope.probability(text)
