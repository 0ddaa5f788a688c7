"""The language of a message's text, among the few a help desk answers in.

lingua ships its language models inside the wheel and loads them lazily, the first time a
detector meets text; nothing is downloaded. Restricting it to the candidates is both faster
and more accurate than asking it to choose among all 75 languages it knows.
"""

from collections.abc import Sequence
from functools import lru_cache

from lingua import IsoCode639_1, LanguageDetector, LanguageDetectorBuilder

DEFAULT_CANDIDATES = ("en", "it", "ru", "hu", "ro")
# Below this many letters every detector guesses; "undetermined" is the honest answer.
MIN_LETTERS = 20


@lru_cache(maxsize=8)
def _detector(candidates: tuple[str, ...]) -> LanguageDetector:
    codes = []
    for code in candidates:
        try:
            codes.append(IsoCode639_1.from_str(code))
        except ValueError:
            raise ValueError(f"unknown ISO 639-1 language code: {code!r}") from None
    return LanguageDetectorBuilder.from_iso_codes_639_1(*codes).build()


def detect_language(
    text: str,
    *,
    candidates: Sequence[str] = DEFAULT_CANDIDATES,
    min_confidence: float = 0.5,
) -> str | None:
    """ISO 639-1 code of the likeliest candidate, or None when the text is too short or no
    candidate reaches ``min_confidence`` (lingua's confidences over the candidates sum to 1).
    An unknown code in ``candidates`` is a ValueError: that is configuration, not data."""
    key = tuple(sorted({code.strip().lower() for code in candidates}))
    if not key:
        return None
    detector = _detector(key)
    if sum(ch.isalpha() for ch in text) < MIN_LETTERS:
        return None
    values = detector.compute_language_confidence_values(text)
    if not values or values[0].value < min_confidence:
        return None
    return values[0].language.iso_code_639_1.name.lower()
