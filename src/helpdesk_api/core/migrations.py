"""Alembic, driven from code: the CLI and the service apply migrations themselves."""

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


def head_revisions() -> set[str]:
    script = ScriptDirectory.from_config(alembic_config("postgresql://unused/"))
    return set(script.get_heads())
