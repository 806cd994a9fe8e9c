"""The entry module: quick to import, optional sub-apps mounted only when present."""

from __future__ import annotations

import subprocess
import sys
import types
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from mcinfra.cli.main import mount_optional

ROOT = Path(__file__).parents[2]


def test_import_needs_no_store_or_sdk() -> None:
    code = ("import sys, mcinfra.cli.main; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('sqlalchemy', 'alembic', 'boto3', 'google')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_mount_optional_present_and_absent(monkeypatch: pytest.MonkeyPatch) -> None:
    parent = typer.Typer()

    @parent.command("noop")
    def noop() -> None:
        """Keep the parent a group."""

    assert mount_optional(parent, "mcinfra.cli.no_such_subapp", "ghost") is False
    sub = typer.Typer()

    @sub.command("hello")
    def hello() -> None:
        typer.echo("hello from the sub-app")

    @sub.command("bye")
    def bye() -> None:
        """Second command, so the sub-app stays a group."""

    monkeypatch.setitem(sys.modules, "mcinfra.cli.fake_subapp", types.SimpleNamespace(app=sub))
    assert mount_optional(parent, "mcinfra.cli.fake_subapp", "fake") is True
    assert CliRunner().invoke(parent, ["fake", "hello"]).stdout == "hello from the sub-app\n"


def test_mount_optional_does_not_hide_a_missing_dependency(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "broken_subapp.py").write_text("import no_such_dependency_xyz\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ModuleNotFoundError) as exc:
        mount_optional(typer.Typer(), "broken_subapp", "broken")
    assert exc.value.name == "no_such_dependency_xyz"
