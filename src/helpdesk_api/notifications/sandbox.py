"""The template language admins write notifications in: Jinja2, sandboxed and metered.

Jinja's ``ImmutableSandboxedEnvironment`` keeps templates away from Python internals
(``__class__``, ``mro``, …) and from mutating what they are given. That alone does not stop
a template from taking the worker down with ``{{ 'x' * 10**10 }}``, nested loops or a value
doubled forty times, so on top of it:

* **What is there**: one global, ``range`` (at most 1,000 numbers); an allow-list of filters
  (sizes checked before ``join``, ``replace`` and ``indent`` build anything) and of methods
  (``split``, ``upper``, ``items``, …); no ``str.format``, no ``%`` on strings, no ``safe``
  (a customer's words are always escaped in HTML), no ``{% autoescape %}``.
* **What is refused when a template is compiled**: ``extends``, ``include``, ``import``,
  ``macro``, ``call``, ``block`` and recursive loops, so there is no recursion.
* **What is metered while it runs**: every loop step (100,000 per render), every value a
  filter, call, operator or literal makes and every piece written (their total size at most
  ``limit`` characters), integers (4,096 bits), and the clock (a deadline per render).
  The meters are filters the compiler wraps around loops, expressions and output, so
  nothing a template does escapes them.

Exceeding a limit raises ``TemplateLimitExceeded``. Whitespace: ``trim_blocks`` and
``lstrip_blocks`` are on, so a line holding only a ``{% tag %}`` leaves no blank line.
"""

import json
import time
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from jinja2 import (
    ChainableUndefined,
    StrictUndefined,
    Template,
    TemplateSyntaxError,
    Undefined,
    nodes,
    pass_context,
    pass_eval_context,
)
from jinja2 import filters as jinja_filters
from jinja2.exceptions import SecurityError
from jinja2.nodes import EvalContext
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.tests import TESTS
from jinja2.visitor import NodeTransformer

from helpdesk_api.notifications import formatting

MAX_ITERATIONS = 100_000
MAX_RANGE = 1_000
MAX_INT_BITS = 4_096
MAX_INDENT = 100
_CLOCK_EVERY = 1_024  # loop steps between looks at the clock

_REFUSED = {
    nodes.Extends: "{% extends %}",
    nodes.Include: "{% include %}",
    nodes.Import: "{% import %}",
    nodes.FromImport: "{% from … import %}",
    nodes.Macro: "{% macro %}",
    nodes.CallBlock: "{% call %}",
    nodes.Block: "{% block %}",
    nodes.EvalContextModifier: "{% autoescape %}",
}
# Methods a template may call; any other callable attribute is refused.
_SAFE_METHODS = frozenset(
    {
        "capitalize", "count", "endswith", "isalpha", "isdigit", "isspace", "lower", "lstrip",
        "rstrip", "split", "splitlines", "startswith", "strip", "title", "upper",
        "get", "items", "keys", "values",
        "cycle", "changed",
    }
)  # fmt: skip
_PLAIN_FILTERS = (
    "abs", "capitalize", "count", "d", "default", "dictsort", "e", "escape", "filesizeformat",
    "first", "float", "int", "items", "last", "length", "list", "lower", "map", "max", "min",
    "reject", "rejectattr", "reverse", "round", "select", "selectattr", "sort", "string",
    "striptags", "sum", "title", "trim", "truncate", "unique", "upper", "urlencode",
    "wordcount",
)  # fmt: skip


class TemplateLimitExceeded(SecurityError):
    """The template asked for more than a notification may take."""


@dataclass
class _Meter:
    limit: int
    deadline: float
    locale: str
    time_zone: str | None
    written: int = 0
    steps: int = 0

    def step(self) -> None:
        self.steps += 1
        if self.steps > MAX_ITERATIONS:
            raise TemplateLimitExceeded(f"the template loops more than {MAX_ITERATIONS} times")
        if self.steps % _CLOCK_EVERY == 0:
            self.check_clock()

    def check_clock(self) -> None:
        if time.monotonic() > self.deadline:
            raise TemplateLimitExceeded("the template takes too long to render")

    def check_size(self, value: Any) -> None:
        if size_of(value, self.limit) > self.limit:
            raise TemplateLimitExceeded(
                f"the template makes a value of more than {self.limit} characters"
            )

    def write(self, value: Any) -> None:
        self.written += size_of(value, self.limit)
        if self.written > self.limit:
            raise TemplateLimitExceeded(f"the output would exceed {self.limit} characters")
        self.check_clock()


_METER: ContextVar[_Meter | None] = ContextVar("notification_template_meter", default=None)


def _meter() -> _Meter:
    meter = _METER.get()
    if meter is None:
        raise RuntimeError("notification templates render only through render_metered()")
    return meter


def size_of(value: Any, limit: int) -> int:
    """Characters of the strings in ``value`` (into lists, tuples and dicts), plus one per
    item; stops counting past ``limit``."""
    if isinstance(value, str):
        return len(value)
    if not isinstance(value, list | tuple | dict | set | frozenset):
        return 1
    total = 0
    pending: list[Any] = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            total += len(item)
        elif isinstance(item, list | tuple | dict | set | frozenset):
            total += len(item)
            if total > limit:
                return total
            pending.extend(item.items() if isinstance(item, dict) else item)
        else:
            total += 1
        if total > limit:
            return total
    return total


# The meters: filters the compiler wraps around the template's own nodes. They take the
# context so the compiler never evaluates them ahead of time.


@pass_context
def _meter_loop(context: Context, iterable: Any) -> Iterator[Any]:
    meter = _meter()
    for item in iterable:
        meter.step()
        yield item


@pass_context
def _meter_value(context: Context, value: Any) -> Any:
    _meter().check_size(value)
    return value


@pass_context
def _meter_output(context: Context, value: Any) -> Any:
    _meter().write(value)
    return value


_LOOP, _VALUE, _OUTPUT = "hd_meter_loop", "hd_meter_value", "hd_meter_output"


def _wrap(node: nodes.Expr, name: str) -> nodes.Filter:
    return nodes.Filter(node, name, [], [], None, None, lineno=node.lineno)


class _Metering(NodeTransformer):
    """Refuses what may recurse or unescape, and wraps the meters around the rest."""

    def generic_visit(self, node: nodes.Node, *args: Any, **kwargs: Any) -> nodes.Node:
        for kind, tag in _REFUSED.items():
            if isinstance(node, kind):
                raise TemplateSyntaxError(f"{tag} is not available in notifications", node.lineno)
        return super().generic_visit(node, *args, **kwargs)

    def visit_For(self, node: nodes.For) -> nodes.Node:
        if node.recursive:
            raise TemplateSyntaxError("recursive loops are not available", node.lineno)
        visited = self.generic_visit(node)
        assert isinstance(visited, nodes.For)
        visited.iter = _wrap(visited.iter, _LOOP)  # type: ignore[arg-type]
        return visited

    def visit_Output(self, node: nodes.Output) -> nodes.Node:
        visited = self.generic_visit(node)
        assert isinstance(visited, nodes.Output)
        visited.nodes = [_wrap(child, _OUTPUT) for child in visited.nodes]
        return visited

    def _valued(self, node: nodes.Expr) -> nodes.Node:
        return _wrap(self.generic_visit(node), _VALUE)  # type: ignore[arg-type]

    def visit_Filter(self, node: nodes.Filter) -> nodes.Node:
        # A {% filter %} block's filter has no node of its own: the block's output is its input.
        return self.generic_visit(node) if node.node is None else self._valued(node)

    def visit_Tuple(self, node: nodes.Tuple) -> nodes.Node:
        return self._valued(node) if node.ctx == "load" else self.generic_visit(node)

    visit_Concat = visit_List = visit_Dict = _valued


# Filters that build something larger than their input check the size first.


@pass_eval_context
def _join(eval_ctx: EvalContext, value: Iterable[Any], d: str = "", attribute: Any = None) -> str:
    items = list(value)
    meter = _meter()
    total = len(str(d)) * max(len(items) - 1, 0)
    for item in items:
        total += size_of(item, meter.limit)
        if total > meter.limit:
            break
    if total > meter.limit:
        raise TemplateLimitExceeded(f"join() would make more than {meter.limit} characters")
    result: str = jinja_filters.sync_do_join(eval_ctx, items, d, attribute)
    return result


@pass_eval_context
def _replace(eval_ctx: EvalContext, s: Any, old: Any, new: Any, count: int | None = None) -> str:
    text, old_text, new_text = str(s), str(old), str(new)
    hits = text.count(old_text) if old_text else len(text) + 1
    if count is not None and count >= 0:
        hits = min(hits, count)
    meter = _meter()
    if len(text) + hits * max(len(new_text) - len(old_text), 0) > meter.limit:
        raise TemplateLimitExceeded(f"replace() would make more than {meter.limit} characters")
    result: str = jinja_filters.do_replace(eval_ctx, s, old, new, count)
    return result


def _indent(s: Any, width: int | str = 4, first: bool = False, blank: bool = False) -> str:
    size = len(width) if isinstance(width, str) else width
    if not isinstance(size, int) or size > MAX_INDENT:
        raise TemplateLimitExceeded(f"indent() takes at most {MAX_INDENT} characters")
    text = str(s)
    meter = _meter()
    if len(text) + (text.count("\n") + 1) * size > meter.limit:
        raise TemplateLimitExceeded(f"indent() would make more than {meter.limit} characters")
    return jinja_filters.do_indent(text, width, first, blank)


@pass_context
def _format_datetime(context: Context, value: Any, style: formatting.DateStyle = "long") -> str:
    """``{{ comment.created_at|format_datetime }}``; styles long, short, date, time."""
    if isinstance(value, Undefined) or value is None:
        return str(value) if isinstance(value, Undefined) else ""
    meter = _meter()
    return formatting.format_datetime(
        value, locale=meter.locale, time_zone=meter.time_zone, style=style
    )


@pass_context
def _priority_label(context: Context, value: Any) -> str:
    if isinstance(value, Undefined) or value is None:
        return str(value) if isinstance(value, Undefined) else ""
    return formatting.priority_label(str(value), locale=_meter().locale)


def _to_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _range(*args: int) -> range:
    numbers = range(*args)
    if len(numbers) > MAX_RANGE:
        raise TemplateLimitExceeded(f"range() gives at most {MAX_RANGE} numbers")
    return numbers


def _finalize(value: Any) -> Any:
    return "" if value is None else value


class GuardedEnvironment(ImmutableSandboxedEnvironment):
    """``html``: autoescape on. ``strict``: an undefined name or attribute is an error (how
    a template is checked when saved); otherwise it reads as empty (how it is sent)."""

    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self, *, html: bool, strict: bool) -> None:
        super().__init__(
            autoescape=html,
            undefined=StrictUndefined if strict else ChainableUndefined,
            finalize=_finalize,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            # Nothing is computed at compile time, where no meter runs.
            optimized=False,
            cache_size=0,
        )
        self.globals.clear()
        self.globals["range"] = _range
        filters: dict[str, Callable[..., Any]] = {
            name: jinja_filters.FILTERS[name] for name in _PLAIN_FILTERS
        }
        filters.update(
            join=_join,
            replace=_replace,
            indent=_indent,
            format_datetime=_format_datetime,
            priority_label=_priority_label,
            # Rules' webhook payloads are JSON templates: a subject with a quote must not
            # break them. (Jinja's own ``tojson`` marks HTML-safe, wrong for a payload.)
            tojson=_to_json,
        )
        filters.update({_LOOP: _meter_loop, _VALUE: _meter_value, _OUTPUT: _meter_output})
        self.filters = filters
        self.tests = dict(TESTS)

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if not super().is_safe_attribute(obj, attr, value):
            return False
        return not callable(value) or attr in _SAFE_METHODS

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        # str.format / format_map would otherwise be offered (sandboxed, but with no limit
        # on field widths); refused as any other method not in the allow-list.
        return None

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        meter = _meter()
        meter.check_clock()
        if operator == "%" and isinstance(left, str):
            raise TemplateLimitExceeded("% formatting is not available; use ~ to join text")
        if operator == "**":
            _check_power(left, right)
        elif operator == "*":
            _check_product(left, right, meter)
        elif operator == "+":
            _check_sum(left, right, meter)
        return super().call_binop(context, operator, left, right)

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        meter = _meter()
        meter.check_clock()
        result = super().call(__context, __obj, *args, **kwargs)
        meter.check_size(result)
        return result

    def compile_metered(self, source: str) -> Template:
        """Parses, refuses what is not available, wraps the meters, compiles. Raises
        ``TemplateSyntaxError`` (with ``lineno``) for what cannot be compiled."""
        tree = _Metering().visit(self.parse(source))
        code = self.compile(tree)
        return self.template_class.from_code(self, code, self.make_globals(None))


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _too_big(what: str) -> TemplateLimitExceeded:
    return TemplateLimitExceeded(f"{what} would be too large for a notification")


def _check_power(base: Any, exponent: Any) -> None:
    big = _is_int(base) and _is_int(exponent) and exponent > 0 and abs(base) > 1
    if big and exponent * abs(base).bit_length() > MAX_INT_BITS:
        raise _too_big(f"a number of more than {MAX_INT_BITS} bits")


def _check_product(left: Any, right: Any, meter: _Meter) -> None:
    if _is_int(left) and _is_int(right):
        if left.bit_length() + right.bit_length() > MAX_INT_BITS:
            raise _too_big(f"a number of more than {MAX_INT_BITS} bits")
        return
    for sequence, times in ((left, right), (right, left)):
        repeated = isinstance(sequence, str | list | tuple) and _is_int(times) and times > 0
        if repeated and size_of(sequence, meter.limit) * times > meter.limit:
            raise _too_big(f"a value of more than {meter.limit} characters")


def _check_sum(left: Any, right: Any, meter: _Meter) -> None:
    if _is_int(left) or _is_int(right):
        return
    if size_of(left, meter.limit) + size_of(right, meter.limit) > meter.limit:
        raise _too_big(f"a value of more than {meter.limit} characters")


def render_metered(
    template: Template,
    variables: dict[str, Any],
    *,
    limit: int,
    deadline: float,
    locale: str,
    time_zone: str | None,
) -> str:
    """Renders under the meters: at most ``limit`` characters made or written, until
    ``deadline`` (``time.monotonic()``); dates in ``locale`` and ``time_zone``."""
    meter = _Meter(limit=limit, deadline=deadline, locale=locale, time_zone=time_zone)
    token = _METER.set(meter)
    try:
        return template.render(variables)
    finally:
        _METER.reset(token)


def template_line(exc: BaseException) -> int | None:
    """The template line an error points at: a syntax error's, or the innermost template
    frame of a runtime error's traceback (Jinja rewrites those to template lines)."""
    if isinstance(exc, TemplateSyntaxError):
        return exc.lineno
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line
