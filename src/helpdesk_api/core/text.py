"""One rule for text fields, applied by type: what every field refuses, and what a one-line
field (a subject, a name) refuses besides.

* Every text refuses NUL and other control characters (tab and line breaks are allowed where
  text has lines), and a required one must have something visible: spaces, zero-width
  characters and other invisible formatting alone are blank.
* A one-line field refuses line breaks and tabs too, and the bidirectional overrides and
  isolates (U+202A–U+202E, U+2066–U+2069) that make a name display as something else
  ("Trojan source"). The marks U+200E/U+200F, which right-to-left text needs, are kept.

Values are stored as given: nothing is silently stripped or rewritten.
"""

import unicodedata

from pydantic import AfterValidator

BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
LINE_BREAKS = frozenset("\t\n\r")


def is_visible(value: str) -> bool:
    """Has a character that shows: not whitespace, not a control or format character."""
    return any(not ch.isspace() and unicodedata.category(ch) not in ("Cc", "Cf") for ch in value)


def _check(value: str, *, one_line: bool, required: bool) -> str:
    for ch in value:
        if unicodedata.category(ch) == "Cc" and (one_line or ch not in LINE_BREAKS):
            raise ValueError(
                f"must not contain control characters (found U+{ord(ch):04X})"
                + ("; line breaks and tabs are not allowed here" if ch in LINE_BREAKS else "")
            )
        if one_line and ch in BIDI_CONTROLS:
            raise ValueError(
                f"must not contain bidirectional override characters (found U+{ord(ch):04X})"
            )
    if required and not is_visible(value):
        raise ValueError("must not be blank")
    return value


def _line(value: str) -> str:
    return _check(value, one_line=True, required=True)


def _text(value: str) -> str:
    return _check(value, one_line=False, required=True)


def _optional_text(value: str) -> str:
    return _check(value, one_line=False, required=False)


# Validators to put in a field's Annotated[...]: ``Annotated[str, Field(...), OneLine]``.
OneLine = AfterValidator(_line)
Lines = AfterValidator(_text)
LinesOrEmpty = AfterValidator(_optional_text)
