import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.metrics.conftest import METRICS_TOKEN

SCRAPER = {"Authorization": f"Bearer {METRICS_TOKEN}"}


async def scrape(client: httpx.AsyncClient) -> str:
    response = await client.get("/metrics", headers=SCRAPER)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


def samples(text: str, name: str) -> dict[frozenset[tuple[str, str]], float]:
    """Every sample of one series name, by its labels."""
    return {
        frozenset(sample.labels.items()): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    }


def value(text: str, name: str, **labels: str) -> float:
    return samples(text, name).get(frozenset(labels.items()), 0.0)
