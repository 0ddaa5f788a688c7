"""One rule for text fields: nothing invisible passes as text, no control character is
stored, and one-line fields refuse line breaks and bidirectional overrides."""

import pytest

from tests.factories import ADMIN, assert_problem
from tests.tickets.factories import make_ticket

BLANKS = ["   ", "\u200b", "\u200b \u2060", "\ufeff"]


def _ticket(subject="Printer", body="It broke.", **extra):
    return {"subject": subject, "comment": {"body": body}, **extra}


@pytest.mark.parametrize("blank", BLANKS)
async def test_blank_or_invisible_text_is_refused_everywhere(client, blank):
    for body, loc in (
        (_ticket(subject=blank), ["body", "subject"]),
        (_ticket(body=blank), ["body", "comment", "body"]),
        (_ticket(tags=[blank]), ["body", "tags", 0]),
    ):
        response = await client.post("/v1/tickets", json=body, headers=ADMIN)
        problem = assert_problem(response, 422)
        assert problem["errors"][0]["loc"] == loc, problem
    listed = await client.get("/v1/tickets", headers=ADMIN)
    assert listed.json()["data"] == []


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("subject", "Invoice\u202efdp.exe"),
        ("subject", "two\nlines"),
        ("subject", "bell\x07"),
        ("tags", ["vip\u202e"]),
        ("tags", ["a\x01b"]),
    ],
)
async def test_one_line_fields_refuse_controls_and_overrides(client, field, value):
    response = await client.post("/v1/tickets", json=_ticket(**{field: value}), headers=ADMIN)
    assert_problem(response, 422)


async def test_a_nul_in_html_is_refused_not_stripped(client):
    body = {"subject": "Printer", "comment": {"html_body": "<p>a\u0000b</p>"}}
    response = await client.post("/v1/tickets", json=body, headers=ADMIN)
    problem = assert_problem(response, 422)
    assert problem["errors"][0]["loc"] == ["body", "comment", "html_body"]


async def test_real_text_keeps_its_lines_and_right_to_left_marks(client):
    ticket = await make_ticket(
        client,
        subject="\u05e9\u05dc\u05d5\u05dd \u200fHello",
        comment={"body": "Line one\n\tLine two\r\n"},
    )
    comments = await client.get(f"/v1/tickets/{ticket['id']}/comments", headers=ADMIN)
    assert comments.json()["data"][0]["body"] == "Line one\n\tLine two\r\n"
    assert ticket["subject"] == "\u05e9\u05dc\u05d5\u05dd \u200fHello"


@pytest.mark.parametrize(
    ("path", "body", "loc"),
    [
        ("/v1/users", {"name": "\u200b", "email": "zw@example.com"}, ["body", "name"]),
        ("/v1/groups", {"name": "Tier\n2"}, ["body", "name"]),
        ("/v1/organizations", {"name": "Acme\u202e"}, ["body", "name"]),
        ("/v1/organizations", {"name": "Acme", "notes": "bell\x07"}, ["body", "notes"]),
        ("/v1/ticket-statuses", {"category": "open", "agent_label": " \u2060 "},
         ["body", "agent_label"]),
    ],
)  # fmt: skip
async def test_other_resources_follow_the_same_rule(client, path, body, loc):
    problem = assert_problem(await client.post(path, json=body, headers=ADMIN), 422)
    assert problem["errors"][0]["loc"] == loc, problem


async def test_multi_line_notes_and_descriptions_are_kept(client):
    created = await client.post(
        "/v1/groups", json={"name": "Tier 2", "description": "Line one\nLine two"}, headers=ADMIN
    )
    assert created.status_code == 201, created.text
    assert created.json()["description"] == "Line one\nLine two"
