from pathlib import Path

import pytest

from helpdesk_api.core.settings import Settings
from tests.conftest import make_settings


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    # Files go to the test's own directory, never the working tree's .helpdesk/.
    return make_settings(database_url, data_dir=tmp_path)


@pytest.fixture
def attachments_dir(settings: Settings) -> Path:
    return settings.data_dir / "attachments"
