"""With injected CSP faults the store and the mock cloud never disagree and nothing is pending."""

from __future__ import annotations

import random

import pytest

import mcinfra
from mcinfra import SecurityRule, SubnetReq
from mcinfra.drivers.mock import reset


@pytest.fixture
def infra():
    reset("mars")
    with mcinfra.Infra("sqlite:///:memory:") as infra:
        infra.regions.add("r", provider="mock", region="mars", zone="mars-a")
        infra.connections.add("flaky", provider="mock", region="r", options={"fail_rate": 0.3, "seed": 42})
        yield infra
    reset("mars")


def inventory_matches(infra: mcinfra.Infra, cloud: mcinfra.Connection) -> None:
    for kind in ("vpc", "security_group", "keypair", "vm", "nlb"):
        listing = cloud.manager(kind).list_all()
        assert listing.only_csp == [] and listing.only_store == [], (kind, listing)
    assert infra.store.list(cloud.name, state="pending") == []


def test_random_operations_under_faults(infra: mcinfra.Infra) -> None:
    cloud = infra.connect("flaky")
    rng = random.Random(1)
    failures = 0
    ops = 0
    for i in range(150):
        ops += 1
        try:
            match rng.randrange(7):
                case 0:
                    cloud.vpcs.create(f"vpc-{i}", cidr="10.0.0.0/16",
                                      subnets=[SubnetReq(name="sn", cidr="10.0.1.0/24")])
                case 1:
                    vpcs = infra.store.list(cloud.name, "vpc", state="ready")
                    if vpcs:
                        cloud.security_groups.create(f"sg-{i}", vpc=rng.choice(vpcs).name_id, rules=[
                            SecurityRule(direction="inbound", protocol="TCP", from_port=22, to_port=22)])
                case 2:
                    cloud.keypairs.create(f"key-{i}")
                case 3:
                    sgs = infra.store.list(cloud.name, "security_group", state="ready")
                    keys = infra.store.list(cloud.name, "keypair", state="ready")
                    if sgs and keys:
                        sg = rng.choice(sgs)
                        cloud.vms.start(f"vm-{i}", image="debian-12", spec="t3.micro", vpc=sg.extra["vpc"],
                                        subnet="sn", security_groups=[sg.name_id], keypair=rng.choice(keys).name_id)
                case 4:
                    sgs = infra.store.list(cloud.name, "security_group", state="ready")
                    if sgs:
                        cloud.security_groups.add_rules(rng.choice(sgs).name_id, [
                            SecurityRule(direction="inbound", protocol="UDP", from_port=i + 1, to_port=i + 1)])
                case _:
                    kind = rng.choice(["vm", "security_group", "keypair", "vpc"])
                    rows = infra.store.list(cloud.name, kind, state="ready")
                    if rows:
                        cloud.manager(kind).delete(rng.choice(rows).name_id)
        except mcinfra.CloudError as exc:
            assert exc.code == "InjectedFault"
            failures += 1
        except mcinfra.InUse:
            pass
        inventory_matches(infra, cloud)
    assert failures > 10 and ops == 150
    assert any(not r.ok and "InjectedFault" in (r.error or "") for r in infra.history(limit=1000))
