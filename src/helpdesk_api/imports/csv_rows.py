"""Tickets from a spreadsheet: one row per comment, grouped into tickets by ``external_id``.

The first row of a ticket carries its fields (subject, created_at, requester_email, …) and
its first comment; later rows of the same ``external_id`` add comments and may leave the
ticket's columns empty. A comment's author defaults to the requester, its time to the
ticket's, ``public`` to true. Tags are separated by spaces or commas.

A ticket with any bad row is left out whole (never a partial ticket) and each bad row is
reported by its line number (the header is line 1); the good tickets are imported.
"""

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from helpdesk_api.imports.schemas import ImportTicket

REQUIRED = ("external_id", "subject", "created_at", "requester_email", "body")
OPTIONAL = (
    "requester_name", "requester_external_id", "status", "priority", "type", "channel", "tags",
    "author_email", "author_name", "author_external_id", "public", "comment_created_at",
)  # fmt: skip
_TICKET_COLUMNS = ("subject", "created_at", "requester_email")
LEFT_OUT = "left out with its ticket, which has a bad row"
_TRUE = {"true", "yes", "1", "public", "y"}
_FALSE = {"false", "no", "0", "private", "n"}


class CsvLayoutError(ValueError):
    """The file as a whole cannot be read (no header, unknown or missing columns)."""


@dataclass
class ParsedTicket:
    ticket: ImportTicket
    lines: list[int]  # the line of each comment, in the order given


@dataclass
class ParsedFile:
    tickets: list[ParsedTicket] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line, message)


@dataclass
class _Group:
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)


def _text(row: dict[str, str], name: str) -> str | None:
    value = (row.get(name) or "").strip()
    return value or None


def _person(row: dict[str, str], prefix: str) -> dict[str, Any]:
    person = {
        "email": _text(row, f"{prefix}_email"),
        "name": _text(row, f"{prefix}_name"),
        "external_id": _text(row, f"{prefix}_external_id"),
    }
    return {key: value for key, value in person.items() if value is not None}


def _public(value: str | None) -> bool | str:
    if value is None:
        return True
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    return value  # refused by validation, named in the report


def _ticket_body(group: _Group) -> dict[str, Any]:
    first = group.rows[0][1]
    body: dict[str, Any] = {
        "external_id": _text(first, "external_id"),
        "subject": _text(first, "subject"),
        "created_at": _text(first, "created_at"),
        "requester": {**_person(first, "requester")},
        "comments": [],
    }
    for name in ("status", "priority", "type", "channel"):
        value = _text(first, name)
        if value is not None:
            body[name] = value.lower()
    tags = _text(first, "tags")
    if tags is not None:
        body["tags"] = [t for t in tags.replace(",", " ").split() if t]
    for _, row in group.rows:
        author = _person(row, "author") or {"email": body["requester"].get("email")}
        body["comments"].append(
            {
                "author": author,
                "body": row.get("body") or "",
                "public": _public(_text(row, "public")),
                "created_at": _text(row, "comment_created_at") or body["created_at"],
            }
        )
    return body


def _describe(error: dict[str, Any]) -> str:
    where = ".".join(str(part) for part in error["loc"])
    return f"{where}: {error['msg']}" if where else error["msg"]


def _line_of(loc: tuple[Any, ...], lines: list[int]) -> int:
    if len(loc) >= 2 and loc[0] == "comments" and isinstance(loc[1], int) and loc[1] < len(lines):
        return lines[loc[1]]
    return lines[0]


def parse(text_lines: Iterable[str]) -> ParsedFile:
    reader = csv.DictReader(text_lines)
    columns = [c.strip() for c in reader.fieldnames or []]
    if not columns:
        raise CsvLayoutError("the file is empty: the first line must name the columns")
    unknown = sorted(set(columns) - set(REQUIRED) - set(OPTIONAL))
    missing = [c for c in REQUIRED if c not in columns]
    if unknown or missing:
        raise CsvLayoutError(
            f"columns: missing {missing or 'none'}, unknown {unknown or 'none'}; "
            f"known: {', '.join(REQUIRED + OPTIONAL)}"
        )
    reader.fieldnames = columns
    groups: dict[str, _Group] = {}
    parsed = ParsedFile()
    for row in reader:
        line = reader.line_num
        if None in row:  # more cells than columns
            parsed.errors.append((line, "more cells than the header has columns"))
            continue
        external_id = _text(row, "external_id")
        if external_id is None:
            parsed.errors.append((line, "external_id: the ticket's external_id is empty"))
            continue
        group = groups.setdefault(external_id, _Group())
        if not group.rows and any(_text(row, c) is None for c in _TICKET_COLUMNS):
            empty = [c for c in _TICKET_COLUMNS if _text(row, c) is None]
            parsed.errors.append((line, f"the first row of a ticket needs {', '.join(empty)}"))
            group.rows.append((line, row))  # the ticket is bad: its later rows go with it
            continue
        group.rows.append((line, row))
    bad_lines = {line for line, _ in parsed.errors}
    for group in groups.values():
        lines = [line for line, _ in group.rows]
        if bad_lines.intersection(lines):
            parsed.errors.extend((line, LEFT_OUT) for line in lines if line not in bad_lines)
            continue
        try:
            ticket = ImportTicket.model_validate(_ticket_body(group))
        except ValidationError as exc:
            errors = [(_line_of(tuple(e["loc"]), lines), _describe(dict(e))) for e in exc.errors()]
            parsed.errors.extend(with_ticket(errors, lines))
            continue
        parsed.tickets.append(ParsedTicket(ticket, lines))
    parsed.errors.sort()
    return parsed


def with_ticket(errors: list[tuple[int, str]], lines: list[int]) -> list[tuple[int, str]]:
    """The errors, and the ticket's other rows as left out with it."""
    bad = {line for line, _ in errors}
    return errors + [(line, LEFT_OUT) for line in lines if line not in bad]


def batches(tickets: list[ParsedTicket], size: int) -> Iterator[list[ParsedTicket]]:
    for start in range(0, len(tickets), size):
        yield tickets[start : start + size]
