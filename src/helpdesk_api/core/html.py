"""Comment HTML: sanitised on the way in, so every consumer may render what we store."""

import html
import re

import nh3

# Formatting, links, lists, tables and images: what an e-mail or a rich editor produces.
ALLOWED_TAGS = {
    "a", "b", "blockquote", "br", "code", "div", "em", "h1", "h2", "h3", "h4", "hr", "i",
    "img", "li", "ol", "p", "pre", "s", "span", "strong", "sub", "sup", "table", "tbody",
    "td", "th", "thead", "tr", "u", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
}


# The sanitiser's time grows with tags times nesting depth (40,000 nested <div>s take seconds):
# past this many tags, HTML from a client is refused rather than cleaned.
MAX_TAGS = 10_000
_TAG = re.compile(r"<[A-Za-z!/]")


def within_tag_limit(value: str) -> str:
    """A validator for client HTML: at most ``MAX_TAGS`` tags."""
    for count, _ in enumerate(_TAG.finditer(value), start=1):
        if count > MAX_TAGS:
            raise ValueError(f"at most {MAX_TAGS} HTML tags")
    return value


def sanitize_html(value: str) -> str:
    return nh3.clean(
        value,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        # cid: names an e-mail's inline image; intake points it at the stored attachment.
        url_schemes={"http", "https", "mailto", "cid"},
        link_rel="noopener noreferrer nofollow",
    )


def text_of(value: str) -> str:
    """Plain text of an HTML fragment, for the text body and full-text search."""
    return html.unescape(nh3.clean(value, tags=set())).strip()
