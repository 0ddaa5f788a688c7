"""Routing after the triggers: it routes where they put the ticket, and waits a round when
they hold the change's follow-up. Triggers are written straight into the database, as
tests/automation does until their API exists."""

from helpdesk_api.assembly import connect
from helpdesk_api.automation.engine import TriggerRule
from helpdesk_api.automation.store import bump_version
from helpdesk_api.models import Trigger
from tests.routing.helpers import make_agent, new_ticket, routed_group
from tests.tickets.factories import audits

ON_CREATE = {"all": [{"field": "update_type", "operator": "is", "value": "created"}]}


async def _add_trigger(database_url, actions, conditions=ON_CREATE, position=1, title="On create"):
    engine, sessionmaker = connect(database_url, pool_size=1, max_overflow=0)
    try:
        async with sessionmaker() as session:
            rule = TriggerRule.model_validate({"conditions": conditions, "actions": actions})
            trigger = Trigger(title=title, position=position, rule=rule.model_dump(mode="json"))
            session.add(trigger)
            await session.flush()
            await bump_version(session)
            await session.commit()
    finally:
        await engine.dispose()


async def test_a_ticket_a_trigger_puts_in_a_routed_group_is_routed(client, database_url):
    a, _ = await make_agent(client)
    group = await routed_group(client, "round_robin", a)
    await _add_trigger(database_url, [{"action": "set_group", "group_id": group}])
    ticket = await new_ticket(client, None)
    assert ticket["group_id"] == group
    assert ticket["assignee_id"] == a
    assert [x["via"] for x in await audits(client, ticket["id"])] == ["api", "trigger", "routing"]


async def test_routing_waits_a_round_while_triggers_hold_the_follow_up(client, database_url):
    a, _ = await make_agent(client)
    group = await routed_group(client, "least_busy", a)
    await _add_trigger(database_url, [{"action": "add_tags", "tags": ["triaged"]}])
    ticket = await new_ticket(client, group)
    assert ticket["tags"] == ["triaged"]
    assert ticket["assignee_id"] == a
    assert [x["via"] for x in await audits(client, ticket["id"])] == ["api", "trigger", "routing"]


async def test_a_trigger_that_assigns_leaves_routing_nothing_to_do(client, database_url):
    a, _ = await make_agent(client)
    b, _ = await make_agent(client)
    group = await routed_group(client, "round_robin", a, b)
    await _add_trigger(database_url, [{"action": "set_assignee", "assignee_id": b}])
    ticket = await new_ticket(client, group)
    assert ticket["assignee_id"] == b
    assert [x["via"] for x in await audits(client, ticket["id"])] == ["api", "trigger"]


async def test_triggers_see_the_agent_a_trigger_routed_to(client, database_url):
    a, _ = await make_agent(client)
    group = await routed_group(client, "round_robin", a)
    assigned_a = {"all": [{"field": "assignee_id", "operator": "is", "value": a}]}
    vip = {"all": [{"field": "tags", "operator": "includes_any", "value": ["vip"]}]}
    # Before and after the routing trigger: the run resumes from the top once it has routed.
    await _add_trigger(database_url, [{"action": "add_tags", "tags": ["seen-before"]}],
                       assigned_a, position=1, title="Sees it first")  # fmt: skip
    await _add_trigger(database_url, [{"action": "route", "group_id": group}], vip,
                       position=2, title="VIPs are routed")  # fmt: skip
    await _add_trigger(database_url, [{"action": "add_tags", "tags": ["seen-after"]}],
                       assigned_a, position=3, title="Sees it after")  # fmt: skip

    ticket = await new_ticket(client, None, tags=["vip"])

    assert ticket["assignee_id"] == a
    assert ticket["group_id"] == group
    assert sorted(ticket["tags"]) == ["seen-after", "seen-before", "vip"]
    by_trigger = [x for x in await audits(client, ticket["id"]) if x["via"] == "trigger"]
    assert len(by_trigger) == 1  # one follow-up round, each trigger's changes after its note
    named = [c["to"]["title"] for c in by_trigger[0]["changes"] if c["field"] == "trigger"]
    assert named == ["VIPs are routed", "Sees it first", "Sees it after"]
    # A ticket no routing trigger meets stays as it came.
    plain = await new_ticket(client, None)
    assert plain["assignee_id"] is None
    assert plain["tags"] == []
