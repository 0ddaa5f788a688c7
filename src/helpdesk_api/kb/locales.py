"""Locale tags of articles, and the text search configuration each one is stemmed with.

The tag rules are the notifications' (a BCP 47 subset, one canonical spelling), kept here
because the knowledge base sits below notifications in the layers.
"""

import re
from typing import Annotated

from fastapi import Path, Query
from pydantic import AfterValidator, Field

_LOCALE = re.compile(r"^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$")
MAX_LENGTH = 35

# Language → configuration (migration 0015 creates them; ``kb_search_config`` in SQL mirrors
# this mapping). Every other language is searched word for word, without stemming.
SEARCH_CONFIGURATIONS = {
    "en": "kb_english",
    "it": "kb_italian",
    "ru": "kb_russian",
    "hu": "kb_hungarian",
    "ro": "kb_romanian",
}
FALLBACK_CONFIGURATION = "kb_simple"


def canonical_locale(value: str) -> str:
    """``PT-br`` → ``pt-BR``: language lower case, script title case, region upper case."""
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


def _locale(value: str) -> str:
    if len(value) > MAX_LENGTH or not _LOCALE.fullmatch(value):
        raise ValueError("must be a BCP 47 language tag such as en, it or pt-BR")
    return canonical_locale(value)


def search_configuration(locale: str) -> str:
    return SEARCH_CONFIGURATIONS.get(locale.split("-", 1)[0].lower(), FALLBACK_CONFIGURATION)


LOCALE_DESCRIPTION = "A BCP 47 language tag (`en`, `it`, `pt-BR`), stored in canonical case."
Locale = Annotated[
    str,
    Field(min_length=2, max_length=MAX_LENGTH, examples=["it"], description=LOCALE_DESCRIPTION),
    AfterValidator(_locale),
]


def parse_locale(value: str) -> str | None:
    """The canonical tag, or None when ``value`` is not one."""
    try:
        return _locale(value)
    except ValueError:
        return None


LocalePath = Annotated[
    str,
    Path(min_length=2, max_length=MAX_LENGTH, description=LOCALE_DESCRIPTION),
    AfterValidator(_locale),
]
LocaleQuery = Annotated[
    str | None,
    Query(min_length=2, max_length=MAX_LENGTH, description=LOCALE_DESCRIPTION),
    AfterValidator(lambda value: None if value is None else _locale(value)),
]
