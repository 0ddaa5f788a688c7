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


async def _add_trigger(database_url, actions):
    engine, sessionmaker = connect(database_url, pool_size=1, max_overflow=0)
    try:
        async with sessionmaker() as session:
            rule = TriggerRule.model_validate({"conditions": ON_CREATE, "actions": actions})
            session.add(Trigger(title="On create", position=1, rule=rule.model_dump(mode="json")))
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
