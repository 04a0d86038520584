"""Evaluation metrics on the fixture index: ranks and the decisions a person sees."""

from __future__ import annotations

import pytest

from index import SearchIndex
from index.evaluate import EvalSet, Outcome, collect, evaluate, score

EVAL = EvalSet.model_validate(
    {
        "domain": [
            {"q": "gmn cara bikin nib di oss", "ids": ["nib-lewat-oss"], "split": "dev"},
            {"q": "potongan qris brp persen", "ids": ["qris-daftar-dan-biaya"], "split": "dev"},
            # deliberately wrong label: the right answer is the NIB entry, so this one misses
            {"q": "daftar nib lewat oss gratis?", "ids": ["kemasan-kopi-valve"], "split": "test"},
        ],
        "off_topic": [
            {"q": "jadwal kereta ke jogja besok", "split": "dev"},
            {"q": "halo selamat pagi", "split": "test"},
        ],
    }
)


def test_metrics_count_what_a_person_sees(search_index: SearchIndex) -> None:
    m = evaluate(search_index, EVAL, "hybrid")
    assert (m.n_domain, m.n_off_topic) == (3, 2)
    assert m.hit1 == pytest.approx(2 / 3)
    assert m.hit3 <= 1.0 and m.mrr < 1.0
    # every domain question ends in exactly one of: right answer, wrong answer, clarify, refusal
    assert m.direct_correct + m.wrong_answer + m.clarify_rate + m.wrong_refusal == pytest.approx(1.0)
    expected = {"answer_right": 0, "answer_wrong": 0, "none": 0}
    for q in EVAL.domain:
        result = search_index.search(q.q, k=10)
        if result.decision == "answer":
            expected["answer_right" if result.hits[0].entry.id in q.ids else "answer_wrong"] += 1
        elif result.decision == "none":
            expected["none"] += 1
    assert m.direct_correct == pytest.approx(expected["answer_right"] / 3)
    assert m.wrong_answer == pytest.approx(expected["answer_wrong"] / 3)
    assert m.wrong_refusal == pytest.approx(expected["none"] / 3)
    assert m.rejection_rate == pytest.approx(1.0)


def test_score_counts_each_decision() -> None:
    outcomes = [
        Outcome(True, 1, "answer", True, False),
        Outcome(True, 2, "answer", False, False),
        Outcome(True, 2, "clarify", False, True),
        Outcome(True, 3, "clarify", False, False),
        Outcome(True, None, "none", False, False),
        Outcome(False, None, "none", False, False),
        Outcome(False, None, "answer", False, False),
    ]
    m = score(outcomes, "hybrid")
    assert (m.direct_correct, m.wrong_answer, m.clarify_rate, m.wrong_refusal) == (0.2, 0.2, 0.4, 0.2)
    assert m.clarify_right == 0.5 and m.rejection_rate == 0.5 and m.answered_rate == 0.4
    assert m.hit1 == 0.2 and m.hit3 == 0.8 and m.mrr == pytest.approx((1 + 0.5 + 0.5 + 1 / 3) / 5)
    assert evaluate_split_sizes() == (2, 1)


def evaluate_split_sizes() -> tuple[int, int]:
    dev = EVAL.only("dev")
    return len(dev.domain), len(dev.off_topic)


def test_collect_scores_small_talk_as_refused(search_index: SearchIndex) -> None:
    outcomes = collect(search_index, EVAL, "hybrid")
    greeting = outcomes[-1]  # "halo selamat pagi": never searched, so never answered
    assert not greeting.domain and greeting.decision == "none"
