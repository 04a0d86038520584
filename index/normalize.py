"""Indonesian text normalisation shared by entries and queries.

Informal phone Indonesian arrives with abbreviations (gmn, yg), slang and Javanese (piye, ora),
letter stretching (tolonggg), reduplication written with a 2 (kue2) and emoji. The same steps
run on knowledge entries at build time and on questions at query time, so both meet in one
vocabulary.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from Sastrawi.Stemmer.StemmerFactory import StemmerFactory

MAX_QUERY_CHARS = 1000

_DATA = resources.files("index") / "data"
_STRETCH = re.compile(r"([a-z])\1{2,}")
_REDUP = re.compile(r"\b([a-z]{2,})2\b")
_NON_WORD = re.compile(r"[^a-z0-9]+")


def _read_data(name: str) -> str:
    return (_DATA / name).read_text(encoding="utf-8")


def _load_slang(text: str) -> dict[str, tuple[str, ...]]:
    slang: dict[str, tuple[str, ...]] = {}
    for raw in text.splitlines():
        if not raw.strip() or raw.startswith("#"):
            continue
        token, _, replacement = raw.partition("\t")
        slang[token.strip()] = tuple(replacement.split())
    return slang


def _load_words(text: str) -> frozenset[str]:
    return frozenset(
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


@lru_cache(maxsize=4096)  # one question is cleaned for several steps (tokens, n-grams, cache key, encoder)
def clean_text(text: str) -> str:
    """Unicode-fold, lower-case and keep only letters and digits, space-separated. Invisible
    format characters (zero-width space/joiners, word joiner, BOM, soft hyphen, bidi marks and
    embeddings) are dropped without a trace, so "ni\u200bb" is still "nib"."""
    text = unicodedata.normalize("NFKC", text).lower()
    # Category Cf = format characters: pasted from web pages and chat apps inside words.
    text = "".join(
        ch if unicodedata.category(ch)[0] in "LN" else "" if unicodedata.category(ch) == "Cf" else " "
        for ch in text
    )
    # Accented Latin letters fold to ASCII; other scripts drop out (the index is Latin-only).
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    text = _REDUP.sub(r"\1", text)
    text = _STRETCH.sub(r"\1", text)
    return " ".join(_NON_WORD.sub(" ", text).split())


@dataclass(frozen=True)
class Normalizer:
    """Expands slang, drops function words and stems; `tokens()` feeds BM25."""

    slang: dict[str, tuple[str, ...]]
    stopwords: frozenset[str]
    small_talk: frozenset[str] = frozenset()

    @classmethod
    def default(cls) -> Normalizer:
        """The normaliser built from the packaged slang and stopword lists."""
        return _default_normalizer()

    def expand(self, text: str) -> list[str]:
        """Clean the text and replace slang tokens by standard Indonesian words."""
        words: list[str] = []
        for token in clean_text(text).split():
            words.extend(self.slang.get(token, (token,)))
        return words

    def tokens(self, text: str) -> list[str]:
        """Content tokens: expanded, without function words, stemmed."""
        return [
            _stem(word) for word in self.expand(text) if word not in self.stopwords and len(word) > 1
        ]

    def content_text(self, text: str) -> str:
        """Expanded words without function words, not stemmed: what character n-grams see."""
        words = self.expand(text[:MAX_QUERY_CHARS])
        return " ".join(w for w in words if w not in self.stopwords and len(w) > 1)

    def is_small_talk(self, text: str) -> bool:
        """True for a greeting, thanks, laughter or test ping with nothing else in it."""
        words = self.expand(text[:MAX_QUERY_CHARS])
        return any(w in self.small_talk for w in words) and all(
            w in self.small_talk or w in self.stopwords for w in words
        )

    def dense_text(self, text: str) -> str:
        """What the sentence encoder sees: cleaned but not slang-expanded, because the model
        knows English and Indonesian words and the slang map turns English into Indonesian."""
        return clean_text(text[:MAX_QUERY_CHARS])

    def normalized(self, text: str) -> str:
        """One string form of the expanded text, used as the cache key and recorded per question."""
        return " ".join(self.expand(text[:MAX_QUERY_CHARS]))


@lru_cache(maxsize=1)
def _default_normalizer() -> Normalizer:
    return Normalizer(
        slang=_load_slang(_read_data("slang.tsv")),
        stopwords=_load_words(_read_data("stopwords.txt")),
        small_talk=_load_words(_read_data("small_talk.txt")),
    )


@lru_cache(maxsize=1)
def _stemmer():  # type: ignore[no-untyped-def]
    return StemmerFactory().create_stemmer()


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    # Sastrawi is slow per call; words repeat a lot, so cache per word.
    if word.isdigit():
        return word
    return _stemmer().stem(word) or word


def normalizer_data_hash() -> str:
    """Hash of the normaliser's data files: an index built with other lists is stale."""
    digest = hashlib.sha256()
    for name in ("slang.tsv", "stopwords.txt"):
        digest.update(_read_data(name).encode())
    digest.update(Path(__file__).read_bytes())
    return digest.hexdigest()
