"""Alembic, driven from code: the CLI and the service apply migrations themselves."""

from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

_PACKAGED = Path(__file__).resolve().parent.parent / "_migrations"
_SOURCE_TREE = Path(__file__).resolve().parents[3] / "migrations"


def migrations_dir() -> Path:
    for candidate in (_PACKAGED, _SOURCE_TREE):
        if (candidate / "env.py").exists():
            return candidate
    raise FileNotFoundError("migrations directory not found (packaged or in the source tree)")


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)


@cache
def head_revisions() -> frozenset[str]:
    """Read once per process: Alembic compiles every revision file to find the heads (0.1 s
    and growing with each migration), and the files cannot change under a running process.
    Every application start-up asks, so a test suite starting thousands paid for it."""
    script = ScriptDirectory.from_config(alembic_config("postgresql://unused/"))
    return frozenset(script.get_heads())
