"""Reading a change's facts: only what some rule reads, from the session when it holds it."""

from typing import Any

from sqlalchemy import event

from helpdesk_api.assembly import connect
from helpdesk_api.automation.engine import FactsNeeds, TriggerRule, compile_trigger, needs_of
from helpdesk_api.automation.facts_loading import load_facts
from helpdesk_api.automation.fields import UpdateType
from helpdesk_api.models import Ticket, User
from tests.factories import ADMIN
from tests.tickets.factories import make_ticket

NOTHING = FactsNeeds(requester=False, organization=False, comment=False, ccs=False)


def _trigger(conditions: list[dict[str, Any]], actions: list[dict[str, Any]]) -> Any:
    rule = TriggerRule.model_validate({"conditions": {"any": conditions}, "actions": actions})
    return compile_trigger(id=1, position=1, title="t", rule=rule)


def test_needs_follow_the_fields_and_actions_the_triggers_name():
    tag = [{"action": "add_tags", "tags": ["x"]}]
    locale = {"field": "requester_locale", "operator": "is", "value": "it"}
    words = {"field": "comment_text", "operator": "contains_words", "value": "refund"}
    org = {"field": "organization_tags", "operator": "includes_any", "value": ["vip"]}
    subject = {"field": "subject", "operator": "contains_words", "value": "outage"}
    assert needs_of([]) == NOTHING
    assert needs_of([_trigger([subject], tag)]) == NOTHING
    assert needs_of([_trigger([locale], tag), _trigger([words], tag)]) == FactsNeeds(
        requester=True, organization=False, comment=True, ccs=False
    )
    copy = [{"action": "add_cc", "user_id": 5}]
    assert needs_of([_trigger([org], copy)]) == FactsNeeds(
        requester=False, organization=True, comment=False, ccs=True
    )


async def test_facts_the_session_holds_cost_no_statement(client, database_url):
    created = await client.post(
        "/v1/users",
        json={"name": "Ilona", "email": "ilona@example.com", "role": "customer",
              "tags": ["gold"], "locale": "hu"},
        headers=ADMIN,
    )  # fmt: skip
    assert created.status_code == 201, created.text
    requester_id = created.json()["id"]
    ticket_id = (await make_ticket(client, requester_id=requester_id))["id"]
    statements: list[str] = []
    engine, sessionmaker = connect(database_url, pool_size=1, max_overflow=0)
    event.listen(engine.sync_engine, "before_cursor_execute",
                 lambda *args: statements.append(args[2]))  # fmt: skip

    async def facts(session: Any, ticket: Ticket, needs: FactsNeeds) -> Any:
        return await load_facts(
            session, ticket, update_type=UpdateType.changed, via="api", actor_role="agent",
            comment_text=None, comment_public=False, needs=needs,
        )  # fmt: skip

    try:
        async with sessionmaker() as session:
            ticket = await session.get(Ticket, ticket_id)
            assert ticket is not None
            requester_only = FactsNeeds(
                requester=True, organization=False, comment=False, ccs=False
            )

            statements.clear()
            read = await facts(session, ticket, requester_only)
            assert len(statements) == 1  # not in the session: one query
            assert (read.requester_tags, read.requester_locale) == (frozenset({"gold"}), "hu")

            user = await session.get(User, requester_id)
            assert user is not None
            user.tags = ["gold", "platinum"]  # the session's own, newer, value counts
            statements.clear()
            read = await facts(session, ticket, requester_only)
            assert statements == []
            assert read.requester_tags == frozenset({"gold", "platinum"})

            statements.clear()
            assert (await facts(session, ticket, NOTHING)).requester_tags == frozenset()
            assert statements == []
            await session.rollback()
    finally:
        await engine.dispose()
