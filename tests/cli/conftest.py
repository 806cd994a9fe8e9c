from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from mcinfra.cli.main import app


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh MCINFRA_HOME: embedded store and the CLI's mock cloud file live here."""
    h = tmp_path / "home"
    monkeypatch.setenv("MCINFRA_HOME", str(h))
    monkeypatch.delenv("MCINFRA_DB", raising=False)
    monkeypatch.delenv("MCINFRA_CONNECTION", raising=False)
    return h


Run = Callable[..., Result]


@pytest.fixture
def cli(home: Path) -> Run:
    """``cli("vpc", "list", "-c", "m1")`` -> Result; ``ok=True`` (default) asserts exit code 0."""
    runner = CliRunner()

    def run(*args: str, ok: bool = True, input: str | None = None) -> Result:
        result = runner.invoke(app, list(args), input=input)
        if ok:
            assert result.exit_code == 0, (result.exit_code, result.output, result.exception)
        return result

    return run


@pytest.fixture
def cli_json(cli: Run) -> Callable[..., Any]:
    """Run with --json and parse stdout."""

    def run(*args: str) -> Any:
        return json.loads(cli(*args, "--json").stdout)

    return run


@pytest.fixture
def mock_conn(cli: Run) -> str:
    cli("connection", "add", "m1", "--provider", "mock")
    return "m1"


def mock_state(home: Path) -> dict[str, Any]:
    path = home / "mock-cloud.json"
    return json.loads(path.read_text()) if path.exists() else {}


def mock_resources(home: Path) -> dict[str, int]:
    """How many resources of each kind the CLI's mock cloud holds, over all regions."""
    counts: dict[str, int] = {}
    for region in mock_state(home).values():
        for kind in ("vpc", "security_group", "keypair", "vm", "nlb"):
            counts[kind] = counts.get(kind, 0) + len(region.get(kind, {}))
    return counts
