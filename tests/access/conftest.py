import pytest

from helpdesk_api.core.settings import Settings
from tests.conftest import make_settings


@pytest.fixture
def settings(database_url: str) -> Settings:
    # Webhooks to a loopback address, so their events can be created without DNS.
    return make_settings(database_url, webhook_allow_private=True)
