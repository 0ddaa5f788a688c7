import pytest

from helpdesk_api.core.settings import Settings
from tests.conftest import make_settings
from tests.sla.helpers import clock

__all__ = ["clock"]

RATING_PAGE = "https://support.example.com/rate/{token}?score={score}"


@pytest.fixture
def settings(database_url: str, request: pytest.FixtureRequest) -> Settings:
    """A rating page is configured; a test changes more with indirect parametrisation."""
    overrides = getattr(request, "param", {})
    return make_settings(database_url, satisfaction_url=RATING_PAGE, **overrides)
