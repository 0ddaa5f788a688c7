"""The bot that answers at once: a new ticket from the web form or a messaging channel gets
a public reply with the best public articles in its requester's language, and a link that
asks "did this solve it?" (``deflections.py`` takes the answer).

The reply is a comment ``via: bot`` with no author, written through the ticket pipeline like
a rule's reply: the notification stage mails it, the channels stage relays it through the
channel's outbox. It moves no status and is no agent's first reply. Only ``public``
articles are offered (the link must open without signing in), never drafts.

The link's token is shown only in the reply; the deflection keeps its SHA-256 digest.
"""

import html
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.core.actor import Actor
from helpdesk_api.core.auth import hash_token
from helpdesk_api.core.event_types import EventType
from helpdesk_api.core.events import record_event
from helpdesk_api.core.settings import Settings
from helpdesk_api.kb import search
from helpdesk_api.kb.deflection_schemas import deflection_read
from helpdesk_api.kb.locales import parse_locale
from helpdesk_api.models import DeflectionState, KbDeflection, MessagingChannel, Ticket, User, Via
from helpdesk_api.tickets import ChangeSet, NewComment, add_comment, commit_change

TOKEN_PREFIX = "df_"
DEFAULT_LOCALE = "en"
# The reply's words per language; other languages read English.
_WORDS = {
    "en": ("These articles may answer your request:", "Did one of them solve it? Tell us here",
           'or reply "solved".'),
    "it": ("Questi articoli potrebbero rispondere alla sua richiesta:",
           "Uno di questi ha risolto? Ce lo dica qui", 'oppure risponda "risolto".'),
    "ru": ("Возможно, эти статьи отвечают на ваш вопрос:", "Помогла ли одна из них? Ответьте здесь",
           "или напишите «решено»."),
    "hu": ("Ezek a cikkek választ adhatnak a kérésére:", "Megoldotta valamelyik? Jelezze itt",
           'vagy válaszoljon: "megoldva".'),
    "ro": ("Aceste articole v-ar putea răspunde la cerere:",
           "V-a rezolvat vreunul? Spuneți-ne aici", 'sau răspundeți "rezolvat".'),
}  # fmt: skip


@dataclass(frozen=True)
class BotConfig:
    enabled: bool
    min_rank: float
    max_articles: int
    article_url: str | None
    deflection_url: str | None

    @classmethod
    def of_web_form(cls, settings: Settings) -> "BotConfig":
        return cls(
            settings.kb_bot_web_form_enabled,
            settings.kb_bot_web_form_min_rank,
            settings.kb_bot_web_form_max_articles,
            settings.kb_article_url,
            settings.kb_deflection_url,
        )

    @classmethod
    def of_channel(cls, channel: MessagingChannel, settings: Settings) -> "BotConfig":
        return cls(
            channel.kb_bot_enabled,
            channel.kb_bot_min_rank,
            channel.kb_bot_max_articles,
            settings.kb_article_url,
            settings.kb_deflection_url,
        )


def new_token() -> tuple[str, bytes]:
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    return token, hash_token(token)


async def requester_locale(session: AsyncSession, ticket: Ticket) -> str:
    locale = ticket.locale or await session.scalar(
        select(User.locale).where(User.id == ticket.requester_id)
    )
    return parse_locale(locale or "") or DEFAULT_LOCALE


async def answer_at_once(
    session: AsyncSession,
    config: BotConfig,
    ticket: Ticket,
    *,
    text: str,
    channel_id: int | None,
    now: datetime,
) -> KbDeflection | None:
    """Reply to the just-opened, locked ``ticket`` when the bot is on and some public
    article ranks high enough for ``text`` (its subject and first message); None otherwise."""
    if not config.enabled or config.article_url is None or config.deflection_url is None:
        return None
    locale = await requester_locale(session, ticket)
    hits = await search.suggest(
        session, search.ANONYMOUS, locale=locale, text=text, labels=ticket.tags,
        limit=config.max_articles, min_rank=config.min_rank,
    )  # fmt: skip
    if not hits:
        return None
    token, digest = new_token()
    links = [
        (
            h.translation.title,
            config.article_url.replace("{id}", str(h.article.id)).replace(
                "{locale}", h.translation.locale
            ),
        )
        for h in hits
    ]
    answer_url = config.deflection_url.replace("{token}", token)
    intro, question, keyword = _WORDS.get(locale.split("-", 1)[0], _WORDS["en"])
    body = "\n".join(
        [
            intro,
            *(f"- {title}: {url}" for title, url in links),
            f"{question}: {answer_url} {keyword}",
        ]
    )
    items = "".join(
        f'<li><a href="{html.escape(url)}">{html.escape(title)}</a></li>' for title, url in links
    )
    html_body = (
        f"<p>{html.escape(intro)}</p><ul>{items}</ul>"
        f'<p><a href="{html.escape(answer_url)}">{html.escape(question)}</a> '
        f"{html.escape(keyword)}</p>"
    )
    actor = Actor.system(Via.bot)
    changes = ChangeSet()
    comment = await add_comment(
        session, ticket, NewComment(body=body, html_body=html_body, public=True),
        actor=actor, changes=changes, now=now,
    )  # fmt: skip
    await commit_change(session, ticket, changes, actor=actor, now=now)
    deflection = KbDeflection(
        ticket_id=ticket.id,
        comment_id=comment.id,
        channel_id=channel_id,
        requester_id=ticket.requester_id,
        locale=locale,
        article_ids=[h.article.id for h in hits],
        token_hash=digest,
        state=DeflectionState.offered,
        offered_at=now,
    )
    session.add(deflection)
    await session.flush()
    await record_event(
        session,
        EventType.deflection_offered,
        actor_id=None,
        via=Via.bot.value,
        ticket_id=ticket.id,
        data={"deflection": deflection_read(deflection).model_dump(mode="json")},
    )
    return deflection
