"""What a notification template can say: the context models, and a sample of each.

Templates see these fields as variables (``{{ ticket.subject }}``, ``{{ recipient.name }}``)
plus the filters of ``sandbox.py``. Which fields an event fills is in
``NotificationEvent.description``; ``building.build_context`` fills them from the database.
Text is given as stored; the HTML part escapes every value except ``comment.html``, which
is sanitised HTML.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field

from helpdesk_api.models import Priority, StatusCategory
from helpdesk_api.notifications.events import Audience, NotificationEvent
from helpdesk_api.notifications.locales import language_of


class _Context(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", use_enum_values=True)


class TicketContext(_Context):
    id: int
    subject: str
    status: str = Field(
        description="The status label as the recipient sees it: the customer label in "
        "customer notices, the agent label in agents'."
    )
    status_category: StatusCategory
    priority: Priority = Field(description="The code; `{{ ticket.priority|priority_label }}`.")
    requester_name: str
    group_name: str | None = None
    url: str | None = Field(
        default=None,
        description="The ticket in the customer portal (customer notices) or the agent "
        "workspace (agents'), from the settings; null when none is configured.",
    )
    created_at: datetime
    first_reply_due_at: datetime | None = Field(
        default=None,
        description="When the SLA expects the first reply (acknowledgements and rules' "
        "notices); `{{ ticket.first_reply_due_at|format_datetime }}`. Null without an SLA.",
    )
    resolution_due_at: datetime | None = Field(
        default=None,
        description="When the SLA expects the request solved (acknowledgements and rules' "
        "notices). Null without an SLA.",
    )


class RecipientContext(_Context):
    name: str
    locale: str = Field(description="The locale the notification is written in.")
    time_zone: str | None = Field(
        default=None, description="IANA zone for `format_datetime`; null: UTC."
    )


class CommentContext(_Context):
    body: str = Field(description="Plain text.")
    html: str = Field(
        description="Sanitised HTML, written as is in the HTML part (sanitised again there); "
        "a plain-text comment's text, escaped, with line breaks."
    )
    author_name: str
    created_at: datetime


class SatisfactionContext(_Context):
    url: str = Field(description="The rating page (the `satisfaction_url` setting).")
    good_url: str = Field(description="The rating page, proposing a good rating.")
    bad_url: str = Field(description="The rating page, proposing a bad rating.")


class NotificationContext(_Context):
    ticket: TicketContext
    recipient: RecipientContext
    comment: CommentContext | None = None
    actor_name: str | None = Field(default=None, description="Who made the change.")
    mailbox_name: str | None = Field(
        default=None, description="The support mailbox's display name (or name)."
    )
    previous_status: str | None = Field(
        default=None, description="status_changed: the status label before the change."
    )
    satisfaction: SatisfactionContext | None = Field(
        default=None,
        description="status_changed into solved, to the requester: the rating links (one "
        "token per resolution); null when ratings are off or no rating page is configured.",
    )


@dataclass(frozen=True)
class _Sample:
    requester: str
    agent: str
    colleague: str
    subject: str
    request: str
    reply: str
    status_before: str
    status_after: str
    status_new: str
    group: str
    mailbox: str
    time_zone: str


_SAMPLES = {
    "en": _Sample(
        "Anna Smith", "Mark Taylor", "Laura Evans",
        "The October invoice shows the wrong VAT number",
        "Hello,\n\nthe invoice for October shows our old VAT number. Could you send us a "
        "corrected one?\n\nThank you,\nAnna",
        "Hello Anna,\n\nthank you for your patience. We have corrected the VAT number; the "
        "new invoice is attached.\n\nKind regards,\nMark",
        "Open", "Solved", "New", "Billing", "Acme Support", "Europe/London",
    ),
    "it": _Sample(
        "Giulia Rossi", "Marco Bianchi", "Laura Esposito",
        "La fattura di ottobre riporta una partita IVA errata",
        "Buongiorno,\n\nnella fattura di ottobre compare la nostra vecchia partita IVA. "
        "Potreste inviarcene una corretta?\n\nGrazie,\nGiulia",
        "Buongiorno Giulia,\n\ngrazie per la pazienza. Abbiamo corretto la partita IVA e le "
        "inviamo in allegato la nuova fattura.\n\nCordiali saluti,\nMarco",
        "In lavorazione", "Risolto", "Nuovo", "Amministrazione", "Assistenza Acme",
        "Europe/Rome",
    ),
    "ru": _Sample(
        "Анна Иванова", "Михаил Петров", "Ольга Смирнова",
        "В счёте за октябрь указан неверный ИНН",
        "Здравствуйте!\n\nВ счёте за октябрь указан наш старый ИНН. Пришлите, пожалуйста, "
        "исправленный счёт.\n\nСпасибо,\nАнна",
        "Здравствуйте, Анна!\n\nСпасибо за терпение. Мы исправили ИНН, новый счёт во "
        "вложении.\n\nС уважением,\nМихаил",
        "В работе", "Решён", "Новый", "Бухгалтерия", "Поддержка Acme", "Europe/Moscow",
    ),
    "hu": _Sample(
        "Kovács Anna", "Nagy Márk", "Szabó Laura",
        "Az októberi számlán hibás az adószám",
        "Jó napot!\n\nAz októberi számlán a régi adószámunk szerepel. Kérem, küldjenek "
        "javított számlát.\n\nKöszönöm,\nAnna",
        "Kedves Anna!\n\nKöszönjük türelmét. Javítottuk az adószámot, az új számlát "
        "mellékeltük.\n\nÜdvözlettel:\nMárk",
        "Folyamatban", "Megoldva", "Új", "Számlázás", "Acme Ügyfélszolgálat",
        "Europe/Budapest",
    ),
    "ro": _Sample(
        "Ana Popescu", "Mihai Ionescu", "Laura Dumitrescu",
        "Factura din octombrie are un cod fiscal greșit",
        "Bună ziua,\n\nfactura din octombrie are vechiul nostru cod fiscal. Ne puteți "
        "trimite o factură corectată?\n\nMulțumesc,\nAna",
        "Bună ziua, Ana,\n\nvă mulțumim pentru răbdare. Am corectat codul fiscal; noua "
        "factură este atașată.\n\nCu stimă,\nMihai",
        "În lucru", "Rezolvat", "Nou", "Facturare", "Suport Acme", "Europe/Bucharest",
    ),
}  # fmt: skip

SAMPLE_TICKET_ID = 1234
_SAMPLE_CREATED = datetime(2026, 11, 27, 8, 30, tzinfo=UTC)
_SAMPLE_COMMENTED = datetime(2026, 11, 28, 13, 5, tzinfo=UTC)


def _html_of(text: str) -> str:
    paragraphs = (p.replace("\n", "<br>\n") for p in text.split("\n\n"))
    return "\n".join(f"<p>{p}</p>" for p in paragraphs)


def sample_context(event: NotificationEvent, locale: str) -> NotificationContext:
    """A plausible context for ``event`` in ``locale``'s language (English for others):
    what previews show and what an admin's template is checked against when saved. Every
    field the event fills is filled, ``ticket.url`` included."""
    s = _SAMPLES.get(language_of(locale), _SAMPLES["en"])
    customer = event.audience is Audience.customer
    if event is NotificationEvent.public_reply:
        comment: CommentContext | None = CommentContext(
            body=s.reply, html=_html_of(s.reply), author_name=s.agent, created_at=_SAMPLE_COMMENTED
        )
    elif event is NotificationEvent.status_changed:
        comment = None
    else:
        comment = CommentContext(
            body=s.request,
            html=_html_of(s.request),
            author_name=s.requester,
            created_at=_SAMPLE_CREATED,
        )
    actor = {
        NotificationEvent.public_reply: s.agent,
        NotificationEvent.status_changed: s.agent,
        NotificationEvent.acknowledgement: None,
        NotificationEvent.ticket_assigned: s.colleague,
        NotificationEvent.ticket_created: s.requester,
    }[event]
    if event is NotificationEvent.status_changed:
        status, category = s.status_after, StatusCategory.solved
    elif customer:
        status, category = s.status_before, StatusCategory.open
    else:
        status, category = s.status_new, StatusCategory.new
    return NotificationContext(
        ticket=TicketContext(
            id=SAMPLE_TICKET_ID,
            subject=s.subject,
            status=status,
            status_category=category,
            priority=Priority.high,
            requester_name=s.requester,
            group_name=s.group,
            url=f"https://support.example.com/{'requests' if customer else 'agent/tickets'}"
            f"/{SAMPLE_TICKET_ID}",
            created_at=_SAMPLE_CREATED,
            first_reply_due_at=_SAMPLE_CREATED + timedelta(hours=4),
            resolution_due_at=_SAMPLE_CREATED + timedelta(days=2),
        ),
        recipient=RecipientContext(
            name=s.requester if customer else s.agent, locale=locale, time_zone=s.time_zone
        ),
        comment=comment,
        actor_name=actor,
        mailbox_name=s.mailbox,
        previous_status=s.status_before if event is NotificationEvent.status_changed else None,
        satisfaction=_SAMPLE_SATISFACTION if event is NotificationEvent.status_changed else None,
    )


_SAMPLE_RATING_PAGE = "https://support.example.com/rate/cs_sample"
_SAMPLE_SATISFACTION = SatisfactionContext(
    url=_SAMPLE_RATING_PAGE,
    good_url=f"{_SAMPLE_RATING_PAGE}?score=good",
    bad_url=f"{_SAMPLE_RATING_PAGE}?score=bad",
)
