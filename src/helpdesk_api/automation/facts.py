"""``TicketFacts``: the frozen snapshot of one ticket change that rules are evaluated against.

Facts are plain values, never ORM objects, so matching is pure and unit-testable, and a
dry run can evaluate a rule against a ticket without changing it.

How the pipeline fills them (the ``Stage.automation`` reaction, a later step), from the
``TicketChange`` it receives and two small queries:

- the ticket's own columns: ``status_id``, ``priority``, ``type``, ``group_id``,
  ``assignee_id``, ``requester_id``, ``organization_id``, ``tags``, ``subject``;
- ``status_category`` from the session's status cache (``ticket_statuses``, no query);
- ``changes`` = ``change.changes.changes`` (the ChangeSet's ``{field, from, to}`` list) and
  ``update_type`` = ``created`` when ``change.created``;
- the comment: ``comment_public`` from the ChangeSet, its text from the comment row
  (query 1, by ``comment_id``, only when there is one);
- ``via`` and ``actor_role`` from ``change.actor``;
- the requester's tags and locale and the organisation's tags (query 2, one join);
- ``sla_events``: set by the SLA worker when it runs triggers for a warning or a breach;
- ``cc_user_ids``: the ticket's CCs, so ``add_cc`` can tell a no-op;
- ``satisfaction``: the ticket's ``satisfaction_score`` (a rating is a change of it).
"""

import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from types import MappingProxyType
from typing import Any

from helpdesk_api.automation.fields import Field, UpdateType

# ChangeSet field name → the condition fields it changes. ``status`` carries ``{id, category}``.
_PLAIN_CHANGES = {
    f.value: f
    for f in (
        Field.priority,
        Field.type,
        Field.group_id,
        Field.assignee_id,
        Field.requester_id,
        Field.organization_id,
        Field.tags,
        Field.subject,
    )
}
_PLAIN_CHANGES["satisfaction_score"] = Field.satisfaction


def words_of(text: str) -> tuple[str, ...]:
    """The words of a text, as rules compare them: case-folded (so "STRASSE" meets "straße"),
    NFC-normalised (a decomposed "á" is the same letter), split on anything not a letter
    or digit in any script."""
    folded = unicodedata.normalize("NFC", text.casefold())
    return tuple("".join(ch if ch.isalnum() else " " for ch in folded).split())


def _plain(field_name: Field, value: Any) -> Any:
    if field_name in (Field.tags, Field.requester_tags, Field.organization_tags):
        return frozenset(value or ())
    return value


@dataclass(frozen=True)
class TicketFacts:
    update_type: UpdateType
    status_id: int
    status_category: str
    priority: str
    type: str | None
    via: str
    group_id: int | None
    assignee_id: int | None
    requester_id: int
    organization_id: int | None
    tags: frozenset[str]
    requester_tags: frozenset[str]
    organization_tags: frozenset[str]
    requester_locale: str | None
    comment_present: bool
    comment_public: bool
    comment_text: str
    subject: str
    actor_role: str | None
    sla_events: frozenset[str]
    cc_user_ids: frozenset[int]
    satisfaction: str | None = None
    # The ticket's custom field values (``custom_field.<key>`` conditions).
    custom_fields: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    # The business calendars (ids) whose hours the change happens in, of those rules name.
    open_calendars: frozenset[int] = frozenset()
    # Which fields this change changed (the writer's and every trigger's so far), and what
    # each held before the change began: ``changed_from`` compares with the first value.
    changed: frozenset[Field] = frozenset()
    previous: Mapping[Field, Any] = field(default_factory=lambda: MappingProxyType({}))

    @classmethod
    def of(
        cls,
        *,
        status_id: int,
        status_category: str,
        priority: str,
        requester_id: int,
        via: str,
        update_type: UpdateType = UpdateType.changed,
        type: str | None = None,
        group_id: int | None = None,
        assignee_id: int | None = None,
        organization_id: int | None = None,
        tags: Iterable[str] = (),
        requester_tags: Iterable[str] = (),
        organization_tags: Iterable[str] = (),
        requester_locale: str | None = None,
        comment_text: str | None = None,
        comment_public: bool = False,
        subject: str = "",
        actor_role: str | None = None,
        sla_events: Iterable[str] = (),
        open_calendars: Iterable[int] = (),
        cc_user_ids: Iterable[int] = (),
        satisfaction: str | None = None,
        changes: Sequence[Mapping[str, Any]] = (),
        custom_fields: Mapping[str, Any] | None = None,
    ) -> "TicketFacts":
        """Facts from plain values; ``changes`` is a ChangeSet's ``{field, from, to}`` list
        and ``comment_text`` None means the change has no comment."""
        changed: set[Field] = set()
        previous: dict[Field, Any] = {}

        def note(name: Field, before: Any) -> None:
            changed.add(name)
            previous.setdefault(name, _plain(name, before))  # the first "from" is the original

        for change in changes:
            name, before = change["field"], change.get("from")
            if name == "status":
                before = before or {}
                note(Field.status_id, before.get("id"))
                note(Field.status_category, before.get("category"))
            elif name in _PLAIN_CHANGES:
                note(_PLAIN_CHANGES[name], before)
        return cls(
            update_type=update_type,
            status_id=status_id,
            status_category=status_category,
            priority=priority,
            type=type,
            via=via,
            group_id=group_id,
            assignee_id=assignee_id,
            requester_id=requester_id,
            organization_id=organization_id,
            tags=frozenset(tags),
            requester_tags=frozenset(requester_tags),
            organization_tags=frozenset(organization_tags),
            requester_locale=requester_locale,
            comment_present=comment_text is not None,
            comment_public=comment_public and comment_text is not None,
            comment_text=comment_text or "",
            subject=subject,
            actor_role=actor_role,
            sla_events=frozenset(sla_events),
            custom_fields=MappingProxyType(dict(custom_fields or {})),
            open_calendars=frozenset(open_calendars),
            cc_user_ids=frozenset(cc_user_ids),
            satisfaction=satisfaction,
            changed=frozenset(changed),
            previous=MappingProxyType(previous),
        )

    def current(self, name: Field) -> Any:
        if name is Field.sla_event:
            return self.sla_events
        if name is Field.within_business_hours:
            return self.open_calendars
        return getattr(self, name.value)

    def before(self, name: Field) -> Any:
        """The value before this change began (the current one if it has not changed)."""
        return self.previous[name] if name in self.previous else self.current(name)

    def with_values(self, values: Mapping[Field, Any]) -> "TicketFacts":
        """These facts after more changes (a trigger's), remembering the original values."""
        updates: dict[str, Any] = {}
        changed, previous = set(self.changed), dict(self.previous)
        for name, value in values.items():
            value = _plain(name, value)
            if value == self.current(name):
                continue
            previous.setdefault(name, self.current(name))
            changed.add(name)
            updates[name.value] = value
        if not updates:
            return self
        return replace(
            self, **updates, changed=frozenset(changed), previous=MappingProxyType(previous)
        )

    # Words are cut once per facts (cached_property writes past the frozen __setattr__), not
    # once per condition: a hundred rules testing the comment share one split.
    @cached_property
    def comment_words(self) -> frozenset[str]:
        return frozenset(words_of(self.comment_text))

    @cached_property
    def comment_phrase_text(self) -> str:
        return f" {' '.join(words_of(self.comment_text))} "

    @cached_property
    def subject_words(self) -> frozenset[str]:
        return frozenset(words_of(self.subject))

    @cached_property
    def subject_phrase_text(self) -> str:
        return f" {' '.join(words_of(self.subject))} "
