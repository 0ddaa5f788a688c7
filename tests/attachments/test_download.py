import pytest

from helpdesk_api.attachments.service import attach_to_comment
from tests.attachments.helpers import insert_comment, insert_ticket, upload
from tests.factories import ADMIN, assert_problem, make_user_with_token


@pytest.mark.parametrize(
    "content_type",
    ["text/html", "image/svg+xml", "application/xhtml+xml", "application/javascript"],
)
async def test_active_content_is_forced_to_download(client, content_type):
    _, customer = await make_user_with_token(client)
    created = await upload(
        client, customer, b"<script>alert(1)</script>", filename="x", content_type=content_type
    )
    assert created["content_type"] == content_type
    response = await client.get(created["content_url"], headers=customer)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["content-disposition"].startswith("attachment;")
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_passive_image_is_served_inline_with_its_type(client):
    _, customer = await make_user_with_token(client)
    created = await upload(
        client, customer, b"\x89PNG\r\n", filename="shot.png", content_type="image/png"
    )
    response = await client.get(created["content_url"], headers=customer)
    assert response.headers["content-type"] == "image/png"
    assert response.headers["content-disposition"].startswith("inline;")


async def test_other_users_unattached_upload_is_not_found(client):
    _, owner = await make_user_with_token(client)
    created = await upload(client, owner)
    for role in ("customer", "agent", "light_agent"):
        _, other = await make_user_with_token(client, role=role)
        assert_problem(await client.get(f"/v1/attachments/{created['id']}", headers=other), 404)
        assert_problem(await client.get(created["content_url"], headers=other), 404)


async def test_admin_may_read_an_unattached_upload(client):
    _, owner = await make_user_with_token(client)
    created = await upload(client, owner)
    assert (await client.get(created["content_url"], headers=ADMIN)).status_code == 200


async def test_unknown_attachment_is_not_found(client):
    assert_problem(await client.get("/v1/attachments/999999", headers=ADMIN), 404)
    assert_problem(await client.get("/v1/attachments/999999/content", headers=ADMIN), 404)


@pytest.fixture
async def ticket_with_files(app, client, database_url):
    """A customer's ticket: their public reply with a file, and an agent's note with a file."""
    requester, requester_headers = await make_user_with_token(client)
    agent, agent_headers = await make_user_with_token(client, role="agent")
    ticket_id = await insert_ticket(database_url, requester_id=requester["id"])
    reply_id = await insert_comment(
        database_url, ticket_id=ticket_id, author_id=requester["id"], public=True
    )
    note_id = await insert_comment(
        database_url, ticket_id=ticket_id, author_id=agent["id"], public=False
    )
    public_file = await upload(client, requester_headers, b"public", filename="reply.txt")
    private_file = await upload(client, agent_headers, b"private", filename="note.txt")
    async with app.state.sessionmaker() as session:
        for user, file, comment_id in (
            (requester, public_file, reply_id),
            (agent, private_file, note_id),
        ):
            await attach_to_comment(
                session,
                user["id"],
                [file["id"]],
                ticket_id=ticket_id,
                comment_id=comment_id,
            )
        await session.commit()
    return {
        "requester": requester_headers,
        "agent": agent_headers,
        "public": public_file,
        "private": private_file,
    }


async def status_of(client, headers, attachment):
    content = await client.get(attachment["content_url"], headers=headers)
    metadata = await client.get(f"/v1/attachments/{attachment['id']}", headers=headers)
    assert content.status_code == metadata.status_code
    return content.status_code


async def test_requester_downloads_the_attachment_of_a_public_reply(client, ticket_with_files):
    files = ticket_with_files
    response = await client.get(files["public"]["content_url"], headers=files["requester"])
    assert response.status_code == 200
    assert response.content == b"public"


async def test_requester_never_sees_a_private_notes_attachment(client, ticket_with_files):
    files = ticket_with_files
    assert await status_of(client, files["requester"], files["private"]) == 404


async def test_other_customer_sees_neither_attachment(client, ticket_with_files):
    _, stranger = await make_user_with_token(client)
    assert await status_of(client, stranger, ticket_with_files["public"]) == 404
    assert await status_of(client, stranger, ticket_with_files["private"]) == 404


@pytest.mark.parametrize("role", ["agent", "light_agent"])
async def test_staff_see_both_attachments(client, ticket_with_files, role):
    _, staff = await make_user_with_token(client, role=role)
    assert await status_of(client, staff, ticket_with_files["public"]) == 200
    assert await status_of(client, staff, ticket_with_files["private"]) == 200


async def test_agent_outside_the_tickets_groups_sees_neither(client, ticket_with_files):
    # An agent restricted to their groups' tickets; this ticket has no group or assignee.
    _, restricted = await make_user_with_token(client, role="agent", ticket_access="groups")
    assert await status_of(client, restricted, ticket_with_files["public"]) == 404
    assert await status_of(client, restricted, ticket_with_files["private"]) == 404
