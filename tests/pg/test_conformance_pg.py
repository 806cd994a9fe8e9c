"""The conformance suite (mock driver) on the PostgreSQL store and PostgreSQL SP-Locks.

Runs ``MCINFRA_TEST_STORE_URL=<fresh database> python -m pytest tests/conformance -k mock`` in a
child pytest, so the suite's own fixtures (``infra`` honours that variable) stay untouched.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.pg.cluster import Cluster

ROOT = Path(__file__).resolve().parents[2]


def test_conformance_suite_on_postgres(pg_cluster: Cluster, home: Path) -> None:
    env = {**os.environ, "MCINFRA_TEST_STORE_URL": pg_cluster.new_database(), "PYTHONPATH": str(ROOT)}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "tests/conformance", "-k", "mock", "-p", "no:cacheprovider"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900,
    )
    tail = "\n".join(run.stdout.splitlines()[-30:])
    assert run.returncode == 0, f"conformance on PostgreSQL failed:\n{tail}\n{run.stderr[-2000:]}"
    assert " passed" in tail and " failed" not in tail
