from datetime import datetime

from pydantic import BaseModel, Field

from helpdesk_api.models import StatusCategory
from helpdesk_api.products.schemas import AssetRead
from helpdesk_api.satisfaction.schemas import RatingRead
from helpdesk_api.tickets import TicketRead
from helpdesk_api.users.schemas import UserRead

CAP = 10


class OrganizationRef(BaseModel):
    id: int
    name: str


class TicketsPart(BaseModel):
    counts: dict[StatusCategory, int] = Field(
        description="Tickets the customer requested, per status category (those the caller "
        "may see)."
    )
    open: list[TicketRead] = Field(
        description=f"Not solved or closed, most recently updated first; at most {CAP}."
    )
    recent: list[TicketRead] = Field(description=f"Any status, newest first; at most {CAP}.")
    more: str = Field(description="The full list: the tickets list filtered by requester.")


class SatisfactionPart(BaseModel):
    rated: int = Field(description="How many resolutions the customer rated.")
    good: int
    good_share: float | None = Field(description="good / rated (0…1); null when none rated.")
    recent: list[RatingRead] = Field(description=f"Newest first; at most {CAP}.")
    more: str


class ProductsPart(BaseModel):
    count: int = Field(description="How many assets (products) the customer owns.")
    assets: list[AssetRead] = Field(
        description=f"The latest recorded first, each with its product; at most {CAP}."
    )
    more: str = Field(description="The full list: the customer's assets.")


class CustomerOverview(BaseModel):
    """A customer at a glance. Each list is capped; `more` links the full list."""

    user: UserRead
    organization: OrganizationRef | None
    first_seen_at: datetime = Field(description="When the customer was first recorded.")
    last_contact_at: datetime | None = Field(
        description="Their latest request or reply on a ticket the caller may see."
    )
    tickets: TicketsPart
    products: ProductsPart
    satisfaction: SatisfactionPart
