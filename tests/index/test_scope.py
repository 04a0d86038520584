"""The out-of-scope check, small talk and the language signal, on real data."""

from __future__ import annotations

from pathlib import Path

import pytest

from index import SearchIndex
from index.normalize import Normalizer
from index.scope import ScopeModel, read_out_of_scope
from index.search import english_share
from index.store import load_index
from tests.fixture_knowledge import FIXTURE_ENTRIES, FIXTURE_OUT_OF_SCOPE

IN_SCOPE = [q for data in FIXTURE_ENTRIES.values() for q in data["questions"]]  # type: ignore[union-attr]


def test_scope_model_separates_business_from_other_messages(tmp_path: Path) -> None:
    model = ScopeModel.train(IN_SCOPE, FIXTURE_OUT_OF_SCOPE)
    business = model.probability("gmn cara daftar qris buat warung")
    football = model.probability("skor persib semalem brp")
    assert business > 0.5 > football
    model.save(tmp_path)
    loaded = ScopeModel.load(tmp_path)
    assert loaded is not None
    assert loaded.probability("gmn cara daftar qris buat warung") == pytest.approx(business, abs=1e-6)
    assert ScopeModel.load(tmp_path / "nowhere") is None


def test_out_of_scope_file_reading_skips_comments_and_blanks(tmp_path: Path) -> None:
    (tmp_path / "out_of_scope.txt").write_text("# note\n\nhalo bola\n  cuaca  \n", encoding="utf-8")
    assert read_out_of_scope(tmp_path) == ["halo bola", "cuaca"]
    assert read_out_of_scope(tmp_path / "missing") == []


def test_built_index_carries_the_scope_model(search_index: SearchIndex) -> None:
    assert search_index.scope is not None
    answered = search_index.search("potongan qris brp persen")
    assert answered.answered and answered.scope > 0.5
    refused = search_index.search("jadwal kereta ke jogja besok")
    assert not refused.answered and refused.scope < 0.5
    assert refused.reason == "out_of_scope"


def test_a_low_scope_probability_lowers_the_gate(search_index: SearchIndex) -> None:
    # The scope gate learned from data that an out-of-scope-looking message is less likely a
    # business question with the same match: only the scope feature moves here, the candidates stay.
    model = search_index.decisions["hybrid"]
    question = "potongan qris brp persen"
    normalizer = search_index.normalizer
    pool = search_index.candidates(question, normalizer.normalized(question), normalizer.tokens(question),
                                   search_index.encode_query(question), "hybrid")
    position = model.question_features.index("scope_logit")
    gates = []
    for logit in (4.0, 0.0, -4.0):
        features = pool.question.copy()
        features[position] = logit
        probabilities, none = model.probabilities(pool.features, features)
        gates.append(model.gate(pool.features, features, probabilities))
        assert probabilities.sum() + none == pytest.approx(1.0)
    assert gates[0] > gates[1] > gates[2]


def test_index_without_examples_has_no_scope_model(tmp_path: Path, built_index, embedder) -> None:  # type: ignore[no-untyped-def]
    index_dir = built_index[1]
    copy = tmp_path / "index"
    copy.mkdir()
    for item in index_dir.rglob("*"):
        if item.is_file() and item.name != "scope.npz":
            target = copy / item.relative_to(index_dir)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(item.read_bytes())
    index = load_index(copy, embedder)
    assert index.scope is None
    assert index.search("potongan qris brp persen").scope == 1.0


@pytest.mark.parametrize(
    ("text", "small_talk"),
    [
        ("halo kak", True),
        ("Selamat malam semuanya!", True),
        ("makasih ya min 🙏", True),
        ("tes", True),
        ("how are you", True),
        ("tes lab keripik dmn", False),
        ("halo, cara daftar nib gmn", False),
        ("", False),
        ("🙏🙏", False),
    ],
)
def test_small_talk_is_recognised_only_when_nothing_else_is_said(text: str, small_talk: bool) -> None:
    assert Normalizer.default().is_small_talk(text) is small_talk


def test_small_talk_is_not_searched(search_index: SearchIndex) -> None:
    result = search_index.search("halo selamat pagi")
    assert result.reason == "small_talk" and not result.answered and result.hits == ()


def test_english_share_tells_english_from_indonesian_and_javanese() -> None:
    assert english_share("how do i register my business for free") > 0.5
    assert english_share("gmn cara daftar usaha gratis") < 0.1
    assert english_share("piye carane ndaftar usaha, mbayar ora") < 0.1
    assert english_share("   ") == 0.0
