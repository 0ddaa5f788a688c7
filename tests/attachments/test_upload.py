import hashlib

import asyncpg
import pytest

from helpdesk_api.core.db import to_libpq_url
from tests.attachments.helpers import upload
from tests.conftest import app_client
from tests.factories import ADMIN, assert_problem, make_user_with_token


def stored_files(attachments_dir):
    return [p for p in attachments_dir.rglob("*") if p.is_file()]


async def count_rows(database_url: str) -> int:
    connection = await asyncpg.connect(to_libpq_url(database_url))
    try:
        count: int = await connection.fetchval("SELECT count(*) FROM attachments")
    finally:
        await connection.close()
    return count


async def test_upload_returns_metadata_location_and_etag(client):
    _, customer = await make_user_with_token(client)
    content = b"%PDF-1.7 quarterly report"
    response = await client.post(
        "/v1/attachments",
        params={"filename": "report.pdf"},
        content=content,
        headers={**customer, "Content-Type": "application/pdf"},
    )
    assert response.status_code == 201
    body = response.json()
    assert body["filename"] == "report.pdf"
    assert body["content_type"] == "application/pdf"
    assert body["size"] == len(content)
    assert body["sha256"] == hashlib.sha256(content).hexdigest()
    assert body["content_url"] == f"/v1/attachments/{body['id']}/content"
    assert body["created_at"]
    assert response.headers["location"] == f"/v1/attachments/{body['id']}"
    metadata = await client.get(response.headers["location"], headers=customer)
    assert metadata.status_code == 200
    assert metadata.json() == body
    assert metadata.headers["etag"] == response.headers["etag"]


async def test_download_returns_the_uploaded_bytes_with_safe_headers(client):
    _, customer = await make_user_with_token(client)
    content = bytes(range(256)) * 1000
    created = await upload(client, customer, content)
    response = await client.get(created["content_url"], headers=customer)
    assert response.status_code == 200
    assert response.content == content
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-length"] == str(len(content))
    assert response.headers["content-disposition"] == (
        "attachment; filename=\"report.pdf\"; filename*=UTF-8''report.pdf"
    )
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in response.headers["content-security-policy"]
    assert response.headers["etag"] == f'"sha256-{created["sha256"]}"'


async def test_download_with_current_etag_is_not_modified(client):
    _, customer = await make_user_with_token(client)
    created = await upload(client, customer)
    first = await client.get(created["content_url"], headers=customer)
    again = await client.get(
        created["content_url"], headers={**customer, "If-None-Match": first.headers["etag"]}
    )
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == first.headers["etag"]


async def test_missing_content_type_is_stored_as_octet_stream(client):
    _, customer = await make_user_with_token(client)
    response = await client.post(
        "/v1/attachments", params={"filename": "blob.bin"}, content=b"\x00\x01", headers=customer
    )
    assert response.status_code == 201
    assert response.json()["content_type"] == "application/octet-stream"


async def test_content_type_is_lower_cased_and_keeps_its_parameters(client):
    _, customer = await make_user_with_token(client)
    created = await upload(
        client, customer, b"hello", filename="a.txt", content_type="Text/Plain; charset=utf-8"
    )
    assert created["content_type"] == "text/plain; charset=utf-8"


async def test_invalid_content_type_is_refused_naming_the_header(client):
    _, customer = await make_user_with_token(client)
    response = await client.post(
        "/v1/attachments",
        params={"filename": "a.bin"},
        content=b"x",
        headers={**customer, "Content-Type": "not a media type"},
    )
    body = assert_problem(response, 422)
    assert body["errors"][0]["loc"] == ["header", "content-type"]


async def test_empty_body_is_refused_and_nothing_is_stored(client, attachments_dir, database_url):
    _, customer = await make_user_with_token(client)
    response = await client.post(
        "/v1/attachments", params={"filename": "empty.txt"}, content=b"", headers=customer
    )
    body = assert_problem(response, 422)
    assert body["errors"][0]["loc"] == ["body"]
    assert stored_files(attachments_dir) == []
    assert await count_rows(database_url) == 0


async def test_missing_filename_is_refused(client):
    _, customer = await make_user_with_token(client)
    response = await client.post("/v1/attachments", content=b"x", headers=customer)
    body = assert_problem(response, 422)
    assert body["errors"][0]["loc"] == ["query", "filename"]


@pytest.mark.parametrize(
    "filename",
    [
        "",
        "x" * 256,
        "../../etc/passwd",
        "dir/report.pdf",
        "C:\\Windows\\report.pdf",
        "line\nbreak.txt",
        "nul\x00.txt",
        "invoice\u202efdp.exe",
        "..",
        "   ",
    ],
    ids=[
        "empty",
        "too-long",
        "traversal",
        "slash",
        "backslash",
        "newline",
        "nul",
        "rtl",
        "dots",
        "blank",
    ],
)
async def test_unsafe_filename_is_refused(client, attachments_dir, filename):
    _, customer = await make_user_with_token(client)
    response = await client.post(
        "/v1/attachments", params={"filename": filename}, content=b"x", headers=customer
    )
    body = assert_problem(response, 422)
    assert body["errors"][0]["loc"] == ["query", "filename"]
    assert stored_files(attachments_dir) == []


async def test_unicode_filename_is_kept_and_encoded_for_download(client):
    _, customer = await make_user_with_token(client)
    created = await upload(client, customer, filename='Résumé "final" 2026.pdf')
    assert created["filename"] == 'Résumé "final" 2026.pdf'
    response = await client.get(created["content_url"], headers=customer)
    assert response.headers["content-disposition"] == (
        'attachment; filename="R_sum_ _final_ 2026.pdf"; '
        "filename*=UTF-8''R%C3%A9sum%C3%A9%20%22final%22%202026.pdf"
    )


async def test_client_filename_never_reaches_the_file_system(client, attachments_dir):
    _, customer = await make_user_with_token(client)
    created = await upload(client, customer, b"data", filename="report.pdf")
    [path] = stored_files(attachments_dir)
    assert "report" not in str(path)
    key = path.name
    assert len(key) == 32
    assert path.parent.parent.name == key[:2]
    assert path.parent.name == key[2:4]
    assert path.read_bytes() == b"data"
    assert created["size"] == 4


async def test_upload_needs_a_token(client):
    response = await client.post("/v1/attachments", params={"filename": "a"}, content=b"x")
    assert_problem(response, 401)


async def test_upload_records_an_event(client, database_url):
    user, customer = await make_user_with_token(client)
    created = await upload(client, customer)
    connection = await asyncpg.connect(to_libpq_url(database_url))
    try:
        row = await connection.fetchrow(
            "SELECT actor_id, data FROM events WHERE type = 'attachment.created'"
        )
    finally:
        await connection.close()
    assert row["actor_id"] == user["id"]
    assert f'"id": {created["id"]}' in row["data"]


async def test_same_idempotency_key_replays_without_storing_twice(client, attachments_dir):
    _, customer = await make_user_with_token(client)
    headers = {**customer, "Idempotency-Key": "upload-1", "Content-Type": "text/plain"}
    first = await client.post(
        "/v1/attachments", params={"filename": "a.txt"}, content=b"abc", headers=headers
    )
    second = await client.post(
        "/v1/attachments", params={"filename": "a.txt"}, content=b"abc", headers=headers
    )
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second.headers["idempotent-replayed"] == "true"
    assert len(stored_files(attachments_dir)) == 1


async def test_failed_insert_leaves_neither_row_nor_file(
    settings, attachments_dir, database_url, monkeypatch
):
    async def broken_event(*args, **kwargs):
        raise RuntimeError("event log unavailable")

    monkeypatch.setattr("helpdesk_api.attachments.service.record_event", broken_event)
    async with app_client(settings, raise_app_exceptions=False) as client:
        response = await client.post(
            "/v1/attachments", params={"filename": "a.txt"}, content=b"abc", headers=ADMIN
        )
    assert_problem(response, 500)
    assert stored_files(attachments_dir) == []
    assert await count_rows(database_url) == 0
