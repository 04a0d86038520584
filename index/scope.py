"""Is a message about running a business at all? A small text classifier, separate from ranking.

Ranking scores say how well the best entry matches; they cannot tell a business question phrased
in unusual words from a message about football that shares one word with an entry. This model
learns the difference from the entries' own titles and questions (in scope) and a written list
of out-of-scope messages (knowledge/out_of_scope.txt). Character n-grams cope with typos,
abbreviations and Javanese affixes; whole words and word pairs tell "cicilan hp saya" from
"cicilan kur". Hashing keeps it stateless, so only the weights are saved. Its probability is one
input of the answer decision (index/decision.py), not a gate of its own.
"""

from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path

import numpy as np

from index.entries import Entry
from index.hashing import hashed_counts, scope_pieces
from index.normalize import Normalizer

OUT_OF_SCOPE_FILE = "out_of_scope.txt"
SCOPE_FILE = "scope.npz"
N_FEATURES = 2**18
# Inverse regularisation strength of the logistic regression, chosen on the dev half's out-of-fold
# decisions once the dev questions joined its training (direct-correct at the targets: C=1 0.853,
# 4 0.859, 16 0.867, 64 0.869 -- within noise above 4; the stronger regularisation of the two).
REGULARISATION_C = 16.0
# Whole words and word pairs count this many times against the (many more) letter pieces; function
# words (berapa, sekarang, saya...) count as letters only: as whole words they are asked everywhere,
# and the model learned them as out of scope from the many "berapa ..." chit-chat examples.
WORD_REPEAT = 3


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


@lru_cache(maxsize=65536)  # a build trains one model per fold on mostly the same texts
def _features(text: str) -> tuple[np.ndarray, np.ndarray]:
    buckets, counts = hashed_counts(scope_pieces(text, WORD_REPEAT, Normalizer.default().stopwords), N_FEATURES)
    norm = float(np.linalg.norm(counts))
    values = counts / norm if norm else counts
    buckets.flags.writeable = values.flags.writeable = False  # cached: shared between callers
    return buckets, values


class ScopeModel:
    """Probability that a (normalised) message is a business question this knowledge base covers."""

    def __init__(self, weights: np.ndarray, bias: float) -> None:
        self._weights = weights.astype(np.float32)
        self._bias = float(bias)

    @classmethod
    def train(cls, in_scope: list[str], out_of_scope: list[str]) -> ScopeModel:
        """Fit on both lists; classes are weighted so their sizes do not matter."""
        from scipy import sparse  # build time only: a query never imports scipy or scikit-learn
        from sklearn.linear_model import LogisticRegression

        texts = in_scope + out_of_scope
        rows, cols, vals = [], [], []
        for number, text in enumerate(texts):
            buckets, values = _features(text)
            rows.append(np.full(len(buckets), number))
            cols.append(buckets)
            vals.append(values)
        # Fit on the buckets that occur only (a few tens of thousands, not 2**18): the same model,
        # several times faster to optimise; unused buckets keep weight 0.
        used, columns = np.unique(np.concatenate(cols), return_inverse=True)
        matrix = sparse.csr_matrix(
            (np.concatenate(vals), (np.concatenate(rows), columns)), shape=(len(texts), len(used))
        )
        labels = np.array([1] * len(in_scope) + [0] * len(out_of_scope))
        model = LogisticRegression(C=REGULARISATION_C, class_weight="balanced", max_iter=3000)
        model.fit(matrix, labels)
        weights = np.zeros(N_FEATURES, dtype=np.float32)
        weights[used] = model.coef_[0]
        return cls(weights, model.intercept_[0])

    def logit(self, text: str) -> float:
        """Log-odds that the message is in scope."""
        buckets, values = _features(text)
        return float(self._weights[buckets] @ values) + self._bias

    def probability(self, text: str) -> float:
        """P(in scope) for one message."""
        z = self.logit(text)
        # Written so that neither branch can overflow for very large |z|.
        return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))

    def save(self, folder: Path) -> None:
        """Plain arrays (no pickle)."""
        np.savez_compressed(folder / SCOPE_FILE, weights=self._weights, bias=np.array([self._bias]))

    @classmethod
    def load(cls, folder: Path) -> ScopeModel | None:
        """The saved model, or None when the index was built without out-of-scope examples."""
        path = folder / SCOPE_FILE
        if not path.is_file():
            return None
        with np.load(path, allow_pickle=False) as data:
            return cls(data["weights"], float(data["bias"][0]))
