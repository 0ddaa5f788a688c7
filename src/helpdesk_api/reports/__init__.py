"""Reports and analytics: per-ticket metrics kept by the ticket pipeline, aggregates over
them, backlog snapshots and incremental exports. Reads tickets; changes none."""

from helpdesk_api.reports.backlog import take_snapshot as take_backlog_snapshot
from helpdesk_api.reports.history import compute_ticket_metrics
from helpdesk_api.reports.tracking import on_ticket_change

__all__ = ["compute_ticket_metrics", "on_ticket_change", "take_backlog_snapshot"]
