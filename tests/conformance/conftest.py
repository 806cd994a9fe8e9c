"""Fixtures of the conformance suite: every scenario runs once per target (driver)."""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

import mcinfra
from mcinfra import SecurityRule, SubnetReq
from mcinfra.store.tables import Base
from tests.conformance.targets import TARGETS, Target


@pytest.fixture(scope="session", params=TARGETS)
def target(request: pytest.FixtureRequest) -> Iterator[Target]:
    module = f"tests.conformance.targets.{request.param}"
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name == module:
            pytest.skip(f"no conformance target for {request.param!r} in this build")
        raise
    with mod.target() as t:
        yield t


@pytest.fixture
def infra() -> Iterator[mcinfra.Infra]:
    # MCINFRA_TEST_STORE_URL runs the suite on a shared store (PostgreSQL), emptied per scenario
    url = os.environ.get("MCINFRA_TEST_STORE_URL")
    with mcinfra.Infra(url or "sqlite:///:memory:") as i:
        if url:
            with i.store.session() as s:
                for table in reversed(Base.metadata.sorted_tables):
                    s.execute(table.delete())
        yield i


@pytest.fixture
def cloud(infra: mcinfra.Infra, target: Target, request: pytest.FixtureRequest) -> Iterator[mcinfra.Connection]:
    scenario = request.node.originalname
    if scenario in target.unsupported:
        pytest.skip(f"{target.provider} cannot meet {scenario}: {target.unsupported[scenario]}")
    cred = region = None
    if target.credentials:
        cred = infra.credentials.add("cred", provider=target.provider, keys=target.credentials).name
    if target.region:
        region = infra.regions.add("region", provider=target.provider, region=target.region, zone=target.zone).name
    infra.connections.add("conf", provider=target.provider, credential=cred, region=region, options=target.options)
    conn = infra.connect("conf")
    yield conn
    report = conn.destroy_all(pause=0.2)
    if target.reset:
        target.reset()
    assert report.all_destroyed, f"destroy_all left {report.remaining}"


SSH_IN = SecurityRule(direction="inbound", protocol="TCP", from_port=22, to_port=22, cidr="0.0.0.0/0")


@dataclass
class Net:
    vpc: str = "vpc-01"
    subnet: str = "sn-01"
    sg: str = "sg-01"
    key: str = "key-01"
    private_key: str = ""


@pytest.fixture
def net(cloud: mcinfra.Connection) -> Net:
    """A VPC with one subnet, an SG allowing SSH in, and a key pair."""
    n = Net()
    cloud.vpcs.create(n.vpc, cidr="10.10.0.0/16", subnets=[SubnetReq(name=n.subnet, cidr="10.10.1.0/24")])
    cloud.security_groups.create(n.sg, vpc=n.vpc, rules=[SSH_IN])
    n.private_key = cloud.keypairs.create(n.key).private_key or ""
    return n


def start_vm(cloud: mcinfra.Connection, target: Target, net: Net, name: str = "vm-01") -> mcinfra.VMInfo:
    return cloud.vms.start(name, image=target.image, spec=target.spec, vpc=net.vpc, subnet=net.subnet,
                           security_groups=[net.sg], keypair=net.key, timeout=target.state_timeout)


def calls(infra: mcinfra.Infra) -> int:
    """How many handler calls the call history holds (to prove a request made none)."""
    return len(infra.history(limit=100_000))
