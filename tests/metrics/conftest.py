import pytest

from helpdesk_api.core.settings import Settings
from tests.conftest import make_settings

METRICS_TOKEN = "metrics-token-for-tests-0123456789"


@pytest.fixture
def settings(database_url: str) -> Settings:
    # Webhook receivers in these tests live on loopback.
    return make_settings(database_url, metrics_token=METRICS_TOKEN, webhook_allow_private=True)
