import pytest

from helpdesk_api.attachments.content import (
    content_disposition,
    may_be_active,
    normalize_content_type,
)


@pytest.mark.parametrize(
    "content_type",
    [
        "text/html",
        "text/html; charset=utf-8",
        "image/svg+xml",
        "application/xhtml+xml",
        "application/javascript",
        "text/javascript",
        "application/xml",
        "text/xsl",
        "application/x-shockwave-flash",
        "multipart/x-mixed-replace",
    ],
)
def test_active_types_are_recognised(content_type):
    assert may_be_active(content_type)


@pytest.mark.parametrize(
    "content_type", ["image/png", "text/plain", "text/csv", "application/pdf", "application/zip"]
)
def test_passive_types_are_not_active(content_type):
    assert not may_be_active(content_type)


def test_disposition_has_ascii_fallback_and_exact_utf8_name():
    assert content_disposition("attachment", "naïve;\\x.txt") == (
        "attachment; filename=\"na_ve;_x.txt\"; filename*=UTF-8''na%C3%AFve%3B%5Cx.txt"
    )


def test_content_type_header_injection_is_refused():
    assert normalize_content_type('text/plain; x="a\r\nSet-Cookie: a=b"') is None
