"""``mcinfra catalog``: sync, images, specs, status (tables and --json)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mcinfra.cli.main import app
from mcinfra.drivers.mock.state import reset as reset_mock


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("MCINFRA_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("MCINFRA_DB", raising=False)
    reset_mock()
    runner = CliRunner()

    def invoke(*args: str, code: int = 0) -> str:
        result = runner.invoke(app, list(args))
        assert result.exit_code == code, (result.exit_code, result.output, result.exception)
        return result.stdout

    invoke("connection", "add", "m1", "-p", "mock")
    yield invoke
    reset_mock()


def test_catalog_commands(run) -> None:  # type: ignore[no-untyped-def]
    out = run("catalog", "sync", "-c", "m1", "--kinds", "images,specs,prices", "-r", "default", "-r", "mercury")
    assert "Catalog sync" in out  # (a narrow terminal wraps the table's cells)
    data = json.loads(run("--json", "catalog", "sync", "-c", "m1", "-r", "default"))
    assert data["ok"] and data["written"] == 0 and len(data["partitions"]) == 3
    out = run("catalog", "images", "ubuntu 22.04", "--arch", "x86_64", "--region", "default")
    assert "Images (2;" in out
    rows = json.loads(run("catalog", "images", "ubuntu 22.04", "--provider", "mock", "--json"))
    assert {r["id"] for r in rows} >= {"ubuntu-22.04", "ubuntu-22.04-arm64"}
    rows = json.loads(run("catalog", "specs", "--vcpus", "8", "--memory", "32", "--sort", "price", "--json",
                          "--region", "default"))
    assert [r["id"] for r in rows] == ["m5.2xlarge", "p3.2xlarge"]
    out = run("catalog", "specs", "--gpu", "A100")
    assert "Specs (2;" in out
    parts = json.loads(run("catalog", "status", "--json"))
    assert {(p["region"], p["kind"]) for p in parts} == {(r, k) for r in ("default", "mercury")
                                                         for k in ("images", "specs", "prices")}
    assert "Catalog partitions" in run("catalog", "status")


def test_catalog_errors(run) -> None:  # type: ignore[no-untyped-def]
    run("catalog", "specs", "--vcpus", "8:4", code=3)
    run("catalog", "specs", "--vcpus", "many", code=3)
    run("catalog", "specs", "--sort", "cheap", code=3)
    run("catalog", "sync", "--kinds", "disks", code=3)
    run("catalog", "sync", "-r", "atlantis", code=9)  # the region failed: recorded, and the exit code says so
