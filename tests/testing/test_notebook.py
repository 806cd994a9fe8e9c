"""The example notebook executes (so it cannot rot) and shows results as HTML tables."""

from __future__ import annotations

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

ROOT = Path(__file__).parents[2]
NOTEBOOK = ROOT / "docs" / "examples" / "mock-tour.ipynb"


def test_mock_tour_notebook_runs_and_renders_tables() -> None:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    # cwd = the repository, so the kernel imports this checkout's mcinfra
    client = nbclient.NotebookClient(nb, timeout=120, kernel_name="python3",
                                     resources={"metadata": {"path": str(ROOT)}})
    client.execute()
    html = {i: "".join(o.get("data", {}).get("text/html", "") for o in cell.get("outputs", []))
            for i, cell in enumerate(nb.cells) if cell.cell_type == "code"}
    errors = [o for cell in nb.cells for o in cell.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors, errors
    vm_table = next(h for h in html.values() if ">public ip<" in h)
    assert all(f"vm-{i}" in vm_table for i in range(3)) and "Suspended" in vm_table and "Running" in vm_table
    assert any(">listener<" in h and "nlb-01" in h for h in html.values())
    assert any(">operation<" in h and "vm.start" in h for h in html.values())
    # destroy_all(progress=True) draws a live bar: a widget where ipywidgets is installed
    destroy = next(c for c in nb.cells if c.cell_type == "code" and "destroy_all" in c.source)
    kinds = {k for o in destroy.outputs for k in o.get("data", {})}
    assert "application/vnd.jupyter.widget-view+json" in kinds or "text/html" in kinds
