"""django-helpdesk beside the service: its create window, then its reads at each table size.

Runs in the bench's own environment (the peer's Django runs in its own virtualenv, through
bench/peer/runner.py).
"""

from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.measure import run_load, tree
from bench.peer.runner import PEER_DB, Peer
from bench.pg import BenchPostgres, with_database
from bench.sizes import probe_spec, row

# Its standard read window (8 clients) runs at this table size, the smallest of the series:
# its reads slow down as its table grows (at 1,000 tickets one read takes ~0.4 s, at 10,000
# several seconds), which the one-client series shows; a window of 8 clients would finish
# only a handful of them.
READ_WINDOW_TICKETS = 100


def run_peer(
    pg: BenchPostgres,
    server_url: str,
    *,
    port: int,
    workers: int,
    data_dir: Path,
    context: dict[str, Any],
    watched: dict[str, Any],
    load: Callable[..., dict[str, Any]],
    sizes: tuple[int, ...],
    probe_seconds: float,
    log: Callable[[str], None],
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(its scenarios, its reads by table size)."""
    log("starting django-helpdesk (gunicorn) on the same PostgreSQL")
    peer = Peer(server_url, pg.embedded.pgdata, port, workers, data_dir)
    peer_url = with_database(server_url, PEER_DB)
    target = f"http://127.0.0.1:{port}"
    token = "drf:" + peer.token
    scenarios: dict[str, Any] = {}
    series: list[dict[str, Any]] = []
    try:
        watched["peer"] = tree(peer.process.pid)
        context["peer_queue"] = peer.queue
        scenarios["peer_create_ticket"] = load(
            "peer_create_ticket", target, token, peer_url, warmup_requests=1
        )
        for size in sorted({*sizes, READ_WINDOW_TICKETS}):
            filled = peer.fill(size)
            context["peer_min_id"], context["peer_max_id"] = filled["min_id"], filled["max_id"]
            if size in sizes:
                spec = probe_spec("peer_read_ticket", target, token, context, probe_seconds)
                result = run_load(spec, {"peer": watched["peer"], "postgres": watched["postgres"]},
                                  peer_url)  # fmt: skip
                series.append(row(size, result, "peer"))
                log(
                    f"peer_read_ticket at {size:>6,} tickets: p50 {result['p50_ms']} ms "
                    f"({result['rps']}/s)"
                )
            if size == READ_WINDOW_TICKETS:
                read = load("peer_read_ticket", target, token, peer_url, warmup_requests=1)
                read["peer_tickets_in_table"] = filled["tickets"]
                scenarios["peer_read_ticket"] = read
    finally:
        peer.stop()
        watched.pop("peer", None)
    for result in scenarios.values():
        result["ratio_framework_floor"] = result["ratio_database_floor"] = None
        result["framework_floor"] = result["database_floor"] = None
        result["ours_over_peer"] = None
    return scenarios, series
