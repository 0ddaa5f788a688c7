"""Locale tags: the BCP 47 subset we accept, their one spelling, and the fallback chain."""

import re

# language (2–3 letters, or 4–8 for registered ones), then script, region, variants.
LOCALE_PATTERN = r"^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$"
LOCALE_MAX_LENGTH = 35
_LOCALE = re.compile(LOCALE_PATTERN)
DEFAULT_LOCALE = "en"


def is_locale(value: str) -> bool:
    return len(value) <= LOCALE_MAX_LENGTH and _LOCALE.fullmatch(value) is not None


def canonical_locale(value: str) -> str:
    """BCP 47's case conventions, so ``PT-br`` and ``pt-BR`` name one template: language
    lower case, a four-letter script title case (``sr-Latn``), a two-letter or three-digit
    region upper case, anything else lower case. Assumes ``is_locale(value)``."""
    language, *rest = value.split("-")
    parts = [language.lower()]
    for part in rest:
        if len(part) == 4 and part.isalpha():
            parts.append(part.title())
        elif (len(part) == 2 and part.isalpha()) or (len(part) == 3 and part.isdigit()):
            parts.append(part.upper())
        else:
            parts.append(part.lower())
    return "-".join(parts)


def language_of(locale: str) -> str:
    return locale.split("-", 1)[0]


def locale_chain(locale: str | None) -> list[str]:
    """Where a recipient's wording is looked for, in order: the locale itself, its
    language (``pt-BR`` → ``pt``), then English. A missing or malformed locale (``pt_BR``
    is read as ``pt-BR``) is English."""
    chain: list[str] = []
    value = (locale or "").strip().replace("_", "-")
    if value and is_locale(value):
        tag = canonical_locale(value)
        chain.append(tag)
        if language_of(tag) != tag:
            chain.append(language_of(tag))
    if DEFAULT_LOCALE not in chain:
        chain.append(DEFAULT_LOCALE)
    return chain
