"""Triggers in the ticket pipeline, through the HTTP API on a real database. Triggers are
written straight into the database (their API does not exist yet), each with a version bump
as the API will do."""

from typing import Any

from helpdesk_api.assembly import connect
from helpdesk_api.automation.engine import MAX_PASSES, TriggerRule
from helpdesk_api.automation.store import TriggerCache, bump_version, current_version
from helpdesk_api.models import Trigger
from tests.factories import ADMIN, make_user
from tests.mail.factories import fetch_rows
from tests.tickets.factories import audits, get_ticket, make_ticket, status_id

OUTAGE_IS_URGENT = {
    "conditions": {"all": [{"field": "subject", "operator": "contains_words", "value": "outage"}]},
    "actions": [{"action": "set_priority", "priority": "urgent"}],
}


async def add_trigger(database_url: str, title: str, rule: dict[str, Any], position: int) -> int:
    engine, sessionmaker = connect(database_url, pool_size=1, max_overflow=0)
    try:
        async with sessionmaker() as session:
            trigger = Trigger(
                title=title,
                position=position,
                rule=TriggerRule.model_validate(rule).model_dump(mode="json"),
            )
            session.add(trigger)
            await session.flush()
            await bump_version(session)
            await session.commit()
            return trigger.id
    finally:
        await engine.dispose()


async def change_rule(database_url: str, trigger_id: int, rule: dict[str, Any]) -> None:
    engine, sessionmaker = connect(database_url, pool_size=1, max_overflow=0)
    try:
        async with sessionmaker() as session:
            trigger = await session.get(Trigger, trigger_id)
            assert trigger is not None
            trigger.rule = TriggerRule.model_validate(rule).model_dump(mode="json")
            await bump_version(session)
            await session.commit()
    finally:
        await engine.dispose()


async def test_a_trigger_fires_on_creation_and_the_audit_names_it(client, database_url):
    trigger_id = await add_trigger(database_url, "Outages are urgent", OUTAGE_IS_URGENT, 1)

    ticket = await make_ticket(client, subject="Mail outage in Berlin")

    assert ticket["priority"] == "urgent"
    by_trigger = [a for a in await audits(client, ticket["id"]) if a["via"] == "trigger"]
    assert len(by_trigger) == 1
    changes = by_trigger[0]["changes"]
    assert {"field": "trigger", "from": None,
            "to": {"id": trigger_id, "title": "Outages are urgent"}} in changes  # fmt: skip
    assert {"field": "priority", "from": "normal", "to": "urgent"} in changes
    assert by_trigger[0]["actor_id"] is None


async def test_a_trigger_that_does_not_match_changes_nothing(client, database_url):
    await add_trigger(database_url, "Outages are urgent", OUTAGE_IS_URGENT, 1)

    ticket = await make_ticket(client, subject="Printer jam")

    assert ticket["priority"] == "normal"
    assert [a for a in await audits(client, ticket["id"]) if a["via"] == "trigger"] == []


async def test_flip_flop_triggers_settle_without_a_conflict(client, database_url):
    always = {"all": [{"field": "priority", "operator": "is_not", "value": "low"}]}
    add = {"conditions": always, "actions": [{"action": "add_tags", "tags": ["x"]}]}
    remove = {"conditions": always, "actions": [{"action": "remove_tags", "tags": ["x"]}]}
    await add_trigger(database_url, "Add x", add, 1)
    await add_trigger(database_url, "Remove x", remove, 2)

    ticket = await make_ticket(client, subject="Anything")
    again = await client.patch(
        f"/v1/tickets/{ticket['id']}", json={"subject": "Anything else"}, headers=ADMIN
    )

    assert again.status_code == 200, again.text
    assert again.json()["tags"] == []


async def test_a_trigger_naming_a_deleted_group_records_its_error_and_the_ticket_opens(
    client, database_url
):
    trigger_id = await add_trigger(database_url, "To the lost group", {
        "conditions": {"all": [{"field": "update_type", "operator": "is", "value": "created"}]},
        "actions": [{"action": "set_group", "group_id": 987654},
                    {"action": "set_priority", "priority": "high"}],
    }, 1)  # fmt: skip

    ticket = await make_ticket(client, subject="Where does this go")

    assert ticket["group_id"] is None
    assert ticket["priority"] == "high"  # the trigger's other action still applied
    [row] = await fetch_rows(
        database_url, "SELECT last_error, last_error_at FROM triggers WHERE id = $1", trigger_id
    )
    assert "group 987654 does not exist" in row["last_error"]
    assert row["last_error_at"] is not None

    # Within the minute this process remembers having recorded the same error: the next
    # change costs no write to the trigger's row (cleared here behind its back to tell).
    await fetch_rows(database_url, "UPDATE triggers SET last_error = NULL RETURNING id")
    await make_ticket(client, subject="And this")
    [row] = await fetch_rows(database_url, "SELECT last_error FROM triggers WHERE id = $1",
                             trigger_id)  # fmt: skip
    assert row["last_error"] is None


async def test_changing_a_trigger_bumps_the_version_and_the_next_change_sees_it(
    client, database_url
):
    trigger_id = await add_trigger(database_url, "Outages", OUTAGE_IS_URGENT, 1)
    assert (await make_ticket(client, subject="outage"))["priority"] == "urgent"

    rule = {**OUTAGE_IS_URGENT, "actions": [{"action": "set_priority", "priority": "high"}]}
    await change_rule(database_url, trigger_id, rule)

    ticket = await make_ticket(client, subject="another outage")
    assert (await get_ticket(client, ticket["id"]))["priority"] == "high"

    # A change none of the cached triggers could match still asks for the version.
    fax = {
        "conditions": {"all": [{"field": "subject", "operator": "contains_words", "value": "fax"}]},
        "actions": [{"action": "add_tags", "tags": ["fax"]}],
    }
    await add_trigger(database_url, "Faxes", fax, 2)
    assert (await make_ticket(client, subject="fax broken"))["tags"] == ["fax"]


async def test_the_cache_compiles_once_per_version(database_url):
    trigger_id = await add_trigger(database_url, "Outages", OUTAGE_IS_URGENT, 1)
    cache = TriggerCache()
    engine, sessionmaker = connect(database_url, pool_size=1, max_overflow=0)
    try:
        async with sessionmaker() as session:
            before = await current_version(session)
            first = await cache.triggers(session)
            assert await cache.triggers(session) is first
            assert cache.compilations == 1
            trigger = await session.get(Trigger, trigger_id)
            assert trigger is not None
            trigger.title = "Outages, renamed"
            assert await bump_version(session) > before
            await session.flush()

            compiled = {t.id: t for t in await cache.triggers(session)}
            assert compiled[trigger_id].title == "Outages, renamed"
            assert cache.compilations == 2
            await session.rollback()
    finally:
        await engine.dispose()


async def test_a_trigger_adds_a_private_note(client, database_url):
    await add_trigger(database_url, "Note outages", {
        **OUTAGE_IS_URGENT, "actions": [{"action": "add_note", "body": "Check the status page."}],
    }, 1)  # fmt: skip

    ticket = await make_ticket(client, subject="outage")

    response = await client.get(f"/v1/tickets/{ticket['id']}/comments", headers=ADMIN)
    notes = [c for c in response.json()["data"] if not c["public"]]
    assert [n["body"] for n in notes] == ["Check the status page."]


async def test_an_inactive_agent_is_not_assigned_and_the_ticket_still_opens(client, database_url):
    agent = await make_user(client, role="agent")
    deactivated = await client.patch(
        f"/v1/users/{agent['id']}", json={"is_active": False}, headers=ADMIN
    )
    assert deactivated.status_code == 200, deactivated.text
    trigger_id = await add_trigger(database_url, "To a leaver", {
        **OUTAGE_IS_URGENT, "actions": [{"action": "set_assignee", "assignee_id": agent["id"]}],
    }, 1)  # fmt: skip

    ticket = await make_ticket(client, subject="outage")

    assert ticket["assignee_id"] is None
    [row] = await fetch_rows(database_url, "SELECT last_error FROM triggers WHERE id = $1",
                             trigger_id)  # fmt: skip
    assert "is not an active agent" in row["last_error"]


async def test_a_chain_past_the_pass_limit_stops_and_says_so(client, database_url):
    always = {"all": [{"field": "priority", "operator": "is_not", "value": "low"}]}
    for n in range(MAX_PASSES + 1):  # each fires once and restarts the walk
        rule = {"conditions": always, "actions": [{"action": "add_tags", "tags": [f"t{n}"]}]}
        await add_trigger(database_url, f"Tag {n}", rule, n)

    ticket = await make_ticket(client, subject="Anything")

    assert len(ticket["tags"]) == MAX_PASSES
    events = await fetch_rows(
        database_url, "SELECT data FROM events WHERE type = 'trigger.loop_stopped' "
        "AND ticket_id = $1", ticket["id"],
    )  # fmt: skip
    assert len(events) == 1


async def test_triggers_leave_a_closed_ticket_alone(client, database_url):
    closed = {"all": [{"field": "status_category", "operator": "is", "value": "closed"}]}
    rule = {"conditions": closed, "actions": [{"action": "add_tags", "tags": ["done"]}]}
    trigger_id = await add_trigger(database_url, "Tag closed", rule, 1)
    ticket = await make_ticket(client, subject="Anything")

    closing = await client.patch(
        f"/v1/tickets/{ticket['id']}",
        json={"status_id": await status_id(client, "closed")},
        headers=ADMIN,
    )

    assert closing.status_code == 200, closing.text
    assert closing.json()["tags"] == []
    [row] = await fetch_rows(database_url, "SELECT last_error FROM triggers WHERE id = $1",
                             trigger_id)  # fmt: skip
    assert row["last_error"] is None


async def test_triggers_that_do_not_fire_cost_no_reference_query(database_url):
    from sqlalchemy import event

    from helpdesk_api.automation.engine import compile_trigger
    from helpdesk_api.automation.reaction import _run_with_references
    from tests.automation.helpers import facts

    def trigger(id: int, priority: str) -> Any:
        rule = TriggerRule.model_validate({
            "conditions": {"all": [{"field": "priority", "operator": "is", "value": priority}]},
            "actions": [{"action": "set_group", "group_id": 10_000 + id},
                        {"action": "set_assignee", "assignee_id": 20_000 + id}],
        })  # fmt: skip
        return compile_trigger(id=id, position=id, title=f"t{id}", rule=rule)

    never = tuple(trigger(i, "urgent") for i in range(1, 101))
    statements: list[str] = []
    engine, sessionmaker = connect(database_url, pool_size=1, max_overflow=0)
    event.listen(engine.sync_engine, "before_cursor_execute",
                 lambda *args: statements.append(args[2]))  # fmt: skip
    try:
        async with sessionmaker() as session:
            run, result = await _run_with_references(session, never, facts(priority="low"))
            assert run is None
            assert result.fired == ()
            assert statements == []

            firing = (*never, trigger(101, "low"))
            run, result = await _run_with_references(session, firing, facts(priority="low"))
            assert [f.trigger.id for f in result.fired] == [101]
            assert run is not None
            # Loaded for the one that fired, and it is told its group does not exist.
            assert statements
            assert "group 10101 does not exist" in run.errors[101]
    finally:
        await engine.dispose()
