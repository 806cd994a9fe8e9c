"""`mcinfra demo` builds, shows and cleans up, leaving nothing in the store or the mock cloud."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

from mcinfra import Infra
from mcinfra.cli.main import app
from tests.cli.conftest import Run, mock_resources

ROOT = Path(__file__).parents[2]
EMPTY = {k: 0 for k in ("vpc", "security_group", "keypair", "vm", "nlb")}


def _nothing_left(url: str, home: Path) -> None:
    with Infra(url) as infra:
        assert infra.connections.list() == []
        assert infra.store.list(None) == []
    assert mock_resources(home) == EMPTY


def test_demo_in_process_on_a_given_store(cli: Run, home: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    out = cli("--db", url, "demo", "--latency", "0.01").stdout
    for word in ("demo-vpc", "demo-sg", "demo-key", "demo-vm-1", "demo-vm-3", "demo-nlb", "unhealthy",
                 "Suspended", "Destroyed everything", "nothing left behind"):
        assert word in out
    assert "PRIVATE KEY" not in out
    _nothing_left(url, home)
    # the call history of the demo stays, as a log
    with Infra(url) as infra:
        assert any(h.operation.endswith("start") for h in infra.history(kind="vm", limit=1000))


def test_demo_runs_twice_on_the_embedded_store(cli: Run, home: Path) -> None:
    cli("demo", "--latency", "0", "--vms", "2")
    cli("demo", "--latency", "0", "--vms", "1")
    _nothing_left(f"sqlite:///{home / 'mcinfra.db'}", home)


def test_console_script_points_at_the_app() -> None:
    (ep,) = [e for e in entry_points(group="console_scripts") if e.name == "mcinfra"]
    assert ep.value == "mcinfra.cli.main:app"
    assert ep.load() is app


def test_demo_as_a_process_without_tty_or_mcinfra_home(tmp_path: Path) -> None:
    """A fresh machine: no MCINFRA_HOME (so ~/.mcinfra is created), no stdin, output to a pipe."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MCINFRA_")}
    env.update(HOME=str(tmp_path), PYTHONPATH=str(ROOT))
    env.pop("COLUMNS", None)
    proc = subprocess.run([sys.executable, "-m", "mcinfra.cli.main", "demo"], cwd=ROOT, env=env,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "demo finished" in proc.stdout and "Traceback" not in proc.stderr
    home = tmp_path / ".mcinfra"
    assert (home / "mcinfra.db").exists()
    _nothing_left(f"sqlite:///{home / 'mcinfra.db'}", home)
