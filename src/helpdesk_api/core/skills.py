"""Skills: what an agent can handle and what a ticket needs, in one spelling.

A skill is a word, or ``kind:value``: ``billing``, ``lang:it``, ``product:acme-router``,
``tier:2``. Lower case letters and digits, joined by ``-``, ``_`` or ``.``; input is
stripped and lower-cased, so ``Lang:IT`` is ``lang:it``. A language skill names the language
alone, as an ISO 639 code (``lang:pt``, not ``lang:pt-br``): routing matches it against the
language of the requester's locale (``pt-BR`` → ``lang:pt``).

Lists are kept sorted and without repeats, so two spellings of one set compare equal and an
audit shows a change only when the set changed.
"""

import re
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints

MAX_SKILL_LENGTH = 100
MAX_SKILLS = 50
LANGUAGE_KIND = "lang"

_PART = r"[a-z0-9]+(?:[._-][a-z0-9]+)*"
_SKILL = re.compile(rf"^{_PART}(?::{_PART})?$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")


def check_skill(value: str) -> str:
    if not _SKILL.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a skill: a word or kind:value of letters, digits, '-', '_' and "
            "'.', such as billing, lang:it, product:acme-router or tier:2"
        )
    kind, _, rest = value.partition(":")
    if kind == LANGUAGE_KIND and not _LANGUAGE.fullmatch(rest):
        raise ValueError(
            f"{value!r}: a language skill names the language alone, as an ISO 639 code "
            "(lang:it, lang:pt)"
        )
    return value


def _as_set(values: list[str]) -> list[str]:
    return sorted(set(values))


Skill = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, to_lower=True, min_length=1, max_length=MAX_SKILL_LENGTH
    ),
    AfterValidator(check_skill),
]
SkillList = Annotated[
    list[Skill],
    Field(max_length=MAX_SKILLS, examples=[["lang:it", "product:acme-router", "tier:2"]]),
    AfterValidator(_as_set),
]


def language_skill(locale: str | None) -> str | None:
    """The skill that speaks ``locale``'s language (``it-CH`` → ``lang:it``); None when the
    locale is missing or names no language we can match."""
    language = (locale or "").strip().replace("_", "-").split("-", 1)[0].lower()
    return f"{LANGUAGE_KIND}:{language}" if _LANGUAGE.fullmatch(language) else None
