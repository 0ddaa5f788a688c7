import pytest

from helpdesk_api.attachments import service
from helpdesk_api.attachments.storage import LocalStorage
from helpdesk_api.core.errors import PayloadTooLarge
from helpdesk_api.core.middleware import BodySizeLimitMiddleware
from tests.attachments.helpers import principal_of
from tests.attachments.test_upload import count_rows, stored_files
from tests.conftest import app_client, make_settings
from tests.factories import ADMIN, assert_problem, make_user, make_user_with_token


@pytest.fixture
def small_limit(database_url, tmp_path):
    return make_settings(database_url, data_dir=tmp_path, max_attachment_bytes=1000)


async def test_upload_over_the_attachment_limit_is_refused_and_nothing_stored(
    small_limit, database_url
):
    async with app_client(small_limit) as client:
        response = await client.post(
            "/v1/attachments", params={"filename": "big.bin"}, content=b"x" * 1001, headers=ADMIN
        )
    body = assert_problem(response, 413)
    assert "1000 bytes" in body["detail"]
    assert stored_files(small_limit.data_dir) == []
    assert await count_rows(database_url) == 0


async def test_upload_of_exactly_the_limit_is_accepted(small_limit):
    async with app_client(small_limit) as client:
        response = await client.post(
            "/v1/attachments", params={"filename": "big.bin"}, content=b"x" * 1000, headers=ADMIN
        )
    assert response.status_code == 201


async def test_chunked_upload_over_the_limit_is_refused_and_nothing_stored(small_limit):
    async def chunks():
        for _ in range(11):
            yield b"x" * 100

    async with app_client(small_limit) as client:
        response = await client.post(
            "/v1/attachments", params={"filename": "big.bin"}, content=chunks(), headers=ADMIN
        )
    assert_problem(response, 413)
    assert stored_files(small_limit.data_dir) == []


async def test_service_stops_a_stream_over_the_limit_and_deletes_the_partial_file(
    app, client, tmp_path
):
    # The middleware trusts Content-Length; the service counts what actually arrives.
    user = await make_user(client)
    storage = LocalStorage(tmp_path / "store")

    async def chunks():
        for _ in range(20):
            yield b"x" * 100

    async with app.state.sessionmaker() as session:
        with pytest.raises(PayloadTooLarge):
            await service.upload_attachment(
                session,
                principal_of(user),
                storage=storage,
                stream=chunks(),
                filename="big.bin",
                content_type=None,
                max_bytes=1000,
            )
    assert stored_files(tmp_path) == []


async def test_attachments_may_exceed_the_global_body_limit(client):
    _, customer = await make_user_with_token(client)
    content = b"x" * (1_048_576 + 500_000)
    response = await client.post(
        "/v1/attachments", params={"filename": "big.bin"}, content=content, headers=customer
    )
    assert response.status_code == 201
    assert response.json()["size"] == len(content)


async def test_global_body_limit_still_applies_to_other_paths(client):
    response = await client.post(
        "/v1/users",
        json={"name": "Big", "notes": "x" * 2_000_000},
        headers=ADMIN,
    )
    assert_problem(response, 413)


def test_override_applies_to_the_prefix_and_below_only():
    middleware = BodySizeLimitMiddleware(
        lambda *_: None,  # type: ignore[arg-type,return-value]
        max_bytes=10,
        overrides={"/v1/attachments": 20, "/v1/attachments/special/": 30},
    )
    assert middleware.limit_for("/v1/attachments") == 20
    assert middleware.limit_for("/v1/attachments/7") == 20
    assert middleware.limit_for("/v1/attachments/special/x") == 30
    assert middleware.limit_for("/v1/attachments-evil") == 10
    assert middleware.limit_for("/v1/users") == 10
