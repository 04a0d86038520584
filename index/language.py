"""How English a question is: the sentence encoder is an English model, so its similarity is
trustworthy for English questions and much weaker for Indonesian or Javanese ones."""

from __future__ import annotations

from functools import lru_cache

from lingua import Language, LanguageDetector, LanguageDetectorBuilder


@lru_cache(maxsize=1)
def _detector() -> LanguageDetector:
    # Malay is a candidate too: without it, informal Indonesian often scores as English.
    return LanguageDetectorBuilder.from_languages(
        Language.ENGLISH, Language.INDONESIAN, Language.MALAY
    ).build()


@lru_cache(maxsize=4096)
def english_share(text: str) -> float:
    """Confidence in 0..1 that `text` is English rather than Indonesian or Malay."""
    if not text.strip():
        return 0.0
    return float(_detector().compute_language_confidence(text, Language.ENGLISH))


def warm_up() -> None:
    """Load the language models now, so the first question does not pay for it."""
    english_share("warm up")
