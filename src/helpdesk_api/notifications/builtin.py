"""The built-in wording: files under ``defaults/<locale>/<event>.{subject,txt,html}``.

They are package data (hatchling's wheel takes every file under ``src/helpdesk_api``), read
once per process. To add a language, add a folder with the fifteen files; the tests render
each of them in its language. The subject file holds one line; a missing ``.html`` file
means a text-only message.
"""

from dataclasses import dataclass
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable

from helpdesk_api.notifications.events import NotificationEvent


@dataclass(frozen=True)
class TemplateSource:
    """One notification's wording: three Jinja templates (``html_body`` None: text only)."""

    subject: str
    text_body: str
    html_body: str | None


def _defaults() -> Traversable:
    return resources.files("helpdesk_api.notifications").joinpath("defaults")


@cache
def builtin_locales() -> tuple[str, ...]:
    """The locales with built-in wording, sorted; English among them."""
    return tuple(sorted(entry.name for entry in _defaults().iterdir() if entry.is_dir()))


@cache
def builtin_template(event: NotificationEvent, locale: str) -> TemplateSource | None:
    if locale not in builtin_locales():
        return None
    folder = _defaults().joinpath(locale)
    html = folder.joinpath(f"{event.value}.html")
    return TemplateSource(
        subject=folder.joinpath(f"{event.value}.subject").read_text("utf-8").strip(),
        text_body=folder.joinpath(f"{event.value}.txt").read_text("utf-8"),
        html_body=html.read_text("utf-8") if html.is_file() else None,
    )
