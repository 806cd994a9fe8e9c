from __future__ import annotations

import pytest

import mcinfra
from mcinfra import Listener, VMGroup
from tests.conformance.conftest import start_vm


def test_catalogs(cloud: mcinfra.Connection, target) -> None:
    regions = cloud.region_zones.list()
    assert regions and all(r.name for r in regions)
    if target.region:
        region = cloud.region_zones.get(target.region)
        assert region.name == target.region and region.zones
        if target.zone:
            assert target.zone in {z.name for z in region.zones}
    image = cloud.images.get(target.image)
    assert image.iid.system_id
    spec = cloud.specs.get(target.spec)
    assert spec.vcpus >= 1 and spec.memory_mib > 0
    assert target.spec in {s.name for s in cloud.specs.list()}
    with pytest.raises(mcinfra.NotFound):
        cloud.specs.get("no-such-spec-xyz")
    with pytest.raises(mcinfra.InvalidRequest):
        cloud.images.get("")


def test_destroy_all(cloud: mcinfra.Connection, target, net) -> None:
    start_vm(cloud, target, net, "vm-01")
    cloud.nlbs.create("nlb-01", vpc=net.vpc, listener=Listener(port=22), vm_group=VMGroup(port=22, vms=["vm-01"]))
    report = cloud.destroy_all(pause=0.2)
    assert report.all_destroyed, report.remaining
    assert report.deleted == {"nlb": ["nlb-01"], "vm": ["vm-01"], "keypair": [net.key],
                              "security_group": [net.sg], "vpc": [net.vpc]}
    for kind in ("vpc", "security_group", "keypair", "vm", "nlb"):
        assert cloud.manager(kind).list_all().mapped == []
    assert cloud.vms.list() == []


def test_images_list(cloud: mcinfra.Connection, target) -> None:
    images = cloud.images.list()
    assert images and all(i.iid.system_id and i.name for i in images)
    assert len({i.iid.system_id for i in images}) == len(images)
    assert {i.status for i in images} <= {"Available", "Unavailable", "NA"}
    wanted = cloud.images.get(target.image)
    if target.live is None:  # a real account's list is capped (AWS: 1,000 of Amazon's AMIs) and may stop short
        assert wanted.iid.system_id in {i.iid.system_id for i in images}
    first = cloud.images.get(images[0].iid.system_id)  # what list shows, get finds
    assert first.iid.system_id == images[0].iid.system_id
