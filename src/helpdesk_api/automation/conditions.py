"""The rule language: conditions as Pydantic models, validated against one table, compiled
once into plain callables.

A rule's conditions are ``{all: [...], any: [...]}``: every ``all`` condition must hold, and
at least one ``any`` condition when ``any`` is not empty. A condition is
``{field, operator, value}``; ``FIELD_SPECS`` says, for each field, which operators it takes
and what a value must be, so a rule that cannot mean anything is refused when it is saved,
with an error whose ``loc`` points at the bad part (``("all", 2, "value")``).
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from operator import attrgetter
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    ValidationError,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    field_validator,
)
from pydantic import Field as Attribute

from helpdesk_api.automation.facts import TicketFacts, words_of
from helpdesk_api.automation.fields import (
    LOCALE_RE,
    SLA_EVENT_NAMES,
    Field,
    Operator,
    UpdateType,
)
from helpdesk_api.core.errors import InvalidInput
from helpdesk_api.core.tags import normalize_tag
from helpdesk_api.models import Role, SatisfactionScore, StatusCategory, Via
from helpdesk_api.models.ticket import Priority, PriorityRank, TicketType

Op = Operator
NO_VALUE = frozenset({Op.changed, Op.not_changed})
LIST_VALUE = frozenset({Op.in_, Op.not_in, Op.includes_all, Op.includes_any, Op.not_includes})
SCALAR = frozenset({Op.is_, Op.is_not, Op.changed_to, Op.changed_from})
CHANGES = frozenset({Op.changed, Op.not_changed, Op.changed_to, Op.changed_from})
EQUALITY = SCALAR | CHANGES | {Op.in_, Op.not_in}
TAG_SETS = frozenset({Op.includes_all, Op.includes_any, Op.not_includes})
TEXT = frozenset({Op.contains_words, Op.contains_phrase})


# Scalar checkers: return the value as stored, or raise ValueError with a reason.
def _one_of(values: type[StrEnum] | Sequence[str]) -> Callable[[Any], str]:
    allowed = tuple(values)

    def check(value: Any) -> str:
        if isinstance(value, str) and value in allowed:
            return value
        raise ValueError(f"must be one of {', '.join(map(str, allowed))}, not {value!r}")

    return check


def _positive_id(value: Any) -> int:
    # bool is an int in Python; ``true`` is never an id.
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    raise ValueError(f"must be a positive integer id, not {value!r}")


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise ValueError(f"must be true or false, not {value!r}")


def check_tag(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"a tag must be a string, not {value!r}")
    try:
        return normalize_tag(value, loc=())  # the tickets' own normalisation, so they meet
    except InvalidInput as exc:
        raise ValueError(str(exc)) from None


def _locale(value: Any) -> str:
    if isinstance(value, str) and LOCALE_RE.fullmatch(value):
        return value
    raise ValueError(f"must be a locale such as 'en' or 'hu-HU', not {value!r}")


def _text(value: Any) -> str:
    if isinstance(value, str) and words_of(value):
        return value
    raise ValueError(f"must be a text with at least one word, not {value!r}")


@dataclass(frozen=True)
class FieldSpec:
    operators: frozenset[Operator]
    check: Callable[[Any], Any]
    nullable: bool = False  # ``is``/``is_not``/``changed_*`` may compare with null ("none set")


_ENUM_OPS = EQUALITY
FIELD_SPECS: dict[Field, FieldSpec] = {
    Field.update_type: FieldSpec(frozenset({Op.is_, Op.is_not}), _one_of(UpdateType)),
    Field.status_id: FieldSpec(_ENUM_OPS, _positive_id),
    Field.status_category: FieldSpec(_ENUM_OPS, _one_of(StatusCategory)),
    # Priorities are ranked (low < normal < high < urgent), so they also take </>.
    Field.priority: FieldSpec(_ENUM_OPS | {Op.less_than, Op.greater_than}, _one_of(Priority)),
    Field.type: FieldSpec(_ENUM_OPS, _one_of(TicketType), nullable=True),
    Field.via: FieldSpec(frozenset({Op.is_, Op.is_not, Op.in_, Op.not_in}), _one_of(Via)),
    Field.group_id: FieldSpec(_ENUM_OPS, _positive_id, nullable=True),
    Field.assignee_id: FieldSpec(_ENUM_OPS, _positive_id, nullable=True),
    Field.requester_id: FieldSpec(_ENUM_OPS, _positive_id),
    Field.organization_id: FieldSpec(_ENUM_OPS, _positive_id, nullable=True),
    Field.tags: FieldSpec(TAG_SETS | {Op.changed, Op.not_changed}, check_tag),
    Field.requester_tags: FieldSpec(TAG_SETS, check_tag),
    Field.organization_tags: FieldSpec(TAG_SETS, check_tag),
    Field.requester_locale: FieldSpec(
        frozenset({Op.is_, Op.is_not, Op.in_, Op.not_in}), _locale, nullable=True
    ),
    Field.satisfaction: FieldSpec(_ENUM_OPS, _one_of(SatisfactionScore), nullable=True),
    Field.comment_present: FieldSpec(frozenset({Op.is_}), _boolean),
    Field.comment_public: FieldSpec(frozenset({Op.is_}), _boolean),
    Field.comment_text: FieldSpec(TEXT, _text),
    Field.subject: FieldSpec(TEXT | {Op.changed, Op.not_changed}, _text),
    Field.actor_role: FieldSpec(
        frozenset({Op.is_, Op.is_not, Op.in_, Op.not_in}), _one_of(Role), nullable=True
    ),
    # An SLA event is one of those this change carries: ``is`` means "among them".
    # ``is <calendar id>``: within that calendar's business hours; ``is_not``: outside.
    Field.within_business_hours: FieldSpec(frozenset({Op.is_, Op.is_not}), _positive_id),
    Field.sla_event: FieldSpec(
        frozenset({Op.is_, Op.is_not, Op.in_, Op.not_in}), _one_of(sorted(SLA_EVENT_NAMES))
    ),
}


# ``custom_field.<key>``: a ticket field's value (``fields``). ``is`` holds when the ticket
# has that value (for a multiselect: selected that option), ``is`` null when it has none.
# The value's fit to the field's type is checked against the definitions when the rule is
# saved (``fields.values.filter_document``), which also stores it in canonical form.
CUSTOM_FIELD_PREFIX = "custom_field."
CustomFieldName = Annotated[
    str,
    Attribute(
        pattern=r"^custom_field\.[a-z][a-z0-9_]{0,63}$",
        description="`custom_field.<key>` of a ticket field (`/v1/ticket-fields`); takes `is` "
        'and `is_not` with one value, or null for "has no value".',
    ),
]
CUSTOM_FIELD_OPERATORS = frozenset({Op.is_, Op.is_not})


def one_field_error(fields: type[StrEnum]) -> WrapValidator:
    """One error at ``field`` for a name that is neither a built-in field nor a custom one
    (a union would report one per member, at deeper paths)."""

    def validate(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        try:
            return handler(value)
        except ValidationError:
            names = ", ".join(f.value for f in fields)
            raise ValueError(
                f"must be one of {names}, or custom_field.<key>; not {value!r}"
            ) from None

    return WrapValidator(validate)


ConditionField = Annotated[Field | CustomFieldName, one_field_error(Field)]


def custom_key(field: StrEnum | str) -> str | None:
    """The ticket field a condition names, or None for a built-in field."""
    if isinstance(field, StrEnum) or not field.startswith(CUSTOM_FIELD_PREFIX):
        return None
    return field.removeprefix(CUSTOM_FIELD_PREFIX)


def check_custom_value(value: Any) -> Any:
    if (
        value is None
        or isinstance(value, str | bool)
        or (isinstance(value, int) and not isinstance(value, bool))
    ):
        return value
    raise ValueError(f"a custom field condition compares with one value or null, not {value!r}")


def custom_value_holds(stored: Any, value: Any) -> bool:
    """``is``: equal, or an option among a multiselect's; null: no value."""
    if value is None:
        return stored is None
    return bool(stored == value or (isinstance(stored, list) and value in stored))


def check_value(spec: FieldSpec, operator: Operator, value: Any) -> Any:
    if operator in NO_VALUE:
        if value is not None:
            raise ValueError(f"'{operator}' takes no value")
        return None
    if operator in LIST_VALUE:
        if not isinstance(value, list) or not value:
            raise ValueError(f"'{operator}' takes a non-empty list")
        checked = []
        for index, item in enumerate(value):
            try:
                checked.append(spec.check(item))
            except ValueError as exc:
                raise ValueError(f"item {index} {exc}") from None
        return list(dict.fromkeys(checked))  # duplicates say nothing more
    if value is None and spec.nullable and operator in SCALAR:
        return None
    if value is None:
        raise ValueError(f"'{operator}' needs a value")
    return spec.check(value)


class Condition(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    field: ConditionField
    operator: Operator
    # Validated even when left out: ``is`` with no value is an error, not "is null".
    value: Any = Attribute(default=None, validate_default=True)

    # Field validators, not a model validator, so each error's loc ends at the part at fault.
    @field_validator("operator")
    @classmethod
    def _operator_fits_field(cls, operator: Operator, info: ValidationInfo) -> Operator:
        field = info.data.get("field")
        if field is not None and custom_key(field) is not None:
            if operator not in CUSTOM_FIELD_OPERATORS:
                raise ValueError(f"'{field}' takes 'is' or 'is_not', not '{operator}'")
            return operator
        if field is not None and operator not in FIELD_SPECS[field].operators:
            allowed = ", ".join(sorted(FIELD_SPECS[field].operators))
            raise ValueError(f"'{field}' does not take '{operator}'; it takes {allowed}")
        return operator

    @field_validator("value")
    @classmethod
    def _value_fits(cls, value: Any, info: ValidationInfo) -> Any:
        field, operator = info.data.get("field"), info.data.get("operator")
        if field is None or operator is None:
            return value  # the field or operator error says what is wrong
        if custom_key(field) is not None:
            return check_custom_value(value)
        return check_value(FIELD_SPECS[field], operator, value)


class RuleConditions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    all: list[Condition] = []
    any: list[Condition] = []


Test = Callable[[TicketFacts], bool]


@dataclass(frozen=True, slots=True)
class CompiledCondition:
    condition: Condition
    test: Test  # does it hold for these facts
    actual: Callable[[TicketFacts], Any]  # what it looked at, for explanations


@dataclass(frozen=True, slots=True)
class CompiledConditions:
    all: tuple[CompiledCondition, ...]
    any: tuple[CompiledCondition, ...]

    def __call__(self, facts: TicketFacts) -> bool:
        return all(c.test(facts) for c in self.all) and (
            not self.any or any(c.test(facts) for c in self.any)
        )


def compile_conditions(model: RuleConditions) -> CompiledConditions:
    """Closures over pre-built sets and constants: evaluating parses nothing."""
    return CompiledConditions(
        all=tuple(_compile(c) for c in model.all), any=tuple(_compile(c) for c in model.any)
    )


def _rank(priority: str) -> int:
    return PriorityRank[priority].value


def _compile(condition: Condition) -> CompiledCondition:
    field, op, value = condition.field, condition.operator, condition.value
    key = custom_key(field)
    if key is not None:
        holds = op is Op.is_

        def stored(f: TicketFacts) -> Any:
            return f.custom_fields.get(key)

        return CompiledCondition(
            condition, lambda f: custom_value_holds(stored(f), value) is holds, stored
        )
    assert isinstance(field, Field)
    get: Callable[[TicketFacts], Any] = attrgetter(
        {Field.sla_event: "sla_events", Field.within_business_hours: "open_calendars"}.get(
            field, field.value
        )
    )
    test = _test(field, op, value, get)
    if op in CHANGES:
        return CompiledCondition(condition, test, lambda f: _change_of(f, field))
    return CompiledCondition(condition, test, lambda f: _shown(get(f)))


def _test(field: Field, op: Operator, value: Any, get: Callable[[TicketFacts], Any]) -> Test:
    if op in TEXT:
        words_attr, text_attr = (
            ("comment_words", "comment_phrase_text")
            if field is Field.comment_text
            else ("subject_words", "subject_phrase_text")
        )
        if op is Op.contains_words:
            # At least one of the words, as a whole word ("refund" does not match "refunded").
            wanted = frozenset(words_of(value))
            words = attrgetter(words_attr)
            return lambda f: not wanted.isdisjoint(words(f))
        phrase = f" {' '.join(words_of(value))} "  # whole words, any spacing or punctuation
        text = attrgetter(text_attr)
        return lambda f: phrase in text(f)
    if field is Field.within_business_hours:
        inside = op is Op.is_
        return lambda f: (value in get(f)) is inside
    if field is Field.sla_event:
        # The change carries a set of events; ``is`` asks whether one of them is this one.
        events = frozenset(value) if isinstance(value, list) else frozenset({value})
        holds = {Op.is_: True, Op.in_: True, Op.is_not: False, Op.not_in: False}[op]
        return lambda f: (not events.isdisjoint(get(f))) is holds
    if op in TAG_SETS:
        tags = frozenset(value)
        if op is Op.includes_all:
            return lambda f: tags <= get(f)
        if op is Op.includes_any:
            return lambda f: not tags.isdisjoint(get(f))
        return lambda f: tags.isdisjoint(get(f))

    def changed(f: TicketFacts) -> bool:
        return field in f.changed

    match op:
        case Op.is_:
            return lambda f: bool(get(f) == value)
        case Op.is_not:
            return lambda f: bool(get(f) != value)
        case Op.in_:
            members = frozenset(value)
            return lambda f: get(f) in members
        case Op.not_in:
            members = frozenset(value)
            return lambda f: get(f) not in members
        case Op.changed:
            return changed
        case Op.not_changed:
            return lambda f: not changed(f)
        case Op.changed_to:
            return lambda f: changed(f) and get(f) == value
        case Op.changed_from:
            return lambda f: changed(f) and f.before(field) == value
        case Op.less_than:
            rank = _rank(value)
            return lambda f: _rank(get(f)) < rank
        case Op.greater_than:
            rank = _rank(value)
            return lambda f: _rank(get(f)) > rank
    raise AssertionError(f"no test for {field} {op}")  # FIELD_SPECS admits only the above


def _shown(value: Any) -> Any:
    # Sets are shown sorted, so an explanation reads (and serialises) the same every time.
    return sorted(value) if isinstance(value, frozenset) else value


def _change_of(facts: TicketFacts, field: Field) -> dict[str, Any]:
    return {
        "changed": field in facts.changed,
        "from": _shown(facts.before(field)),
        "to": _shown(facts.current(field)),
    }
