"""Rendering notification templates: the built-in wording, the sandbox, dates and locales.
Pure: no database."""

import time
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from helpdesk_api.core.settings import Settings
from helpdesk_api.notifications import (
    Audience,
    NotificationEvent,
    format_datetime,
    locale_chain,
    ticket_url,
)
from helpdesk_api.notifications.builtin import TemplateSource, builtin_locales, builtin_template
from helpdesk_api.notifications.context import sample_context
from helpdesk_api.notifications.templates import (
    TemplateProblem,
    check_template,
    render_template,
    subject_with_token,
)

LANGUAGES = ["en", "it", "ru", "hu", "ro"]
EVENTS = list(NotificationEvent)
JANUARY_NOON = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
JULY_NOON = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)


def _source(subject: str = "[#{{ ticket.id }}] x", text: str = "x", html: str | None = None):
    return TemplateSource(subject, text, html)


def _hostile_context(event: NotificationEvent):
    """A sample whose customer-written fields carry markup."""
    context = sample_context(event, "en")
    ticket = context.ticket.model_copy(update={"subject": "Broken <script>alert(1)</script>"})
    update: dict[str, object] = {"ticket": ticket}
    if context.comment is not None:
        update["comment"] = context.comment.model_copy(
            update={
                "body": "See <script>alert(2)</script> & co",
                "html": "<p>See</p><script>alert(2)</script><img src=x onerror=alert(3)>",
                "author_name": "Eve <b>",
            }
        )
    return context.model_copy(update=update)


def test_the_built_in_languages_are_the_seed_languages_and_english():
    assert set(builtin_locales()) == set(LANGUAGES)


@pytest.mark.parametrize("locale", LANGUAGES)
@pytest.mark.parametrize("event", EVENTS)
def test_every_built_in_template_renders_in_its_language(event, locale):
    source = builtin_template(event, locale)
    assert source is not None
    assert source.html_body is not None
    check_template(event, locale, source)  # what an admin's own wording must pass too
    subject, text, html = render_template(source, sample_context(event, locale), locale=locale)
    assert subject.startswith("[#1234] ")
    assert "\n" not in subject
    assert text.strip()
    assert "1234" in text
    assert html is not None
    assert f'<html lang="{locale}">' in html
    assert "None" not in text
    assert "None" not in html


@pytest.mark.parametrize("event", EVENTS)
def test_html_escapes_what_customers_wrote_and_text_keeps_it(event):
    source = builtin_template(event, "en")
    assert source is not None
    subject, text, html = render_template(source, _hostile_context(event), locale="en")
    assert html is not None
    assert "<script>" not in html
    assert "onerror" not in html
    assert "Broken &lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Broken <script>alert(1)</script>" in subject
    if event is NotificationEvent.public_reply:
        assert "Eve &lt;b&gt;" in html
        assert "<p>See</p>" in html  # the comment's (sanitised) HTML is kept as HTML
        assert "See <script>alert(2)</script> & co" in text


def test_the_public_reply_quotes_the_reply_and_says_how_to_answer():
    context = sample_context(NotificationEvent.public_reply, "en")
    source = builtin_template(NotificationEvent.public_reply, "en")
    assert source is not None
    assert context.comment is not None
    _, text, html = render_template(source, context, locale="en")
    assert context.comment.body in text
    assert "reply to this e-mail" in text
    assert html is not None
    assert "<blockquote" in html


@pytest.mark.parametrize("locale", ["en", "it", "ru", "hu", "ro"])
def test_the_solved_notice_offers_both_rating_links_in_every_language(locale):
    context = sample_context(NotificationEvent.status_changed, locale)
    assert context.satisfaction is not None
    source = builtin_template(NotificationEvent.status_changed, locale)
    assert source is not None
    _, text, html = render_template(source, context, locale=locale)
    assert html is not None
    for url in (context.satisfaction.good_url, context.satisfaction.bad_url):
        assert url in text
        assert f'href="{url}"' in html


def test_optional_fields_left_out_leave_no_trace():
    full = sample_context(NotificationEvent.status_changed, "en")
    sparse = full.model_copy(
        update={
            "ticket": full.ticket.model_copy(update={"url": None, "group_name": None}),
            "mailbox_name": None,
            "previous_status": None,
            "satisfaction": None,
        }
    )
    source = builtin_template(NotificationEvent.status_changed, "en")
    assert source is not None
    _, text, _ = render_template(source, sparse, locale="en")
    assert "http" not in text
    assert " from " not in text
    assert text.rstrip().endswith("Customer support")


@pytest.mark.parametrize(
    ("time_zone", "locale", "value", "expected"),
    [
        ("Europe/Budapest", "en", JANUARY_NOON, "15 January 2026, 13:00 CET"),
        ("Europe/Budapest", "en", JULY_NOON, "1 July 2026, 14:00 CEST"),
        ("Europe/Budapest", "hu", JANUARY_NOON, "2026. január 15. 13:00 CET"),
        ("UTC", "en", JANUARY_NOON, "15 January 2026, 12:00 UTC"),
        (None, "it", JANUARY_NOON, "15 gennaio 2026 alle ore 12:00 UTC"),
        ("Not/AZone", "ro", JANUARY_NOON, "15 ianuarie 2026, ora 12:00 UTC"),
        ("Europe/Moscow", "ru-RU", JANUARY_NOON, "15 января 2026 г., 15:00 MSK"),
        ("Asia/Almaty", "de", JANUARY_NOON, "15 January 2026, 17:00 UTC+05:00"),
        ("Europe/Budapest", "en", datetime(2026, 1, 15, 12, 0), "15 January 2026, 13:00 CET"),
    ],
)
def test_dates_are_shown_in_the_recipients_zone_and_language(time_zone, locale, value, expected):
    assert format_datetime(value, locale=locale, time_zone=time_zone) == expected


def test_format_datetime_filter_uses_the_recipients_zone():
    context = sample_context(NotificationEvent.public_reply, "en")
    assert context.comment is not None
    comment = context.comment.model_copy(update={"created_at": JANUARY_NOON})
    source = _source(text="{{ comment.created_at|format_datetime }}|{{ x|format_datetime }}")
    for zone, shown in [("Europe/Budapest", "13:00 CET"), ("UTC", "12:00 UTC")]:
        recipient = context.recipient.model_copy(update={"time_zone": zone})
        moved = context.model_copy(update={"comment": comment, "recipient": recipient})
        _, text, _ = render_template(source, moved, locale="en")
        assert text == f"15 January 2026, {shown}|"
    _, short, _ = render_template(
        _source(text="{{ comment.created_at|format_datetime('short') }}"),
        context.model_copy(update={"comment": comment}),
        locale="hu",
    )
    assert short == "2026. 01. 15. 12:00"


@pytest.mark.parametrize(
    ("locale", "chain"),
    [
        ("pt-BR", ["pt-BR", "pt", "en"]),
        ("PT_br", ["pt-BR", "pt", "en"]),
        ("it", ["it", "en"]),
        ("sr-latn-rs", ["sr-Latn-RS", "sr", "en"]),
        ("en-GB", ["en-GB", "en"]),
        (None, ["en"]),
        ("", ["en"]),
        ("not a locale!", ["en"]),
    ],
)
def test_locale_fallback_chain(locale, chain):
    assert locale_chain(locale) == chain


def test_subject_is_one_line_and_customer_notices_keep_the_token():
    context = sample_context(NotificationEvent.public_reply, "en")
    source = _source(subject="Reply\r\n about:\t{{ ticket.subject }}\n")
    subject, _, _ = render_template(source, context, locale="en")
    assert subject == f"Reply about: {context.ticket.subject}"
    with_token = subject_with_token(subject, NotificationEvent.public_reply, 1234)
    assert with_token == f"[#1234] {subject}"
    assert subject_with_token(with_token, NotificationEvent.public_reply, 1234) == with_token
    assert subject_with_token(subject, NotificationEvent.ticket_assigned, 1234) == subject


def test_an_unknown_name_is_refused_when_checked_and_empty_when_sent():
    source = _source(text="Hello\n{{ recipient.nme }}!")
    with pytest.raises(TemplateProblem) as caught:
        check_template(NotificationEvent.public_reply, "en", source)
    assert caught.value.part == "text_body"
    assert caught.value.line == 2
    context = sample_context(NotificationEvent.public_reply, "en")
    assert render_template(source, context, locale="en")[1] == "Hello\n!"


def test_a_syntax_error_names_its_line():
    source = _source(html="<p>\n{% if ticket.id %}\n{{ ticket.id }\n")
    with pytest.raises(TemplateProblem) as caught:
        check_template(NotificationEvent.public_reply, "en", source)
    assert (caught.value.part, caught.value.kind, caught.value.line) == ("html_body", "syntax", 3)


def test_a_customer_notice_must_keep_the_ticket_token():
    with pytest.raises(TemplateProblem) as caught:
        check_template(NotificationEvent.status_changed, "en", _source(subject="Update"))
    assert caught.value.kind == "token"
    check_template(NotificationEvent.ticket_created, "en", _source(subject="New ticket"))


HOSTILE = [
    "{{ ''.__class__.__mro__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ recipient.__class__ }}",
    "{{ ticket.items.__self__ }}",
    "{{ comment.body.format }}",
    "{{ ''|attr('__class__') }}",
    "{{ 'x' * 10**9 }}",
    "{{ 10 ** 100000 }}",
    "{{ '%099999999d' % 1 }}",
    "{% for a in range(1000) %}{% for b in range(1000) %}{% endfor %}{% endfor %}",
    "{% for a in range(1000) %}{% for b in range(1000) %}x{% endfor %}{% endfor %}",
    "{% for i in range(10**9) %}{% endfor %}",
    "{% set s = 'abcdefgh' %}" + "{% set s = s ~ s %}" * 40 + "{{ s }}",
    "{% macro f(n) %}{{ f(n) }}{{ f(n) }}{% endmacro %}{{ f(1) }}",
    "{% for x in [1] recursive %}{{ loop([1, 1]) }}{% endfor %}",
    "{% include 'x' %}",
    "{% autoescape false %}{{ comment.body }}{% endautoescape %}",
    "{{ comment.body|safe }}",
    "{{ lipsum(10**6) }}",
    "{{ ''|center(10**9) }}",
]


@pytest.mark.parametrize("template", HOSTILE)
def test_a_hostile_template_is_refused_when_checked(template):
    source = _source(text=template, html=template)
    with pytest.raises(TemplateProblem):
        check_template(NotificationEvent.public_reply, "en", source)


@pytest.mark.parametrize("template", HOSTILE)
def test_a_hostile_template_is_harmless_when_sent(template):
    context = sample_context(NotificationEvent.public_reply, "en")
    started = time.monotonic()
    try:
        _, text, html = render_template(_source(text=template, html=template), context, locale="en")
    except TemplateProblem:
        pass
    else:  # what renders, renders nothing that reaches inside
        assert "class" not in text
        assert "<script" not in (html or "")
        assert len(text) <= 200_000
    assert time.monotonic() - started < 2


def test_templates_can_still_do_ordinary_things():
    context = sample_context(NotificationEvent.ticket_created, "it")
    text = (
        "{{ ticket.subject|upper|truncate(12, true) }}|{{ ticket.priority|priority_label }}|"
        "{% for line in comment.body.splitlines() if line %}> {{ line }}\n{% endfor %}|"
        "{{ range(3)|map('string')|join(',') }}|{{ (actor_name or 'x')|length > 2 }}"
    )
    _, rendered, _ = render_template(_source(text=text), context, locale="it")
    assert rendered.startswith("LA FATTUR...|Alta|> Buongiorno,\n> nella fattura")
    assert rendered.endswith("|0,1,2|True")


@pytest.mark.parametrize(
    "url", ["ftp://help.example.com/{id}", "https://help.example.com/requests", "{id}"]
)
def test_ticket_links_must_be_http_urls_with_the_id(url):
    with pytest.raises(ValidationError):
        Settings(notification_portal_url=url)


def test_ticket_links_put_the_id_in_place():
    settings = Settings(notification_portal_url="https://help.example.com/r/{id}?tab=reply")
    assert ticket_url(settings, 7, Audience.customer) == "https://help.example.com/r/7?tab=reply"
    assert ticket_url(settings, 7, Audience.agent) is None
