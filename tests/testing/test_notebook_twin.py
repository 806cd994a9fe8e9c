"""The CLADNet-on-twin notebook executes where the twin can run (root, namespaces, WireGuard)."""

from __future__ import annotations

import shutil
import tempfile
import uuid
from pathlib import Path

import pytest

from tests.cladnet.twinlab import missing_requirements

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

ROOT = Path(__file__).parents[2]
NOTEBOOK = ROOT / "docs" / "examples" / "cladnet-twin.ipynb"

pytestmark = pytest.mark.root


@pytest.mark.skipif(missing_requirements() is not None, reason=str(missing_requirements()))
def test_cladnet_twin_notebook_runs_and_shows_the_rtt_heat_map(monkeypatch: pytest.MonkeyPatch) -> None:
    from mcinfra.drivers.twin.cleanup import cleanup_region

    tag, home = uuid.uuid4().hex[:5], Path(tempfile.mkdtemp(prefix="nb-twin-"))
    monkeypatch.setenv("MCINFRA_NOTEBOOK_TAG", tag)  # the kernel inherits them: the cleanup below knows what it made
    monkeypatch.setenv("MCINFRA_NOTEBOOK_HOME", str(home))
    nb = nbformat.read(NOTEBOOK, as_version=4)
    try:
        nbclient.NotebookClient(nb, timeout=240, kernel_name="python3",
                                resources={"metadata": {"path": str(ROOT)}}).execute()
    finally:
        for r in range(2):
            cleanup_region(f"nb{tag}r{r}", home / f"twin-{r}")
        shutil.rmtree(home, ignore_errors=True)
    html = "".join(o.get("data", {}).get("text/html", "") for c in nb.cells for o in c.get("outputs", []))
    assert "RTT" in html and "background" in html  # the heat map
    assert all(f"tw{r}/vm-" in html for r in range(2))
