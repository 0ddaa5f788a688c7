"""The two statements a ticket change costs the metrics, fixed in shape (every column, every
time): what ``bench/floor_writes.py`` mirrors, and an ORM unit of work would vary."""

from dataclasses import fields

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import JSONB

from helpdesk_api.reports.timeline import Figures

COLUMNS = tuple(f.name for f in fields(Figures))
CALENDAR_COLUMNS = ("time_zone", "always_open", "hours", "holidays")

# Column names come from the dataclass, never from input.
INSERT = text(
    f"INSERT INTO ticket_metrics (ticket_id, {', '.join(COLUMNS)}, updated_at) "  # noqa: S608
    f"VALUES (:ticket_id, {', '.join(':' + c for c in COLUMNS)}, :updated_at)"
)
# The stored figures and the calendar of the SLA policy the ticket has now, if any.
SELECT = text(
    f"SELECT {', '.join('m.' + c for c in COLUMNS)}, c.id AS calendar_row_id, "  # noqa: S608
    f"{', '.join('c.' + c for c in CALENDAR_COLUMNS)} "
    "FROM ticket_metrics AS m "
    "LEFT OUTER JOIN ticket_slas AS s ON s.ticket_id = m.ticket_id "
    "LEFT OUTER JOIN sla_policies AS p ON p.id = s.policy_id "
    "LEFT OUTER JOIN business_calendars AS c ON c.id = p.calendar_id "
    "WHERE m.ticket_id = :ticket_id"
).columns(hours=JSONB, holidays=JSONB)
UPDATE = text(
    f"UPDATE ticket_metrics SET {', '.join(f'{c} = :{c}' for c in COLUMNS)}, "  # noqa: S608
    "updated_at = :updated_at WHERE ticket_id = :ticket_id"
)
