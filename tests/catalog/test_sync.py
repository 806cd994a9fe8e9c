"""Catalog sync on the mock: incremental, resumable, failures per region, gone rows, freshness."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import update

import mcinfra
from mcinfra import InvalidRequest
from mcinfra.drivers.mock import catalog as mock_catalog
from mcinfra.drivers.mock.driver import MockDriver
from mcinfra.store.catalog_tables import CatalogPartitionRow
from tests.catalog.conftest import WriteCounter

REGIONS = ["default", "mercury", "venus", "mars"]


def statuses(infra: mcinfra.Infra) -> dict[tuple[str, str], str]:
    return {(p.region, p.kind): p.status for p in infra.catalog.status()}


def test_sync_fills_the_catalog_and_records_each_partition(infra: mcinfra.Infra) -> None:
    seen: list[Any] = []
    report = infra.catalog.sync(progress=seen.append)
    assert report.ok and not report.resumed
    assert {(p.kind, p.status, p.rows) for p in report.partitions} == {
        ("images", "ok", len(mock_catalog.IMAGES)), ("specs", "ok", len(mock_catalog.SPECS)),
        ("prices", "ok", len(mock_catalog.SPECS))}
    assert sorted(o.kind for o in seen) == ["images", "prices", "specs"]
    parts = infra.catalog.status()
    assert {(p.connection, p.region, p.kind) for p in parts} == {("m1", "default", k)
                                                                 for k in ("images", "specs", "prices")}
    assert all(p.synced_at is not None and p.duration_s is not None and p.age_s is not None for p in parts)


def test_a_second_sync_of_unchanged_data_writes_no_row(infra: mcinfra.Infra, writes: WriteCounter) -> None:
    infra.catalog.sync(regions=["default", "mercury"])
    assert writes.rows > 0
    writes.statements.clear()
    writes.rows = 0
    report = infra.catalog.sync(regions=["default", "mercury"])
    assert report.ok and report.written == 0
    assert writes.statements == [] and writes.rows == 0
    assert all(p.written == 0 for p in infra.catalog.status())


def test_images_the_cloud_dropped_are_marked_gone_and_come_back(infra: mcinfra.Infra,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    infra.catalog.sync(kinds="images")
    images = dict(mock_catalog.IMAGES)
    dropped = images.pop("debian-11")
    monkeypatch.setattr(mock_catalog, "IMAGES", images)
    report = infra.catalog.sync(kinds="images")
    assert [(p.gone, p.inserted, p.updated) for p in report.partitions] == [(1, 0, 0)]
    assert not infra.catalog.images.search("debian 11")
    gone = infra.catalog.images.search("debian 11", include_gone=True)
    assert [(r.id, r.gone_at is not None) for r in gone] == [("debian-11", True)]
    monkeypatch.setattr(mock_catalog, "IMAGES", {**images, "debian-11": dropped})
    report = infra.catalog.sync(kinds="images")
    assert [(p.gone, p.updated) for p in report.partitions] == [(0, 1)]
    assert [r.id for r in infra.catalog.images.search("debian 11")] == ["debian-11"]


def test_a_changed_image_is_rewritten_and_found_by_its_new_words(infra: mcinfra.Infra,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    infra.catalog.sync(kinds=["images"])
    changed = mock_catalog.IMAGES["rocky-9"].model_copy(update={"os_distribution": "Rocky Linux 9 Blue Onyx"})
    monkeypatch.setattr(mock_catalog, "IMAGES", {**mock_catalog.IMAGES, "rocky-9": changed})
    report = infra.catalog.sync(kinds=["images"])
    assert report.partitions[0].updated == 1 and report.partitions[0].inserted == 0
    assert [r.id for r in infra.catalog.images.search("onyx")] == ["rocky-9"]


def test_a_failing_region_is_recorded_while_the_others_are_synced(infra: mcinfra.Infra) -> None:
    report = infra.catalog.sync(regions=["default", "atlantis", "mars"], kinds=("images", "specs"))
    assert not report.ok
    assert set(report.errors) == {"m1/atlantis/images", "m1/atlantis/specs"}
    assert "atlantis" in report.errors["m1/atlantis/images"]
    st = statuses(infra)
    assert st[("atlantis", "images")] == "error"
    assert st[("default", "images")] == st[("mars", "specs")] == "ok"
    assert {r.region for r in infra.catalog.images.search("ubuntu 22.04")} == {"default", "mars"}


def test_a_kind_the_driver_lacks_is_unsupported_not_an_error(infra: mcinfra.Infra,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(MockDriver, "capabilities", lambda self: mcinfra.core.handlers.Capabilities())
    infra.connections.add("m2", provider="mock")
    report = infra.catalog.sync(["m2"])
    assert report.ok
    assert {p.kind: p.status for p in report.partitions} == {"images": "ok", "specs": "ok", "prices": "unsupported"}
    specs = infra.catalog.specs.search(connection="m2", vcpus=1)
    assert specs and all(s.price is not None and s.price_source == "listing" for s in specs)


def test_an_interrupted_sync_resumes_where_it_stopped(infra: mcinfra.Infra, monkeypatch: pytest.MonkeyPatch) -> None:
    real = mock_catalog.MockSpecs.list

    def interrupt_in_venus(self: Any) -> Any:
        if self.region == "venus":
            raise KeyboardInterrupt
        return real(self)

    monkeypatch.setattr(mock_catalog.MockSpecs, "list", interrupt_in_venus)
    with pytest.raises(KeyboardInterrupt):
        infra.catalog.sync(regions=REGIONS, concurrency=1)
    st = statuses(infra)
    assert st[("mercury", "prices")] == st[("venus", "images")] == "ok"
    assert ("mars", "images") not in st or st[("mars", "images")] != "ok"
    monkeypatch.setattr(mock_catalog.MockSpecs, "list", real)
    report = infra.catalog.sync(regions=REGIONS, concurrency=1)
    assert report.ok and report.resumed
    done = {(p.region, p.kind): p.status for p in report.partitions}
    assert done[("default", "images")] == done[("mercury", "prices")] == done[("venus", "images")] == "skipped"
    assert done[("venus", "specs")] == done[("venus", "prices")] == done[("mars", "images")] == "ok"
    again = infra.catalog.sync(regions=REGIONS, concurrency=1)
    assert not again.resumed and {p.status for p in again.partitions} == {"ok"} and again.written == 0


def test_max_age_skips_fresh_partitions_and_search_refreshes_only_stale_ones(infra: mcinfra.Infra) -> None:
    infra.catalog.sync()
    assert infra.catalog.sync(max_age=3600).partitions == []
    old = datetime.now(UTC) - timedelta(hours=2)
    with infra.store.session() as s:
        s.execute(update(CatalogPartitionRow).where(CatalogPartitionRow.kind == "images").values(synced_at=old))
    before = {p.kind: p.synced_at for p in infra.catalog.status()}
    rows = infra.catalog.images.search("ubuntu", max_age=3600)
    assert rows and rows.age_s is not None and rows.age_s < 3600
    after = {p.kind: p.synced_at for p in infra.catalog.status()}
    assert after["images"] > before["images"]
    assert after["specs"] == before["specs"] and after["prices"] == before["prices"]
    stale = infra.catalog.images.search("ubuntu")
    assert stale.oldest_synced_at == after["images"]


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"kinds": "images,disks"}, "kinds"),
    ({"kinds": []}, "kinds"),
    ({"concurrency": 0}, "concurrency"),
    ({"connections": ["nope"]}, "connections"),
    ({"regions": [""]}, "regions"),
    ({"regions": 5}, "regions"),
    ({"progress": 5}, "progress"),
    ({"max_age": -1}, "max_age"),
    ({"resume": "yes"}, "resume"),
])
def test_bad_sync_arguments_are_refused_before_anything(infra: mcinfra.Infra, writes: WriteCounter,
                                                        kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidRequest) as info:
        infra.catalog.sync(**kwargs)
    assert info.value.field == field
    assert infra.catalog.status() == [] and writes.rows == 0
    assert infra.history() == []


def test_regions_of_several_providers_are_refused(infra: mcinfra.Infra) -> None:
    infra.credentials.add("c", provider="aws", keys={"aws_access_key_id": "x", "aws_secret_access_key": "y"})
    infra.regions.add("r", provider="aws", region="us-east-1")
    infra.connections.add("a1", credential="c", region="r")
    with pytest.raises(InvalidRequest) as info:
        infra.catalog.sync(["m1", "a1"], regions=["us-east-2"])
    assert info.value.field == "regions"


def test_all_regions_and_concurrency(infra: mcinfra.Infra) -> None:
    report = infra.catalog.sync(regions="all", kinds="specs", concurrency=4)
    assert report.ok and sorted(p.region for p in report.partitions) == sorted(REGIONS)


def test_catalog_rows_start_vms(infra: mcinfra.Infra) -> None:
    infra.catalog.sync(kinds=("images", "specs"))
    image = infra.catalog.images.search("ubuntu 22.04", arch="x86_64", limit=1)[0]
    spec = infra.catalog.specs.search(vcpus=2, memory_gb=(4, 4), limit=1)[0]
    cloud = infra.connect("m1")
    cloud.vpcs.create("v", cidr="10.0.0.0/16", subnets=[mcinfra.SubnetReq(name="s", cidr="10.0.1.0/24")])
    cloud.security_groups.create("g", vpc="v", rules=[])
    cloud.keypairs.create("k")
    vm = cloud.vms.start("vm", image=image, spec=spec, vpc="v", subnet="s", security_groups=["g"], keypair="k")
    assert (vm.image, vm.spec) == (image.id, spec.id)
    foreign = image.model_copy(update={"provider": "aws", "connection": "a1"})
    with pytest.raises(InvalidRequest) as info:
        cloud.vms.start("vm2", image=foreign, spec=spec.id, vpc="v", subnet="s", security_groups=["g"], keypair="k")
    assert info.value.field == "image"
    other = spec.model_copy(update={"connection": "m9"})
    with pytest.raises(InvalidRequest) as info:
        cloud.vms.start("vm2", image=image.id, spec=other, vpc="v", subnet="s", security_groups=["g"], keypair="k")
    assert info.value.field == "spec"
    cloud.destroy_all(pause=0.01)
