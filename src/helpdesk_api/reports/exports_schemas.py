"""Export pages: the resources' current state, a cursor to resume from, and whether the page
reached the end of what is committed."""

from typing import Generic, TypeVar

from pydantic import BaseModel, Field

from helpdesk_api.reports.metrics_schemas import TicketMetricsRead
from helpdesk_api.tickets import CommentRead, TicketRead
from helpdesk_api.users.schemas import UserRead

T = TypeVar("T")


class ExportPage(BaseModel, Generic[T]):
    data: list[T]
    next_cursor: str = Field(description="Where the next page starts; keep it to resume.")
    end_of_stream: bool = Field(
        description="This page reached every change committed so far: ask again later with "
        "next_cursor."
    )


class TicketExportPage(ExportPage[TicketRead]):
    pass


class CommentExportPage(ExportPage[CommentRead]):
    pass


class UserExportPage(ExportPage[UserRead]):
    pass


class TicketMetricsExportPage(ExportPage[TicketMetricsRead]):
    pass
