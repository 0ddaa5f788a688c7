"""A TypeScript client generated as frontend teams do (openapi-typescript + openapi-fetch, their
default options) from the committed OpenAPI document, and a small agent UI written against it
(ts/agent-ui.ts) type-checked with `tsc --noEmit --strict`.

The npm tools come from `make client-tools` (the exact versions of ts/package-lock.json, in
.cache/clients/); `make test` installs them. Without them, or without node, this test fails: it
never skips."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OPENAPI = ROOT / "openapi" / "openapi.json"
PROGRAM = Path(__file__).parent / "ts" / "agent-ui.ts"
TOOLS = ROOT / ".cache" / "clients" / "node_modules"


def _tool(name: str) -> str:
    path = TOOLS / ".bin" / name
    if shutil.which("node") is None or not path.exists():
        pytest.fail(f"{name} (and node) are needed: run `make client-tools`")
    return str(path)


def _run(command: list[str], cwd: Path) -> None:
    done = subprocess.run(  # noqa: S603 — our pinned tools on our files
        command, cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, f"{' '.join(command[:1])} failed:\n{done.stdout}{done.stderr}"


def test_agent_ui_type_checks_against_the_generated_client(tmp_path):
    _run([_tool("openapi-typescript"), str(OPENAPI), "-o", str(tmp_path / "api.d.ts")], tmp_path)
    shutil.copy(PROGRAM, tmp_path / PROGRAM.name)
    tsconfig = {
        "compilerOptions": {
            "strict": True,
            "noEmit": True,
            "noUncheckedIndexedAccess": True,
            # The generated api.d.ts is checked too.
            "skipLibCheck": False,
            "target": "ES2022",
            "lib": ["ES2022", "DOM", "DOM.Iterable"],
            "module": "ESNext",
            "moduleResolution": "Bundler",
            # The build is outside the tools' folder: point at the pinned openapi-fetch.
            "paths": {"openapi-fetch": [str(TOOLS / "openapi-fetch")]},
        },
        "files": [PROGRAM.name],
    }
    (tmp_path / "tsconfig.json").write_text(json.dumps(tsconfig))
    _run([_tool("tsc"), "-p", "tsconfig.json", "--noEmit", "--strict"], tmp_path)
