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


def test_ranking_rewrites_and_bounded_candidates_on_postgresql(pg_url: str, tmp_path: object,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import UTC, datetime

    from mcinfra.store import catalog_store
    from tests.catalog.test_ranking import AWS, ROWS, rows_of

    monkeypatch.setenv("MCINFRA_HOME", str(tmp_path))
    with mcinfra.Infra(pg_url) as infra:
        store, images = infra.catalog.store, infra.catalog.images
        for region in ("us-east-1", "Weird.Region_2"):
            store.sync_rows("images", "aws-main", "aws", region, rows_of(ROWS), datetime.now(UTC))
        rows = images.search("ubuntu 22.04", region="us-east-1", arch="x86_64")
        assert [r.os_version for r in rows] == ["22.04"] * 9 + [""]
        assert [r.name for r in rows[:3]] == [AWS.format(flavour="hvm-ssd", code="jammy", version="22.04",
                                                         arch="amd64", date=d)
                                              for d in ("20240612", "20240301", "20231115")]
        assert len(images.search("ubuntu 22.04 -minimal -wordpress", region="us-east-1", arch="x86_64")) == 6
        assert [r.os_version for r in images.search("rhel 9", region="us-east-1")] == ["9.4", "9.3", "8.9"]
        monkeypatch.setattr(catalog_store, "RANK_CANDIDATES", 3)
        assert len(images.search("server", region="us-east-1", limit=20)) == 20
        assert len(images.search("server", region="Weird.Region_2", arch="arm64", limit=100)) == 18
        changed = rows_of(ROWS)[3:]
        for r in changed[:5]:
            r["distribution"] = "Canonical Ubuntu Pro"
        counts = store.sync_rows("images", "aws-main", "aws", "us-east-1", changed, datetime.now(UTC))
        assert (counts.inserted, counts.updated, counts.gone) == (0, 5, 3)
        assert len(images.search("pro canonical", region="us-east-1")) == 5
        assert len(images.search("ubuntu", region="us-east-1", limit=100)) == len(ROWS) - 6
