import pytest
from sqlalchemy import event

from helpdesk_api.attachments.service import attach_to_comment, attachments_for_comments
from helpdesk_api.core.errors import InvalidInput
from tests.attachments.helpers import insert_comment, insert_ticket, upload
from tests.factories import make_user_with_token


@pytest.fixture
async def setting(client, database_url):
    """A customer's ticket with one public comment, and two of the customer's uploads."""
    user, headers = await make_user_with_token(client)
    ticket_id = await insert_ticket(database_url, requester_id=user["id"])
    comment_id = await insert_comment(
        database_url, ticket_id=ticket_id, author_id=user["id"], public=True
    )
    first = await upload(client, headers, b"one", filename="one.txt", content_type="text/plain")
    second = await upload(client, headers, b"two", filename="two.txt", content_type="text/plain")
    return {
        "user": user,
        "headers": headers,
        "ticket_id": ticket_id,
        "comment_id": comment_id,
        "ids": [first["id"], second["id"]],
    }


async def link(app, user, ids, *, ticket_id, comment_id):
    async with app.state.sessionmaker() as session:
        attachments = await attach_to_comment(
            session, user["id"], ids, ticket_id=ticket_id, comment_id=comment_id
        )
        await session.commit()
    return attachments


async def refusal(app, user, ids, *, ticket_id, comment_id) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        await link(app, user, ids, ticket_id=ticket_id, comment_id=comment_id)
    return caught.value


async def test_attach_links_uploads_in_the_order_given(app, setting):
    ids = list(reversed(setting["ids"]))
    attachments = await link(
        app,
        setting["user"],
        ids,
        ticket_id=setting["ticket_id"],
        comment_id=setting["comment_id"],
    )
    assert [a.id for a in attachments] == ids
    assert {(a.ticket_id, a.comment_id) for a in attachments} == {
        (setting["ticket_id"], setting["comment_id"])
    }
    async with app.state.sessionmaker() as session:
        by_comment = await attachments_for_comments(session, [setting["comment_id"]])
    assert [a.id for a in by_comment[setting["comment_id"]]] == sorted(ids)


async def test_attach_with_no_ids_does_nothing(app, setting):
    assert await link(app, setting["user"], [], ticket_id=1, comment_id=1) == []


async def test_attach_refuses_an_unknown_id_naming_its_index(app, setting):
    error = await refusal(
        app,
        setting["user"],
        [setting["ids"][0], 999_999],
        ticket_id=setting["ticket_id"],
        comment_id=setting["comment_id"],
    )
    assert error.errors[0].loc == ["body", "attachment_ids", 1]


async def test_attach_refuses_someone_elses_upload(app, client, setting):
    _, other_headers = await make_user_with_token(client)
    theirs = await upload(client, other_headers)
    error = await refusal(
        app,
        setting["user"],
        [theirs["id"]],
        ticket_id=setting["ticket_id"],
        comment_id=setting["comment_id"],
    )
    assert error.errors[0].loc == ["body", "attachment_ids", 0]


async def test_attach_refuses_an_upload_already_attached(app, setting, database_url):
    await link(
        app,
        setting["user"],
        setting["ids"][:1],
        ticket_id=setting["ticket_id"],
        comment_id=setting["comment_id"],
    )
    another_comment = await insert_comment(
        database_url, ticket_id=setting["ticket_id"], author_id=setting["user"]["id"], public=True
    )
    error = await refusal(
        app,
        setting["user"],
        [setting["ids"][1], setting["ids"][0]],
        ticket_id=setting["ticket_id"],
        comment_id=another_comment,
    )
    assert error.errors[0].loc == ["body", "attachment_ids", 1]
    assert error.errors[0].type == "attachment_already_attached"


async def test_attach_refuses_an_id_listed_twice(app, setting):
    first = setting["ids"][0]
    error = await refusal(
        app,
        setting["user"],
        [first, first],
        ticket_id=setting["ticket_id"],
        comment_id=setting["comment_id"],
    )
    assert error.errors[0].loc == ["body", "attachment_ids", 1]


async def test_refused_attach_links_nothing(app, setting):
    await refusal(
        app,
        setting["user"],
        [setting["ids"][0], 999_999],
        ticket_id=setting["ticket_id"],
        comment_id=setting["comment_id"],
    )
    async with app.state.sessionmaker() as session:
        by_comment = await attachments_for_comments(session, [setting["comment_id"]])
    assert by_comment == {setting["comment_id"]: []}


async def test_attachments_for_comments_uses_one_query_and_lists_every_comment(
    app, setting, database_url
):
    empty_comment = await insert_comment(
        database_url, ticket_id=setting["ticket_id"], author_id=setting["user"]["id"], public=True
    )
    await link(
        app,
        setting["user"],
        setting["ids"],
        ticket_id=setting["ticket_id"],
        comment_id=setting["comment_id"],
    )
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    engine = app.state.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        async with app.state.sessionmaker() as session:
            by_comment = await attachments_for_comments(
                session, [setting["comment_id"], empty_comment]
            )
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len([s for s in statements if "attachments" in s]) == 1
    assert [a.id for a in by_comment[setting["comment_id"]]] == setting["ids"]
    assert by_comment[empty_comment] == []
