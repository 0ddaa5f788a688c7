"""Choosing a policy is a pure function of the ordered policies and the ticket."""

from dataclasses import dataclass
from typing import Any

from helpdesk_api.sla.matching import TicketFacts, choose, match

TICKET = TicketFacts(
    priority="urgent",
    group_id=7,
    organization_id=3,
    tags=frozenset({"vip", "billing"}),
    channel="email",
    type="incident",
)


@dataclass
class Policy:
    name: str
    conditions: dict[str, Any]


def test_empty_conditions_match_every_ticket_with_no_explanation_needed():
    assert match({}, TICKET) == []


def test_every_non_empty_condition_must_match():
    assert match({"priority": ["urgent"], "channel": ["chat"]}, TICKET) is None


def test_any_value_of_one_condition_matches_and_is_reported():
    assert match({"priority": ["high", "urgent"]}, TICKET) == [
        {"field": "priority", "values": ["high", "urgent"], "matched": ["urgent"]}
    ]


def test_tags_match_on_any_shared_tag():
    matched = match({"tags": ["vip", "gold"]}, TICKET)
    assert matched == [{"field": "tags", "values": ["vip", "gold"], "matched": ["vip"]}]


def test_a_missing_value_never_matches_a_condition_on_it():
    no_group = TicketFacts("low", None, None, frozenset(), "api", None)
    assert match({"group_id": [7]}, no_group) is None
    assert match({"type": ["incident"]}, no_group) is None


def test_the_first_matching_policy_in_order_applies():
    policies = [
        Policy("chat only", {"channel": ["chat"]}),
        Policy("vip", {"tags": ["vip"]}),
        Policy("everyone", {}),
    ]
    chosen = choose(policies, TICKET)
    assert chosen is not None
    assert chosen[0].name == "vip"


def test_no_matching_policy_means_none():
    assert choose([Policy("chat only", {"channel": ["chat"]})], TICKET) is None
