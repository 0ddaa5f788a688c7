"""Files of article translations: uploaded by staff, shown inline, served publicly exactly
when the translation may be read; bad uploads and foreign inline images refused."""

from typing import Any

import asyncpg
import httpx

from tests.conftest import app_client, make_settings
from tests.factories import ADMIN, assert_problem, make_user_with_token
from tests.kb.helpers import make_article, make_section
from tests.tickets.factories import comment, make_ticket

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


async def _upload(
    client: httpx.AsyncClient, article_id: int, locale: str, data: bytes = PNG, **kw: Any
) -> httpx.Response:
    headers = kw.pop("headers", ADMIN)
    return await client.post(
        f"/v1/kb/articles/{article_id}/translations/{locale}/attachments",
        params={"filename": kw.pop("filename", "screen.png")},
        content=data,
        headers={**headers, "Content-Type": "image/png"},
    )


async def _count(database_url: str) -> int:
    connection = await asyncpg.connect(database_url)
    try:
        return int(await connection.fetchval("SELECT count(*) FROM attachments"))
    finally:
        await connection.close()


async def test_article_files_upload_inline_and_public_only_where_readable(database_url):
    async with app_client(make_settings(database_url, max_attachment_bytes=1_000)) as client:
        section = (await make_section(client))["id"]
        public = await make_article(client, section, {"en": ("Reset", "Open Settings.")})
        texts = {"en": ("Staff only", "Internal steps.")}
        internal = await make_article(client, section, texts, visibility="internal")
        signed_in = await make_article(client, section, texts, visibility="signed_in")
        draft = await make_article(client, section, texts, status="draft")
        _, customer = await make_user_with_token(client)
        _, agent = await make_user_with_token(client, role="agent")

        uploaded = await _upload(client, public["id"], "en", headers=agent)
        assert uploaded.status_code == 201, uploaded.text
        file = uploaded.json()
        assert file["url"] == f"/v1/public/kb/articles/{public['id']}/attachments/{file['id']}"
        others = {}
        for name, article in [("internal", internal), ("signed_in", signed_in), ("draft", draft)]:
            response = await _upload(client, article["id"], "en")
            assert response.status_code == 201, response.text
            others[name] = response.json()

        # Bad uploads store nothing.
        before = await _count(database_url)
        assert_problem(await _upload(client, public["id"], "fr"), 404)
        assert_problem(await _upload(client, 2**40, "en"), 404)
        assert_problem(await _upload(client, public["id"], "en", data=b"x" * 1_001), 413)
        assert_problem(await _upload(client, public["id"], "en", headers=customer), 403)
        assert_problem(await _upload(client, public["id"], "en", filename="../x"), 422)
        assert_problem(await _upload(client, public["id"], "en", data=b""), 422)
        assert await _count(database_url) == before

        # Inline images: the translation's own files only.
        path = f"/v1/kb/articles/{public['id']}/translations/en"
        foreign = f"/v1/public/kb/articles/{internal['id']}/attachments/{others['internal']['id']}"
        for src in [foreign, f"/v1/public/kb/articles/{public['id']}/attachments/999999"]:
            refused = await client.patch(path, json={"body": f'<p>x</p><img src="{src}">'},
                                         headers=ADMIN)  # fmt: skip
            assert_problem(refused, 422)
        body = f'<p>Click here:</p><img src="{file["url"]}" alt="Settings">'
        written = await client.patch(path, json={"body": body}, headers=ADMIN)
        assert written.status_code == 200, written.text
        assert f'src="{file["url"]}"' in written.json()["body"]

        listed = await client.get(f"{path}/attachments", headers=agent)
        assert [f["id"] for f in listed.json()["data"]] == [file["id"]]
        assert_problem(await client.get(f"{path}/attachments", headers=customer), 403)
        read = await client.get(f"/v1/public/kb/articles/{public['id']}")
        assert [a["url"] for a in read.json()["attachments"]] == [file["url"]]
        assert file["url"] in read.json()["body"]

        served = await client.get(file["url"])
        assert served.status_code == 200, served.text
        assert served.content == PNG
        assert served.headers["content-type"] == "image/png"
        assert served.headers["cache-control"].startswith("public")
        again = await client.get(file["url"], headers={"If-None-Match": served.headers["etag"]})
        assert again.status_code == 304

        # Never through the public path: internal or draft articles' files (whatever the
        # token), signed-in ones without a token, a file asked for under another article.
        for name in ("internal", "draft"):
            for headers in ({}, customer):
                url = others[name]["url"]
                assert_problem(await client.get(url, headers=headers), 404)
        assert_problem(await client.get(others["signed_in"]["url"]), 404)
        mine = await client.get(others["signed_in"]["url"], headers=customer)
        assert mine.status_code == 200, mine.text
        assert mine.headers["cache-control"].startswith("private")
        wrong = f"/v1/public/kb/articles/{public['id']}/attachments/{others['internal']['id']}"
        assert_problem(await client.get(wrong), 404)

        # An article's file is not a comment's.
        ticket = await make_ticket(client, agent)
        reused = await comment(client, ticket["id"], agent, body="see", attachment_ids=[file["id"]])
        assert_problem(reused, 422)
