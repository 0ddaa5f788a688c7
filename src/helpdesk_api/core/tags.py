"""Tags: the one normalisation used by users, organisations and tickets alike."""

import unicodedata
from collections.abc import Sequence

from helpdesk_api.core.errors import InvalidInput
from helpdesk_api.core.text import is_visible

MAX_TAG_LENGTH = 100
MAX_TAGS = 100


def normalize_tag(value: str, *, loc: Sequence[str | int]) -> str:
    """One tag as stored: stripped, a leading '#' removed, lower case, inner whitespace runs
    replaced by '_' (so "Key Account" and "key_account" are the same tag, as search and
    rules expect). Empty, or longer than 100 characters after that → 422 at ``loc``.
    """
    tag = value.strip().removeprefix("#").strip().lower()
    tag = "_".join(tag.split())
    if not is_visible(tag):
        raise InvalidInput("A tag must not be empty.", loc=loc, type="tag_empty")
    invisible = [ch for ch in tag if unicodedata.category(ch) in ("Cc", "Cf")]
    if invisible:
        raise InvalidInput(
            f"A tag must not contain control or invisible characters (found "
            f"U+{ord(invisible[0]):04X}).",
            loc=loc,
            type="tag_invalid",
        )
    if len(tag) > MAX_TAG_LENGTH:
        raise InvalidInput(
            f"A tag may have at most {MAX_TAG_LENGTH} characters.", loc=loc, type="tag_too_long"
        )
    return tag


def normalize_tags(values: Sequence[str], *, loc: Sequence[str | int]) -> list[str]:
    """Normalise a list of tags for storage; see ``normalize_tag`` for one tag.

    Duplicates (after normalisation) are dropped, first occurrence kept, order preserved.
    ``loc`` names the list, e.g. ``("body", "tags")``; an error on one tag points at its index
    (``("body", "tags", 2)``). More than 100 tags → 422 at ``loc``.
    """
    if len(values) > MAX_TAGS:
        raise InvalidInput(f"At most {MAX_TAGS} tags are allowed.", loc=loc, type="too_many_tags")
    seen: dict[str, None] = {}
    for index, value in enumerate(values):
        seen.setdefault(normalize_tag(value, loc=(*loc, index)), None)
    return list(seen)
