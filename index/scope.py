"""Is a message about running a business at all? A small text classifier, separate from ranking.

Ranking scores say how well the best entry matches; they cannot tell a business question phrased
in unusual words from a message about football that shares one word with an entry. This model
learns the difference from the entries' own titles and questions (in scope) and a written list
of out-of-scope messages (knowledge/out_of_scope.txt). Character n-grams cope with typos,
abbreviations and Javanese affixes; hashing keeps it stateless, so only the weights are saved.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy.special import expit
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.linear_model import LogisticRegression

from index.entries import Entry

OUT_OF_SCOPE_FILE = "out_of_scope.txt"
SCOPE_FILE = "scope.npz"
_N_FEATURES = 2**18


def _vectorizer() -> HashingVectorizer:
    return HashingVectorizer(
        analyzer="char_wb", ngram_range=(2, 5), n_features=_N_FEATURES, alternate_sign=False, norm="l2"
    )


def in_scope_texts(entry: Entry) -> list[str]:
    """The ways of asking an entry that teach the model what in scope looks like."""
    return [entry.title, entry.title_en, *entry.questions, *entry.questions_en]


def read_out_of_scope(knowledge_dir: Path) -> list[str]:
    """Out-of-scope example messages, one a line (# comments); empty when the file is absent."""
    path = knowledge_dir / OUT_OF_SCOPE_FILE
    if not path.is_file():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


class ScopeModel:
    """Probability that a (normalised) message is a business question this knowledge base covers."""

    def __init__(self, weights: np.ndarray, bias: float) -> None:
        self._weights = weights.astype(np.float32)
        self._bias = float(bias)
        self._vectorizer = _vectorizer()

    @classmethod
    def train(cls, in_scope: list[str], out_of_scope: list[str]) -> ScopeModel:
        """Fit on both lists; classes are weighted so their sizes do not matter."""
        texts = in_scope + out_of_scope
        labels = np.array([1] * len(in_scope) + [0] * len(out_of_scope))
        model = LogisticRegression(C=4.0, class_weight="balanced", max_iter=2000)
        model.fit(_vectorizer().transform(texts), labels)
        return cls(model.coef_[0], model.intercept_[0])

    def probability(self, text: str) -> float:
        """P(in scope) for one message."""
        features = self._vectorizer.transform([text])
        return float(expit(float((features @ self._weights)[0]) + self._bias))

    def save(self, folder: Path) -> None:
        """Plain arrays (no pickle)."""
        np.savez_compressed(folder / SCOPE_FILE, weights=self._weights, bias=np.array([self._bias]))

    @classmethod
    def load(cls, folder: Path) -> ScopeModel | None:
        """The saved model, or None when the index was built without out-of-scope examples."""
        path = folder / SCOPE_FILE
        if not path.is_file():
            return None
        with np.load(path) as data:
            return cls(data["weights"], float(data["bias"][0]))
