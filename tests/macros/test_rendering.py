"""A macro's comment template, rendered: pure, no database."""

from datetime import UTC, datetime

import pytest

from helpdesk_api.macros.rendering import (
    SAMPLE_VARIABLES,
    RenderProblem,
    check_template,
    pick_variant,
    render,
)


def test_the_requesters_locale_then_its_language_then_the_default():
    translations = {"de": "Hallo", "pt-BR": "Olá", "en": "Hello"}
    assert pick_variant("Ahoj", translations, "de-AT") == ("de", "Hallo")
    assert pick_variant("Ahoj", translations, "pt_br") == ("pt-BR", "Olá")
    # The default is the macro's own language: English is not a fallback for a Czech reader.
    assert pick_variant("Ahoj", translations, "cs") == (None, "Ahoj")
    assert pick_variant("Ahoj", translations, None) == ("en", "Hello")


def test_due_times_in_the_requesters_zone_and_strict_checks_at_save():
    variables = SAMPLE_VARIABLES | {
        "ticket": SAMPLE_VARIABLES["ticket"]
        | {"resolution_due_at": datetime(2026, 11, 30, 12, 0, tzinfo=UTC)}
    }
    text = render(
        "Bis {{ ticket.resolution_due_at|format_datetime }}",
        variables,
        locale="de",
        time_zone="Europe/Vienna",
    )
    assert "13:00" in text  # noon UTC is 13:00 in Vienna in November
    assert check_template("Hi {{ ticket.requester.first_name }}", "en") is None
    assert "nickname" in (check_template("Hi {{ ticket.requester.nickname }}", "en") or "")
    assert check_template("{{ '' }}", "en") == "renders empty"
    # Leniently, an unknown name reads as empty; the sandbox still refuses what is unsafe.
    assert render("a{{ nope }}b", variables, locale="en", time_zone=None) == "ab"
    with pytest.raises(RenderProblem):
        render("{{ ''.__class__ }}", variables, locale="en", time_zone=None, strict=True)
