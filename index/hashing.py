"""Hashed character n-grams and words in plain Python and numpy.

The scope check and the character n-gram ranking each turn one short message into a sparse
vector per question. scikit-learn's HashingVectorizer did that in ~0.3 ms of validation and
sparse-matrix overhead per call, and importing it (with scipy) cost ~0.8 s of cold start; a
dictionary of crc32-hashed pieces does the same job in tens of microseconds with nothing to import.
Training (at build time only) uses the same function, so query and index always agree.
"""

from __future__ import annotations

import zlib

import numpy as np


def char_ngrams(text: str, low: int, high: int) -> list[str]:
    """Character n-grams of each space-padded word (scikit-learn's 'char_wb' analyzer)."""
    grams: list[str] = []
    for word in text.split():
        padded = f" {word} "
        length = len(padded)
        for n in range(low, high + 1):
            if length <= n:
                grams.append(padded)  # a short word counts once, whatever n
                break
            grams += [padded[i : i + n] for i in range(length - n + 1)]  # a list: faster than a generator
    return grams


def hashed_counts(pieces: list[str], n_features: int) -> tuple[np.ndarray, np.ndarray]:
    """Sorted unique bucket numbers and how often each occurs."""
    if not pieces:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    # map() keeps the per-piece work in C: half the time of a dictionary filled in a loop.
    hashes = np.fromiter(map(zlib.crc32, map(str.encode, pieces)), dtype=np.int64, count=len(pieces))
    buckets, counts = np.unique(hashes % n_features, return_counts=True)
    return buckets, counts.astype(np.float32)


def scope_pieces(text: str, word_repeat: int = 1, skip: frozenset[str] = frozenset()) -> list[str]:
    """What the scope classifier sees: 2-5 letter pieces of words, plus whole words and word pairs
    (marked so they never collide with letter pieces), each counted `word_repeat` times; words in
    `skip` (function words) give letter pieces only."""
    words = [w for w in text.split() if w not in skip]
    whole = [*(f"w:{w}" for w in words), *(f"b:{a}_{b}" for a, b in zip(words, words[1:], strict=False))]
    return [*char_ngrams(text, 2, 5), *(whole * word_repeat)]
