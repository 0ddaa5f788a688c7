"""Each metric's clock through the API, at request times the test sets (`current_time`)."""

from datetime import UTC, datetime, timedelta

import pytest

from tests.factories import ADMIN, make_user_with_token
from tests.sla.helpers import (
    MONDAY_10_ROME,
    iso,
    make_calendar,
    make_policy,
    metric,
    parse,
    target,
    ticket_sla,
)
from tests.tickets.factories import comment, make_group, make_ticket, status_id, update_ticket


@pytest.fixture
async def policy(client):
    calendar = await make_calendar(client)
    return await make_policy(
        client,
        calendar["id"],
        target("first_reply", 60),
        target("next_reply", 120),
        target("periodic_update", 240),
        target("resolution", 480),
        target("first_reply", 30, priority="urgent"),
        target("resolution", 240, priority="urgent"),
    )


@pytest.fixture
async def customer(client):
    return await make_user_with_token(client)


async def _customer_ticket(client, customer, **overrides):
    _, headers = customer
    return await make_ticket(client, headers, **overrides)


async def test_first_reply_and_resolution_start_when_the_ticket_is_created(
    client, clock, policy, customer
):
    ticket = await _customer_ticket(client, customer)
    first = await metric(client, ticket["id"], "first_reply")
    assert first["status"] == "active"
    assert parse(first["started_at"]) == MONDAY_10_ROME
    assert parse(first["breach_at"]) == MONDAY_10_ROME + timedelta(hours=1)
    assert parse(first["warning_at"]) == MONDAY_10_ROME + timedelta(minutes=45)
    resolution = await metric(client, ticket["id"], "resolution")
    # 480 business minutes from Monday 10:00: Monday 17:00 is 7 h, then Tuesday 09:00-10:00.
    assert parse(resolution["breach_at"]) == MONDAY_10_ROME + timedelta(days=1)


async def test_business_minutes_skip_the_night_and_the_weekend(client, clock, policy, customer):
    clock.set(datetime(2026, 11, 20, 15, 30, tzinfo=UTC))  # Friday 16:30 in Rome
    ticket = await _customer_ticket(client, customer)
    first = await metric(client, ticket["id"], "first_reply")
    assert first["breach_at"] == "2026-11-23T08:30:00Z"  # Monday 09:30 in Rome


async def test_holidays_are_not_business_time(client, clock, customer):
    calendar = await make_calendar(client, holidays=[{"date": "2026-11-24", "name": "Closed"}])
    await make_policy(client, calendar["id"], target("first_reply", 480))
    ticket = await _customer_ticket(client, customer)
    first = await metric(client, ticket["id"], "first_reply")
    # Monday 10:00-17:00 is 7 h; Tuesday is a holiday; the last hour is Wednesday 09:00-10:00.
    assert first["breach_at"] == "2026-11-25T09:00:00Z"


async def test_calendar_minute_target_counts_around_the_clock(client, clock, customer):
    calendar = await make_calendar(client)
    await make_policy(client, calendar["id"], target("first_reply", 600, business_hours=False))
    ticket = await _customer_ticket(client, customer)
    first = await metric(client, ticket["id"], "first_reply")
    assert parse(first["breach_at"]) == MONDAY_10_ROME + timedelta(hours=10)
    assert first["business_hours"] is False


async def test_agent_public_reply_achieves_first_reply(client, clock, policy, customer):
    ticket = await _customer_ticket(client, customer)
    clock.advance(minutes=20)
    assert (await comment(client, ticket["id"], ADMIN, body="On it")).status_code == 201
    first = await metric(client, ticket["id"], "first_reply")
    assert first["status"] == "achieved"
    assert parse(first["achieved_at"]) == MONDAY_10_ROME + timedelta(minutes=20)
    assert first["breached_at"] is None


async def test_private_note_does_not_achieve_first_reply(client, clock, policy, customer):
    ticket = await _customer_ticket(client, customer)
    clock.advance(minutes=20)
    await comment(client, ticket["id"], ADMIN, body="internal", public=False)
    assert (await metric(client, ticket["id"], "first_reply"))["status"] == "active"


async def test_late_first_reply_is_breached(client, clock, policy, customer):
    ticket = await _customer_ticket(client, customer)
    clock.advance(hours=2)
    await comment(client, ticket["id"], ADMIN, body="Sorry for the wait")
    first = await metric(client, ticket["id"], "first_reply")
    assert first["status"] == "breached"
    assert parse(first["breached_at"]) == MONDAY_10_ROME + timedelta(hours=1)
    assert parse(first["achieved_at"]) == MONDAY_10_ROME + timedelta(hours=2)


async def test_passed_deadline_reads_as_breached_before_any_worker_ran(
    client, clock, policy, customer
):
    ticket = await _customer_ticket(client, customer)
    clock.advance(minutes=61)
    first = await metric(client, ticket["id"], "first_reply")
    assert first["status"] == "breached"
    assert parse(first["breached_at"]) == MONDAY_10_ROME + timedelta(hours=1)


async def test_next_reply_runs_from_customer_message_to_agent_reply(
    client, clock, policy, customer
):
    _, headers = customer
    ticket = await _customer_ticket(client, customer)
    clock.advance(minutes=10)
    await comment(client, ticket["id"], ADMIN, body="Hello")
    clock.advance(minutes=10)
    await comment(client, ticket["id"], headers, body="Still broken")
    waiting = await metric(client, ticket["id"], "next_reply")
    assert (waiting["status"], waiting["cycle"]) == ("active", 1)
    assert parse(waiting["breach_at"]) == clock.now + timedelta(hours=2)
    clock.advance(minutes=30)
    await comment(client, ticket["id"], ADMIN, body="Try this")
    assert (await metric(client, ticket["id"], "next_reply"))["status"] == "achieved"
    clock.advance(minutes=5)
    await comment(client, ticket["id"], headers, body="No luck")
    again = await metric(client, ticket["id"], "next_reply")
    assert (again["status"], again["cycle"]) == ("active", 2)
    assert parse(again["started_at"]) == clock.now


async def test_customer_follow_up_before_the_first_reply_starts_no_next_reply(
    client, clock, policy, customer
):
    _, headers = customer
    ticket = await _customer_ticket(client, customer)
    clock.advance(minutes=5)
    await comment(client, ticket["id"], headers, body="Any news?")
    names = [m["metric"] for m in (await ticket_sla(client, ticket["id"]))["metrics"]]
    assert "next_reply" not in names


async def test_periodic_update_restarts_with_each_agent_reply(client, clock, policy, customer):
    ticket = await _customer_ticket(client, customer)
    clock.advance(minutes=10)
    await comment(client, ticket["id"], ADMIN, body="First")
    first_cycle = await metric(client, ticket["id"], "periodic_update")
    assert (first_cycle["status"], first_cycle["cycle"]) == ("active", 1)
    assert parse(first_cycle["breach_at"]) == clock.now + timedelta(hours=4)
    clock.advance(minutes=60)
    await comment(client, ticket["id"], ADMIN, body="Update")
    second = await metric(client, ticket["id"], "periodic_update")
    assert (second["status"], second["cycle"]) == ("active", 2)
    assert parse(second["started_at"]) == clock.now


async def test_resolution_pauses_while_pending_and_resumes_later(client, clock, policy, customer):
    ticket = await _customer_ticket(client, customer)
    clock.advance(minutes=60)
    await update_ticket(client, ticket["id"], status_id=await status_id(client, "pending"))
    paused = await metric(client, ticket["id"], "resolution")
    assert paused["status"] == "paused"
    assert paused["breach_at"] is None
    assert parse(paused["paused_at"]) == clock.now
    clock.advance(minutes=120)
    await update_ticket(client, ticket["id"], status_id=await status_id(client, "open"))
    resumed = await metric(client, ticket["id"], "resolution")
    assert resumed["status"] == "active"
    assert resumed["paused_minutes"] == 120
    assert parse(resumed["breach_at"]) == MONDAY_10_ROME + timedelta(days=1, hours=2)


async def test_customer_reply_resumes_a_pending_ticket(client, clock, policy, customer):
    _, headers = customer
    ticket = await _customer_ticket(client, customer)
    clock.advance(minutes=10)
    await update_ticket(
        client, ticket["id"], status_id=await status_id(client, "pending"),
        comment={"body": "Can you send logs?"},
    )  # fmt: skip
    clock.advance(minutes=30)
    await comment(client, ticket["id"], headers, body="Here they are")
    resolution = await metric(client, ticket["id"], "resolution")
    assert resolution["status"] == "active"
    assert resolution["paused_minutes"] == 30


async def test_pause_on_is_configured_per_target(client, clock, customer):
    calendar = await make_calendar(client)
    await make_policy(
        client,
        calendar["id"],
        target("first_reply", 60, pause_on=[]),
        target("resolution", 480, pause_on=["on_hold"]),
    )
    ticket = await _customer_ticket(client, customer)
    clock.advance(minutes=10)
    await update_ticket(client, ticket["id"], status_id=await status_id(client, "pending"))
    sla = {m["metric"]: m["status"] for m in (await ticket_sla(client, ticket["id"]))["metrics"]}
    assert sla == {"first_reply": "active", "resolution": "active"}
    await update_ticket(client, ticket["id"], status_id=await status_id(client, "on_hold"))
    sla = {m["metric"]: m["status"] for m in (await ticket_sla(client, ticket["id"]))["metrics"]}
    assert sla == {"first_reply": "active", "resolution": "paused"}


async def test_solving_fulfils_every_waiting_clock(client, clock, policy, customer):
    ticket = await _customer_ticket(client, customer)
    clock.advance(minutes=30)
    await update_ticket(client, ticket["id"], status_id=await status_id(client, "solved"))
    sla = {m["metric"]: m for m in (await ticket_sla(client, ticket["id"]))["metrics"]}
    assert {name: m["status"] for name, m in sla.items()} == {
        "first_reply": "achieved",
        "resolution": "achieved",
    }
    assert parse(sla["resolution"]["achieved_at"]) == clock.now


async def test_reopening_restarts_resolution_from_where_it_stood(client, clock, policy, customer):
    ticket = await _customer_ticket(client, customer)
    clock.advance(minutes=50)
    await update_ticket(client, ticket["id"], status_id=await status_id(client, "solved"))
    clock.advance(minutes=90)
    await update_ticket(client, ticket["id"], status_id=await status_id(client, "open"))
    resolution = await metric(client, ticket["id"], "resolution")
    assert resolution["status"] == "active"
    assert resolution["achieved_at"] is None
    assert resolution["paused_minutes"] == 90
    # 430 of 480 minutes were left at the solve; they run on from the reopening.
    assert parse(resolution["breach_at"]) == MONDAY_10_ROME + timedelta(days=1, minutes=90)
    first = await metric(client, ticket["id"], "first_reply")
    assert first["status"] == "achieved"  # only resolution restarts


async def test_priority_change_reselects_targets_keeping_the_start(client, clock, policy, customer):
    ticket = await _customer_ticket(client, customer)
    clock.advance(minutes=10)
    await update_ticket(client, ticket["id"], priority="urgent")
    first = await metric(client, ticket["id"], "first_reply")
    assert first["target_minutes"] == 30
    assert parse(first["started_at"]) == MONDAY_10_ROME
    assert parse(first["breach_at"]) == MONDAY_10_ROME + timedelta(minutes=30)


async def test_priority_change_can_choose_another_policy(client, clock, customer):
    calendar = await make_calendar(client)
    always = await make_calendar(client, name="24/7", always_open=True, hours=[])
    general = await make_policy(
        client, calendar["id"], target("first_reply", 60), name="General", position=2
    )
    urgent = await make_policy(
        client, always["id"], target("first_reply", 15, priority="urgent"),
        name="Urgent", position=1, conditions={"priority": ["urgent"]},
    )  # fmt: skip
    ticket = await _customer_ticket(client, customer)
    assert (await ticket_sla(client, ticket["id"]))["policy"]["id"] == general["id"]
    clock.advance(minutes=5)
    await update_ticket(client, ticket["id"], priority="urgent")
    sla = await ticket_sla(client, ticket["id"])
    assert sla["policy"]["id"] == urgent["id"]
    assert sla["policy"]["matched_conditions"] == [
        {"field": "priority", "values": ["urgent"], "matched": ["urgent"]}
    ]
    assert sla["policy"]["calendar"]["always_open"] is True
    first = sla["metrics"][0]
    assert (first["metric"], first["policy_id"], first["target_minutes"]) == (
        "first_reply", urgent["id"], 15,
    )  # fmt: skip
    assert parse(first["breach_at"]) == MONDAY_10_ROME + timedelta(minutes=15)


async def test_requester_segment_tag_selects_the_policy_and_explains_it(client, clock):
    calendar = await make_calendar(client)
    await make_policy(client, calendar["id"], target("first_reply", 60), position=5)
    vip = await make_policy(
        client, calendar["id"], target("first_reply", 10),
        name="VIP", position=1, conditions={"tags": ["vip"]},
    )  # fmt: skip
    _, headers = await make_user_with_token(client, tags=["vip"])
    ticket = await make_ticket(client, headers)
    sla = await ticket_sla(client, ticket["id"])
    assert sla["policy"]["id"] == vip["id"]
    assert sla["policy"]["name"] == "VIP"
    assert sla["policy"]["matched_conditions"] == [
        {"field": "tags", "values": ["vip"], "matched": ["vip"]}
    ]
    assert sla["policy"]["calendar"]["time_zone"] == "Europe/Rome"
    assert sla["metrics"][0]["target_minutes"] == 10


async def test_ticket_matching_no_policy_has_no_sla(client, clock, customer):
    calendar = await make_calendar(client)
    await make_policy(
        client, calendar["id"], target("first_reply", 60), conditions={"channel": ["chat"]}
    )
    ticket = await _customer_ticket(client, customer)
    assert await ticket_sla(client, ticket["id"]) == {
        "ticket_id": ticket["id"], "policy": None, "metrics": [],
    }  # fmt: skip


async def test_policy_without_a_target_for_the_priority_runs_no_clock(
    client, clock, policy, customer
):
    ticket = await _customer_ticket(client, customer)
    await update_ticket(client, ticket["id"], priority="low")
    sla = await ticket_sla(client, ticket["id"])
    assert sla["policy"]["id"] == policy["id"]
    assert sla["metrics"] == []


async def test_expected_first_reply_at_is_on_staff_and_customer_tickets(
    client, clock, policy, customer
):
    _, headers = customer
    ticket = await _customer_ticket(client, customer)
    due = iso(MONDAY_10_ROME + timedelta(hours=1))
    assert ticket["expected_first_reply_at"] == due  # the creating response, for the customer
    staff = (await client.get(f"/v1/tickets/{ticket['id']}", headers=ADMIN)).json()
    assert staff["expected_first_reply_at"] == due
    listed = (await client.get("/v1/tickets", headers=headers)).json()["data"]
    assert [t["expected_first_reply_at"] for t in listed] == [due]


async def test_merge_and_similar_responses_carry_the_expected_first_reply(
    client, clock, policy, customer
):
    target_ticket = await _customer_ticket(client, customer)
    source = await _customer_ticket(client, customer)
    due = iso(MONDAY_10_ROME + timedelta(hours=1))
    similar = await client.get(f"/v1/tickets/{target_ticket['id']}/similar", headers=ADMIN)
    assert [s["ticket"]["expected_first_reply_at"] for s in similar.json()["data"]] == [due]
    merged = await client.post(
        f"/v1/tickets/{target_ticket['id']}/merge",
        json={"source_ids": [source["id"]]},
        headers=ADMIN,
    )
    assert merged.status_code == 200, merged.text
    staff = (await client.get(f"/v1/tickets/{target_ticket['id']}", headers=ADMIN)).json()
    assert merged.json()["target"]["expected_first_reply_at"] == staff["expected_first_reply_at"]
    assert staff["expected_first_reply_at"] is not None


async def test_expected_first_reply_at_is_null_once_answered(client, clock, policy, customer):
    _, headers = customer
    ticket = await _customer_ticket(client, customer)
    await comment(client, ticket["id"], ADMIN, body="Hi")
    mine = (await client.get(f"/v1/tickets/{ticket['id']}", headers=headers)).json()
    assert mine["expected_first_reply_at"] is None


async def test_expected_first_reply_at_is_null_without_sla(client, clock, customer):
    ticket = await _customer_ticket(client, customer)
    assert ticket["expected_first_reply_at"] is None


async def test_ticket_sla_of_unknown_ticket_is_404(client):
    response = await client.get("/v1/tickets/999999/sla", headers=ADMIN)
    assert response.status_code == 404


async def test_deadline_across_the_autumn_clock_change_in_new_york(client, clock, customer):
    calendar = await make_calendar(client, name="NYC", time_zone="America/New_York")
    await make_policy(client, calendar["id"], target("first_reply", 60))
    clock.set(datetime(2026, 10, 30, 20, 30, tzinfo=UTC))  # Friday 16:30 EDT
    ticket = await _customer_ticket(client, customer)
    first = await metric(client, ticket["id"], "first_reply")
    # Clocks went back on Sunday 1 November: Monday 09:30 is EST, UTC-5.
    assert first["breach_at"] == "2026-11-02T14:30:00Z"


async def test_group_change_reselects_the_policy(client, clock, customer):
    calendar = await make_calendar(client)
    group = await make_group(client, "Enterprise desk")
    await make_policy(client, calendar["id"], target("first_reply", 60), position=2)
    enterprise = await make_policy(
        client, calendar["id"], target("first_reply", 20),
        position=1, conditions={"group_id": [group["id"]]},
    )  # fmt: skip
    ticket = await _customer_ticket(client, customer)
    clock.advance(minutes=5)
    await update_ticket(client, ticket["id"], group_id=group["id"])
    sla = await ticket_sla(client, ticket["id"])
    assert sla["policy"]["id"] == enterprise["id"]
    assert sla["policy"]["applied_at"] == iso(clock.now)
    assert parse(sla["metrics"][0]["breach_at"]) == MONDAY_10_ROME + timedelta(minutes=20)
