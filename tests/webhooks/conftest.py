import pytest

from helpdesk_api.core.settings import Settings
from tests.conftest import make_settings


@pytest.fixture
def settings(database_url: str) -> Settings:
    # The receivers live on loopback; production refuses such URLs (see test_ssrf.py).
    return make_settings(database_url, webhook_allow_private=True)
