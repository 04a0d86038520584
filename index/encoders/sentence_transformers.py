"""Any sentence-transformers model folder (or a package shipping one), on the CPU via torch."""

from __future__ import annotations

import os

import numpy as np

from index.embedder import MINILM_PACKAGE, ModelNotFoundError, normalised, resolve_model_path


class SentenceTransformerEmbedder:
    """sentence-transformers on the CPU, loaded from disk only (HF_HUB_OFFLINE=1). The model's own
    prompts, when its folder configures "query"/"document" prompts (e5 and similar), are used."""

    def __init__(self, model: str = MINILM_PACKAGE, *, batch_size: int = 64) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        from sentence_transformers import SentenceTransformer  # heavy import (torch), deferred on purpose
        from transformers.utils import logging as hf_logging

        # The weight-loading progress bar is noise on a terminal chat and in logs.
        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()

        path = resolve_model_path(model)
        try:
            self._model = SentenceTransformer(str(path), device="cpu")
        except Exception as exc:  # noqa: BLE001 - any load failure means the same thing to a user
            raise ModelNotFoundError(f"could not load embedding model from {path}: {exc}") from exc
        self.model_id = model
        self.dimension = int(self._model.get_embedding_dimension())
        self._batch_size = batch_size
        prompts = getattr(self._model, "prompts", {}) or {}
        self._query_prompt = "query" if "query" in prompts else None
        self._passage_prompt = next((p for p in ("document", "passage") if p in prompts), None)

    def _encode(self, texts: list[str], prompt: str | None) -> np.ndarray:
        vectors = self._model.encode(
            texts,
            batch_size=self._batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
            prompt_name=prompt,
        )
        return normalised(vectors)

    def encode(self, texts: list[str]) -> np.ndarray:
        """Passages to normalised float32 vectors, one row per text."""
        return self._encode(texts, self._passage_prompt)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Questions to normalised float32 vectors."""
        return self._encode(texts, self._query_prompt)
