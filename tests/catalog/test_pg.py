"""The catalog on PostgreSQL (tsvector + GIN search), on the throwaway cluster of tests/pg."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import mcinfra
from mcinfra.drivers.mock.state import reset as reset_mock
from tests.pg.cluster import Cluster, missing_reason


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    reason = missing_reason()
    if reason:
        pytest.skip(reason)
    cluster = Cluster().start()
    try:
        yield cluster.new_database()
    finally:
        cluster.destroy()


def test_sync_and_ranked_search_on_postgresql(pg_url: str, tmp_path: object, monkeypatch: pytest.MonkeyPatch
                                              ) -> None:
    monkeypatch.setenv("MCINFRA_HOME", str(tmp_path))
    reset_mock()
    with mcinfra.Infra(pg_url) as infra:
        infra.connections.add("m1", provider="mock")
        report = infra.catalog.sync(regions=["default", "mercury", "atlantis"])
        assert set(report.errors) == {f"m1/atlantis/{k}" for k in ("images", "specs", "prices")}
        assert infra.catalog.sync(regions=["default", "mercury"]).written == 0
        images = infra.catalog.images
        assert [r.id for r in images.search("ubuntu 22.04", region="default", arch="x86_64")] == [
            "ubuntu-22.04", "cuda-ubuntu-22.04"]
        assert [r.id for r in images.search("ubuntu 22.04 -cuda", provider="mock", region="mercury",
                                            arch="x86_64")] == ["ubuntu-22.04"]
        assert {r.id for r in images.search("alma*", connection="m1")} == {"almalinux-9"}
        assert {r.id for r in images.search('"amazon linux" 2023', region="default")} == {
            "amazon-linux-2023", "amazon-linux-2023-arm64"}
        rows = infra.catalog.specs.search(vcpus=(8, 8), memory_gb=(32, None), region="default")
        assert [r.id for r in rows] == ["m5.2xlarge", "p3.2xlarge"] and rows.age_s is not None
        assert [r.id for r in infra.catalog.specs.search(gpu="A100", region="mercury")] == ["p4d.24xlarge"]
    reset_mock()
