"""A Python client generated with openapi-python-client from the committed OpenAPI document
(the options of docs/clients.md), imported, and driven through a help desk's day against a real
server process: the generator must leave out nothing, and every call must parse."""

import importlib
import io
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.database import ADMIN_TOKEN
from tests.live_server import running_server

ROOT = Path(__file__).resolve().parents[2]
OPENAPI = ROOT / "openapi" / "openapi.json"
CONFIG = Path(__file__).parent / "python" / "openapi-python-client.yaml"
PACKAGE = "helpdesk_client"


@pytest.fixture(scope="module")
def hd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    out = tmp_path_factory.mktemp("python-client") / PACKAGE
    # The generator formats its output with ruff, from the same environment.
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    done = subprocess.run(  # noqa: S603 — the pinned dev dependency on our document
        [
            sys.executable, "-m", "openapi_python_client", "generate",
            "--path", str(OPENAPI), "--output-path", str(out),
            "--meta", "none", "--config", str(CONFIG),
        ],
        capture_output=True, text=True, timeout=120, check=False, env={**os.environ, "PATH": path},
    )  # fmt: skip
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    # Any warning is an endpoint or a response the client does not have.
    assert "warning" not in output.lower(), output
    sys.path.insert(0, str(out.parent))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(out.parent))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


@pytest.fixture(scope="module")
async def server_url(pg_server, template_ready) -> AsyncIterator[str]:
    url = await pg_server.create_database()
    with running_server(url, HELPDESK_WEBHOOK_ALLOW_PRIVATE="true") as base_url:
        yield base_url
    await pg_server.drop_database(url)


def _api(hd: ModuleType, tag: str, operation: str) -> Any:
    return importlib.import_module(f"{PACKAGE}.api.{tag}.{operation}")


def test_a_help_desk_day_through_the_generated_client(hd, server_url):
    models = importlib.import_module(f"{PACKAGE}.models")
    File = importlib.import_module(f"{PACKAGE}.types").File
    admin = hd.AuthenticatedClient(base_url=server_url, token=ADMIN_TOKEN)

    def call(tag: str, operation: str, *args: Any, **kwargs: Any) -> Any:
        # Each call must parse into a model: a Problem here means the flow broke.
        client = kwargs.pop("client", admin)
        result = _api(hd, tag, operation).sync(*args, client=client, **kwargs)
        assert not isinstance(result, models.Problem | models.ValidationProblem), result
        assert result is not None, f"{operation} gave an undocumented answer"
        return result

    # A customer, and a token for them.
    customer = call(
        "users", "create_user",
        body=models.UserCreate(name="Ada", email="ada@example.com", role=models.Role.CUSTOMER),
    )  # fmt: skip
    token = call("users", "create_user_token", customer.id, body=models.TokenCreate(name="portal"))
    as_customer = hd.AuthenticatedClient(base_url=server_url, token=token.token)

    # A ticket with its first comment: only body and public, every default left to the server.
    first = call(
        "tickets", "create_ticket",
        body=models.TicketCreate(
            subject="Printer on fire",
            requester_id=customer.id,
            comment=models.CommentCreate(body="It smokes.", public=True),
        ),
    )  # fmt: skip
    assert isinstance(first, models.TicketRead)
    assert first.view == "staff"
    assert first.priority == models.Priority.NORMAL

    # The customer reads the same ticket in their view, without internal fields.
    seen = call("tickets", "get_ticket", first.id, client=as_customer)
    assert isinstance(seen, models.CustomerTicketRead)
    assert not hasattr(seen, "priority")
    assert not hasattr(seen, "assignee_id")

    # A public reply with an attachment, then a private note.
    upload = call(
        "attachments", "upload_attachment",
        body=File(payload=io.BytesIO(b"%PDF-1.4 manual"), mime_type="application/pdf"),
        filename="manual.pdf",
    )  # fmt: skip
    reply = call(
        "comments", "create_comment", first.id,
        body=models.CommentCreate(body="On our way.", public=True, attachment_ids=[upload.id]),
    )  # fmt: skip
    note = call(
        "comments", "create_comment", first.id,
        body=models.CommentCreate(body="Bring the extinguisher.", public=False),
    )  # fmt: skip
    assert (reply.public, note.public) == (True, False)
    content = call("attachments", "get_attachment_content", upload.id, client=as_customer)
    assert content.payload.read() == b"%PDF-1.4 manual"
    customer_comments = call("comments", "list_comments", first.id, client=as_customer)
    assert [c.id for c in customer_comments.data if c.id in {reply.id, note.id}] == [reply.id]

    # A duplicate, and every ticket page by page.
    duplicate = call(
        "tickets", "create_ticket",
        body=models.TicketCreate(
            subject="Printer still on fire",
            requester_id=customer.id,
            comment=models.CommentCreate(body="Still smoking."),
        ),
    )  # fmt: skip
    ids: list[int] = []
    cursor: Any = hd.types.UNSET
    while True:
        page = call("tickets", "list_tickets", limit=1, cursor=cursor)
        ids += [t.id for t in page.data]
        assert all(isinstance(t, models.TicketRead) for t in page.data)
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    assert {first.id, duplicate.id} <= set(ids)
    assert len(ids) == len(set(ids))

    merged = call(
        "merging", "merge_tickets", first.id, body=models.MergeRequest(source_ids=[duplicate.id])
    )
    assert [s.merged_into_id for s in merged.sources] == [first.id]

    # Solved, by the status admins defined for it.
    statuses = call("ticket_statuses", "list_ticket_statuses")
    solved = next(s for s in statuses.data if s.category == models.StatusCategory.SOLVED)
    changed = call(
        "tickets", "update_ticket", first.id, body=models.TicketUpdate(status_id=solved.id)
    )
    assert changed.status.category == models.StatusCategory.SOLVED

    sla = call("sla", "get_ticket_sla", first.id)
    assert sla.ticket_id == first.id

    hook = call(
        "webhooks", "create_webhook",
        body=models.WebhookCreate(
            url="http://127.0.0.1:9/helpdesk", events=[models.EventType.TICKET_CREATED]
        ),
    )  # fmt: skip
    assert hook.secret.startswith("whsec_")
