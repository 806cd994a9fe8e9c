"""A throwaway PostgreSQL cluster for the whole session; a fresh database per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.pg.cluster import Cluster, missing_reason


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    reason = missing_reason()
    if reason:
        pytest.skip(reason)
    cluster = Cluster().start()
    try:
        yield cluster
    finally:
        cluster.destroy()


@pytest.fixture
def pg_url(pg_cluster: Cluster) -> str:
    return pg_cluster.new_database()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """MCINFRA_HOME (and so the secret key file) of this test; worker processes inherit it."""
    monkeypatch.setenv("MCINFRA_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("MCINFRA_SECRET_KEY", raising=False)
    return tmp_path / "home"
