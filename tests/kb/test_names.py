"""Category and section names and descriptions per locale, shown by the public API for the
locale asked (or its language), the defaults otherwise."""

from tests.factories import ADMIN, assert_problem
from tests.kb.helpers import make_article


async def test_names_per_locale_fall_back_to_the_defaults(client):
    names = {"it": {"name": "Aiuto", "description": "Domande frequenti"}, "HU": {"name": "Súgó"}}
    category = await client.post(
        "/v1/kb/categories",
        json={"name": "Help", "description": "FAQ", "translations": names},
        headers=ADMIN,
    )
    assert category.status_code == 201, category.text
    assert category.json()["translations"] == {
        "it": {"name": "Aiuto", "description": "Domande frequenti"},
        "hu": {"name": "Súgó", "description": None},
    }
    category_id = category.json()["id"]
    section = await client.post(
        "/v1/kb/sections",
        json={"category_id": category_id, "name": "Accounts",
              "translations": {"it-IT": {"name": "Account"}}},
        headers=ADMIN,
    )  # fmt: skip
    assert section.status_code == 201, section.text
    await make_article(client, section.json()["id"], {"en": ("Reset", "Open Settings.")})

    async def shown(path, locale=None):
        params = {"locale": locale} if locale else {}
        response = await client.get(f"/v1/public/kb/{path}", params=params)
        assert response.status_code == 200, response.text
        [item] = response.json()["data"]
        return item["name"], item["description"], item["locale"]

    assert await shown("categories", "it") == ("Aiuto", "Domande frequenti", "it")
    assert await shown("categories", "it-CH") == ("Aiuto", "Domande frequenti", "it")
    assert await shown("categories", "hu") == ("Súgó", None, "hu")
    assert await shown("categories", "ro") == ("Help", "FAQ", None)
    assert await shown("categories") == ("Help", "FAQ", None)
    assert await shown("sections", "it") == ("Account", None, "it-IT")
    assert await shown("sections", "en") == ("Accounts", None, None)

    # A write replaces the map; bad locales, names and sizes are refused whole.
    path = f"/v1/kb/categories/{category_id}"
    changed = await client.patch(path, json={"translations": {"ro": {"name": "Ajutor"}}},
                                 headers=ADMIN)  # fmt: skip
    assert changed.status_code == 200, changed.text
    assert changed.json()["translations"] == {"ro": {"name": "Ajutor", "description": None}}
    assert await shown("categories", "it") == ("Help", "FAQ", None)
    assert await shown("categories", "ro") == ("Ajutor", None, "ro")
    for bad in [
        {"x!": {"name": "A"}},
        {"it": {"name": ""}},
        {"it": {"name": "A\nB"}},
        {"it": {"title": "A"}},
        {"it": "Aiuto"},
        {f"l{n:03d}": {"name": "A"} for n in range(51)},
    ]:
        assert_problem(await client.patch(path, json={"translations": bad}, headers=ADMIN), 422)
    assert_problem(await client.get("/v1/public/kb/categories?locale=!!"), 422)
    assert (await client.get(path, headers=ADMIN)).json()["translations"] == {
        "ro": {"name": "Ajutor", "description": None}
    }
