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
    affixes: bool = True  # undo Javanese / Jakarta affixes of unknown words

    @classmethod
    def default(cls) -> Normalizer:
        """The normaliser built from the packaged slang and stopword lists."""
        return _default_normalizer()

    def expand(self, text: str) -> list[str]:
        """Clean the text and replace slang tokens by standard Indonesian words; an unknown word
        with a Javanese or Jakarta affix (regane, ngitunge, disiapke, koperasiku, matiin,
        ndaftar) becomes the known word inside it (see `informal_root`)."""
        words: list[str] = []
        for token in clean_text(text).split():
            replacement = self.slang.get(token)
            if replacement is None:
                root = informal_root(token, self.slang) if self.affixes else token
                replacement = self.slang.get(root, (root,))
            words.extend(replacement)
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
        return " ".join(self.expand(text[:MAX_QUERY_CHARS]))

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


# Javanese / Jakarta suffixes of an unknown word, tried longest first: regane, usahane -> -ne;
# modale, ngitunge -> -e; disiapke -> -ke; koperasiku, pisangmu -> -ku/-mu; matiin, siapin -> -in.
_SUFFIXES = ("ne", "ke", "ku", "mu", "in", "e")
# Nasal prefixes of spoken Javanese / Jakarta verbs and the letters they replace:
# ngitung -> hitung, ngirim -> kirim, ngurus -> urus; nyari -> cari, nyapu -> sapu;
# ndaftar -> daftar; mbayar -> bayar; nanya -> tanya.
_PREFIXES = (("ng", ("h", "k", "")), ("ny", ("c", "s")), ("nd", ("d",)), ("mb", ("b",)), ("n", ("t",)),
             ("m", ("p",)))
_MIN_ROOT = 4


def _known(word: str, slang: dict[str, tuple[str, ...]], stemmed: bool = True) -> bool:
    if word in slang or word in _english_words():
        return True
    dictionary = _stemmer().delegatedStemmer.dictionary
    return bool(dictionary.contains(word) or (stemmed and dictionary.contains(_stem(word))))


@lru_cache(maxsize=65536)
def _root(token: str, slang_id: int) -> str:
    slang = _SLANG_BY_ID[slang_id]
    if len(token) <= _MIN_ROOT or token.isdigit() or _known(token, slang, stemmed=False):
        return token
    stems = [token] + [token[: -len(s)] for s in _SUFFIXES if token.endswith(s) and len(token) - len(s) >= _MIN_ROOT]
    for stem in stems[1:]:
        if _known(stem, slang):
            return stem
    if _known(token, slang):
        return token  # a standard derived word (membeli, penjualan): the stemmer knows it
    for stem in stems:
        for prefix, replaced in _PREFIXES:
            if stem.startswith(prefix) and len(stem) > len(prefix) + 2:
                for letters in replaced:
                    candidate = letters + stem[len(prefix):]
                    if len(candidate) >= _MIN_ROOT and _known(candidate, slang):
                        return candidate
    return token


_SLANG_BY_ID: dict[int, dict[str, tuple[str, ...]]] = {}


def informal_root(token: str, slang: dict[str, tuple[str, ...]]) -> str:
    """The known word inside an unknown informal one, else the token itself. Known: a slang
    token, a common English word, or a word (or the stem of one) of Sastrawi's Indonesian
    dictionary. A word of the dictionary itself never changes; a suffix comes off when what is
    left is known (koperasiku -> koperasi); a nasal prefix only of a word the stemmer does not
    know either (membeli stays). Only words of five letters or more change, and only into a
    known word of four or more: "kue", "kode" and "make" stay as they are."""
    _SLANG_BY_ID.setdefault(id(slang), slang)
    return _root(token, id(slang))


@lru_cache(maxsize=1)
def _english_words() -> frozenset[str]:
    return _load_words(_read_data("english_words.txt"))


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
    for name in ("slang.tsv", "stopwords.txt", "english_words.txt"):
        digest.update(_read_data(name).encode())
    digest.update(Path(__file__).read_bytes())
    return digest.hexdigest()
