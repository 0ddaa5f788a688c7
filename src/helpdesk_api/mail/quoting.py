"""The part of a reply its sender wrote: ``visible_reply`` drops quoted history and signatures.

Splitting a reply from its history is mail-parser-reply's job (it knows en, it, de, fr, es,
nl, da, sv, pl, cs, ja, ko, zh). It has no extension point for languages (its table is a
module constant read by private methods) and no Russian, Hungarian or Romanian, so our own
line rules run around it:

1. Before it, we cut at the first attribution line ("… wrote:", "… пишет:", "… ezt írta:",
   "… a scris:", "… ha scritto:" with a date or an address in it, or any "<date>, <name>
   <address>:" that introduces a ``>`` quote), "-----Original Message-----" style separator
   or Outlook header block ("From:/Sent:", "От:/Отправлено:", "Feladó:/Elküldve:",
   "De la:/Trimis:", "Da:/Inviato:"), and drop ``>``-quoted lines.
2. The library then cuts at the first header it knows that carries a date or an address, on
   a bounded window of the text: its header patterns backtrack quadratically on long lines
   (one 20,000-character line takes it seconds).
3. We strip signatures ourselves, by whole lines: the library's own signature rule cuts from
   any line that merely *starts* with "Thanks," or "Best,", which would drop a customer's
   "Thank you, the export works now. But …".

If nothing would be left, the original text is returned, stripped.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from mailparser_reply import EmailMessage
from mailparser_reply.constants import MAIL_LANGUAGES

DEFAULT_LANGUAGES = ("en", "it", "ru", "hu", "ro")

# An attribution line is short; anything longer is text, and never reaches a regex as a whole.
_MAX_ATTRIBUTION = 300
# The window the library sees (see the module docstring); a reply above it is kept whole.
_LIBRARY_WINDOW_CHARS = 16_000


@dataclass(frozen=True)
class _Language:
    # End of a line that introduces the quote: "… <name> пишет:" ("wrote:").
    attribution: tuple[str, ...] = ()
    # Outlook header block: a from-label line followed by one of the other labels.
    from_labels: tuple[str, ...] = ()
    header_labels: tuple[str, ...] = ()
    # Titles of "-----Original Message-----" and "---- Forwarded message ----" separators.
    separators: tuple[str, ...] = ()
    # Sign-offs; a closing may carry the name on its line ("С уважением, Иван").
    closings: tuple[str, ...] = ()
    # Whole lines added by a phone or client ("Sent from my iPhone").
    sent_from: tuple[str, ...] = ()


_LANGUAGES = {
    "en": _Language(
        # The library knows "On <date>, <name> wrote:" only at the start of a line, and only
        # inside its window; these cover the rest ("3/3/25 10:12, Support wrote:").
        attribution=(r"\bwrote",),
        from_labels=("from",),
        header_labels=("sent", "to", "cc", "subject", "date"),
        separators=("original message", "forwarded message"),
        closings=(
            "best regards", "kind regards", "warm regards", "regards", "best wishes", "best",
            "many thanks", "thanks", "thank you", "cheers", "sincerely", "yours sincerely",
        ),
        sent_from=(r"sent from my .*", r"get outlook for .*", r"sent from (?:outlook|mail) .*"),
    ),
    "it": _Language(
        attribution=(r"\bha scritto",),
        from_labels=("da",),
        header_labels=("inviato", "a", "cc", "oggetto", "data"),
        separators=("messaggio originale", "messaggio inoltrato"),
        closings=(
            "cordiali saluti", "distinti saluti", "saluti", "un saluto", "un cordiale saluto",
            "grazie mille", "grazie", "buona giornata",
        ),
        sent_from=(r"inviato da(?:l mio)? .*",),
    ),
    "ru": _Language(
        attribution=(r"\bпишет", r"\b(?:на)?писал(?:а|\(а\))?"),
        from_labels=("от",),
        header_labels=("отправлено", "кому", "копия", "тема", "дата"),
        separators=(
            "исходное сообщение", "пересылаемое сообщение", "пересланное сообщение",
            "перенаправленное сообщение",
        ),
        closings=(
            "с уважением", "с наилучшими пожеланиями", "всего доброго", "всего хорошего",
            "заранее спасибо", "спасибо", "благодарю",
        ),
        sent_from=(r"отправлено (?:с|из) .*",),
    ),
    "hu": _Language(
        # Gmail: "… ezt írta (időpont: 2025. márc. 3., H, 10:12):"
        attribution=(r"\bírta(?:\s*\([^()]*\))?",),
        from_labels=("feladó",),
        header_labels=("elküldve", "címzett", "másolatot kap", "másolat", "tárgy", "dátum"),
        separators=("eredeti üzenet", "továbbított üzenet"),
        closings=(
            "baráti üdvözlettel", "üdvözlettel", "tisztelettel", "köszönettel", "köszönöm",
            "üdv", "további szép napot", "szép napot",
        ),
        sent_from=(r"\S+-r[óo]l küldve", r"elküldve az? .*"),
    ),
    "ro": _Language(
        attribution=(r"\ba scris",),
        from_labels=("de la",),
        header_labels=("trimis", "către", "catre", "cc", "subiect", "data", "dată"),
        separators=("mesaj original", "mesajul original", "mesaj redirec[țţt]ionat"),
        closings=(
            "cu stim[ăa]", "cu respect", "cu drag", "toate cele bune", "numai bine",
            "mul[țţt]umesc", "mul[țţt]umim", "o zi bun[ăa]",
        ),
        sent_from=(r"trimis (?:de pe|din) .*",),
    ),
}  # fmt: skip


@dataclass(frozen=True)
class _Rules:
    attribution: re.Pattern[str] | None
    outlook_from: re.Pattern[str] | None
    outlook_next: re.Pattern[str] | None
    separator: re.Pattern[str]
    closing: re.Pattern[str] | None
    sent_from: re.Pattern[str] | None
    library_languages: tuple[str, ...]


def _alternation(parts: Sequence[str]) -> str | None:
    # Longest first, so that "best regards" is tried before "best".
    return "|".join(f"(?:{p})" for p in sorted(parts, key=len, reverse=True)) if parts else None


def _compiled(pattern: str | None, template: str) -> re.Pattern[str] | None:
    return re.compile(template.format(pattern), re.IGNORECASE) if pattern else None


@lru_cache(maxsize=16)
def _rules(languages: tuple[str, ...]) -> _Rules:
    chosen = [_LANGUAGES[code] for code in languages if code in _LANGUAGES]
    separators = _alternation([s for lang in chosen for s in lang.separators])
    return _Rules(
        attribution=_compiled(
            _alternation([a for lang in chosen for a in lang.attribution]), r"(?:{})\s*:\s*$"
        ),
        outlook_from=_compiled(
            _alternation([f for lang in chosen for f in lang.from_labels]),
            r"^[*\s]*(?:{})[*\s]*:\s*\S",
        ),
        outlook_next=_compiled(
            _alternation([h for lang in chosen for h in lang.header_labels]),
            r"^[*\s]*(?:{})[*\s]*:",
        ),
        separator=re.compile(
            rf"^\s*-{{3,}}\s*(?:{separators or 'original message'})\s*-{{3,}}\s*$", re.IGNORECASE
        ),
        closing=_compiled(
            _alternation([c for lang in chosen for c in lang.closings]), r"^(?:{})(?!\w)"
        ),
        sent_from=_compiled(_alternation([s for lang in chosen for s in lang.sent_from]), "{}"),
        library_languages=tuple(code for code in languages if code in MAIL_LANGUAGES),
    )


# "<date>, <name> <address>:" with no verb (Gmail in Russian, Yandex, Mail.ru): an attribution
# only when a quote follows.
_ADDRESS_ATTRIBUTION = re.compile(r"\d.*@[^\s@]+\.[^\s@]+?>?\s*:\s*$")
_DATE_OR_ADDRESS = re.compile(r"\d|@")
_RULE_LINE = re.compile(r"^\s*(?:[-_=*]{5,})?\s*$")


def _is_quoted(line: str) -> bool:
    return line.lstrip().startswith(">")


def _next_is_quoted(lines: Sequence[str], start: int) -> bool:
    following = next((line for line in lines[start:] if line.strip()), "")
    return _is_quoted(following)


def _is_attribution(lines: Sequence[str], start: int, span: int, rules: _Rules) -> bool:
    candidate = " ".join(line.strip() for line in lines[start : start + span])
    if len(candidate) > _MAX_ATTRIBUTION:
        return False
    # A date or an address tells "10:12, Иван пишет:" from a sentence ending in "пишет:".
    has_verb = rules.attribution is not None and rules.attribution.search(candidate)
    if has_verb and _DATE_OR_ADDRESS.search(candidate):
        return True
    return bool(_ADDRESS_ATTRIBUTION.search(candidate)) and _next_is_quoted(lines, start + span)


def _attribution_at(lines: Sequence[str], i: int, rules: _Rules) -> bool:
    if _is_attribution(lines, i, 1, rules):
        return True
    # Clients wrap a long attribution ("…, Имя Фамилия <a@b.ru>\nпишет:"); but when the next
    # line is a whole attribution by itself, this line is still the reply.
    return (
        i + 1 < len(lines)
        and bool(lines[i + 1].strip())
        and not _is_attribution(lines, i + 1, 1, rules)
        and _is_attribution(lines, i, 2, rules)
    )


def _outlook_block_at(lines: Sequence[str], i: int, rules: _Rules) -> bool:
    if rules.outlook_from is None or rules.outlook_next is None:
        return False
    if not rules.outlook_from.match(lines[i]):
        return False
    return any(rules.outlook_next.match(line) for line in lines[i + 1 : i + 3])


def _history_start(lines: Sequence[str], rules: _Rules) -> int | None:
    for i, line in enumerate(lines):
        if not line.strip() or _is_quoted(line):
            continue
        if (
            rules.separator.match(line)
            or _outlook_block_at(lines, i, rules)
            or _attribution_at(lines, i, rules)
        ):
            # An attribution wrapped onto two lines starts on the line before its verb.
            return i
    return None


def _without_quotes(lines: Sequence[str]) -> list[str]:
    kept: list[str] = []
    skipped = False
    for line in lines:
        if _is_quoted(line):
            skipped = True
            continue
        if skipped and not line.strip() and kept and not kept[-1].strip():
            continue
        kept.append(line)
        skipped = False
    return kept


def _library_cut(lines: list[str], rules: _Rules) -> list[str]:
    """The lines above the first header the library finds that has a date or an address in
    it: its patterns alone would also cut at "Il cliente ha scritto:" or "On Monday he wrote:"."""
    window: list[str] = []
    size = 0
    for line in lines:
        if size > _LIBRARY_WINDOW_CHARS:
            break
        window.append(line[:_MAX_ATTRIBUTION])  # no header is longer
        size += len(line) + 1
    replies = (
        EmailMessage(
            text="\n".join(window),
            languages=list(rules.library_languages),
            keep_hyphen_lists=True,  # a "- item" list is not a signature
        )
        .read()
        .replies
    )
    # The library strips and rejoins lines; a header starts a line, so find that line and
    # cut there, which keeps the sender's own lines (indentation included).
    stripped = [line.strip() for line in window]
    searched_from = 0
    for reply in replies:
        header = str(reply.headers or "")
        header_lines = [line.strip() for line in header.split("\n") if line.strip()]
        if not header_lines:
            continue
        try:
            at = stripped.index(header_lines[0], searched_from)
        except ValueError:
            continue
        searched_from = at + 1
        if _DATE_OR_ADDRESS.search(header):
            return lines[:at]
    return lines


def _is_signature(line: str, rules: _Rules) -> bool:
    stripped = line.strip()
    if stripped == "--":  # RFC 3676's "-- " delimiter, trailing space stripped
        return True
    if rules.sent_from is not None and rules.sent_from.fullmatch(stripped):
        return True
    match = rules.closing.match(stripped) if rules.closing is not None else None
    if match is None:
        return False
    # "Thanks!" or "Thanks, Anna" signs off; "Thanks, that fixed it" is the reply itself.
    rest = stripped[match.end() :].strip(" ,.!;:-–—")
    words = rest.split()
    return len(words) <= 3 and all(word[0].isupper() for word in words)


def _without_signature(lines: list[str], rules: _Rules) -> list[str]:
    first = next((i for i, line in enumerate(lines) if line.strip()), len(lines))
    for i in range(first + 1, len(lines)):
        if _is_signature(lines[i], rules):
            return lines[:i]
    return lines


def visible_reply(text: str, *, languages: Sequence[str] = DEFAULT_LANGUAGES) -> str:
    """What the sender of a reply wrote: no quoted history, no signature.

    ``languages`` are ISO 639-1 codes: ours (en, it, ru, hu, ro) and any other the library
    knows are used, the rest ignored; English is always included by the library."""
    rules = _rules(tuple(code.lower().strip() for code in languages))
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    cut = _history_start(lines, rules)
    if cut is not None:
        lines = lines[:cut]
    lines = _without_quotes(lines)
    if any(line.strip() for line in lines):
        lines = _library_cut(lines, rules)
    lines = _without_signature(lines, rules)
    while lines and _RULE_LINE.match(lines[-1]):  # blank lines, "________" above a header
        lines.pop()
    while lines and not lines[0].strip():
        lines.pop(0)
    visible = "\n".join(lines).rstrip()
    return visible if visible else text.strip()
