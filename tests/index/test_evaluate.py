"""Retrieval metrics on the fixture index: ranks, answered and rejection rates."""

from __future__ import annotations

import pytest

from index import SearchIndex
from index.evaluate import EvalSet, collect, evaluate, score

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


def test_metrics_count_ranks_and_answers(search_index: SearchIndex) -> None:
    m = evaluate(search_index, EVAL, "hybrid")
    assert (m.n_domain, m.n_off_topic) == (3, 2)
    assert m.hit1 == pytest.approx(2 / 3)
    assert m.hit3 <= 1.0 and m.mrr < 1.0
    assert m.answered_rate == pytest.approx(1.0)
    assert m.rejection_rate == pytest.approx(1.0)


def test_score_applies_any_threshold_without_searching_again(search_index: SearchIndex) -> None:
    outcomes = collect(search_index, EVAL, "hybrid")
    small_talk = [o for o in outcomes if not o.searched]
    assert len(small_talk) == 1  # "halo selamat pagi" is never answered, whatever the threshold
    everything = score(outcomes, "hybrid", 0.0)
    assert everything.answered_rate == 1.0 and everything.rejection_rate == 0.5
    nothing = score(outcomes, "hybrid", 1.01)
    assert nothing.answered_rate == 0.0 and nothing.rejection_rate == 1.0
    train = next(o for o in outcomes if not o.domain and o.searched)
    assert score(outcomes, "hybrid", train.confidence * train.scope).rejection_rate == 0.5
    assert evaluate(search_index, EVAL.only("dev"), "hybrid").n_domain == 2
